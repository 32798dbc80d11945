"""``near-agent console``: a local web page over the same library the CLI uses.

Starlette, Jinja2 and uvicorn are imported only on the console command's path (the CLI's
start-up stays fast); every asset is served by the app itself, so it works offline.
"""
