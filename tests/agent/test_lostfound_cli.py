"""A swap output the exchange cannot deliver, and getting it back, through `near-agent do`.

Alice swaps NEAR for REF; while her agent holds the reserved swap (before signing), she closes
her REF registration, so REF refuses the delivery and the exchange parks the output, as Ref does:
in its owner's central lost-and-found while the exchange has too little free NEAR, in her own
lost-and-found once it has enough. The agent says which, and how to get it back; the claim goes
through the policy like any action and delivers to her account, registering her on REF first.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from agent.demo import demo_grants
from agent.home import Home
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from tests.agent.agent_runs import finish, near_agent, resume, start, wait_paused
from tests.devnet.helpers import rpc
from tests.support.gate import Gate
from tests.support.grants import give_home_grants
from tests.tools.conftest import call as send_call
from tests.tools.conftest import make_context
from tests.tools.test_tools_devnet import prepare_execute
from tools.base import ONE_YOCTO, ToolContext

ALICE, MARKET = "alice.test.near", "market.test.near"
SWAP = "swap 1 NEAR to REF"
CLAIM = "recover my tokens from the exchange"


@pytest.fixture
def lost_home(fresh_devnet: RunningDevnet, tmp_path: Path) -> Iterator[Home]:
    """Alice's home on a devnet of its own, with the demo grants and one to claim lost tokens."""
    home = Home(tmp_path / "home")
    manifest = fresh_devnet.state_dir / "manifest.json"
    write_config(home, network="devnet", account_id=ALICE, devnet_manifest=manifest)
    expires = datetime.now(UTC) + timedelta(days=1)
    grants = yaml.safe_load(demo_grants(expires))
    exchange = "exchange.test.near"
    grants["grants"].append(
        {
            "id": "recover-lost-tokens",
            "description": "Claim what the exchange parked in my lost-and-found.",
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "kinds": ["claim_lostfound"],
            "tokens": ["NEAR", "REF"],
            "recipients": [exchange],
            "contracts": [{"contract": exchange, "methods": ["claim_lostfound"]}],
            "per_action": {"NEAR": "0.01"},
        }
    )
    (home.root / "grants.yaml").write_text(yaml.safe_dump(grants, sort_keys=False))
    give_home_grants(home)
    yield home


def call(ctx: ToolContext, contract: str, method: str, args: dict, deposit: int) -> None:
    """One function call signed by ``ctx``'s account, outside the agent (what a wallet does)."""

    async def main() -> None:
        try:
            await send_call(ctx, contract, method, args, deposit)
        finally:
            await ctx.aclose()

    asyncio.run(main())


def view(devnet: RunningDevnet, contract: str, method: str, args: dict) -> object:
    ctx = make_context(devnet)

    async def main() -> object:
        try:
            return await ctx.chain.view(contract, method, args)
        finally:
            await ctx.aclose()

    return asyncio.run(main())


def ref_of(devnet: RunningDevnet) -> str:
    return next(t["contract_id"] for t in devnet.manifest["tokens"] if t["symbol"] == "REF")


def swap_while_alice_leaves_ref(home: Home, devnet: RunningDevnet) -> tuple[int, str]:
    """`near-agent do SWAP`, held after its reservation while alice unregisters from REF."""
    ref = ref_of(devnet)
    with Gate() as held:
        proc = start(home, "do", SWAP, "--yes", pause=("after_reserve", held))
        wait_paused(proc, held)
        call(make_context(devnet), ref, "storage_unregister", {"force": True}, ONE_YOCTO)
        resume(held)
        code, out, err = finish(proc)
    return code, out + err


