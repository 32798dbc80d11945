"""A careless agent.yaml against the price mechanism (tools/network.py, agent/config.py,
policies/pricing.py): a separate `near-agent do` on a devnet over HTTP."""

from __future__ import annotations

from pathlib import Path

import yaml

from agent.home import Home
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


def _declare_stablecoins(home: Home, symbols: list[str]) -> None:
    config = yaml.safe_load(home.config_file.read_text())
    config["stablecoins"] = symbols
    home.config_file.write_text(yaml.safe_dump(config, sort_keys=False))


def test_declaring_near_a_stablecoin_is_refused_naming_the_field(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    """wNEAR's price is what the stablecoins measure: agent.yaml may not call it a dollar."""
    home = usd_capped_home(tmp_path / "home", fresh_devnet.state_dir / "manifest.json")
    _declare_stablecoins(home, ["USDC", "wNEAR"])
    before = balance(fresh_devnet, BOB)

    run = near_agent(home, "do", "send 1 NEAR to bob.test.near", "--yes")
    assert run.returncode != 0
    out = run.stdout + run.stderr
    assert "stablecoins[1] 'wNEAR' is NEAR, not a USD stablecoin" in out, out
    assert "Traceback" not in out
    assert balance(fresh_devnet, BOB) == before


def test_a_declared_stablecoin_the_pools_do_not_price_at_a_dollar_is_left_out(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    """REF (about $0.50 through wNEAR) declared a stablecoin beside USDC: the pools between them
    disagree with $1, so REF is left out of pricing and every price records why. NEAR is then
    priced from its USDC pool alone: 1 NEAR (~$3) passes the $100 cap, 50 NEAR (~$150) does
    not, for the cap's reason (not because REF-as-a-dollar made the sources disagree)."""
    home = usd_capped_home(tmp_path / "home", fresh_devnet.state_dir / "manifest.json")
    _declare_stablecoins(home, ["USDC", "REF"])
    before = balance(fresh_devnet, BOB)

    paid = near_agent(home, "do", "send 1 NEAR to bob.test.near", "--yes")
    assert paid.returncode == 0, paid.stdout + paid.stderr
    record = decisions(home)[-1]
    assert record["outcome"] == "allow"
    near = record["prices"]["near"]
    assert {tuple(s["pools"]) for s in near["sources"]} == {(0,)}
    (why,) = [d["reason"] for d in near["discarded"] if "declared a stablecoin" in d["reason"]]
    assert "ref.test.near" in why and "$0.49" in why and "left out of pricing" in why, why

    denied = near_agent(home, "do", "send 50 NEAR to bob.test.near", "--yes")
    record = decisions(home)[-1]
    assert record["outcome"] != "allow" and "per_action_usd_cap" in record["reasons"], record
    assert balance(fresh_devnet, BOB) == before + 1 * 10**24, denied.stdout
