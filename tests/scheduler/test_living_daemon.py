"""The daemon as a user lives with it: separate `near-agent` processes on a real home and devnet.

One daemon per home (a second is refused, `daemon status` names the running one), a log file,
a last word on Ctrl-C, and the kill switch said aloud by the daemon and shown by `schedule`.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from agent.home import Home
from devnet.server import RunningDevnet
from tests.agent.agent_runs import gate, near_agent, resume, start, wait_paused
from tests.scheduler.devnet_home import make_home

DCA = {"id": "dca", "kind": "dca", "sell": "NEAR", "buy": "USDC", "amount": "1", "every": "1h"}


class Lines:
    """A running process's stdout, line by line, waited on with a deadline (no sleeps)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 60) -> str:
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} in {self.seen}") from None
            if line is None:
                raise AssertionError(f"ended before {text!r}: {self.seen}")
            self.seen.append(line)
            if text in line:
                return line

    def rest(self) -> list[str]:
        self.proc.wait(timeout=60)
        while (line := self._queue.get(timeout=30)) is not None:
            self.seen.append(line)
        return self.seen


def home_on(devnet: RunningDevnet, root: Path, **kwargs: object) -> Home:
    return make_home(root, devnet.state_dir / "manifest.json", **kwargs)  # type: ignore[arg-type]


def test_one_daemon_per_home_with_status_log_and_a_last_word_on_ctrl_c(
    devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = home_on(devnet, tmp_path / "home")
    idle = near_agent(home, "daemon", "status")
    assert idle.returncode == 3, idle.stdout + idle.stderr
    assert "no daemon running" in idle.stdout

    first = start(home, "daemon", "--tick", "0.1")
    out = Lines(first)
    try:
        out.wait_for("daemon running")
        status = near_agent(home, "daemon", "status")
        assert status.returncode == 0, status.stderr
        assert f"daemon running: pid {first.pid}, since " in status.stdout
        assert str(home.root / "logs" / "daemon.log") in status.stdout
        as_json = json.loads(near_agent(home, "daemon", "status", "--json").stdout)
        assert as_json["running"] is True and as_json["pid"] == first.pid

        second = near_agent(home, "daemon", "--run-for", "1")
        assert second.returncode == 1
        assert f"a daemon already runs for this home (pid {first.pid}, " in second.stderr
        assert "daemon running" not in second.stdout  # it never started
    finally:
        first.send_signal(signal.SIGINT)
    lines = out.rest()
    assert first.returncode == 0, first.stderr.read() if first.stderr else ""
    assert lines[-1] == "daemon stopped (Ctrl-C); no fire was left half-done", lines

    log = (home.root / "logs" / "daemon.log").read_text()
    assert "daemon running" in log and "daemon stopped (Ctrl-C)" in log
    assert (home.root / "logs" / "daemon.log").stat().st_mode & 0o077 == 0
    after = near_agent(home, "daemon", "status")
    assert after.returncode == 3 and "no daemon running" in after.stdout


def test_the_kill_switch_shows_in_schedule_and_the_daemon_says_it(
    devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = home_on(devnet, tmp_path / "home", strategies=[DCA])
    paused = near_agent(home, "pause", "--reason", "on holiday")
    assert paused.returncode == 0, paused.stderr

    listed = near_agent(home, "schedule", "list")
    assert listed.returncode == 0, listed.stderr
    assert "PAUSED by the kill switch" in listed.stdout and "on holiday" in listed.stdout
    assert "paused (kill switch)" in listed.stdout
    shown = near_agent(home, "schedule", "show", "dca")
    assert "status: paused (kill switch)" in shown.stdout
    data = json.loads(near_agent(home, "schedule", "list", "--json").stdout)
    assert data["kill_switch"]["paused"] is True
    assert data["kill_switch"]["reason"] == "on holiday"
    (row,) = data["strategies"]
    assert row["id"] == "dca" and row["status"] == "active" and row["held_by_kill_switch"]

    daemon = start(home, "daemon", "--tick", "0.1")
    out = Lines(daemon)
    try:
        said = out.wait_for("PAUSED by the kill switch")
        assert "on holiday" in said and "near-agent resume" in said
        assert near_agent(home, "resume").returncode == 0
        out.wait_for("RESUMED: strategies fire again")
        out.wait_for("dca: done")  # the strategy's due fire runs once the switch is lifted
    finally:
        daemon.send_signal(signal.SIGINT)
    out.rest()
    listed = near_agent(home, "schedule", "list")
    assert "kill switch" not in listed.stdout and "PAUSED" not in listed.stdout


def test_the_daemon_log_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.scheduler import daemon as daemon_module

    monkeypatch.setattr(daemon_module, "LOG_BYTES", 2_000)
    home = Home(tmp_path / "home")
    with daemon_module.daemon_log(home) as logged:
        for n in range(1_000):
            logged.info("fire %d of dca: done", n)
    logs = sorted((home.root / "logs").iterdir())
    assert [p.name for p in logs] == [f"daemon.log{s}" for s in ("", ".1", ".2", ".3")]
    assert all(p.stat().st_size <= 2_100 for p in logs)
    assert "fire 999 of dca: done" in logs[0].read_text()


def test_ctrl_c_during_a_fire_lets_it_finish_and_says_so(
    devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = home_on(devnet, tmp_path / "home", strategies=[DCA])
    held = gate()
    daemon = start(home, "daemon", "--tick", "0.1", pause=("after_sign", held))
    wait_paused(daemon, held)  # the fire has signed its swap and not sent it yet
    out = Lines(daemon)
    daemon.send_signal(signal.SIGINT)
    resume(held)
    lines = out.rest()
    assert daemon.returncode == 0, lines
    assert "stopping: the fire under way finishes and is recorded first" in lines
    assert any("dca: done" in line for line in lines), lines
    assert lines[-1] == "daemon stopped (Ctrl-C); no fire was left half-done", lines
    shown = json.loads(near_agent(home, "schedule", "show", "dca", "--json").stdout)
    assert [f["status"] for f in shown["fires"]] == ["done"]
