"""The chat's terminal: the prompt line, y/N questions and the "working…" spinner.

Why a module of its own: reading a line inside ``asyncio.run`` is where Ctrl-C went wrong. The
event loop's SIGINT handler only cancels the main task, so a Ctrl-C at the prompt printed ``^C``,
kept waiting, and killed the *next* intent after its plan. Every read here runs with Python's
default SIGINT handler, so Ctrl-C raises at once: at the prompt it discards the line, at a y/N
question it answers no. The spinner is stopped (and cleared) before any question and never runs
while input is awaited.

Line editing and history come from the standard library's ``readline`` where it exists (history
in the home, mode 0600, holding only lines that passed the intent screen: a refused line, a
pasted key above all, is never kept). Whatever the input path, a line holding control or escape
characters (an arrow key where no line editor runs) is rejected here with a message and never
reaches the planner or the audit log. Lines that arrive together (a paste) are one request: they
are shown, and run only if the user says yes, as one intent (one plan, all or nothing).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.text_screen import escaped

HISTORY_FILE = "chat_history"
HISTORY_LINES = 1000
YES = frozenset({"y", "yes", "はい", "是", "好", "是的"})

# C0 controls but tab, DEL and C1 controls: what an unhandled key (ESC [ A) leaves in a line.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Line:
    """What one read gave: a line to act on, or why there is none.

    ``text`` is None at end of input (Ctrl-D); ``interrupted`` after Ctrl-C (the line is gone);
    ``rejected`` holds the message for a line with control characters; ``pasted`` holds the
    lines of a paste (more than one line arrived at once).
    """

    text: str | None
    interrupted: bool = False
    rejected: str | None = None
    pasted: tuple[str, ...] = ()


@contextlib.contextmanager
def ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt at once while input is awaited (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def control_characters(text: str) -> str | None:
    """The line escaped for display when it holds control characters, else None."""
    if _CONTROL.search(text) is None:
        return None
    return "".join(f"\\x{ord(c):02x}" if _CONTROL.fullmatch(c) else c for c in escaped(text))


def joined(lines: tuple[str, ...]) -> str:
    """A paste as one intent: its lines as clauses of one request."""
    return "; ".join(line.strip().rstrip(".;。；") for line in lines if line.strip())


class Terminal:
    """Prompt, questions and spinner of one chat on one console."""

    def __init__(self, console: Any, history: Path | None) -> None:
        self.console = console
        self.interactive = sys.stdin.isatty()
        self._status: Any = None
        self._history = history
        self._readline: Any = None
        if self.interactive:
            self._readline = _load_readline(history)

    # -- the prompt ---------------------------------------------------------------------------

    def read(self, prompt: str = "you> ") -> Line:
        """One line from the user (Ctrl-C: a fresh prompt; Ctrl-D: a newline and None)."""
        self.stop_spinner()
        try:
            with ctrl_c_raises():
                text = input(prompt)
        except KeyboardInterrupt:
            self.console.print()
            return Line("", interrupted=True)
        except EOFError:
            self.console.print()
            return Line(None)
        lines = text.splitlines() or [text]
        if self.interactive:
            lines += _pending_lines()
        lines = [line for line in lines if line.strip()]
        for line in lines:
            shown = control_characters(line)
            if shown is not None:
                return Line("", rejected=shown)
        if len(lines) > 1:
            return Line("", pasted=tuple(lines))
        return Line(lines[0].strip() if lines else "")

    def remember(self, text: str) -> None:
        """Keep an accepted line in the history (the file stays 0600)."""
        if self._readline is None or not text:
            return
        self._readline.add_history(text)
        if self._history is not None:
            with contextlib.suppress(OSError):
                _private_file(self._history)
                self._readline.append_history_file(1, str(self._history))
                self._readline.set_history_length(HISTORY_LINES)

    # -- questions ----------------------------------------------------------------------------

    def ask(self, question: str) -> bool | None:
        """y/N; None when there is no terminal to ask on (nothing is read then)."""
        self.stop_spinner()
        if not self.interactive:
            return None
        try:
            with ctrl_c_raises():
                answer = input(f"{question} [y/N]: ")
        except (KeyboardInterrupt, EOFError):
            self.console.print()
            return False
        return answer.strip().lower() in YES

    # -- the spinner --------------------------------------------------------------------------

    def start_spinner(self, text: str = "working…") -> None:
        if self._status is None:
            self._status = self.console.status(text)
            self._status.start()

    def stop_spinner(self) -> None:
        """Stop and clear the spinner: before any prompt, question or reply."""
        if self._status is not None:
            self._status.stop()
            self._status = None


def _pending_lines() -> list[str]:
    """Lines already waiting on the terminal: the rest of a paste (nothing typed is awaited)."""
    fd = sys.stdin.fileno()
    chunks: list[bytes] = []
    while select.select([fd], [], [], 0)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace").splitlines()


def _private_file(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)


def _load_readline(history: Path | None) -> Any:
    """The standard library's line editor, with the home's history; None where there is none."""
    try:
        import readline
    except ImportError:  # no line editor on this platform: control characters are rejected
        return None
    readline.set_auto_history(False)  # only lines that passed the screen are kept
    readline.set_history_length(HISTORY_LINES)
    if history is not None and history.is_file():
        with contextlib.suppress(OSError):
            os.chmod(history, 0o600)
            readline.read_history_file(str(history))
    return readline
