"""The key pool's picker (tools.key_pool.hold_free) over the real nonce ledger's locks.

Stateful: holders in this process take and let go of pool keys while "another process" (a file
lock taken on its own open file, exactly what another near-agent process's ledger holds) takes
and lets go of keys too. Whatever the order: no two holders ever hold one key, and once things
settle no holder waits while a key is free (a free key is always taken, a waiter is woken by the
first key let go, in this process or another).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.support.fake_chain import FakeChain, envelope, rpc_error
from tests.tools.test_chain import transfer
from tools.errors import UnknownAccessKeyError
from tools.key_pool import KeyPool, hold_free, members_of
from tools.keypair import KeyPair
from tools.keys import Credentials
from tools.nonce_ledger import LOCKS_DIR, NonceKey, NonceLedger, ProcessNonces

POOL_SIZE = 3
SETTLE_S = 10.0
KEYS = tuple(
    NonceKey("http://127.0.0.1:3030", "alice.test.near", f"ed25519:k{i}") for i in range(3)
)


class Holder:
    """One send: waits for a key from the pool, keeps it until told to let go."""

    def __init__(self, machine: PoolPicker) -> None:
        self.key: NonceKey | None = None
        self.let_go = asyncio.Event()
        self.task = asyncio.ensure_future(self._run(machine), loop=machine.loop)

    async def _run(self, machine: PoolPicker) -> None:
        async with hold_free(machine.ledger, KEYS) as key:
            self.key = key
            async with machine.changed:
                machine.changed.notify_all()
            await self.let_go.wait()
        self.key = None


class PoolPicker(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.ledger = NonceLedger(self.folder, wait_s=60)
        self.loop = asyncio.new_event_loop()
        self.changed = self.loop.run_until_complete(self._condition())
        self.holders: list[Holder] = []
        self.outside: dict[NonceKey, int] = {}  # key -> the other process's open lock file

    @staticmethod
    async def _condition() -> asyncio.Condition:
        return asyncio.Condition()

    def teardown(self) -> None:
        for holder in self.holders:
            holder.let_go.set()
        for fd in self.outside.values():
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        if self.holders:
            self.loop.run_until_complete(asyncio.gather(*(h.task for h in self.holders)))
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # ---- what the model expects

    def held_keys(self) -> list[NonceKey]:
        return [h.key for h in self.holders if h.key is not None]

    def free_keys(self) -> list[NonceKey]:
        busy = set(self.held_keys()) | set(self.outside)
        return [k for k in KEYS if k not in busy]

    def expected_holding(self) -> int:
        return min(len(self.holders), POOL_SIZE - len(self.outside))

    def settle(self) -> None:
        """Run the loop until every holder that can have a key has one (or fail)."""

        async def until_settled() -> None:
            async with self.changed:
                await asyncio.wait_for(
                    self.changed.wait_for(lambda: len(self.held_keys()) >= self.expected_holding()),
                    SETTLE_S,
                )
            await asyncio.sleep(0)  # let a wrongly woken waiter show itself to the invariant

        self.loop.run_until_complete(until_settled())

    # ---- rules

    @precondition(lambda self: len(self.holders) < 2 * POOL_SIZE)
    @rule()
    def send(self) -> None:
        self.holders.append(Holder(self))
        self.settle()

    @precondition(lambda self: any(h.key is not None for h in self.holders))
    @rule(data=st.data())
    def finish(self, data: st.DataObject) -> None:
        holding = [h for h in self.holders if h.key is not None]
        holder = data.draw(st.sampled_from(holding))
        holder.let_go.set()
        self.loop.run_until_complete(holder.task)
        self.holders.remove(holder)
        self.settle()

    @precondition(lambda self: bool(self.free_keys()))
    @rule(data=st.data())
    def other_process_takes(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(self.free_keys()))
        (self.folder / LOCKS_DIR).mkdir(exist_ok=True, mode=0o700)
        fd = os.open(self.folder / LOCKS_DIR / f"{key.digest()}.lock", os.O_RDWR | os.O_CREAT)
        taker = threading.Thread(target=fcntl.flock, args=(fd, fcntl.LOCK_EX), daemon=True)
        taker.start()  # free by the model: held at most for a given-up waiter's instant
        taker.join(SETTLE_S)
        assert not taker.is_alive(), f"{key} is free yet held: a waiter that lost kept it"
        self.outside[key] = fd

    @precondition(lambda self: bool(self.outside))
    @rule(data=st.data())
    def other_process_lets_go(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.outside, key=KEYS.index)))
        fd = self.outside.pop(key)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        self.settle()

    @precondition(lambda self: len(self.outside) > 1)
    @rule()
    def other_process_lets_go_of_all_at_once(self) -> None:
        for fd in self.outside.values():
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        self.outside.clear()
        self.settle()

    # ---- what must always hold

    @invariant()
    def no_key_is_shared(self) -> None:
        held = self.held_keys()
        assert len(held) == len(set(held))
        assert not set(held) & set(self.outside)

    @invariant()
    def no_holder_waits_while_a_key_is_free(self) -> None:
        assert len(self.held_keys()) == self.expected_holding()


PoolPicker.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
test_pool_picker = PoolPicker.TestCase


def test_a_free_key_is_taken_without_waiting() -> None:
    """With every key but the last busy in this process, the last one is taken at once."""

    async def main() -> NonceKey:
        nonces = ProcessNonces()
        async with contextlib.AsyncExitStack() as busy:
            for key in KEYS[:-1]:
                await busy.enter_async_context(nonces.hold(key))
            async with hold_free(nonces, KEYS) as key:
                return key

    assert asyncio.run(main()) == KEYS[-1]


def test_a_pool_is_one_account_and_each_key_once() -> None:
    one, two = KeyPair.generate(), KeyPair.generate()
    pool = KeyPool((Credentials("alice.test.near", one), Credentials("alice.test.near", two)))
    assert pool.public_keys == [one.public_key, two.public_key]
    assert members_of(pool.main) == (pool.main,)
    with pytest.raises(Exception, match="one account"):
        KeyPool((Credentials("alice.test.near", one), Credentials("bob.test.near", two)))
    with pytest.raises(Exception, match="each key once"):
        KeyPool((Credentials("alice.test.near", one), Credentials("alice.test.near", one)))


@pytest.mark.parametrize(
    "answer",
    [
        rpc_error("UNKNOWN_ACCESS_KEY", {"public_key": "ed25519:gone"}),  # nearcore
        envelope({"error": "access key ed25519:gone does not exist while viewing", "logs": []}),
    ],
)
def test_a_deleted_key_reads_as_unknown_whichever_way_the_node_says_it(answer: dict) -> None:
    """Reconcile releases what a removed pool key signed on this error, so both spellings of
    "no such key" must give it (and nothing else may)."""

    async def main() -> None:
        node = FakeChain(replies={"view_access_key": answer})
        chain = node.client(timeout_s=5, retries=0)
        try:
            with pytest.raises(UnknownAccessKeyError, match="is not an access key"):
                await chain.access_key_nonce("alice.test.near", "ed25519:gone")
        finally:
            await chain.close()

    asyncio.run(main())


def test_a_pool_key_removed_from_the_account_is_passed_over_unsigned() -> None:
    """A process that read its pool before a `keys pool remove` signs with another key."""

    async def main() -> None:
        gone, live = KeyPair.generate(), KeyPair.generate()
        node = FakeChain(
            balances={"alice.test.near": 10**25, "bob.test.near": 0},
            nonces={("alice.test.near", live.public_key): 7},
        )
        chain = node.client(timeout_s=5, retries=0)
        pool = KeyPool((Credentials("alice.test.near", gone), Credentials("alice.test.near", live)))
        signed: list[str] = []
        try:
            outcome = await chain.send(
                pool, transfer(5), on_signed=lambda tx: signed.append(tx.public_key)
            )
            assert outcome.ok and node.balances["bob.test.near"] == 5
            assert signed == [live.public_key]  # nothing was ever signed with the gone key
            with pytest.raises(UnknownAccessKeyError):  # a lone key that is gone still says so
                await chain.send(Credentials("alice.test.near", gone), transfer(5))
        finally:
            await chain.close()

    asyncio.run(main())
