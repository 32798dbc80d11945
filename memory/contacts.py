"""The address book: names the user gave to NEAR accounts, and the resolver the planner uses.

Names are case-insensitive and may never look like account ids (no dots), so a contact can't
shadow a real account. Bare names that are not contacts are refused rather than guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from memory.db import connect, write_transaction
from tools.errors import InvalidAccountIdError
from tools.network import check_account_id
from tools.text_screen import DeceptiveTextError, check_visible, escaped

_TABLE = "contacts"
# Both are used with fullmatch, never match + "$" (which also accepts a trailing newline).
_NAME = re.compile(r"[^\W\d_][\w\- ]{0,31}")  # a letter of any script first
_IMPLICIT = re.compile(r"[0-9a-f]{64}|0x[0-9a-f]{40}")


class ContactError(ValueError):
    """A contact name or account id is invalid, or the name is already taken."""


class UnknownContactError(ContactError):
    """The name is neither a contact nor a full account id."""


@dataclass(frozen=True)
class Contact:
    name: str  # as the user typed it
    account_id: str
    note: str
    added_at: str


def name_key(name: str) -> str:
    """How names are compared: trimmed, a leading ``@`` dropped, case-folded."""
    return name.strip().removeprefix("@").strip().casefold()


def validate_name(name: str) -> str:
    """A display name: starts with a letter (any script), then letters, digits, space, - or _."""
    cleaned = name.strip().removeprefix("@").strip()
    _visible(name, "contact name")
    if not _NAME.fullmatch(cleaned):
        raise ContactError(
            f"{_shown(name)} is not a usable contact name: start with a letter, then up to 31 "
            "letters, digits, spaces, '-' or '_' (no dots, so a name never looks like an "
            "account id)"
        )
    return cleaned


def validate_account_id(account_id: str) -> str:
    """NEAR's rules (2-64 chars, a-z 0-9 - _ ., no leading/trailing/doubled separators)."""
    _visible(account_id, "account id")
    try:
        return check_account_id(account_id.strip())
    except InvalidAccountIdError as exc:
        raise ContactError(str(exc)) from exc


def _visible(text: str, what: str) -> None:
    """Refuse hidden characters with the text shown escaped (``tools.text_screen``)."""
    try:
        check_visible(text, what)
    except DeceptiveTextError as exc:
        raise ContactError(exc.message) from None


def _shown(text: str) -> str:
    """``text`` quoted for an error, hidden characters escaped so the user sees them."""
    return f"'{escaped(text)}'"


def is_full_account_id(text: str) -> bool:
    """An id that can only mean an account: named with a dot, or an implicit (hex) account."""
    try:
        check_account_id(text)
    except InvalidAccountIdError:
        return False
    return "." in text or bool(_IMPLICIT.fullmatch(text))


class AddressBook:
    """Contacts in ``memory.db``."""

    def __init__(self, path: Path | str) -> None:
        self._db = connect(path)
        with write_transaction(self._db.conn):  # processes may open a new file together
            self._db.table(_TABLE).create(
                {"key": str, "name": str, "account_id": str, "note": str, "added_at": str},
                pk="key",
                not_null={"name", "account_id", "note", "added_at"},
                if_not_exists=True,
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AddressBook:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def add(self, name: str, account_id: str, *, note: str = "", replace: bool = False) -> Contact:
        """Save ``name`` -> ``account_id``; an existing name needs ``replace=True``."""
        display = validate_name(name)
        account = validate_account_id(account_id)
        existing = self.get(display)
        if existing is not None and not replace and existing.account_id != account:
            raise ContactError(
                f"{_shown(existing.name)} is already {existing.account_id}; remove it first "
                "or replace it explicitly"
            )
        contact = Contact(display, account, note, datetime.now(UTC).isoformat(timespec="seconds"))
        self._db.table(_TABLE).upsert({"key": name_key(display), **contact.__dict__}, pk="key")
        return contact

    def remove(self, name: str) -> Contact:
        found = self.get(name)
        if found is None:
            raise UnknownContactError(f"there is no contact named {_shown(name.strip())}")
        self._db.execute(f"DELETE FROM {_TABLE} WHERE key = ?", (name_key(name),))
        return found

    def get(self, name: str) -> Contact | None:
        row = self._db.execute(
            f"SELECT name, account_id, note, added_at FROM {_TABLE} WHERE key = ?",
            (name_key(name),),
        ).fetchone()
        return Contact(*row) if row else None

    def list(self) -> list[Contact]:
        rows = self._db.execute(
            f"SELECT name, account_id, note, added_at FROM {_TABLE} ORDER BY key"
        ).fetchall()
        return [Contact(*row) for row in rows]

    def resolve(self, name_or_account: str) -> str:
        """A contact's account id, or a full account id unchanged; anything else is an error."""
        text = name_or_account.strip()
        found = self.get(text) if text else None
        if found is not None:
            return found.account_id
        if is_full_account_id(text):
            return text
        if text and is_full_account_id(text.lower()):
            raise ContactError(f"account ids are lowercase: did you mean {_shown(text.lower())}?")
        raise UnknownContactError(
            f"{_shown(text)} is neither a contact nor a NEAR account id: give the full id "
            f"(like {text.lower() or 'bob'}.near) or save it with "
            f"`near-agent contacts add {text or 'NAME'} ACCOUNT_ID`"
        )
