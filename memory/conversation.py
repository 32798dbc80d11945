"""Conversation history per chat session: what the planner sees of the recent past."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

from memory.db import connect, write_transaction
from memory.redact import redact_text

Role = Literal["user", "assistant", "system", "tool"]
_ROLES = frozenset(get_args(Role))
_TABLE = "conversation"


@dataclass(frozen=True)
class Message:
    id: int
    session_id: str
    role: Role
    text: str
    ts: str  # ISO 8601 UTC


class Conversation:
    """Messages of every session in ``memory.db``; secrets pasted into chat are redacted."""

    def __init__(self, path: Path | str) -> None:
        self._db = connect(path, durable=False)  # what the planner saw: no power-cut guarantee
        with write_transaction(self._db.conn):  # processes may open a new file together
            self._db.table(_TABLE).create(
                {"id": int, "session_id": str, "role": str, "text": str, "ts": str},
                pk="id",
                not_null={"session_id", "role", "text", "ts"},
                if_not_exists=True,
            )
            self._db.table(_TABLE).create_index(["session_id", "id"], if_not_exists=True)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Conversation:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def add(self, session_id: str, role: Role, text: str) -> Message:
        """Record one message; returns it as stored (redacted, with id and time)."""
        if not session_id:
            raise ValueError("session_id must not be empty")
        if role not in _ROLES:
            raise ValueError(f"role must be one of {sorted(_ROLES)}, got {role!r}")
        stored = redact_text(text)
        ts = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        row = {"session_id": session_id, "role": role, "text": stored, "ts": ts}
        message_id = self._db.table(_TABLE).insert(row).last_pk
        if not isinstance(message_id, int):  # the table's integer primary key
            raise RuntimeError(f"{_TABLE}: the insert returned no message id ({message_id!r})")
        return Message(message_id, session_id, role, stored, ts)

    def recent(self, session_id: str, n: int = 20) -> list[Message]:
        """The last ``n`` messages of a session, oldest first (the planner's context)."""
        if n <= 0:
            return []
        rows = self._db.execute(
            "SELECT id, session_id, role, text, ts FROM conversation WHERE session_id = ?"
            " ORDER BY id DESC LIMIT ?",
            (session_id, n),
        ).fetchall()
        return [Message(*row) for row in reversed(rows)]

    def sessions(self) -> list[str]:
        """Session ids, most recently active first."""
        rows = self._db.execute(
            "SELECT session_id FROM conversation GROUP BY session_id ORDER BY MAX(id) DESC"
        ).fetchall()
        return [r[0] for r in rows]

    def clear(self, session_id: str) -> int:
        """Forget a session; returns how many messages were removed."""
        cursor = self._db.execute("DELETE FROM conversation WHERE session_id = ?", (session_id,))
        return cursor.rowcount
