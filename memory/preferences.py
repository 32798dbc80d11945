"""The user's preferences (defaults the planner fills in), typed and kept in ``memory.db``.

Preferences are defaults, not limits: the planner still clamps slippage to the configured maximum
and the policy engine still decides what may be signed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from memory.db import connect, write_transaction
from tools.validation import describe_validation_error

_TABLE = "preferences"


class PreferenceError(ValueError):
    """An unknown preference or a value it cannot take; the message names which."""


class Preferences(BaseModel):
    """Defaults for what the user does not say in an intent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_slippage_bps: int = Field(
        default=50, ge=0, le=10_000, description="Swap slippage when the intent names none."
    )
    default_token: str = Field(
        default="NEAR",
        min_length=1,
        max_length=64,
        description="Token for amounts written without one.",
    )
    language: Literal["auto", "en", "ja", "zh"] = Field(
        default="auto", description="Reply language; auto follows the user's message."
    )
    context_messages: int = Field(
        default=20, ge=0, le=200, description="Recent messages the planner sees."
    )

    @field_validator("default_token")
    @classmethod
    def _token_shape(cls, value: str) -> str:
        value = value.strip()
        if not value or any(c.isspace() for c in value):
            raise ValueError("a token is a symbol (USDC) or a contract id, without spaces")
        return value


def describe_preferences() -> dict[str, str]:
    """Each preference's name and what it does (for ``prefs show``)."""
    return {name: f.description or "" for name, f in Preferences.model_fields.items()}


class PreferencesStore:
    """Preferences persisted one key per row, so adding a field never breaks stored ones."""

    def __init__(self, path: Path | str) -> None:
        self._db = connect(path)
        with write_transaction(self._db.conn):  # processes may open a new file together
            self._db.table(_TABLE).create(
                {"key": str, "value": str}, pk="key", not_null={"value"}, if_not_exists=True
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> PreferencesStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _stored(self) -> dict[str, Any]:
        rows = self._db.execute(f"SELECT key, value FROM {_TABLE}").fetchall()
        return {k: json.loads(v) for k, v in rows if k in Preferences.model_fields}

    def load(self) -> Preferences:
        """Stored values over the defaults."""
        try:
            return Preferences.model_validate(self._stored())
        except ValidationError as exc:
            raise PreferenceError(
                f"stored preferences are invalid: {describe_validation_error(exc, whole='value')}"
            ) from exc

    def set(self, key: str, value: Any) -> Preferences:
        """Validate and save one preference (strings from the CLI are converted)."""
        if key not in Preferences.model_fields:
            known = ", ".join(Preferences.model_fields)
            raise PreferenceError(f"unknown preference {key!r}; known: {known}")
        try:
            updated = Preferences.model_validate({**self._stored(), key: value})
        except ValidationError as exc:
            raise PreferenceError(describe_validation_error(exc, whole="value")) from exc
        self._db.table(_TABLE).upsert(
            {"key": key, "value": json.dumps(getattr(updated, key))}, pk="key"
        )
        return updated

    def reset(self, key: str | None = None) -> Preferences:
        """Back to the default for ``key``, or for everything."""
        if key is None:
            self._db.execute(f"DELETE FROM {_TABLE}")
        elif key not in Preferences.model_fields:
            raise PreferenceError(f"unknown preference {key!r}")
        else:
            self._db.execute(f"DELETE FROM {_TABLE} WHERE key = ?", (key,))
        return self.load()
