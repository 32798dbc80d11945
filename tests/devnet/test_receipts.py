"""Contract calls and receipts: state, logs, promises, callbacks, panics and refunds."""

from __future__ import annotations

import asyncio
import base64
import json

from tests.devnet.helpers import (
    NEAR,
    balance,
    final_receipts,
    near_account,
    rpc,
    total_burnt,
)


def _view(net, account_id, method, args=None):
    net.settle()
    result = rpc(
        net,
        "query",
        {
            "request_type": "call_function",
            "account_id": account_id,
            "method_name": method,
            "args_base64": base64.b64encode(json.dumps(args or {}).encode()).decode(),
            "finality": "final",
        },
    )["result"]
    return result


def test_call_changes_state_and_logs(net):
    async def scenario():
        alice = await near_account(net, "alice.devnet")
        first = await alice.function_call("counter.devnet", "increment", {"by": 2})
        second = await alice.function_call("counter.devnet", "increment", {"by": 3})
        seen = await alice.view_function("counter.devnet", "get", {})
        await alice.shutdown()
        return first, second, seen

    first, second, seen = asyncio.run(scenario())
    assert second.status == {"SuccessValue": base64.b64encode(b"5").decode()}
    assert first.receipt_outcome[0].logs == ["n=2"]
    assert seen.result == 5


def test_event_logs_and_payable_deposit(net):
    async def scenario():
        alice = await near_account(net, "alice.devnet")
        outcome = await alice.function_call("counter.devnet", "donate", {}, amount=NEAR)
        refused = await alice.function_call("counter.devnet", "increment", {}, amount=NEAR)
        await alice.shutdown()
        return outcome, refused

    before = balance(net, "counter.devnet")
    outcome, refused = asyncio.run(scenario())
    log = outcome.receipt_outcome[0].logs[0]
    assert log.startswith("EVENT_JSON:")
    assert json.loads(log[len("EVENT_JSON:") :]) == {
        "standard": "test",
        "version": "1.0.0",
        "event": "donate",
        "data": [{"amount": str(NEAR)}],
    }
    error = refused.status["Failure"]["ActionError"]["kind"]["FunctionCallError"]
    assert "doesn't accept deposit" in error["ExecutionError"]
    assert balance(net, "counter.devnet") == before + NEAR


def test_panic_rolls_back_state_and_refunds_deposit(net):
    async def scenario():
        alice = await near_account(net, "alice.devnet")
        outcome = await alice.function_call("panicker.devnet", "boom", {"note": "x"}, amount=NEAR)
        await alice.shutdown()
        return outcome

    before = balance(net, "alice.devnet")
    outcome = asyncio.run(scenario())
    failure = outcome.status["Failure"]["ActionError"]
    assert failure["kind"] == {
        "FunctionCallError": {"ExecutionError": "Smart contract panicked: boom x"}
    }
    assert outcome.receipt_outcome[0].logs == ["about to panic"]
    assert _view(net, "panicker.devnet", "touched")["result"] == list(b"false")
    # the deposit came back through a refund receipt, the unused gas through another (both
    # from system, as nearcore's refund_unspent_gas_and_deposits makes them); only gas was spent
    assert len(final_receipts(net, outcome)) == 3
    assert balance(net, "alice.devnet") == before - total_burnt(outcome)


def test_cross_contract_call_with_callback(net):
    async def scenario():
        alice = await near_account(net, "alice.devnet")
        outcome = await alice.function_call(
            "caller.devnet",
            "relay",
            {"target": "counter.devnet", "method": "increment", "args": {"by": 7}},
        )
        await alice.shutdown()
        return outcome

    outcome = asyncio.run(scenario())
    assert json.loads(base64.b64decode(outcome.status["SuccessValue"])) == {"ok": True, "value": 7}
    executors = [r["outcome"]["executor_id"] for r in final_receipts(net, outcome)]
    # the call, the callee, the callback, and a gas refund from system for each of the three,
    # depth first: each receipt followed by those it made (the refund last)
    assert executors == [
        "caller.devnet",
        "counter.devnet",
        "alice.devnet",
        "caller.devnet",
        "alice.devnet",
        "alice.devnet",
    ]
    assert _view(net, "counter.devnet", "get")["result"] == list(b"7")
    seen = json.loads(bytes(_view(net, "caller.devnet", "seen")["result"]))
    assert seen == [{"method": "increment", "ok": True}]


def test_panicking_callee_fails_in_receipts_but_tx_succeeds(net):
    async def scenario():
        alice = await near_account(net, "alice.devnet")
        outcome = await alice.function_call(
            "caller.devnet",
            "relay",
            {"target": "panicker.devnet", "method": "boom", "deposit": str(NEAR)},
            amount=NEAR,
        )
        await alice.shutdown()
        return outcome

    before_caller = balance(net, "caller.devnet")
    before_alice = balance(net, "alice.devnet")
    outcome = asyncio.run(scenario())
    # the final status is the callback's value, a success
    assert json.loads(base64.b64decode(outcome.status["SuccessValue"])) == {
        "ok": False,
        "value": None,
    }
    failures = [r for r in outcome.receipt_outcome if "Failure" in r.status]
    assert len(failures) == 1
    assert failures[0].status["Failure"]["ActionError"]["kind"]["FunctionCallError"] == {
        "ExecutionError": "Smart contract panicked: boom"
    }
    # the callee's state change was rolled back
    assert _view(net, "panicker.devnet", "touched")["result"] == list(b"false")
    # the deposit went back to the caller contract (its predecessor), which kept alice's NEAR
    assert balance(net, "caller.devnet") == before_caller + NEAR
    assert balance(net, "alice.devnet") == before_alice - NEAR - total_burnt(outcome)
    assert any("refund" in log for r in outcome.receipt_outcome for log in r.logs)


