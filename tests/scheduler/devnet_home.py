"""An agent home for alice on a devnet, with a swap grant whose daily NEAR cap is small."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from agent.home import Home
from agent.setup_home import write_config
from tests.support.grants import give_home_grants


def swap_grant(cap_near: str = "5", confirm_above: str | None = None) -> str:
    grant: dict = {
        "id": "auto-swaps",
        "description": "Unattended swaps, capped per day.",
        "expires_at": (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kinds": ["swap", "claim_rewards"],
        "tokens": ["NEAR", "wNEAR", "USDC"],
        "exchanges": ["exchange.test.near"],
        "contracts": [{"contract": "tasks.test.near", "methods": ["claim_rewards"]}],
        "max_slippage_bps": 100,
        "quote_max_age": "60s",
        # wNEAR counts as NEAR: these NEAR limits also cover selling wNEAR
        "per_action": {"NEAR": "3", "USDC": "100"},
        "windows": [{"token": "NEAR", "amount": cap_near, "period": "24h"}],
    }
    if confirm_above is not None:
        grant["confirm"] = {"above": {"NEAR": confirm_above}}
    body = {
        "tokens": {
            "wNEAR": {"contract_id": "wrap.test.near", "decimals": 24},
            "USDC": {"contract_id": "usdc.test.near", "decimals": 6},
        },
        "grants": [grant],
    }
    return yaml.safe_dump(body, sort_keys=False)


def make_home(
    root: Path,
    manifest: Path,
    *,
    cap_near: str = "5",
    confirm_above: str | None = None,
    strategies: list[dict] | None = None,
) -> Home:
    home = Home(root)
    write_config(home, network="devnet", account_id="alice.test.near", devnet_manifest=manifest)
    (home.root / "grants.yaml").write_text(swap_grant(cap_near, confirm_above))
    give_home_grants(home)
    if strategies:
        config = yaml.safe_load(home.config_file.read_text())
        config["strategies"] = strategies
        home.config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    return home