def test_a_parked_swap_output_is_told_apart_and_recovered(
    lost_home: Home, fresh_devnet: RunningDevnet
) -> None:
    devnet = fresh_devnet
    exchange = devnet.manifest["exchange"]["contract_id"]
    ref = ref_of(devnet)

    # the exchange holds too little free NEAR for per-user lost-and-found: the owner's
    code, text = swap_while_alice_leaves_ref(lost_home, devnet)
    assert code != 0, text
    assert "not delivered" in text and "only the exchange can return it" in text, text
    assert "recover my tokens" not in text
    lost = view(devnet, exchange, "get_lostfound_token", {"account_id": ALICE, "token_id": ref})
    assert lost == "0"
    nothing = near_agent(lost_home, "do", CLAIM, "--yes")
    assert nothing.returncode != 0
    assert "nothing in its lost-and-found" in nothing.stdout + nothing.stderr

    # with 200 NEAR more the exchange keeps it for alice herself; her registration is back
    market = make_context(devnet, MARKET)

    async def fund() -> None:
        try:
            await prepare_execute(
                market, "transfer", receiver_id=exchange, amount="200", token="NEAR"
            )
        finally:
            await market.aclose()

    asyncio.run(fund())
    call(make_context(devnet), ref, "storage_deposit", {}, 1_250_000_000_000_000_000_000)
    code, text = swap_while_alice_leaves_ref(lost_home, devnet)
    assert code != 0, text
    assert "your own lost-and-found on exchange.test.near" in text, text
    assert 'near-agent do "recover my tokens from the exchange"' in text
    assert "owner" not in text.split("not delivered", 1)[1]
    parked = int(
        view(devnet, exchange, "get_lostfound_token", {"account_id": ALICE, "token_id": ref})
    )
    assert parked > 0

    # the claim registers alice on REF and delivers everything to her
    assert view(devnet, ref, "storage_balance_of", {"account_id": ALICE}) is None
    claimed = near_agent(lost_home, "do", CLAIM, "--yes")
    assert claimed.returncode == 0, claimed.stdout + claimed.stderr
    assert "Recovered" in claimed.stdout
    assert int(view(devnet, ref, "ft_balance_of", {"account_id": ALICE})) == parked
    lost = view(devnet, exchange, "get_lostfound_token", {"account_id": ALICE, "token_id": ref})
    assert lost == "0"


def test_claiming_near_where_no_wnear_is_configured_is_refused_plainly(
    devnet: RunningDevnet, tmp_path: Path
) -> None:
    """Ref keeps NEAR as wNEAR, so on a network whose configuration names an exchange but no
    wNEAR contract there is no NEAR to look for: the claim says so, and nothing is sent."""
    manifest = json.loads((devnet.state_dir / "manifest.json").read_text())
    wrap = manifest.pop("wrap_id", None) or manifest["wrap"]["contract_id"]
    manifest.pop("wrap", None)
    manifest["tokens"] = [t for t in manifest["tokens"] if t["contract_id"] != wrap]
    without_wnear = tmp_path / "manifest.json"
    without_wnear.write_text(json.dumps(manifest))
    home = Home(tmp_path / "home")
    write_config(home, network="devnet", account_id=ALICE, devnet_manifest=without_wnear)
    expires = datetime.now(UTC) + timedelta(days=1)
    (home.root / "grants.yaml").write_text(demo_grants(expires))
    give_home_grants(home)
    nonce = alice_nonce(devnet)

    refused = near_agent(home, "do", "recover my NEAR from the exchange", "--yes")
    text = refused.stdout + refused.stderr
    assert refused.returncode != 0, text
    assert "claiming NEAR (the exchange keeps NEAR as wNEAR) needs a wNEAR contract" in text
    assert "none is configured on devnet" in text
    assert "Traceback" not in text and "AssertionError" not in text
    assert alice_nonce(devnet) == nonce  # nothing signed


def alice_nonce(devnet: RunningDevnet) -> int:
    """The highest nonce of alice's keys, as the node answers it."""
    params = {"request_type": "view_access_key_list", "account_id": ALICE, "finality": "final"}
    keys = rpc(devnet, "query", params)["result"]["keys"]
    return max(k["access_key"]["nonce"] for k in keys)
