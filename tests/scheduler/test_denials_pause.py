"""A strategy the policy keeps denying pauses itself and says why, in the rule's words: through
a real `near-agent daemon` process, then `schedule show` and `schedule list` as users read them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from agent.home import Home
from devnet.server import RunningDevnet
from memory.jobs import JobStore
from tests.scheduler.devnet_home import make_home, swap_grant
from tests.support.chain_reads import usdc_and_nonce
from tests.support.grants import give_home_grants

ROOT = Path(__file__).resolve().parents[2]
# every second, 2 NEAR: within the grant's 3 NEAR per action and 5 per day, but not the ceiling
DCA = {"id": "dca", "kind": "dca", "sell": "NEAR", "buy": "USDC", "amount": "2", "every": "1s"}


def agent(home: Home, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agent", "--home", str(home.root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_denials_in_a_row_pause_the_strategy_with_the_rules_words(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = make_home(tmp_path / "home", fresh_devnet.state_dir / "manifest.json", strategies=[DCA])
    policy = yaml.safe_load(swap_grant())
    policy["global"] = {"windows": [{"token": "NEAR", "amount": "1", "period": "24h"}]}
    (home.root / "grants.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    give_home_grants(home)  # a global ceiling of 1 NEAR a day across every grant
    before = usdc_and_nonce(fresh_devnet)

    ran = agent(home, "daemon", "--run-for", "6", "--tick", "0.1")
    assert ran.returncode == 0, ran.stdout + ran.stderr

    with JobStore(home.root / "jobs.db") as store:
        row = store.strategy("dca")
        fires = store.fires("dca")
    assert [f.status for f in fires] == ["denied"] * 3  # then it stopped itself
    assert row is not None and row.status == "paused"
    words = "global ceiling: 0 NEAR used + 2 NEAR asked would pass 1 NEAR per 24h"
    assert row.status_reason == f"auto-paused after 3 consecutive denials by the policy: {words}"
    assert all(f.detail["message"] == words for f in fires)
    assert usdc_and_nonce(fresh_devnet) == before  # nothing was sent

    shown = agent(home, "schedule", "show", "dca")
    assert shown.returncode == 0, shown.stderr
    assert "status: paused (auto-paused after 3 consecutive denials" in shown.stdout
    assert "(3 now)" in shown.stdout  # the denials count as failures in a row
    assert words in shown.stdout  # each fire's line says why
    listed = agent(home, "schedule", "list")
    assert "paused" in listed.stdout and "auto-paused" in listed.stdout
