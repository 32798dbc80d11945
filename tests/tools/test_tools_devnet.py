"""Every tool end to end on devnet: success paths, and failures that move nothing but gas."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tools.conftest import ALICE, make_context, run
from tools.action import NEAR, FunctionCallSpec, TransactionSpec, TransferSpec
from tools.base import ToolContext
from tools.errors import (
    AlreadyLabelledError,
    InsufficientBalanceError,
    InvalidAccountIdError,
    NothingToClaimError,
    SwapFailedError,
    ToolError,
    UnknownAccountError,
    UnknownTokenError,
)
from tools.notary import anchor, read_anchor
from tools.registry import build_registry, parse_args

GAS_BOUND = 10**23  # 0.1 NEAR: far above any fee here, far below any amount moved in these tests
TOOLS = build_registry()
OTHERS = ("bob.test.near", "carol.test.near", "vendor.test.near", "market.test.near")


async def prepare(ctx: ToolContext, tool: str, **args: Any) -> Any:
    return await TOOLS[tool].prepare(parse_args(tool, args), ctx)


async def prepare_execute(ctx: ToolContext, tool: str, **args: Any) -> Any:
    action = await prepare(ctx, tool, **args)
    return action, await TOOLS[tool].execute(action, ctx)


async def holdings(ctx: ToolContext, account: str, *tokens: str) -> dict[str, int]:
    out = {NEAR: (await ctx.chain.near_balance(account))["total"]}
    for token in tokens:
        out[token] = int(await ctx.chain.view(token, "ft_balance_of", {"account_id": account}) or 0)
    return out


async def token_id(ctx: ToolContext, symbol: str) -> str:
    info = await ctx.tokens.resolve(symbol)
    assert info.contract_id
    return info.contract_id


def assert_only_gas(before: dict[str, int], after: dict[str, int]) -> None:
    for token, amount in before.items():
        if token == NEAR:
            assert 0 <= amount - after[token] < GAS_BOUND, "only gas may leave"
        else:
            assert after[token] == amount, f"{token} moved"


# --------------------------------------------------------------------------- balance


def test_balance_lists_near_and_every_token(alice: ToolContext) -> None:
    async def scenario() -> None:
        _, result = await prepare_execute(alice, "balance")
        rows = {r["symbol"].upper(): r for r in result.data["balances"]}
        assert {"NEAR", "USDC", "REF"} <= set(rows)
        near = rows["NEAR"]
        assert 0 < int(near["balance"]) <= int(near["total"])
        usdc = rows["USDC"]
        assert usdc["decimals"] == 6 and int(usdc["balance"]) > 0
        _, one = await prepare_execute(alice, "balance", token="usdc")
        assert [r["symbol"].upper() for r in one.data["balances"]] == ["USDC"]
        with pytest.raises(UnknownTokenError, match="unknown token 'DOGE'"):
            await prepare(alice, "balance", token="DOGE")

    run(alice, scenario)


# --------------------------------------------------------------------------- transfer


def test_transfer_near(alice: ToolContext) -> None:
    async def scenario() -> None:
        bob = "bob.test.near"
        before_a, before_b = await holdings(alice, ALICE), await holdings(alice, bob)
        action, result = await prepare_execute(
            alice, "transfer", receiver_id=bob, amount="1.25", token="NEAR"
        )
        amount = 1_250_000_000_000_000_000_000_000
        assert action.transactions[0].actions == (TransferSpec(deposit=amount),)
        assert [(f.token, f.amount, f.recipient) for f in action.outflows] == [(NEAR, amount, bob)]
        assert result.ok and len(result.tx_hashes) == 1
        assert result.transactions[0]["status"] == "success"
        after_a, after_b = await holdings(alice, ALICE), await holdings(alice, bob)
        assert after_b[NEAR] - before_b[NEAR] == amount
        assert 0 < before_a[NEAR] - after_a[NEAR] - amount < GAS_BOUND
        assert result.balance_changes[NEAR] == after_a[NEAR] - before_a[NEAR]

    run(alice, scenario)


def test_transfer_failures_move_nothing(alice: ToolContext) -> None:
    async def scenario() -> None:
        usdc = await token_id(alice, "USDC")
        before = await holdings(alice, ALICE, usdc)
        with pytest.raises(InsufficientBalanceError, match="only .* NEAR is available"):
            await prepare(
                alice, "transfer", receiver_id="bob.test.near", amount="1000000000", token="NEAR"
            )
        with pytest.raises(InsufficientBalanceError, match="USDC"):
            await prepare(
                alice, "transfer", receiver_id="bob.test.near", amount="1000000000", token="USDC"
            )
        with pytest.raises(UnknownAccountError, match="nobody.test.near does not exist"):
            await prepare(
                alice, "transfer", receiver_id="nobody.test.near", amount="1", token="NEAR"
            )
        with pytest.raises(InvalidAccountIdError):
            await prepare(alice, "transfer", receiver_id="Bob.test.near", amount="1", token="NEAR")
        with pytest.raises(UnknownTokenError):
            await prepare(alice, "transfer", receiver_id="bob.test.near", amount="1", token="SHIB")
        with pytest.raises(UnknownTokenError):  # an account that is no token contract
            await prepare(
                alice,
                "transfer",
                receiver_id="bob.test.near",
                amount="1",
                token=alice.network.tasks_id,
            )
        with pytest.raises(ToolError, match="decimal places"):
            await prepare(
                alice, "transfer", receiver_id="bob.test.near", amount="0.0000001", token="USDC"
            )
        assert await holdings(alice, ALICE, usdc) == before

    run(alice, scenario)


def test_transfer_token_registers_receiver_and_counts_the_deposit(alice: ToolContext) -> None:
    async def scenario() -> None:
        usdc = await token_id(alice, "USDC")
        receiver = None
        for candidate in OTHERS:
            if (
                await alice.chain.view(usdc, "storage_balance_of", {"account_id": candidate})
                is None
            ):
                receiver = candidate
                break
        if receiver is None:
            pytest.skip("every devnet account is already registered on USDC")
        before_a = await holdings(alice, ALICE, usdc)
        action, result = await prepare_execute(
            alice, "transfer", receiver_id=receiver, amount="2.5", token="usdc"
        )
        methods = [
            a.method_name for a in action.transactions[0].actions if isinstance(a, FunctionCallSpec)
        ]
        assert methods == ["storage_deposit", "ft_transfer"]
        deposit = next(f.amount for f in action.outflows if f.purpose == "storage_deposit")
        assert deposit > 0
        assert any(
            f.token == usdc and f.amount == 2_500_000 and f.recipient == receiver
            for f in action.outflows
        )
        assert result.ok
        assert (
            await alice.chain.view(usdc, "storage_balance_of", {"account_id": receiver}) is not None
        )
        assert (
            int(await alice.chain.view(usdc, "ft_balance_of", {"account_id": receiver}))
            == 2_500_000
        )
        after_a = await holdings(alice, ALICE, usdc)
        assert before_a[usdc] - after_a[usdc] == 2_500_000
        assert before_a[NEAR] - after_a[NEAR] >= deposit
        # a second transfer needs no registration
        again = await prepare(alice, "transfer", receiver_id=receiver, amount="1", token=usdc)
        assert [a.method_name for a in again.transactions[0].actions] == ["ft_transfer"]

    run(alice, scenario)


# --------------------------------------------------------------------------- swap


def test_swap_near_to_usdc(alice: ToolContext) -> None:
    async def scenario() -> None:
        usdc = await token_id(alice, "USDC")
        before = await holdings(alice, ALICE, usdc)
        action, result = await prepare_execute(
            alice, "swap", token_in="NEAR", token_out="USDC", amount_in="2"
        )
        quote = action.quote
        assert quote is not None and quote.max_slippage_bps == alice.max_slippage_bps
        assert quote.min_amount_out <= quote.amount_out
        methods = [
            a.method_name
            for tx in action.transactions
            for a in tx.actions
            if isinstance(a, FunctionCallSpec)
        ]
        assert "near_deposit" in methods and methods[-1] == "ft_transfer_call"
        swap_args = action.transactions[-1].actions[-1].args
        assert swap_args["receiver_id"] == alice.network.exchange_id
        assert action.recipients == (alice.network.exchange_id,)
        after = await holdings(alice, ALICE, usdc)
        assert after[usdc] - before[usdc] >= quote.min_amount_out
        assert int(result.data["amount_out"]) == after[usdc] - before[usdc]
        assert before[NEAR] - after[NEAR] >= 2 * 10**24
        # the changes the result reports, tokens by the receipts, are what the chain shows
        assert result.balance_changes == {
            NEAR: after[NEAR] - before[NEAR],
            usdc: after[usdc] - before[usdc],
        }

    run(alice, scenario)


def test_swap_token_to_token(alice: ToolContext) -> None:
    async def scenario() -> None:
        usdc, ref = await token_id(alice, "USDC"), await token_id(alice, "REF")
        before = await holdings(alice, ALICE, usdc, ref)
        action, result = await prepare_execute(
            alice, "swap", token_in="USDC", token_out="REF", amount_in="3"
        )
        after = await holdings(alice, ALICE, usdc, ref)
        assert before[usdc] - after[usdc] == 3_000_000
        assert after[ref] - before[ref] >= action.quote.min_amount_out
        assert result.ok
        assert result.balance_changes == {
            token: after[token] - before[token] for token in (NEAR, usdc, ref)
        }

    run(alice, scenario)


def test_swap_to_near_unwraps_the_minimum(alice: ToolContext) -> None:
    async def scenario() -> None:
        usdc, wrap = await token_id(alice, "USDC"), alice.network.wrap_id
        assert wrap is not None
        before = await holdings(alice, ALICE, usdc, wrap)
        action, result = await prepare_execute(
            alice, "swap", token_in="USDC", token_out="NEAR", amount_in="1"
        )
        after = await holdings(alice, ALICE, usdc, wrap)
        changes = {t: after[t] - before[t] for t in (NEAR, usdc, wrap) if after[t] != before[t]}
        assert result.balance_changes == changes
        methods = [
            a.method_name
            for tx in action.transactions
            for a in tx.actions
            if isinstance(a, FunctionCallSpec)
        ]
        assert methods[-1] == "near_withdraw"
        assert result.ok and int(result.data["amount_out"]) >= action.quote.min_amount_out

    run(alice, scenario)


def test_swap_slippage_exceeded_is_a_failed_swap(alice: ToolContext) -> None:
    async def scenario() -> None:
        usdc, wrap = await token_id(alice, "USDC"), alice.network.wrap_id
        assert wrap
        action = await prepare(
            alice, "swap", token_in="USDC", token_out="wNEAR", amount_in="1", max_slippage_bps=10
        )
        # someone else's trade in the same direction moves the price before ours lands
        await prepare_execute(alice, "swap", token_in="USDC", token_out="wNEAR", amount_in="200")
        before = await holdings(alice, ALICE, usdc, wrap)
        with pytest.raises(SwapFailedError) as info:
            await TOOLS["swap"].execute(action, alice)
        assert "refunded" in info.value.message
        assert info.value.result is not None and info.value.result.tx_hashes
        assert_only_gas(before, await holdings(alice, ALICE, usdc, wrap))

    run(alice, scenario)


def test_swap_refusals(alice: ToolContext) -> None:
    async def scenario() -> None:
        with pytest.raises(ToolError, match="above the configured limit"):
            await prepare(
                alice,
                "swap",
                token_in="NEAR",
                token_out="USDC",
                amount_in="1",
                max_slippage_bps=alice.max_slippage_bps + 1,
            )
        with pytest.raises(UnknownTokenError):
            await prepare(alice, "swap", token_in="NEAR", token_out="NOPE", amount_in="1")
        with pytest.raises(InsufficientBalanceError):
            await prepare(alice, "swap", token_in="USDC", token_out="REF", amount_in="100000000000")
        usdc = await token_id(alice, "USDC")
        action = await prepare(alice, "swap", token_in="USDC", token_out="REF", amount_in="1")
        before = await holdings(alice, ALICE, usdc)
        alice.quote_max_age_s = 0
        with pytest.raises(SwapFailedError, match="prepare the swap again"):
            await TOOLS["swap"].execute(action, alice)
        assert await holdings(alice, ALICE, usdc) == before  # nothing signed, not even gas

    run(alice, scenario)


# --------------------------------------------------------------------------- tasks


def test_tasks_label_and_claim(alice: ToolContext) -> None:
    async def scenario() -> None:
        _, listed = await prepare_execute(alice, "list_tasks", status="open")
        tasks = listed.data["tasks"]
        if not tasks:
            pytest.skip("the devnet genesis has no open task")
        task_id = int(tasks[0].get("task_id", tasks[0].get("id", 0)))
        action, result = await prepare_execute(
            alice, "submit_label", task_id=task_id, label=_a_label(tasks[0])
        )
        assert action.outflows == () and result.ok
        item = action.transactions[0].actions[0].args["item_id"]
        assert result.data["receipt"]["item_id"] == item
        with pytest.raises(AlreadyLabelledError):
            await prepare(
                alice, "submit_label", task_id=task_id, item_id=item, label=_a_label(tasks[0])
            )
        # the same label prepared twice: the chain refuses the second, reported the same way
        second = await prepare(alice, "submit_label", task_id=task_id, label=_a_label(tasks[0]))
        await TOOLS["submit_label"].execute(second, alice)
        before = await holdings(alice, ALICE)
        with pytest.raises(AlreadyLabelledError):
            await TOOLS["submit_label"].execute(second, alice)
        assert_only_gas(before, await holdings(alice, ALICE))

    run(alice, scenario)


def test_claim_rewards_after_review(chain_env: Any) -> None:
    alice = make_context(chain_env)
    vendor = make_context(chain_env, "vendor.test.near")

    async def scenario() -> None:
        task = (await alice.chain.view(alice.network.tasks_id, "list_tasks", {"status": "open"}))[0]
        task_id, reward = task["task_id"], int(task["reward_per_label"])
        with pytest.raises(ToolError, match="cannot label"):
            await prepare(vendor, "submit_label", task_id=task_id, label=_a_label(task))
        action, _ = await prepare_execute(
            alice, "submit_label", task_id=task_id, item_id=0, label=_a_label(task)
        )
        with pytest.raises(NothingToClaimError):
            await prepare(alice, "claim_rewards", task_ids=[task_id])
        review = TransactionSpec(
            signer_id=vendor.account_id,
            receiver_id=alice.network.tasks_id,
            actions=(
                FunctionCallSpec(
                    method_name="review",
                    args={"task_id": task_id, "item_id": 0, "tasker_id": ALICE, "accept": True},
                    gas=30 * 10**12,
                ),
            ),
        )
        assert vendor.credentials is not None
        await vendor.chain.send(vendor.credentials, review)
        before = await holdings(alice, ALICE)
        claim = await prepare(alice, "claim_rewards")
        stale = await prepare(alice, "claim_rewards", task_ids=[task_id])
        result = await TOOLS["claim_rewards"].execute(claim, alice)
        assert claim.outflows == () and int(result.data["claimed"]) == reward
        gained = (await holdings(alice, ALICE))[NEAR] - before[NEAR]
        assert 0 < reward - gained < GAS_BOUND
        # prepared while there was something to claim: the contract refuses, only gas is spent
        before = await holdings(alice, ALICE)
        with pytest.raises(NothingToClaimError) as info:
            await TOOLS["claim_rewards"].execute(stale, alice)
        assert info.value.result is not None and info.value.result.tx_hashes
        assert_only_gas(before, await holdings(alice, ALICE))
        with pytest.raises(NothingToClaimError):
            await prepare(alice, "claim_rewards")
        await vendor.aclose()

    run(alice, scenario)


def test_claim_with_nothing_to_claim(chain_env: Any) -> None:
    ctx = make_context(chain_env, "carol.test.near")

    async def scenario() -> None:
        with pytest.raises(NothingToClaimError):
            await prepare(ctx, "claim_rewards")
        with pytest.raises(NothingToClaimError):
            await prepare(ctx, "claim_rewards", task_ids=[0])

    run(ctx, scenario)


def _a_label(task: dict[str, Any]) -> str:
    for key in ("labels", "allowed_labels", "label_options"):
        if isinstance(task.get(key), list) and task[key]:
            return str(task[key][0])
    return "cat"


# --------------------------------------------------------------------------- notary


def test_notary_anchor_round_trip(alice: ToolContext) -> None:
    async def scenario() -> None:
        if not alice.network.notary_id:
            pytest.skip("no notary contract in this devnet")
        head = "ab" * 32
        assert await read_anchor(alice, head) is None
        tx_hash = await anchor(alice, head, 7)
        assert tx_hash
        found = await read_anchor(alice, head)
        assert found is not None and found["head_hash"] == head and found["entries"] == 7

    run(alice, scenario)


def test_chain_notary_blocking_interface(chain_env: Any) -> None:
    from memory.audit.anchor import AnchorNotary
    from tools.notary import ChainNotary

    notary = ChainNotary(make_context(chain_env))
    assert isinstance(notary, AnchorNotary)
    head = "cd" * 32
    assert notary.read_anchor(head) is None
    assert notary.anchor(head, 3)
    found = notary.read_anchor(head)
    assert found is not None and found["entries"] == 3
    assert notary.contract_id == chain_env.manifest["notary"]["contract_id"]


def test_read_only_tools_need_no_key(chain_env: Any) -> None:
    ctx = make_context(chain_env)
    ctx.credentials = None

    async def scenario() -> None:
        _, result = await prepare_execute(ctx, "balance", token="NEAR")
        assert int(result.data["balances"][0]["balance"]) > 0
        _, tasks = await prepare_execute(ctx, "list_tasks")
        assert tasks.data["tasks"]
        action = await prepare(
            ctx, "transfer", receiver_id="bob.test.near", amount="1", token="NEAR"
        )
        with pytest.raises(ToolError, match="no signing key"):
            await TOOLS["transfer"].execute(action, ctx)

    run(ctx, scenario)


def test_function_call_key_signs_labels_but_not_payments(chain_env: Any) -> None:
    from dataclasses import replace

    from tools.errors import InvalidTransactionError
    from tools.keypair import KeyPair
    from tools.keys import Credentials
    from tools.signing import FunctionCallKeyGrant, KeyTransaction

    owner = make_context(chain_env)
    scoped_key = KeyPair.generate()
    scoped = replace(owner, credentials=Credentials(ALICE, scoped_key))

    async def scenario() -> None:
        assert owner.credentials is not None and owner.network.tasks_id
        await owner.chain.send(
            owner.credentials,
            KeyTransaction(
                signer_id=ALICE,
                add=(
                    FunctionCallKeyGrant(
                        scoped_key.public_key,
                        owner.network.tasks_id,
                        ("submit_label", "claim_rewards"),
                        10**23,
                    ),
                ),
            ),
        )
        task = (await owner.chain.view(owner.network.tasks_id, "list_tasks", {"status": "open"}))[0]
        _, result = await prepare_execute(
            scoped, "submit_label", task_id=task["task_id"], label=_a_label(task)
        )
        assert result.ok
        before = await holdings(owner, ALICE)
        action = await prepare(
            scoped, "transfer", receiver_id="bob.test.near", amount="1", token="NEAR"
        )
        with pytest.raises(InvalidTransactionError, match="RequiresFullAccess|FullAccess"):
            await TOOLS["transfer"].execute(action, scoped)
        assert await holdings(owner, ALICE) == before  # refused before execution: no gas either

    run(owner, scenario)


def test_a_budget_too_small_for_every_transaction_sends_none(alice: ToolContext) -> None:
    """USDC -> NEAR is a swap then an unwrap: when the command's request budget cannot carry
    both transactions, neither is signed (no swap left without its unwrap)."""
    from tools.endpoints import RequestBudgetExceeded

    async def scenario() -> None:
        registry = build_registry()
        tool = registry["swap"]
        args = parse_args("swap", {"token_in": "USDC", "token_out": "NEAR", "amount_in": "1"})
        action = await tool.prepare(args, alice)
        assert len(action.transactions) == 2
        creds = alice.require_credentials()
        nonce = await alice.chain.access_key_nonce(ALICE, creds.public_key)
        meter = alice.chain.requests
        meter.begin_command()
        meter.max_requests = 6  # the balance check, then less than two transactions' worth
        with pytest.raises(RequestBudgetExceeded, match="2 transaction.*nothing was signed"):
            await tool.execute(action, alice)
        meter.max_requests = None
        assert await alice.chain.access_key_nonce(ALICE, creds.public_key) == nonce

    run(alice, scenario)
