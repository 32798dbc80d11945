"""Choosing the narrowest key that can sign a transaction.

Why: a full-access key can do anything to an account, a function-call key only what the protocol
lets it (one zero-deposit call to its receiver, with a listed method). Signing every action the
protocol allows with the narrow key means a bug in the signing path cannot move funds with it,
and the node enforces that, not this code. The rules mirror nearcore's: a function-call key signs
only a transaction whose one action is a FunctionCall with no deposit to its ``receiver_id``
with a method in ``method_names`` (empty = any method).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tools.action import FunctionCallSpec, TransactionSpec
from tools.chain import ChainClient
from tools.errors import CredentialsError, InvalidTransactionError
from tools.key_pool import KeyPool, Signer
from tools.keys import Credentials
from tools.keystore import FunctionCallPermission, Keystore
from tools.outcome import TxOutcome
from tools.signing import SignableSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FunctionCallKey:
    """A function-call access key and what the chain lets it sign."""

    credentials: Credentials = field(repr=False)
    permission: FunctionCallPermission

    @property
    def account_id(self) -> str:
        return self.credentials.account_id

    @property
    def public_key(self) -> str:
        return self.credentials.public_key

    def can_sign(self, spec: SignableSpec) -> bool:
        if not isinstance(spec, TransactionSpec) or len(spec.actions) != 1:
            return False
        action = spec.actions[0]
        methods = self.permission.method_names
        return (
            isinstance(action, FunctionCallSpec)
            and action.deposit == 0
            and spec.signer_id == self.account_id
            and spec.receiver_id == self.permission.receiver_id
            and (not methods or action.method_name in methods)
        )


@dataclass
class KeyRing:
    """The keys this agent holds: full-access ones per account (the main key, plus the keys of
    its pool, if any: tools.key_pool), plus function-call keys."""

    full_access: dict[str, Credentials] = field(default_factory=dict, repr=False)
    function_call: list[FunctionCallKey] = field(default_factory=list)
    pool_keys: dict[str, list[Credentials]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, *credentials: Credentials | None) -> KeyRing:
        return cls(full_access={c.account_id: c for c in credentials if c is not None})

    def add_full_access(self, credentials: Credentials) -> None:
        self.full_access[credentials.account_id] = credentials

    def add_pool_key(self, credentials: Credentials) -> None:
        """One more full-access key of its account, used in turn with the main key."""
        held = self.pool_keys.setdefault(credentials.account_id, [])
        if all(c.public_key != credentials.public_key for c in held):
            held.append(credentials)

    def signer_for(self, creds: Credentials) -> Signer:
        """What to send with when ``for_spec`` chose ``creds``: the account's whole pool when
        ``creds`` is its main full-access key and it has pool keys, else ``creds`` alone."""
        main = self.full_access.get(creds.account_id)
        if main is None or main.public_key != creds.public_key:
            return creds
        extra = [
            c for c in self.pool_keys.get(creds.account_id, ()) if c.public_key != main.public_key
        ]
        return KeyPool((main, *extra)) if extra else creds

    def add_function_call(
        self, credentials: Credentials, permission: FunctionCallPermission
    ) -> None:
        self.function_call = [
            k for k in self.function_call if k.public_key != credentials.public_key
        ]
        self.function_call.append(FunctionCallKey(credentials, permission))

    def accounts(self) -> set[str]:
        return set(self.full_access) | {k.account_id for k in self.function_call}

    def holds(self, account_id: str) -> bool:
        return account_id in self.accounts()

    def for_spec(self, spec: SignableSpec) -> Credentials:
        """The narrowest key that can sign ``spec``; CredentialsError when none can."""
        for key in self.function_call:
            if key.can_sign(spec):
                return key.credentials
        creds = self.full_access.get(spec.signer_id)
        if creds is None:
            raise CredentialsError(
                f"no key held for {spec.signer_id} can sign this transaction to {spec.receiver_id}"
            )
        return creds

    def public_keys(self) -> list[str]:
        """Every public key in the ring (for display; secrets never leave the ring)."""
        return (
            [c.public_key for c in self.full_access.values()]
            + [c.public_key for held in self.pool_keys.values() for c in held]
            + [k.public_key for k in self.function_call]
        )


def keyring_from_keystore(
    keystore: Keystore,
    accounts: Iterable[str],
    base: KeyRing | None = None,
) -> KeyRing:
    """Add the stored keys of ``accounts`` (and of their sub-accounts) to a ring.

    A sub-account's full-access key is included so that an action whose signer is the trading
    sub-account is signed with that account's own key, never the parent's. Pool keys whose
    AddKey has landed (``Keystore`` marks them active) join their account's pool.
    """
    ring = base or KeyRing()
    wanted = tuple(accounts)
    for entry in keystore.entries():
        mine = entry.account_id in wanted or any(entry.account_id.endswith("." + a) for a in wanted)
        if not mine:
            continue
        creds = Credentials(entry.account_id, keystore.load(entry))
        if entry.pool:
            if entry.pool_active:
                ring.add_pool_key(creds)
        elif entry.permission is not None:
            ring.add_function_call(creds, entry.permission)
        elif entry.account_id not in ring.full_access:
            ring.add_full_access(creds)
    return ring


async def send_narrowest(
    chain: ChainClient,
    ring: KeyRing | None,
    creds: Credentials,
    spec: SignableSpec,
    **kwargs: Any,
) -> TxOutcome:
    """Send signed by ``creds`` (by any free key of its pool when it is an account's main key);
    when a function-call key has burnt its gas allowance, the node refused the transaction
    (nothing happened), so it is signed again by the full-access key (or its pool)."""
    try:
        return await chain.send(ring.signer_for(creds) if ring else creds, spec, **kwargs)
    except InvalidTransactionError as exc:
        wider = ring.full_access.get(spec.signer_id) if ring is not None else None
        if (
            wider is None
            or wider.public_key == creds.public_key
            or "NotEnoughAllowance" not in exc.message
        ):
            raise
    log.warning(
        "the function-call key %s has no gas allowance left; signing with the "
        "full-access key instead (`near-agent grants onchain` replaces it)",
        creds.public_key,
    )
    return await chain.send(ring.signer_for(wider) if ring else wider, spec, **kwargs)
