"""A token balance that is not a NEP-141 U128 string is refused, wherever the agent reads one.

The proxy in front of a real devnet rewrites only ``ft_balance_of``'s answer. Before one strict
reader existed, ``int(raw or 0)`` read ``"-5"`` as minus five, ``1.5`` as one, ``null`` and ``""``
as zero: a balance the contract never stated. Now the user sees a clear error quoting the answer,
and nothing is signed or sent.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest

from agent.home import Home
from agent.session import AgentSession
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from tests.hardening.lying_proxy import LyingProxy

USER = "alice.test.near"
SUBMISSIONS = {"send_tx", "broadcast_tx_commit"}
LIES: list[Any] = ["-5", 1.5, "1e3", "", None, str(2**128), 7, " 5", "\u0665"]


def answer_with(value: Any):
    raw = json.dumps(value).encode() if value is not None else b"null"

    def rewrite(envelope: dict[str, Any]) -> dict[str, Any]:
        envelope = copy.deepcopy(envelope)
        envelope["result"]["result"] = list(raw)
        return envelope

    return rewrite


def run_with_balance(
    devnet: RunningDevnet, home: Home, value: Any, text: str, method: str = "ft_balance_of"
):
    async def body():
        proxy = LyingProxy(
            upstream=devnet.rpc_url, rewrites={f"call_function:{method}": answer_with(value)}
        )
        async with proxy:
            manifest = json.loads((devnet.state_dir / "manifest.json").read_text())
            manifest["rpc_url"] = proxy.url
            via_proxy = home.root / "manifest-via-proxy.json"
            via_proxy.write_text(json.dumps(manifest))
            write_config(
                home, network="devnet", account_id=USER, devnet_manifest=via_proxy, overwrite=True
            )
            session = await AgentSession.open(home)
            try:
                report = await session.run(text, confirm=lambda a, d: True)
            finally:
                await session.close()
            return report, list(proxy.seen)

    return asyncio.run(body())


@pytest.mark.parametrize("value", LIES, ids=repr)
def test_a_lying_balance_stops_a_token_transfer_before_signing(
    devnet: RunningDevnet, home: Home, value: Any
) -> None:
    report, seen = run_with_balance(devnet, home, value, "swap 5 USDC to REF")
    assert "call_function" in seen  # the balance was read, through the liar
    assert not SUBMISSIONS & set(seen)  # nothing was sent
    [step] = report.steps
    assert step.status == "refused", step.message
    assert "ft_balance_of" in step.message and "not a U128" in step.message


@pytest.mark.parametrize("value", ["-5", 1.5, None], ids=repr)
def test_a_lying_balance_is_not_shown_as_a_balance(
    devnet: RunningDevnet, home: Home, value: Any
) -> None:
    report, _ = run_with_balance(devnet, home, value, "what's my USDC balance")
    [step] = report.steps
    assert step.status == "failed", step.message
    assert "not a U128" in step.message


def test_an_honest_balance_still_reads(devnet: RunningDevnet, home: Home) -> None:
    report, seen = run_with_balance(devnet, home, "1000000000", "swap 5 USDC to REF")
    assert [s.status for s in report.steps] == ["done"], [s.message for s in report.steps]
    assert SUBMISSIONS & set(seen)


@pytest.mark.parametrize("value", [1.5, "1e3", "-5", None], ids=repr)
def test_lying_claimable_rewards_send_no_claim(
    devnet: RunningDevnet, home: Home, value: Any
) -> None:
    """``int(1.5)`` once made a claim of 1 yoctoNEAR out of an answer that was no amount."""
    report, seen = run_with_balance(devnet, home, value, "claim my rewards", method="get_claimable")
    assert not SUBMISSIONS & set(seen)
    [step] = report.steps
    assert step.status == "refused", step.message
    assert "get_claimable" in step.message and "not a U128" in step.message
