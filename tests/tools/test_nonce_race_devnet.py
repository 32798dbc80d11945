"""Another client signing with the same key at the same time: InvalidNonce races end with each of
the agent's transfers applied exactly once."""

from __future__ import annotations

import asyncio
import logging

import pytest
from py_near.account import Account

from devnet.server import RunningDevnet
from tools.action import TransactionSpec, TransferSpec
from tools.chain import ChainClient
from tools.keys import load_credentials
from tools.network import devnet_from_manifest

ROUNDS = 8


def test_a_second_client_on_the_same_key_never_makes_a_transfer_lost_or_doubled(
    fresh_devnet: RunningDevnet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tools.chain")
    network = devnet_from_manifest(fresh_devnet.state_dir / "manifest.json")
    creds = load_credentials(network.key_file_for("alice.test.near"), "alice.test.near")
    secret = network.key_file_for("alice.test.near").read_text()

    async def ours(chain: ChainClient) -> int:
        sent = 0
        for n in range(ROUNDS):
            amount = 1_000 * (n + 1)
            spec = TransactionSpec(
                signer_id="alice.test.near",
                receiver_id="carol.test.near",
                actions=(TransferSpec(deposit=amount),),
            )
            await chain.send(creds, spec)
            sent += amount
            await asyncio.sleep(0)
        return sent

    async def theirs() -> int:
        """Unchanged py-near on the same key: it does not retry, so some of its sends fail."""
        import json

        account = Account(
            "alice.test.near", json.loads(secret)["private_key"], rpc_addr=fresh_devnet.rpc_url
        )
        await account.startup()
        landed = 0
        try:
            for _ in range(ROUNDS):
                try:
                    await account.send_money("carol.test.near", 7)
                    landed += 7
                except Exception:  # noqa: BLE001 - the other client's own failures are not ours
                    pass
        finally:
            await account.shutdown()
        return landed

    async def main() -> None:
        chain = ChainClient(fresh_devnet.rpc_url, timeout_s=10, retries=5)
        try:
            before = (await chain.near_balance("carol.test.near"))["total"]
            sent, landed = await asyncio.gather(ours(chain), theirs())
            after = (await chain.near_balance("carol.test.near"))["total"]
        finally:
            await chain.close()
        assert sent == sum(1_000 * (n + 1) for n in range(ROUNDS))
        assert after - before == sent + landed  # every one of ours exactly once

    asyncio.run(main())
    assert "resyncing" in caplog.text  # the two clients really did collide on nonces