def test_view_errors_are_results(net):
    missing = _view(net, "counter.devnet", "nope")
    assert "MethodNotFound" in missing["error"]
    exploded = _view(net, "panicker.devnet", "explode")
    assert "view exploded" in exploded["error"]
    no_code = rpc(
        net,
        "query",
        {
            "request_type": "call_function",
            "account_id": "bob.devnet",
            "method_name": "x",
            "args_base64": "",
            "finality": "final",
        },
    )
    # nearcore runs the VM, which finds no code: a result holding the error, not an RPC error
    assert no_code["result"]["error"] == (
        "wasm execution failed with error: "
        'CompilationError(CodeDoesNotExist { account_id: "bob.devnet" })'
    )
    state_change = _view(net, "counter.devnet", "increment")
    assert "ProhibitedInView" in state_change["error"]
    assert _view(net, "counter.devnet", "whoami")["result"] == list(b'"counter.devnet"')


def test_deploy_python_contract_and_refuse_wasm(net):
    from py_near.transactions import create_deploy_contract_action

    from tests.devnet.sample_contracts import Counter

    async def scenario():
        bob = await near_account(net, "bob.devnet")
        deployed = await bob.deploy_contract(Counter.code())
        called = await bob.function_call("bob.devnet", "increment", {"by": 4})
        wasm = await bob.sign_and_submit_tx(
            "bob.devnet", [create_deploy_contract_action(b"\x00asm\x01\x00\x00\x00")]
        )
        await bob.shutdown()
        return deployed, called, wasm

    deployed, called, wasm = asyncio.run(scenario())
    assert "SuccessValue" in deployed.status
    assert called.status == {"SuccessValue": base64.b64encode(b"4").decode()}
    message = wasm.status["Failure"]["ActionError"]["kind"]["FunctionCallError"]["ExecutionError"]
    assert "pycontract" in message
    assert _view(net, "bob.devnet", "get")["result"] == list(b"4")


def test_gas_exceeded_burns_prepaid_gas(net):
    async def scenario():
        alice = await near_account(net, "alice.devnet")
        outcome = await alice.function_call("counter.devnet", "increment", {}, gas=10**12)
        await alice.shutdown()
        return outcome

    before = balance(net, "alice.devnet")
    outcome = asyncio.run(scenario())
    kind = outcome.status["Failure"]["ActionError"]["kind"]
    assert kind == {"FunctionCallError": {"ExecutionError": "Exceeded the prepaid gas."}}
    assert balance(net, "alice.devnet") == before - total_burnt(outcome)
    assert _view(net, "counter.devnet", "get")["result"] == list(b"0")


def test_gas_accounting_conserves_supply_across_receipts(net):
    def supply():
        net.settle()
        return sum(a.amount + a.locked for a in net.runtime.accounts.values())

    async def scenario():
        alice = await near_account(net, "alice.devnet")
        outcomes = [
            await alice.function_call(
                "caller.devnet",
                "relay",
                {"target": "panicker.devnet", "method": "boom", "deposit": str(NEAR)},
                amount=2 * NEAR,
            ),
            await alice.function_call(
                "caller.devnet", "relay", {"target": "counter.devnet", "method": "increment"}
            ),
            await alice.function_call("panicker.devnet", "boom", {}, amount=NEAR),
            await alice.function_call("counter.devnet", "increment", {}, gas=10**12),
            await alice.send_money("ghost.devnet", NEAR),
        ]
        await alice.shutdown()
        return outcomes

    before = supply()
    outcomes = asyncio.run(scenario())
    burnt = sum(total_burnt(o) for o in outcomes)
    assert burnt > 0
    assert supply() == before - burnt
    for o in outcomes:  # every receipt's tokens_burnt is its gas at the devnet's gas price
        for r in [o.transaction_outcome, *o.receipt_outcome]:
            assert int(r.tokens_burnt) == r.gas_burnt * 100_000_000


def test_contract_bugs_fail_the_receipt_not_the_node(net):
    async def scenario():
        alice = await near_account(net, "alice.devnet")
        outcomes = [
            await alice.function_call("panicker.devnet", "crash", {"kind": kind})
            for kind in ("exit", "recursion", "key")
        ]
        bad_args = await alice.function_call("panicker.devnet", "crash", {"nope": 1})
        await alice.shutdown()
        return outcomes, bad_args

    outcomes, bad_args = asyncio.run(scenario())
    messages = [
        o.status["Failure"]["ActionError"]["kind"]["FunctionCallError"]["ExecutionError"]
        for o in outcomes
    ]
    assert "SystemExit" in messages[0]
    assert "RecursionError" in messages[1]
    assert "KeyError" in messages[2]
    assert bad_args.status["Failure"]["ActionError"]["kind"]["FunctionCallError"] == {
        "ExecutionError": "Smart contract panicked: Failed to deserialize input from JSON."
    }
    assert _view(net, "panicker.devnet", "touched")["result"] == list(b"false")
    assert "result" in rpc(net, "status", [])
