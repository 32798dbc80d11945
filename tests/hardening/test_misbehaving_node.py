"""A misbehaving node: the chain adapter answers with its typed errors, never a crash or a lie.

Each case breaks one response (shape, missing field, non-JSON, non-UTF-8, huge or negative
numbers, garbage base64, a failed receipt under a success status, another transaction's hash).
The adapter must raise a ``tools.errors.ToolError`` subclass (so the executor's handlers see it)
and must never return a success for a transaction that did not verifiably succeed.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import base58
import pytest

from devnet.transaction import decode_signed_transaction
from tests.support.fake_chain import (
    FakeChain,
    Reply,
    encode_view,
    envelope,
    final_outcome,
    rpc_error,
    signed_param,
)
from tools.action import TransactionSpec, TransferSpec
from tools.chain import ChainClient
from tools.endpoints import RateLimitedError
from tools.errors import OutcomeUnknownError, ToolError, TransactionFailedError, TransientRpcError
from tools.keypair import KeyPair
from tools.keys import Credentials
from tools.transport import RpcReply

ALICE, BOB = "alice.test.near", "bob.test.near"
KEY = KeyPair.generate()

Scenario = Callable[[ChainClient], Awaitable[Any]]


def scripted(replies: dict[str, Reply]) -> FakeChain:
    """A sane node for alice (10 NEAR, key nonce 7, a token view) whose ``replies`` override."""
    return FakeChain(
        balances={ALICE: 10**25},
        nonces={(ALICE, KEY.public_key): 7},
        view_results={"ft_metadata": encode_view({"ok": True})},
        replies=replies,
    )


def attempt(replies: dict[str, Reply], scenario: Scenario) -> tuple[Any, BaseException | None]:
    """Run the scenario against a node scripted with ``replies``; (result, exception)."""

    async def main() -> tuple[Any, BaseException | None]:
        chain = scripted(replies).client(timeout_s=3, retries=1, backoff_s=0.01)
        try:
            return await scenario(chain), None
        except Exception as exc:  # the point: which exception type comes out
            return None, exc
        finally:
            await chain.close()

    return asyncio.run(main())


async def balance(chain: ChainClient) -> Any:
    return await chain.near_balance(ALICE)


async def view(chain: ChainClient) -> Any:
    return await chain.view("tok.test.near", "ft_metadata", {})


async def send(chain: ChainClient) -> Any:
    spec = TransactionSpec(signer_id=ALICE, receiver_id=BOB, actions=(TransferSpec(deposit=5),))
    return await chain.send(Credentials(ALICE, KEY), spec)


def outcome(tx_hash: str, **fields: Any) -> dict[str, Any]:
    return final_outcome(tx_hash, ALICE, BOB, public_key=KEY.public_key, **fields)


def tx_reply(make: Callable[[str], Any]) -> Callable[[Any], dict[str, Any]]:
    """A send_tx answer built from the hash of the transaction actually submitted."""

    def reply(params: Any) -> dict[str, Any]:
        signed = signed_param(params)
        tx_hash = base58.b58encode(decode_signed_transaction(base64.b64decode(signed)).hash)
        return envelope(make(tx_hash.decode()))

    return reply


FAILED = {
    "Failure": {
        "ActionError": {
            "index": 0,
            "kind": {"FunctionCallError": {"ExecutionError": "Smart contract panicked: boom"}},
        }
    }
}

# (id, replies, scenario): the adapter must raise a ToolError and return nothing.
ROBUST: list[tuple[str, dict[str, Reply], Scenario]] = [
    ("non-json body", {"view_account": b"<html>502 Bad Gateway</html>"}, balance),
    ("http 502 page", {"view_account": RpcReply(502, b"<html>Bad Gateway</html>")}, balance),
    ("http 429 text", {"view_account": RpcReply(429, b"Too Many Requests")}, balance),
    ("http 503 empty", {"send_tx": RpcReply(503, b""), "tx": RpcReply(503, b"")}, send),
    (
        "http 408 timeout body",
        {"view_account": RpcReply(408, json.dumps(rpc_error("TIMEOUT_ERROR")).encode())},
        balance,
    ),
    ("non-utf8 body", {"view_account": b"\xff\xfe\x00garbage"}, balance),
    ("empty body", {"view_account": b""}, balance),
    ("json array envelope", {"view_account": b"[1,2,3]"}, balance),
    (
        "error is a string",
        {"view_account": {"jsonrpc": "2.0", "id": "x", "error": "boom"}},
        balance,
    ),
    (
        "error without data",
        {"view_account": {"jsonrpc": "2.0", "id": "x", "error": {"name": "HANDLER_ERROR"}}},
        balance,
    ),
    ("no result", {"view_account": {"jsonrpc": "2.0", "id": "x"}}, balance),
    ("view error field", {"call_function": envelope({"error": "wasm trap", "logs": []})}, view),
    (
        "view bytes not utf-8",
        {"call_function": envelope({"result": [0xFF, 0xFE], "logs": []})},
        view,
    ),
    ("view bytes not json", {"call_function": envelope({"result": list(b"not json")})}, view),
    (
        "failed receipt under success status",
        {"send_tx": tx_reply(lambda h: outcome(h, receipt_status=FAILED))},
        send,
    ),
    ("failure status", {"send_tx": tx_reply(lambda h: outcome(h, status=FAILED))}, send),
    ("status unknown", {"send_tx": tx_reply(lambda h: outcome(h, status="Unknown"))}, send),
    ("status not started", {"send_tx": tx_reply(lambda h: outcome(h, status="NotStarted"))}, send),
    (
        "receipt status garbage",
        {"send_tx": tx_reply(lambda h: outcome(h, receipt_status={"Weird": 1}))},
        send,
    ),
]


@pytest.mark.parametrize("name,replies,scenario", ROBUST, ids=[c[0] for c in ROBUST])
def test_bad_answers_are_typed_errors(
    name: str, replies: dict[str, Reply], scenario: Scenario
) -> None:
    result, exc = attempt(replies, scenario)
    assert result is None, f"{name}: returned {result!r}"
    assert isinstance(exc, ToolError), f"{name}: {type(exc).__name__}: {exc}"


def test_failed_receipt_is_reported_as_failure_with_its_reason() -> None:
    _, exc = attempt({"send_tx": tx_reply(lambda h: outcome(h, receipt_status=FAILED))}, send)
    assert isinstance(exc, TransactionFailedError) and "boom" in exc.message
    assert exc.outcome is not None and not exc.outcome.ok


def test_a_sane_node_still_works() -> None:
    result, exc = attempt({"send_tx": tx_reply(lambda h: outcome(h))}, send)
    assert exc is None and result.ok


# (id, replies, scenario, what a naive adapter did with it): each must now be a typed error.
MALFORMED: list[tuple[str, dict[str, Reply], Scenario, str]] = [
    (
        "result is a list",
        {"view_account": envelope([1, 2])},
        balance,
        "view_account does dict(result) on any shape: TypeError here, and [] reads as 0 NEAR",
    ),
    (
        "result is an empty list",
        {"view_account": envelope([])},
        balance,
        "view_account: dict([]) is {}, so near_balance reports a balance of 0",
    ),
    (
        "result is a string",
        {"view_account": envelope("rich")},
        balance,
        "view_account: dict('rich') raises ValueError",
    ),
    (
        "amount missing",
        {"view_account": envelope({"locked": "0"})},
        balance,
        "near_balance reads a missing amount as 0 instead of refusing the answer",
    ),
    (
        "amount not a number",
        {"view_account": envelope({"amount": "lots"})},
        balance,
        "near_balance: int('lots') raises ValueError",
    ),
    (
        "negative balance",
        {"view_account": envelope({"amount": "-5"})},
        balance,
        "near_balance reports a negative balance as fact",
    ),
    (
        "balance above u128",
        {"view_account": envelope({"amount": str(2**200)})},
        balance,
        "near_balance accepts an amount above 2**128",
    ),
    (
        "view result not an object",
        {"call_function": envelope(["a"])},
        view,
        "view: result.get on a list raises AttributeError",
    ),
    (
        "view bytes out of range",
        {"call_function": envelope({"result": [300, -1]})},
        view,
        "view: bytes([300]) raises ValueError",
    ),
    (
        "view bytes are a string",
        {"call_function": envelope({"result": "eyJvayI6MX0="})},
        view,
        "view: bytes('...') raises TypeError",
    ),
    (
        "access key without nonce",
        {"view_access_key": envelope({"permission": "FullAccess"})},
        send,
        "access_key_nonce: result['nonce'] raises KeyError",
    ),
    (
        "block without header",
        {"block": envelope({"height": 1})},
        send,
        "latest_block_hash: block['header'] raises KeyError",
    ),
    (
        "block hash not base58",
        {"block": envelope({"header": {"hash": "0OIl!"}})},
        send,
        "latest_block_hash: base58 decoding raises ValueError",
    ),
    (
        "garbage base64 value",
        {"send_tx": tx_reply(lambda h: outcome(h, status={"SuccessValue": "!!!not base64"}))},
        send,
        "parse_outcome: base64 decoding raises binascii.Error",
    ),
    (
        "tokens_burnt not a number",
        {"send_tx": tx_reply(lambda h: outcome(h, burnt="much"))},
        send,
        "parse_outcome: int('much') raises ValueError",
    ),
    (
        "receipts_outcome not a list",
        {"send_tx": tx_reply(lambda h: outcome(h, receipts="x"))},
        send,
        "parse_outcome iterates a string and calls .get on its characters",
    ),
    (
        "outcome is a list",
        {"send_tx": tx_reply(lambda h: [h])},
        send,
        "parse_outcome: raw.get on a list raises AttributeError",
    ),
    (
        "outcome of another transaction",
        {"send_tx": tx_reply(lambda h: outcome(base58.b58encode(bytes(32)).decode()))},
        send,
        "send returns success for an outcome whose hash is not the transaction it signed",
    ),
]


@pytest.mark.parametrize(
    "name,replies,scenario,naive",
    [pytest.param(n, r, s, why, id=n) for n, r, s, why in MALFORMED],
)
def test_malformed_answers_are_refused(
    name: str, replies: dict[str, Reply], scenario: Scenario, naive: str
) -> None:
    result, exc = attempt(replies, scenario)
    assert result is None, f"{name}: returned {result!r} ({naive})"
    assert isinstance(exc, ToolError), f"{name}: {type(exc).__name__}: {exc} ({naive})"


def test_outcome_of_another_transaction_is_unknown_not_done() -> None:
    """The lookup by hash answers nothing trustworthy either: the hash is reported, not success."""
    other = base58.b58encode(bytes(32)).decode()
    _, exc = attempt({"send_tx": tx_reply(lambda h: outcome(other))}, send)
    assert isinstance(exc, OutcomeUnknownError)
    assert exc.details["tx_hash"] != other


def test_outcome_of_another_transaction_is_looked_up_by_hash() -> None:
    """When the node answers the send with another outcome but knows ours, ours is used."""
    other = base58.b58encode(bytes(32)).decode()
    submitted: list[str] = []

    def send_tx(params: Any) -> dict[str, Any]:
        reply = tx_reply(lambda h: submitted.append(h) or outcome(other))
        return reply(params)

    def tx(params: Any) -> dict[str, Any]:
        tx_hash = params["tx_hash"] if isinstance(params, dict) else params[0]
        return envelope(
            outcome(tx_hash, receipt_status=FAILED if tx_hash != submitted[-1] else None)
        )

    result, exc = attempt({"send_tx": send_tx, "tx": tx}, send)
    assert exc is None and result.ok and result.tx_hash == submitted[-1] != other


def test_malformed_outcome_while_sending_is_unknown_with_the_hash() -> None:
    bad = {"send_tx": tx_reply(lambda h: outcome(h, status={"SuccessValue": "!!!"}))}
    _, exc = attempt(bad, send)
    assert isinstance(exc, OutcomeUnknownError) and exc.details.get("tx_hash")


def test_an_error_body_under_an_http_error_status_keeps_its_cause() -> None:
    """nearcore answers a timeout with HTTP 408 and a JSON-RPC body: the cause is read from the
    body (py-near flattened every non-200 reply into RPC_ERROR); a bare HTTP error says so."""
    timeout = RpcReply(408, json.dumps(rpc_error("TIMEOUT_ERROR")).encode())
    _, exc = attempt({"view_account": timeout}, balance)
    assert isinstance(exc, TransientRpcError) and exc.details.get("cause") == "TIMEOUT_ERROR"
    _, exc = attempt({"view_account": RpcReply(502, b"bad gateway")}, balance)
    assert isinstance(exc, TransientRpcError) and exc.details.get("cause") == "HTTP_ERROR"
    assert "HTTP 502" in exc.message
    # a 429 is a rate limit: waited out as its Retry-After asks, then said as such
    _, exc = attempt({"view_account": RpcReply(429, b"slow down", "0")}, balance)
    assert isinstance(exc, RateLimitedError) and exc.details.get("cause") == "RATE_LIMITED"
    assert "HTTP 429" in exc.message


def test_a_node_without_send_tx_answering_http_400_gets_the_legacy_method() -> None:
    """An older node refuses the unknown method with HTTP 400 and METHOD_NOT_FOUND: nothing was
    sent, so the same bytes go by broadcast_tx_commit, once."""
    unknown = RpcReply(
        400,
        json.dumps(
            rpc_error("METHOD_NOT_FOUND", name="REQUEST_VALIDATION_ERROR", data="send_tx")
        ).encode(),
    )

    async def main() -> tuple[Any, FakeChain]:
        node = scripted({"send_tx": unknown})
        node.balances[BOB] = 0
        chain = node.client(timeout_s=3, retries=1, backoff_s=0.01)
        return await send(chain), node

    result, node = asyncio.run(main())
    assert result.ok and node.applied == 1 and node.balances[BOB] == 5
    assert node.seen.count("send_tx") == 1 and node.seen.count("broadcast_tx_commit") == 1
