"""The audit log as an MCP call writes it: actor ``mcp`` and the client's name on every entry.

The executor names the client on each step of a call's story itself (its ``entry_data``);
this wrapper does the same for what the server writes directly (a dry run, an inbox request).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from memory.audit import Actor, AuditDraft, AuditEntry, AuditKind, AuditLog

ACTOR: Actor = "mcp"
MAX_CLIENT_CHARS = 100
UNNAMED = "unnamed client"


def client_label(name: Any, version: Any = None) -> str:
    """The client's self-declared name (and version) as printable text of bounded length.

    A client names itself in ``initialize``; it is recorded as said, never trusted for anything.
    """
    text = name if isinstance(name, str) else ""
    if isinstance(version, str) and version:
        text = f"{text} {version}"
    text = "".join(c for c in text if c.isprintable()).strip()[:MAX_CLIENT_CHARS]
    return text or UNNAMED


class ClientAudit:
    """An ``AuditLog`` whose appends carry ``client`` in their data; reads pass through."""

    def __init__(self, log: AuditLog, client: str) -> None:
        self._log = log
        self.client = client

    def append(
        self,
        kind: AuditKind | str,
        *,
        actor: Any,
        correlation_id: str,
        data: dict[str, Any] | None = None,
        tool: str | None = None,
        status: str | None = None,
    ) -> AuditEntry:
        return self._log.append(
            kind,
            actor=actor,
            correlation_id=correlation_id,
            data=self._named(data or {}),
            tool=tool,
            status=status,
        )

    def append_many(self, drafts: Iterable[AuditDraft]) -> list[AuditEntry]:
        return self._log.append_many(replace(d, data=self._named(d.data)) for d in drafts)

    def _named(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "client": self.client}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._log, name)
