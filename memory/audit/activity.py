"""What the agent did, one row per intent, and each intent's whole story: the one reading of the
audit log that every surface shows (the CLI's ``audit list`` and ``audit show``, the web console,
the MCP server). Surfaces render these models; they never re-derive rows or stories from entries.

* :func:`list_activity` pages :class:`IntentRow` s newest first, filtered by
  :class:`ActivityFilter`, with a keyset cursor (``Page.next_cursor``).
* :func:`find` resolves a tx hash, an intent id (or a unique prefix of one) or an entry id to an
  :class:`IntentStory`: message -> plan -> each rule's verdict (in the rule's own words, as the
  policy engine recorded them) -> approval -> transactions -> receipts -> balance changes, each
  step naming its entries.

Rows come from a derived table kept beside the entries in the audit database (``activity``,
``activity_tx``, ``activity_state``): it is caught up from the entries appended since it was last
read (see :mod:`memory.audit.activity_index`), never hashed, and rebuilt when the log was
re-chained under it; :func:`find` always reads the intent's entries themselves.

Amounts are integers in base units, carried as decimal strings; each also has a whole-token
``display`` string, made with the decimals the caller knows (:class:`TokenUnits`). Every text
field meant for display (``asked``, ``detail``, sentences) holds data from the chain or a model
with control and hidden characters written as escapes (:func:`shown`), so it can never forge a
line of a view; the raw entries are in ``IntentStory.entries``.
"""

from __future__ import annotations

from pathlib import Path

from memory.audit.log import AuditLog
from memory.audit.rows import (
    OUTCOMES,
    ActivityFilter,
    Amount,
    IntentNotFound,
    IntentRow,
    IntentStory,
    Outcome,
    Page,
    RuleVerdict,
    StoryStep,
    TokenUnits,
    parse_outcome,
)
from memory.audit.text import shown
from memory.audit.units import known_token_units

__all__ = [
    "OUTCOMES",
    "ActivityFilter",
    "Amount",
    "IntentNotFound",
    "IntentRow",
    "IntentStory",
    "Outcome",
    "Page",
    "RuleVerdict",
    "StoryStep",
    "TokenUnits",
    "find",
    "known_token_units",
    "list_activity",
    "parse_outcome",
    "shown",
]


def list_activity(
    log_or_path: AuditLog | Path | str,
    filter: ActivityFilter | None = None,  # noqa: A002 - the public name the surfaces use
    *,
    limit: int = 50,
    before_cursor: str | None = None,
    units: TokenUnits | None = None,
    network: str | None = None,
) -> Page[IntentRow]:
    """One page of intents, newest first, matching ``filter``.

    ``before_cursor`` is a previous page's ``next_cursor``; ``units`` gives whole-token display
    strings; ``network`` is the home's network, stamped on each row. Raises ValueError for a bad
    cursor or limit, and AuditReadError when an entry cannot be read back.
    """
    from memory.audit.activity_index import query_page

    return query_page(
        _path(log_or_path),
        filter or ActivityFilter(),
        limit=limit,
        before_cursor=before_cursor,
        units=units or TokenUnits(),
        network=network,
    )


def find(
    log_or_path: AuditLog | Path | str,
    ref: str,
    *,
    units: TokenUnits | None = None,
    network: str | None = None,
) -> IntentStory:
    """The story of the intent ``ref`` names: a tx hash, an intent id (or a unique prefix of at
    least 4 characters) or an entry id. Raises IntentNotFound saying what was looked for."""
    from memory.audit.activity_index import find_story

    return find_story(_path(log_or_path), ref, units=units or TokenUnits(), network=network)


def _path(log_or_path: AuditLog | Path | str) -> Path:
    return log_or_path.path if isinstance(log_or_path, AuditLog) else Path(log_or_path)
