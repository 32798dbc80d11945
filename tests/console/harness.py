"""Real ``near-agent console`` and ``near-agent daemon`` processes for the console tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from agent.home import Home

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "docs" / "console"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class RunningConsole:
    url: str  # the printed URL, token included
    base: str  # http://127.0.0.1:PORT
    token: str
    host: str  # the Host header a browser sends
    process: subprocess.Popen[str]

    @property
    def cookie(self) -> str:
        """The name of this console's cookie (one per port)."""
        from agent.console.security import cookie_name

        return cookie_name(int(self.base.rsplit(":", 1)[1]))


def agent_command(home: Home, *args: str) -> list[str]:
    return [sys.executable, "-m", "agent", "--home", str(home.root), *args]


@contextmanager
def running_console(home: Home, *extra: str) -> Iterator[RunningConsole]:
    """Start the console on a free port; yield once it printed its URL (it is listening)."""
    process = subprocess.Popen(
        agent_command(home, "console", "--port", "0", *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "?token=" not in line:
            process.kill()
            raise AssertionError(f"no URL printed: {line!r} {process.communicate()[1]}")
        url = line.rsplit(" ", 1)[1].strip()
        parts = urlsplit(url)
        yield RunningConsole(
            url,
            f"{parts.scheme}://{parts.netloc}",
            parts.query.removeprefix("token="),
            parts.netloc,
            process,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_daemon(home: Home, run_for: float) -> subprocess.CompletedProcess[str]:
    """A real daemon process for ``run_for`` seconds."""
    return subprocess.run(
        agent_command(home, "daemon", "--run-for", str(run_for), "--tick", "0.1"),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


@contextmanager
def daemon_process(home: Home) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        agent_command(home, "daemon", "--tick", "0.1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
