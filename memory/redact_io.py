"""Redaction at the process's exits: everything printed and every log record.

The stores redact what they keep (``memory.redact``); this module applies the same
:func:`redact_text` to what leaves the process otherwise: stdout and stderr (results, error
messages, tracebacks) and log records. ``install_redaction`` is called once by the CLI's entry
point; importing this module changes nothing.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, TextIO

from memory.redact import redact_text


class RedactingStream:
    """A text stream that redacts each complete line before passing it on.

    Lines are held until their newline (a secret split over two writes is still caught) and
    written at ``flush``, so a prompt without a newline appears when it is flushed.
    """

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, _, self._pending = self._pending.rpartition("\n")
            self._inner.write(redact_text(complete + "\n"))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._pending:
            self._inner.write(redact_text(self._pending))
            self._pending = ""
        self._inner.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, encoding, fileno...
        if name == "buffer":  # bytes written there would pass unredacted
            raise AttributeError(name)
        return getattr(self._inner, name)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (arguments and traceback included) with secrets hidden."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


class _RedactingRecordFactory:
    """A log-record factory that redacts each record the factory it wraps makes."""

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self._inner = inner
        self._filter = RedactingFilter()

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._inner(*args, **kwargs)
        self._filter.filter(record)
        return record


def install_redaction() -> None:
    """Redact stdout, stderr and every log record from now on in this process (idempotent)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, RedactingStream):
            setattr(sys, name, RedactingStream(stream))
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingRecordFactory):
        logging.setLogRecordFactory(_RedactingRecordFactory(factory))
