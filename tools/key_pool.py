"""A pool of full-access keys of one account, so that independent transactions sign in parallel.

Why: NEAR orders an account's transactions per access key (each key has its own nonce), and the
nonce source holds a key for a whole send (tools.nonce_ledger says why), so one key is one
transaction in flight. An account holding several full-access keys can have as many in flight:
a send takes whichever key of the pool is free right now (a non-blocking try of each key's hold,
the in-process lock and, with the nonce ledger, the per-key file lock shared by every process),
and only when every key is busy does it wait, for the first one to be let go. Each signature is
still allocated, recorded and journalled with its own key and nonce, so nothing downstream
(the journal, reconcile) needs to know a pool was used.

The pool is the account's main key first, then the keys ``near-agent keys pool add`` made; it is
declared here once, and the key ring (tools.signers) and the chain client (tools.chain) use it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from tools.errors import CredentialsError
from tools.keys import Credentials
from tools.nonce_ledger import NonceKey, NonceSource

MAX_POOL_KEYS = 64
"""The most keys one pool may hold: far above what one machine can keep busy, and each key
stakes storage on the account."""


@dataclass(frozen=True)
class KeyPool:
    """The full-access keys one account signs with, its main key first."""

    members: tuple[Credentials, ...]

    def __post_init__(self) -> None:
        if not self.members:
            raise CredentialsError("a key pool holds at least one key")
        accounts = {c.account_id for c in self.members}
        if len(accounts) != 1:
            raise CredentialsError(f"a key pool's keys belong to one account, not {accounts}")
        keys = [c.public_key for c in self.members]
        if len(set(keys)) != len(keys):
            raise CredentialsError("a key pool holds each key once")

    @property
    def account_id(self) -> str:
        return self.members[0].account_id

    @property
    def main(self) -> Credentials:
        return self.members[0]

    @property
    def public_keys(self) -> list[str]:
        return [c.public_key for c in self.members]


Signer = Credentials | KeyPool
"""What a transaction is sent with: one key, or a pool of which any free key may sign."""


def members_of(signer: Signer) -> tuple[Credentials, ...]:
    """The keys a send may sign with, the main key first (the order breaks ties between keys
    that signed equally long ago, see :func:`hold_free`)."""
    return signer.members if isinstance(signer, KeyPool) else (signer,)


@contextlib.asynccontextmanager
async def hold_free(nonces: NonceSource, keys: Sequence[NonceKey]) -> AsyncIterator[NonceKey]:
    """Hold one of ``keys`` exclusively for a whole send and yield which.

    The free key that signed longest ago is taken without waiting; when every one is busy, the
    holds of all are awaited together (no polling) and the first to be granted is kept, the
    others let go at once. One key is simply that key's hold.
    """
    if len(keys) == 1:
        async with nonces.hold(keys[0]):
            yield keys[0]
        return
    for key in nonces.least_recent_first(keys):  # the pool's keys take turns
        release = await nonces.try_hold(key)
        if release is not None:
            try:
                yield key
            finally:
                release()
            return
    async with _first_granted(nonces, keys) as key:
        yield key


async def _enter(nonces: NonceSource, key: NonceKey) -> contextlib.AsyncExitStack:
    stack = contextlib.AsyncExitStack()
    await stack.enter_async_context(nonces.hold(key))
    return stack


@contextlib.asynccontextmanager
async def _first_granted(nonces: NonceSource, keys: Sequence[NonceKey]) -> AsyncIterator[NonceKey]:
    """Wait on every key's hold at once; keep the first granted, let the rest go."""
    waits = {asyncio.create_task(_enter(nonces, key)): key for key in keys}
    winner: asyncio.Task[contextlib.AsyncExitStack] | None = None
    try:
        pending = set(waits)
        while pending and winner is None:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            winner = next(
                (t for t in waits if t in done and not t.cancelled() and t.exception() is None),
                None,
            )
    finally:
        for task in waits:
            if task is not winner:
                task.cancel()
        losers = [t for t in waits if t is not winner]
        outcomes = await asyncio.gather(*losers, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, contextlib.AsyncExitStack):
                await outcome.aclose()  # granted too late: someone else may have it now
    if winner is None:
        for task in waits:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error
        raise asyncio.CancelledError()
    async with winner.result():
        yield waits[winner]
