"""A home is its user's alone: the folder 0700, every database and SQLite side file 0600, made so
by the commands that create them, looser ones left by earlier versions tightened, and reported by
the status the console reads."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from agent.home import Home
from agent.status import read_status
from devnet.server import RunningDevnet


def near_agent(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "agent", "--home", str(home), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def databases(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if ".db" in p.name]


def test_a_new_home_and_its_databases_are_owner_only(devnet: RunningDevnet, tmp_path: Path) -> None:
    home = tmp_path / "home"
    manifest = str(devnet.state_dir / "manifest.json")
    assert near_agent(home, "init", "--account", "alice.test.near", "--manifest", manifest)
    grants = Path(__file__).parents[2] / "policies" / "examples" / "demo-grant.yaml"
    done = near_agent(home, "grants", "add", str(grants), "--allow-long-expiry")
    assert done.returncode == 0, done.stderr
    assert near_agent(home, "contacts", "add", "bob", "bob.test.near").returncode == 0
    assert mode(home) == 0o700
    reader = sqlite3.connect(home / "audit.db")  # while it is open, its WAL files exist
    try:
        reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
        found = databases(home)
        assert {"audit.db", "policy.db", "memory.db"} <= {p.name for p in found}
        assert {"audit.db-wal", "audit.db-shm"} <= {p.name for p in found}
        assert {p.name: mode(p) for p in found} == {p.name: 0o600 for p in found}
    finally:
        reader.close()


def test_looser_files_of_an_existing_home_are_tightened(home: Home) -> None:
    os.chmod(home.root, 0o755)
    for path in databases(home.root):
        os.chmod(path, 0o644)
    assert read_status(home, probe_chain=False).problems  # what the console would show
    done = near_agent(home.root, "grants", "list")
    assert done.returncode == 0, done.stderr
    assert mode(home.root) == 0o700
    assert all(mode(p) == 0o600 for p in databases(home.root))
    assert read_status(home, probe_chain=False).problems == []


def test_status_names_each_loose_file_and_the_fix(home: Home) -> None:
    for made in ("agent.yaml", "grants.yaml"):  # written here, not under the CLI's umask
        if (home.root / made).exists():
            os.chmod(home.root / made, 0o600)
    os.chmod(home.root, 0o750)
    os.chmod(home.audit_db, 0o640)
    problems = read_status(home, probe_chain=False).problems
    assert problems == [
        f"the home folder {home.root} is mode 0750: other users can list it; "
        f"fix it with: chmod 700 {home.root}",
        f"{home.audit_db} is mode 0640: other users can read it; "
        f"fix it with: chmod 600 {home.audit_db}",
    ]
