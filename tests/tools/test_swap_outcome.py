"""A swap is judged by its own receipts, never by the account's balances.

Ref-style exchanges may refund by returning the unused amount from ft_on_transfer instead of
panicking; then no receipt fails and only the value ft_transfer_call returns (the used amount)
tells. A swap that did happen is measured by the exchange's "Swapped" log and the output token's
ft_transfer event, even when the balances do not move (another action of the account spent the
same token meanwhile). This drives SwapTool.execute with a scripted chain.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.action import (
    NEAR,
    CanonicalAction,
    FunctionCallSpec,
    Quote,
    TransactionSpec,
)
from tools.base import ToolContext
from tools.endpoints import RequestMeter
from tools.errors import SwapFailedError
from tools.keypair import KeyPair
from tools.keys import Credentials
from tools.network import custom_network
from tools.outcome import ReceiptResult, TxOutcome
from tools.ref_logs import swap_line
from tools.swap import SwapTool, read_swap
from tools.tokens import TokenRegistry

ME, USDC, REF, EXCHANGE = "me.near", "usdc.near", "ref.near", "exchange.near"


class ScriptedChain:
    """Balances that do not move, and an outcome holding ``receipts`` (none by default)."""

    def __init__(self, used: str, receipts: tuple[ReceiptResult, ...] = ()) -> None:
        self.used = used
        self.receipts = receipts
        self.sent: list[TransactionSpec] = []
        self.requests = RequestMeter()  # no budget: every request is allowed

    async def near_balance(self, account_id: str) -> dict[str, int]:
        return {"total": 10**25, "available": 10**25, "locked": 0, "storage": 0}

    async def rpc(self, method: str, params: Any) -> Any:
        assert method == "gas_price"
        return {"gas_price": "100000000"}

    async def view(self, contract: str, method: str, args: Any = None) -> Any:
        if method == "ft_metadata":
            return {"spec": "ft-1.0.0", "name": contract, "symbol": "REF", "decimals": 18}
        assert method == "ft_balance_of"
        return "5000000"

    async def send(self, creds: Credentials, spec: TransactionSpec, **_: Any) -> TxOutcome:
        self.sent.append(spec)
        return TxOutcome(
            tx_hash=f"h{len(self.sent)}",
            signer_id=ME,
            receiver_id=spec.receiver_id,
            status_ok=True,
            value=f'"{self.used}"'.encode(),
            failure=None,
            receipts=self.receipts,
            tokens_burnt=0,
        )

    async def close(self) -> None:
        return None


def swap_action() -> CanonicalAction:
    msg = (
        '{"actions":[{"pool_id":2,"token_in":"usdc.near","token_out":"ref.near",'
        '"amount_in":"1000000","min_amount_out":"990"}]}'
    )
    tx = TransactionSpec(
        signer_id=ME,
        receiver_id=USDC,
        actions=(
            FunctionCallSpec(
                method_name="ft_transfer_call",
                args={"receiver_id": EXCHANGE, "amount": "1000000", "msg": msg},
                gas=180 * 10**12,
                deposit=1,
            ),
        ),
    )
    quote = Quote(
        token_in=USDC,
        token_out=REF,
        amount_in=1_000_000,
        amount_out=1000,
        min_amount_out=990,
        pool_ids=(2,),
        max_slippage_bps=100,
        fetched_at=datetime.now(UTC),
        source=EXCHANGE,
    )
    return CanonicalAction(
        tool="swap",
        signer_id=ME,
        transactions=(tx,),
        quote=quote,
        recipients=(EXCHANGE,),
        preview="swap",
    )


def context(chain: ScriptedChain) -> ToolContext:
    network = custom_network("http://127.0.0.1:9", wrap_id="wrap.near", exchange_id=EXCHANGE)
    return ToolContext(
        network=network,
        chain=chain,
        account_id=ME,  # type: ignore[arg-type]
        credentials=Credentials(ME, KeyPair.generate()),
        tokens=TokenRegistry(chain, [], wrap_id="wrap.near"),
    )  # type: ignore[arg-type]


FAILED_TRANSFER = "Smart contract panicked: The account me.near is not registered"


def receipt(executor: str, *logs: str, ok: bool = True) -> ReceiptResult:
    return ReceiptResult(
        receipt_id=f"r-{executor}-{len(logs)}",
        executor_id=executor,
        ok=ok,
        error=None if ok else FAILED_TRANSFER,
        logs=logs,
    )


def transfer_event(sender: str, receiver: str, amount: int) -> str:
    return "EVENT_JSON:" + json.dumps(
        {
            "standard": "nep141",
            "version": "1.0.0",
            "event": "ft_transfer",
            "data": [{"old_owner_id": sender, "new_owner_id": receiver, "amount": str(amount)}],
        }
    )


SWAPPED = f"Swapped 1000000 {USDC} for 995 {REF}"


@pytest.mark.parametrize(
    ("used", "says"),
    [("0", "refunded"), ("1000000", "below the minimum"), ("lots", "cannot be confirmed")],
)
def test_refund_without_failed_receipt_is_a_failed_swap(used: str, says: str) -> None:
    chain = ScriptedChain(used)
    ctx = context(chain)
    with pytest.raises(SwapFailedError, match=says) as info:
        asyncio.run(SwapTool().execute(swap_action(), ctx))
    assert len(chain.sent) == 1
    assert info.value.result is not None and info.value.result.tx_hashes == ["h1"]
    assert info.value.result.ok is False


def test_a_landed_swap_is_measured_from_its_receipts_not_the_balances() -> None:
    """The balances do not move here (as when a concurrent action spent the output): success."""
    chain = ScriptedChain(
        "1000000",
        (
            receipt(EXCHANGE, SWAPPED),
            receipt(REF, transfer_event(EXCHANGE, ME, 995)),
            receipt(EXCHANGE),
            receipt(USDC),
        ),
    )
    result = asyncio.run(SwapTool().execute(swap_action(), context(chain)))
    assert result.ok and result.data["amount_out"] == "995" and result.data["source"] == "receipts"
    assert result.data["amount_in"] == "1000000"
    assert "received 0.000000000000000995 " in result.summary


def test_an_output_swapped_but_delivered_short_is_reported_as_parked() -> None:
    chain = ScriptedChain(
        "1000000",
        (
            receipt(EXCHANGE, SWAPPED),
            receipt(REF, transfer_event(EXCHANGE, ME, 500)),
        ),
    )
    with pytest.raises(SwapFailedError, match="delivered only 500.*parked") as info:
        asyncio.run(SwapTool().execute(swap_action(), context(chain)))
    assert info.value.result is not None and info.value.result.ok is False


@pytest.mark.parametrize(
    ("lost", "where"), [(False, "your deposit on exchange.near"), (True, "lost-and-found")]
)
def test_a_failed_delivery_is_parked_not_refunded(lost: bool, where: str) -> None:
    """The pool swap happened and only the output's ft_transfer failed: say where it went."""
    callback = "Account me.near is not registered. Depositing to owner." if lost else ""
    chain = ScriptedChain(
        "1000000",
        (
            receipt(EXCHANGE, SWAPPED),
            receipt(REF, ok=False),
            receipt(EXCHANGE, *([callback] if callback else [])),
            receipt(USDC),
        ),
    )
    with pytest.raises(SwapFailedError) as info:
        asyncio.run(SwapTool().execute(swap_action(), context(chain)))
    message = info.value.message
    assert "refunded" not in message and "not delivered" in message and where in message
    assert "995" in message and info.value.details["parked"] is True
    assert info.value.result is not None and info.value.result.tx_hashes == ["h1"]


