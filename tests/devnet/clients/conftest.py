"""Clients this project does not use itself, driving the devnet over HTTP.

The near-api-js tests need node and npm: the ``node_project`` fixture installs the pinned packages
of ``js/package-lock.json`` into ``js/node_modules`` once (``npm ci``, under a lock, since
pytest-xdist workers start together) and reuses them while the lock file is unchanged.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devnet.server import RunningDevnet

JS_DIR = Path(__file__).parent / "js"
INSTALL_TIMEOUT_S = 600
SCENARIO_TIMEOUT_S = 120


def _lock_digest() -> str:
    return hashlib.sha256((JS_DIR / "package-lock.json").read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def node_project() -> Path:
    """``js/`` with its node_modules installed from the lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        # CI always has node (.ci/run checks); a machine with only Python skips these tests
        message = "the near-api-js tests need node >= 20 and npm on PATH"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    stamp = JS_DIR / "node_modules" / ".installed-lock"
    with open(JS_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists() or stamp.read_text() != _lock_digest():
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=JS_DIR,
                check=True,
                timeout=INSTALL_TIMEOUT_S,
            )
            stamp.write_text(_lock_digest())
    return JS_DIR


def run_scenario(project: Path, name: str, devnet: RunningDevnet) -> dict[str, Any]:
    """Run one scenario of ``js/scenario.mjs`` against ``devnet``; what it saw, as JSON."""
    done = subprocess.run(
        ["node", "scenario.mjs", name, str(devnet.state_dir)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=SCENARIO_TIMEOUT_S,
    )
    assert done.returncode == 0, f"scenario {name} failed:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout)
