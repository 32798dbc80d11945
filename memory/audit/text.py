"""Data shown as data: text from the chain, a model or a user, made safe to put in a view.

A task text, a token name or an intent can hold a newline, a carriage return, an ANSI escape or
a direction override; printed as is, it could forge a line of the view (a fake "done" row) or
hide what it says. :func:`shown` writes each such character as an escape instead.
"""

from __future__ import annotations

from tools.text_screen import escaped

_PLAIN_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown(text: object) -> str:
    """``text`` with line breaks, tabs, control and hidden characters written as escapes."""
    value = text if isinstance(text, str) else str(text)
    return escaped("".join(_PLAIN_ESCAPES.get(ch, ch) for ch in value))
