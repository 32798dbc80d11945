"""A limit written in wNEAR holds for a NEAR swap, through `grants add` and `grants check`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from agent.home import Home
from devnet.server import RunningDevnet
from tests.agent.test_grants_source import near_agent, ok


@pytest.mark.slow
def test_grants_check_applies_a_wnear_window_and_threshold(
    devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = Home(tmp_path / "home")
    manifest = devnet.state_dir / "manifest.json"
    ok(near_agent(home, "init", "--account", "alice.test.near", "--manifest", str(manifest)))
    grant = {
        "id": "small-swaps",
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "kinds": ["swap"],
        "tokens": ["NEAR", "wNEAR", "USDC"],
        "exchanges": ["exchange.test.near"],
        "max_slippage_bps": 100,
        "per_action_usd": "100",
        "windows": [{"token": "wNEAR", "amount": "2", "period": "24h"}],
        "confirm": {"above": {"wNEAR": "1"}},
    }
    doc = {
        "tokens": {
            "wNEAR": {"contract_id": "wrap.test.near", "decimals": 24},
            "USDC": {"contract_id": "usdc.test.near", "decimals": 6},
        },
        "grants": [grant],
    }
    path = tmp_path / "grants.yaml"
    path.write_text(yaml.safe_dump(doc))
    ok(near_agent(home, "grants", "add", str(path)))

    over = near_agent(home, "grants", "check", "swap 4.5 NEAR to USDC")
    assert over.returncode == 2, over.stdout + over.stderr
    assert "DENY" in over.stdout and "window_cap" in over.stdout
    above = ok(near_agent(home, "grants", "check", "swap 1.5 NEAR to USDC"))
    assert "CONFIRM" in above.stdout and "confirm_above" in above.stdout
    assert "ALLOW" in ok(near_agent(home, "grants", "check", "swap 0.5 NEAR to USDC")).stdout
