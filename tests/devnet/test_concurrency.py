"""Many clients at once: every transaction lands once and no yoctoNEAR appears or vanishes."""

from __future__ import annotations

import asyncio

from tests.devnet.helpers import NEAR, balance, near_account, total_burnt
from tools.keypair import KeyPair


def _total(node):
    return sum(a.amount + a.locked for a in node.runtime.accounts.values())


def test_parallel_transfers_conserve_supply(net):
    supply = _total(net)

    async def scenario():
        root = await near_account(net, "devnet")
        keys = [KeyPair.generate() for _ in range(8)]
        made = []
        for i, pair in enumerate(keys):
            made.append(await root.create_account(f"p{i}.devnet", pair.public_key, 10 * NEAR))
        await root.shutdown()
        clients = [
            await near_account(net, f"p{i}.devnet", pair.secret_key) for i, pair in enumerate(keys)
        ]

        async def run(i, acc):
            return [
                await acc.send_money(f"p{(i + 1) % len(clients)}.devnet", 1000 + j)
                for j in range(6)
            ]

        results = await asyncio.gather(*(run(i, c) for i, c in enumerate(clients)))
        for c in clients:
            await c.shutdown()
        return made, results

    made, results = asyncio.run(scenario())
    outcomes = made + [o for per in results for o in per]
    assert all(o.status == {"SuccessValue": ""} for o in outcomes)
    assert len({o.transaction.hash for o in outcomes}) == len(outcomes)
    burnt = sum(total_burnt(o) for o in outcomes)
    assert _total(net) == supply - burnt  # gas is burnt; nothing else is created or lost
    for i in range(8):
        sent = sum(1000 + j for j in range(6))
        own = sum(total_burnt(o) for o in results[i])
        assert balance(net, f"p{i}.devnet") == 10 * NEAR - sent + sent - own


def test_implicit_account_created_by_transfer(net):
    pair = KeyPair.generate()
    implicit = pair.public_bytes.hex()

    async def scenario():
        alice = await near_account(net, "alice.devnet")
        funded = await alice.send_money(implicit, 2 * NEAR)
        await alice.shutdown()
        owner = await near_account(net, implicit, pair.secret_key)
        spent = await owner.send_money("bob.devnet", NEAR)
        await owner.shutdown()
        return funded, spent

    funded, spent = asyncio.run(scenario())
    assert funded.status == {"SuccessValue": ""} and spent.status == {"SuccessValue": ""}
    assert balance(net, implicit) == NEAR - total_burnt(spent)


def test_delete_account_pays_the_beneficiary(net):
    pair = KeyPair.generate()

    async def scenario():
        alice = await near_account(net, "alice.devnet")
        await alice.create_account("gone.alice.devnet", pair.public_key, 3 * NEAR)
        await alice.shutdown()
        gone = await near_account(net, "gone.alice.devnet", pair.secret_key)
        from py_near_primitives import DeleteAccountAction

        outcome = await gone.sign_and_submit_tx(
            "gone.alice.devnet", [DeleteAccountAction("bob.devnet")]
        )
        await gone.shutdown()
        return outcome

    before = balance(net, "bob.devnet")
    outcome = asyncio.run(scenario())
    assert outcome.status == {"SuccessValue": ""}
    assert "gone.alice.devnet" not in net.runtime.accounts
    assert balance(net, "bob.devnet") == before + 3 * NEAR - total_burnt(outcome)
