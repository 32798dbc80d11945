"""The HTTP transport over real sockets: it reads the HTTP status and the body itself.

A proxy in front of the devnet answers some requests the way nearcore does (an error body under
an HTTP error status); everything else reaches the real node, and the chain is read afterwards.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.hardening.lying_proxy import LyingProxy
from tests.tools.conftest import ALICE, make_context
from tools.action import TransactionSpec, TransferSpec
from tools.chain import ChainClient
from tools.errors import TransientRpcError

BOB = "bob.test.near"


def nearcore_error(cause: str, name: str = "HANDLER_ERROR", data: Any = None) -> bytes:
    error = {"name": name, "cause": {"name": cause, "info": {}}, "code": -32000}
    return json.dumps(
        {"jsonrpc": "2.0", "id": "dontcare", "error": {**error, "data": data or cause}}
    ).encode()


def test_send_tx_refused_with_http_400_goes_by_the_legacy_method(chain_env: Any) -> None:
    """A node without send_tx answers HTTP 400 with METHOD_NOT_FOUND: the same bytes go by
    broadcast_tx_commit and land once (read as RPC_ERROR, they were retried until unknown)."""
    creds = make_context(chain_env).require_credentials()
    refused = nearcore_error("METHOD_NOT_FOUND", "REQUEST_VALIDATION_ERROR", "send_tx")

    async def scenario() -> tuple[int, int, list[str]]:
        async with LyingProxy(chain_env.rpc_url, answers={"send_tx": (400, refused)}) as proxy:
            chain = ChainClient(proxy.url, retries=2, backoff_s=0.01)
            try:
                before = (await chain.near_balance(BOB))["total"]
                spec = TransactionSpec(
                    signer_id=ALICE, receiver_id=BOB, actions=(TransferSpec(deposit=7),)
                )
                outcome = await chain.send(creds, spec)
                assert outcome.ok
                after = (await chain.near_balance(BOB))["total"]
                return before, after, proxy.seen
            finally:
                await chain.close()

    before, after, seen = asyncio.run(scenario())
    assert after - before == 7
    assert seen.count("send_tx") == 1 and seen.count("broadcast_tx_commit") == 1


def test_a_timeout_answered_with_http_408_keeps_its_cause(chain_env: Any) -> None:
    async def scenario() -> BaseException:
        timeout = nearcore_error("TIMEOUT_ERROR")
        async with LyingProxy(chain_env.rpc_url, answers={"view_account": (408, timeout)}) as proxy:
            chain = ChainClient(proxy.url, retries=1, backoff_s=0.01)
            try:
                with pytest.raises(TransientRpcError) as info:
                    await chain.near_balance(ALICE)
                assert await chain.view("wrap.test.near", "ft_metadata", {})  # others pass
                return info.value
            finally:
                await chain.close()

    error = asyncio.run(scenario())
    assert error.details.get("cause") == "TIMEOUT_ERROR"


def test_an_api_key_in_the_url_is_a_bearer_token_and_never_in_a_message(chain_env: Any) -> None:
    async def scenario() -> tuple[list[str | None], str]:
        async with LyingProxy(chain_env.rpc_url) as proxy:
            keyed = proxy.url.replace("http://", "http://s3cretkey@")
            chain = ChainClient(keyed, retries=0)
            try:
                await chain.near_balance(ALICE)
            finally:
                await chain.close()
            seen = proxy.authorizations
        chain = ChainClient(keyed, retries=0)  # the proxy is gone: nothing answers
        try:
            with pytest.raises(TransientRpcError) as info:
                await chain.near_balance(ALICE)
        finally:
            await chain.close()
        return seen, f"{info.value.message} {info.value.details} {chain!r}"

    authorizations, text = asyncio.run(scenario())
    assert authorizations == ["Bearer s3cretkey"]
    assert "s3cretkey" not in text and "127.0.0.1" in text
