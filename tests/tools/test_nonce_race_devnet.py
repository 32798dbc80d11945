"""Another client signing with the same key at the same time: InvalidNonce races end with each of
the agent's transfers applied exactly once.

The first collision is made certain, whatever the block timing: both clients read the key's nonce
before either sends (a barrier), the other client's transaction is included first, and ours then
goes out with the nonce it already used."""

from __future__ import annotations

import asyncio
import logging

import pytest
from py_near import transactions
from py_near.account import Account

from devnet.server import RunningDevnet
from tools.action import TransactionSpec, TransferSpec
from tools.chain import ChainClient
from tools.keys import load_credentials
from tools.network import devnet_from_manifest

ROUNDS = 8


class NonceReadBarrier(ChainClient):
    """Our client, held after its first nonce read until the other client has used that nonce."""

    def __init__(self, rpc_url: str, *, read: asyncio.Event, used: asyncio.Event) -> None:
        super().__init__(rpc_url, timeout_s=10, retries=5)
        self.read = read
        self.used = used

    async def access_key_nonce(self, account_id: str, public_key: str) -> int:
        nonce = await super().access_key_nonce(account_id, public_key)
        if not self.read.is_set():
            self.read.set()
            await self.used.wait()
        return nonce


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

    read, used = asyncio.Event(), asyncio.Event()

    async def theirs() -> int:
        """Unchanged py-near on the same key: it does not retry, so some of its sends fail. Its
        first transfer reads the nonce after ours has read it and is included before ours goes."""
        import json

        account = Account(
            "alice.test.near", json.loads(secret)["private_key"], rpc_addr=fresh_devnet.rpc_url
        )
        await account.startup()
        landed = 0
        try:
            await read.wait()
            try:
                await account.sign_and_submit_tx(
                    "carol.test.near", [transactions.create_transfer_action(7)], included=True
                )
                landed += 7
            finally:
                used.set()
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
        chain = NonceReadBarrier(fresh_devnet.rpc_url, read=read, used=used)
        try:
            before = (await chain.near_balance("carol.test.near"))["total"]
            sent, landed = await asyncio.gather(ours(chain), theirs())
            await asyncio.to_thread(fresh_devnet.settle)  # py-near's last transfer is final
            after = (await chain.near_balance("carol.test.near"))["total"]
        finally:
            await chain.close()
        assert sent == sum(1_000 * (n + 1) for n in range(ROUNDS))
        assert after - before == sent + landed  # every one of ours exactly once

    asyncio.run(main())
    assert "resyncing" in caplog.text  # the barrier made the two clients collide on a nonce