def test_failed_swap_receipt_is_a_refund() -> None:
    chain = ScriptedChain(
        "0",
        (
            ReceiptResult(
                receipt_id="a", executor_id=EXCHANGE, ok=False, error="E68: slippage error"
            ),
            receipt(USDC, transfer_event(EXCHANGE, ME, 1_000_000)),
        ),
    )
    with pytest.raises(SwapFailedError, match="refunded: E68: slippage error"):
        asyncio.run(SwapTool().execute(swap_action(), context(chain)))


def test_read_swap_follows_a_two_hop_route_and_ignores_others_transfers() -> None:
    outcome = TxOutcome(
        tx_hash="h",
        signer_id=ME,
        receiver_id=USDC,
        status_ok=True,
        value=b'"1000000"',
        failure=None,
        tokens_burnt=0,
        receipts=(
            receipt(
                EXCHANGE,
                f"Swapped 1000000 {USDC} for 333 wrap.near",
                f"Swapped 333 wrap.near for 1990 {REF}",
            ),
            receipt(
                REF, transfer_event(EXCHANGE, "someone.near", 7), transfer_event(EXCHANGE, ME, 1990)
            ),
        ),
    )
    seen = read_swap(outcome, exchange=EXCHANGE, user=ME, token_in=USDC, token_out=REF)
    assert (seen.used, seen.swapped_in, seen.amount_out, seen.delivered) == (
        1_000_000,
        1_000_000,
        1990,
        1990,
    )
    assert seen.delivery_by_event and not seen.delivery_errors


def test_read_swap_without_events_trusts_only_a_successful_delivery_receipt() -> None:
    base = dict(
        tx_hash="h",
        signer_id=ME,
        receiver_id=USDC,
        status_ok=True,
        value=b'"1000000"',
        failure=None,
        tokens_burnt=0,
    )
    quiet = TxOutcome(**base, receipts=(receipt(EXCHANGE, SWAPPED), receipt(REF)))
    seen = read_swap(quiet, exchange=EXCHANGE, user=ME, token_in=USDC, token_out=REF)
    assert seen.delivered == 995 and not seen.delivery_by_event
    none = TxOutcome(**base, receipts=(receipt(EXCHANGE, SWAPPED),))
    assert read_swap(none, exchange=EXCHANGE, user=ME, token_in=USDC, token_out=REF).delivered == 0


