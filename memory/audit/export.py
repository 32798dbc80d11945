"""Exporting the audit log for other tools: JSON Lines (lossless) or CSV (for spreadsheets).

Both carry ``prev_hash`` and ``hash``. A JSON Lines export can be re-verified without the
database (:func:`verify_jsonl`): the canonical bytes are rebuilt from the fields and re-hashed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Literal, TextIO, TypeGuard, get_args

from memory.audit.canonical import GENESIS_HASH, body_for, chain_hash
from memory.audit.log import AuditLog, Head
from memory.audit.verify import VerifyReport

_FIELDS = ("ts", "kind", "actor", "correlation_id", "tool", "status", "data")

ExportFormat = Literal["jsonl", "csv"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
CSV_COLUMNS = (
    "id",
    "ts",
    "kind",
    "actor",
    "correlation_id",
    "tool",
    "status",
    "data",
    "prev_hash",
    "hash",
)


def is_export_format(name: str) -> TypeGuard[ExportFormat]:
    return name in EXPORT_FORMATS


def export(log: AuditLog, out: TextIO, fmt: ExportFormat = "jsonl") -> int:
    """Write every entry in order to ``out``; returns how many were written."""
    if not is_export_format(fmt):
        raise ValueError(f"unknown export format {fmt!r}: use {' or '.join(EXPORT_FORMATS)}")
    count = 0
    if fmt == "jsonl":
        for entry in log.iter_all():
            out.write(json.dumps(entry.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
        return count
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for entry in log.iter_all():
        row = entry.to_dict()
        row["data"] = json.dumps(row["data"], ensure_ascii=False, sort_keys=True)
        writer.writerow({k: "" if row[k] is None else row[k] for k in CSV_COLUMNS})
        count += 1
    return count


class NotAnExport(ValueError):
    """The file is not a JSON Lines export (a CSV export, or not JSON at all): nothing to verify."""


def check_jsonl_format(first_line: str) -> None:
    """Raise NotAnExport, saying what the file is and what is expected, unless ``first_line``
    (the first non-blank line) is a JSON object as ``audit export --format jsonl`` writes."""
    expected = (
        "`audit verify-export` checks the JSON Lines format (`audit export --format jsonl`: one "
        "JSON object per line with its prev_hash and hash)"
    )
    text = first_line.strip().lstrip("\ufeff")
    if text.split(",")[: len(CSV_COLUMNS)] == list(CSV_COLUMNS):
        raise NotAnExport(
            f"this is a CSV export, not JSON Lines: {expected}; CSV is for spreadsheets and "
            "cannot be verified"
        )
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise NotAnExport(
            f"this file is not JSON Lines (its first line is not a JSON object): {expected}"
        )


def verify_jsonl(lines: Iterable[str], expected_head: Head | None = None) -> VerifyReport:
    """Check an exported JSON Lines file on its own: every link and hash, in order."""
    prev, count = GENESIS_HASH, 0
    for number, line in enumerate((ln for ln in lines if ln.strip()), start=1):
        try:
            row = json.loads(line)
            body = body_for(row["id"], {k: row[k] for k in _FIELDS})
            ok = row["id"] == number and row["prev_hash"] == prev
            ok = ok and chain_hash(prev, body) == row["hash"]
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            reason = f"exported entry on line {number} does not match the chain"
            return VerifyReport(False, count, prev, number, reason)
        prev, count = row["hash"], number
    if expected_head is not None and (count, prev) != (expected_head.count, expected_head.hash):
        reason = f"the export ends at {count}:{prev}, not at the recorded head"
        return VerifyReport(False, count, prev, min(count + 1, expected_head.count), reason)
    return VerifyReport(True, count, prev)
