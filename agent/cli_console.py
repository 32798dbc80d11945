"""``near-agent console``: serve the local web page (Starlette, Jinja2 and uvicorn load here)."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.home import Home


def console(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8737,
    host: Annotated[
        str, typer.Option(help="Address to listen on (default: this machine only).")
    ] = "127.0.0.1",
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Allow a --host other than loopback: anyone who can reach it and has the "
            "printed URL can approve actions.",
        ),
    ] = False,
) -> None:
    """Open the console: approvals, activity, grants and strategies in a local web page.

    The printed URL carries a secret token (the page swaps it for a cookie); every action taken
    there is recorded in the audit log with actor ``console``.
    """
    import socket

    import uvicorn

    from agent.console.app import build_app
    from agent.console.security import allowed_hosts, is_loopback, new_token

    home: Home = ctx.obj
    if not is_loopback(host):
        if not allow_remote:
            typer.echo(
                f"--host {host} would let other machines reach the console; "
                "add --allow-remote if that is what you want.",
                err=True,
            )
            raise typer.Exit(2)
        typer.echo(
            f"WARNING: the console listens on {host}: anyone who can reach this machine and "
            "learns the URL below can approve actions and revoke grants.",
            err=True,
        )
    if not home.config_file.exists():
        typer.echo(f"No {home.config_file}: run `near-agent init` first.", err=True)
        raise typer.Exit(2)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        typer.echo(f"Cannot listen on {host}:{port}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc
    sock.listen(128)  # connections wait in the backlog until uvicorn accepts them
    bound = sock.getsockname()[1]
    token = new_token()
    hosts = allowed_hosts(host, bound, _own_names(host))
    app = build_app(home, token=token, hosts=hosts, port=bound)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"Console for {home.root}: http://{shown}:{bound}/?token={token}", err=False)
    typer.echo("Press Ctrl+C to stop.")
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def _own_names(host: str) -> list[str]:
    """This machine's name and addresses, which remote browsers use when it listens on all."""
    import socket

    if host not in ("0.0.0.0", "::"):
        return []
    name = socket.gethostname()
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
    except OSError:
        addresses = set()
    return [name, *sorted(addresses)]
