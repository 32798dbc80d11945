"""A careless agent.yaml against the price mechanism (tools/network.py, agent/config.py,
policies/pricing.py): a separate `near-agent do` on a devnet over HTTP."""

from __future__ import annotations

from pathlib import Path

import yaml

from devnet.server import RunningDevnet
from tests.agent.agent_runs import near_agent
from tests.devnet.helpers import balance
from tests.scheduler.test_dust_pools_devnet import decisions, usd_capped_home

BOB = "bob.test.near"


def test_a_usd_cap_is_not_widened_by_declaring_wnear_a_stablecoin(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    """The user keeps USDC and adds wNEAR to agent.yaml's ``stablecoins:`` (a listed token, so
    the file is accepted). Promised (README, "USD prices are read against USDC and USDt"; a
    conflicting stablecoin "stops every command with a message naming the field"; issue 13:
    "take the median of independent sources (several pools and stablecoins), deny when they
    disagree"): a $100-per-payment cap still denies 50 NEAR (about $150 on the $300,000
    wNEAR/USDC pool). What happened: NEAR is priced as the stablecoin wNEAR at exactly $1
    (price source "stablecoin", no pool read, fetched_at 9999-12-31), never cross-checked
    against USDC, and the 50 NEAR leave as "$50". Any listed token is accepted as a dollar.
    """
    home = usd_capped_home(tmp_path / "home", fresh_devnet.state_dir / "manifest.json")
    config = yaml.safe_load(home.config_file.read_text())
    config["stablecoins"] = ["USDC", "wNEAR"]
    home.config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    before = balance(fresh_devnet, BOB)

    run = near_agent(home, "do", "send 50 NEAR to bob.test.near", "--yes")
    records = decisions(home)
    price = records[-1].get("prices", {}).get("near") if records else None
    assert balance(fresh_devnet, BOB) == before, f"passed a $100 cap at {price}: {run.stdout}"
    assert "Traceback" not in run.stderr