def test_a_refunded_swap_to_near_does_not_unwrap() -> None:
    """The near_withdraw after a refunded swap would unwrap wNEAR the account already held."""
    action = swap_action()
    assert action.quote is not None
    withdraw = TransactionSpec(
        signer_id=ME,
        receiver_id="wrap.near",
        actions=(
            FunctionCallSpec(
                method_name="near_withdraw", args={"amount": "990"}, gas=30 * 10**12, deposit=1
            ),
        ),
    )
    quote = action.quote.model_copy(update={"token_out": NEAR})
    action = action.model_copy(
        update={"transactions": (*action.transactions, withdraw), "quote": quote}
    )
    chain = ScriptedChain("0")
    with pytest.raises(SwapFailedError, match="refunded") as info:
        asyncio.run(SwapTool().execute(action, context(chain)))
    assert [spec.receiver_id for spec in chain.sent] == [USDC]
    assert info.value.result is not None and info.value.result.tx_hashes == ["h1"]


# ----------------------------------------------------------------- Ref's own log lines
# Copied from ref-exchange's format strings: simple_pool.rs (swap, swap_by_output), stable_swap,
# rated_swap and degen_swap mod.rs (swap), account_deposit.rs (exchange_callback_post_withdraw).

STABLE_SWAPPED = f"Swapped 1000000 {USDC} for 995 {REF}, total fee 400, admin fee 80"
ADMIN_SHARES = f"Exchange {EXCHANGE} got 12 shares, No referral fee"


def test_a_stable_pool_swap_is_read_as_its_output_not_zero() -> None:
    """Ref's stable, rated and degen pools end the line with fees: a good swap, not a failed one."""
    chain = ScriptedChain(
        "1000000",
        (
            receipt(EXCHANGE, STABLE_SWAPPED, ADMIN_SHARES),
            receipt(REF, transfer_event(EXCHANGE, ME, 995)),
            receipt(EXCHANGE),
            receipt(USDC),
        ),
    )
    result = asyncio.run(SwapTool().execute(swap_action(), context(chain)))
    assert result.ok and result.data["amount_out"] == "995"
    assert result.data["swap_receipts"]["amount_out"] == "995"


@pytest.mark.parametrize(
    "line",
    [
        "Swapped {a} {x} for {b} {y}",
        "Swapped {a} {x} for {b} {y}, total fee {f}, admin fee {g}",
        "Swap_by_output {a} {x} for {b} {y}",
    ],
)
@given(
    a=st.integers(0, 2**128 - 1),
    b=st.integers(0, 2**128 - 1),
    f=st.integers(0, 2**128 - 1),
    g=st.integers(0, 2**128 - 1),
)
def test_every_ref_swap_line_reads_its_amounts(line: str, a: int, b: int, f: int, g: int) -> None:
    text = line.format(a=a, b=b, f=f, g=g, x=USDC, y=REF)
    assert swap_line(text) == (a, USDC, b, REF)


@pytest.mark.parametrize(
    "line",
    [
        ADMIN_SHARES,
        f"Exchange {EXCHANGE} got 3 shares, Referral ref.near got 1 shares",
        f"Swapped 1 {USDC} for 2 {REF}, total fee 3",  # not a line Ref prints
        f"Swapped -1 {USDC} for 2 {REF}",
        f"Mint 10 shares for {ME}, fee is 1 shares",
    ],
)
def test_lines_that_are_not_a_pool_swap_are_not_read_as_one(line: str) -> None:
    assert swap_line(line) is None


NOT_REGISTERED = f"Account {ME} is not registered. Depositing to owner or user lostfound account."
NO_STORAGE = f"Account {ME} has not enough storage. Depositing to owner or user lostfound account."
TO_USER = "Depositing to user lostfound account."
TO_OWNER = (
    "Not enough free NEAR for user lostfound. Total: 3, Storage locked: 4. Depositing to owner."
)


@pytest.mark.parametrize(
    ("logs", "kind", "says", "never"),
    [
        ((NOT_REGISTERED, TO_USER), "user", "your own lost-and-found", "owner"),
        ((NO_STORAGE, TO_USER), "user", "your own lost-and-found", "owner"),
        ((NOT_REGISTERED, TO_OWNER), "owner", "only the exchange can return it", "recover my"),
        ((NOT_REGISTERED,), "unknown", "do not say whether yours", "parked in your deposit"),
        ((), "", "parked in your deposit on exchange.near", "lost-and-found"),
    ],
)
def test_an_undelivered_output_is_placed_where_refs_logs_say(
    logs: tuple[str, ...], kind: str, says: str, never: str
) -> None:
    """Ref's first line says "owner or user": only the line after it tells whose it is."""
    chain = ScriptedChain(
        "1000000",
        (
            receipt(EXCHANGE, SWAPPED),
            receipt(REF, ok=False),
            receipt(EXCHANGE, *logs),
            receipt(USDC),
        ),
    )
    with pytest.raises(SwapFailedError) as info:
        asyncio.run(SwapTool().execute(swap_action(), context(chain)))
    message = info.value.message
    assert says in message and never not in message
    assert info.value.details["lostfound"] == kind and info.value.details["parked"] is True
    if kind == "user":
        assert 'near-agent do "recover my tokens from the exchange"' in message
