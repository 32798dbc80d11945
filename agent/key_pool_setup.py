"""Adding and removing the keys of an account's key pool (``near-agent keys pool``).

Why: one access key is one transaction in flight (tools.key_pool); more full-access keys on the
account let independent actions sign in parallel. Each pool key is held exactly like the main
key (HOME/keys, 0600, sealed when the keystore is encrypted), and the policy engine checks every
action whichever key signs it.

As for ``grants onchain`` (agent.onchain, whose helpers this reuses): every step is idempotent
(keys already on chain are found with ``view_access_key_list``) and audited, and each secret is
written to HOME/keys, marked pending, *before* the one transaction adding the keys is sent, so a
crash can never leave an on-chain key nobody holds; a key is only signed with once its AddKey has
landed (marked active). A rerun adds the pending keys a crash left behind before making new ones,
and records in the audit log what a crash or another client changed on chain meanwhile. One change
runs per home at a time (HOME/keys-pool.lock); the main key is never one of the pool's keys.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from agent.config import load_config
from agent.home import Home
from agent.onchain import (
    OnchainError,
    OnchainReport,
    _audit,
    _require_full_access,
    _send,
    onchain_change,
)
from agent.onchain import access_keys as onchain_access_keys
from memory.audit import AuditKind, AuditLog, new_correlation_id
from tools.base import ToolContext, context_from_config
from tools.key_pool import MAX_POOL_KEYS
from tools.keypair import KeyPair
from tools.keystore import POOL_ACTIVE, POOL_PENDING, KeyEntry, Keystore
from tools.signing import FullAccessKeyGrant, KeyTransaction

POOL_TOOL = "keys pool"  # the audit entries' tool: the command that sent them
CHANGE_LOCK = "keys-pool.lock"  # in the home: held by the one pool change running for it
Confirm = Callable[[str], bool]


@dataclass(frozen=True)
class PoolView:
    """An account's key pool as the keystore holds it (no secret is read)."""

    account_id: str
    main_key: str | None
    keys: tuple[KeyEntry, ...]  # the pool keys, active and pending

    @property
    def active(self) -> list[KeyEntry]:
        return [e for e in self.keys if e.pool_active]


def pool_entries(store: Keystore, account_id: str, main_key: str | None = None) -> list[KeyEntry]:
    """The account's pool key files; never the main key's, even when agent.yaml names a file the
    pool made (the main key signs the pool's changes and is never one of its keys)."""
    return [
        e
        for e in store.entries()
        if e.account_id == account_id and e.pool and e.public_key != main_key
    ]


def read_pool(home: Home, store: Keystore | None = None) -> PoolView:
    """The configured account's pool, from agent.yaml and HOME/keys (offline)."""
    config = load_config(home.config_file)
    store = store or Keystore(home.keys_dir)
    main: str | None = None
    with contextlib.suppress(Exception):  # a missing main key is for `status` to report
        ctx = context_from_config(config, home_devnet_dir=home.devnet_dir, require_key=False)
        main = ctx.credentials.public_key if ctx.credentials is not None else None
    return PoolView(config.account_id, main, tuple(pool_entries(store, config.account_id, main)))


@contextlib.contextmanager
def one_pool_change(home: Home) -> Iterator[None]:
    """Hold the home's pool-change lock for a whole `keys pool add` or `remove`.

    Why: each reads the chain's keys and the key files, then acts on what it read; two at once
    could add a pool twice, or one re-add a pending key while the other forgets its secret (a key
    on chain nobody holds). A second change is refused, changing nothing; the kernel lets the
    lock go when its holder dies, so a crash never leaves it held.
    """
    fd = os.open(home.root / CHANGE_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OnchainError(
                "another `near-agent keys pool` change is running for this home; wait for it "
                "to finish; nothing was changed"
            ) from None
        yield
    finally:
        os.close(fd)


def check_count(count: int) -> None:
    """A pool size the user may ask for; OnchainError (nothing done) otherwise."""
    if not 1 <= count <= MAX_POOL_KEYS:
        raise OnchainError(
            f"--count must be between 1 and {MAX_POOL_KEYS} (the pool's keys besides the "
            f"main key), not {count}; nothing was changed"
        )


async def _settle_stored(
    home: Home, ctx: ToolContext, store: Keystore, report: OnchainReport
) -> tuple[list[KeyEntry], list[KeyEntry]]:
    """Bring each stored pool key's state in line with the chain: (active, pending not on chain).

    The audit log is brought in line too, each key once: a key on chain that the log does not
    say joined the pool (an AddKey a crash left unrecorded) is recorded as added, and one gone
    from the chain that the log says joined (deleted by another client, or a DeleteKey a crash
    left unrecorded) as removed; neither was sent by this run (no tx hash)."""
    account = ctx.account_id
    onchain = await onchain_access_keys(ctx, account)
    active: list[KeyEntry] = []
    pending: list[KeyEntry] = []
    for entry in pool_entries(store, account, ctx.require_credentials().public_key):
        on_chain = onchain.get(entry.public_key) == "FullAccess"
        if on_chain != entry.pool_active:
            entry = store.set_pool_state(entry, POOL_ACTIVE if on_chain else POOL_PENDING)
            report.say(
                f"pool key {entry.public_key} was already on {account}: now in use"
                if on_chain
                else f"pool key {entry.public_key} is no longer on {account}: not used"
            )
        if on_chain and _recorded_on_chain(home, entry.public_key) is not True:
            _audit_change(home, AuditKind.GRANT_ADDED, entry, None, new_correlation_id())
        elif not on_chain and _recorded_on_chain(home, entry.public_key) is True:
            _audit_change(home, AuditKind.GRANT_REVOKED, entry, None, new_correlation_id())
        (active if on_chain else pending).append(entry)
    return active, pending


def _recorded_on_chain(home: Home, public_key: str) -> bool | None:
    """What the audit log last said of a pool key: added (True), removed (False), nothing (None)."""
    with AuditLog(home.audit_db) as log:
        said = [
            e
            for kind in (AuditKind.GRANT_ADDED, AuditKind.GRANT_REVOKED)
            for e in log.entries(
                kind=kind, data_match={"onchain_public_key": public_key}, newest_first=True, limit=1
            )
            if e.data.get("key_pool")
        ]
    if not said:
        return None
    return max(said, key=lambda e: e.id).kind == AuditKind.GRANT_ADDED


def _audit_change(
    home: Home, kind: AuditKind, entry: KeyEntry, tx_hash: str | None, cid: str
) -> None:
    """One audit entry per pool key that joined (GRANT_ADDED) or left (GRANT_REVOKED) the
    account, as `grants onchain` records its keys."""
    data: dict[str, object] = {
        "onchain_public_key": entry.public_key,
        "account_id": entry.account_id,
        "key_pool": True,
        "tx_hash": tx_hash,
    }
    if kind is AuditKind.GRANT_ADDED:
        data |= {"permission": "FullAccess", "key_file": str(entry.path)}
    _audit(home, kind, data, cid)


async def add_pool_keys(
    home: Home, count: int, confirm: Confirm, keystore: Keystore | None = None
) -> OnchainReport:
    """Make the pool of the configured account hold ``count`` keys besides the main key.

    Pending keys a crash left behind are added first; new ones are generated for the rest. Raises
    OnchainError, ToolError or ConfigError with a clear text; nothing is changed when
    ``confirm`` (shown what will be added) answers no, or while another pool change runs.
    """
    check_count(count)
    load_config(home.config_file)  # no home, or a malformed one: said before any lock is made
    with one_pool_change(home):
        return await _add_pool_keys(home, count, confirm, keystore)


async def _add_pool_keys(
    home: Home, count: int, confirm: Confirm, keystore: Keystore | None
) -> OnchainReport:
    async with onchain_change(home, keystore) as (ctx, store, report):
        await _require_full_access(ctx)
        account = ctx.account_id
        active, pending = await _settle_stored(home, ctx, store, report)
        wanted = count - len(active)
        if wanted <= 0:
            report.say(
                f"the key pool of {account} already holds {len(active)} key(s) besides the "
                f"main key: nothing to add (`near-agent keys pool remove` shrinks it)"
            )
            return report
        reused = pending[:wanted]
        fresh = wanted - len(reused)
        signer = ctx.require_credentials().public_key
        lines = [f"add {wanted} full-access key(s) to {account} in one transaction"]
        lines += [f"  {e.public_key} (stored by an earlier run)" for e in reused]
        if fresh:
            lines.append(f"  {fresh} new key(s), each secret stored in {home.keys_dir} first")
        lines.append(f"signed by the main key {signer}")
        if not confirm("\n".join(lines)):
            report.say("Nothing was changed.")
            return report
        made = [
            store.store(
                account, KeyPair.generate(), pool=POOL_PENDING, note=f"key pool of {account}"
            )
            for _ in range(fresh)
        ]
        adding = [*reused, *made]
        cid = new_correlation_id()
        spec = KeyTransaction(
            signer_id=account, add=tuple(FullAccessKeyGrant(e.public_key) for e in adding)
        )
        outcome = await _send(
            home, ctx, spec, cid, what=f"adding {len(adding)} pool key(s)", tool=POOL_TOOL
        )
        report.tx_hashes.append(outcome.tx_hash)
        for entry in adding:
            store.set_pool_state(entry, POOL_ACTIVE)
        for entry in adding:
            _audit_change(home, AuditKind.GRANT_ADDED, entry, outcome.tx_hash, cid)
        report.say(
            f"added {len(adding)} full-access key(s) to the key pool of {account} "
            f"(tx {outcome.tx_hash}): {', '.join(e.public_key for e in adding)}; "
            f"independent actions now sign with up to {len(active) + len(adding) + 1} keys "
            "at once"
        )
    return report


async def remove_pool_keys(
    home: Home,
    public_keys: Sequence[str],
    confirm: Confirm,
    keystore: Keystore | None = None,
) -> OnchainReport:
    """Delete pool keys from the chain, then forget them (all of them when none is named).

    The main key is never a pool key, so it cannot be removed here. Each key is first marked
    pending (new runs stop signing with it) and held (a send under way with it finishes), then
    one DeleteKey transaction signed by the main key removes those on chain.
    """
    load_config(home.config_file)  # no home, or a malformed one: said before any lock is made
    with one_pool_change(home):
        return await _remove_pool_keys(home, public_keys, confirm, keystore)


async def _remove_pool_keys(
    home: Home, public_keys: Sequence[str], confirm: Confirm, keystore: Keystore | None
) -> OnchainReport:
    async with onchain_change(home, keystore) as (ctx, store, report):
        account = ctx.account_id
        main = ctx.require_credentials().public_key
        if main in public_keys:
            raise OnchainError(
                f"{main} is not a key of the pool of {account}: it is the main key (agent.yaml's "
                "key file), which signs the pool's changes and is never removed by `keys pool "
                "remove`; nothing was changed"
            )
        held = pool_entries(store, account, main)
        unknown = sorted(set(public_keys) - {e.public_key for e in held})
        if unknown:
            raise OnchainError(
                f"{', '.join(unknown)} is not a key of the pool of {account} "
                "(`near-agent keys pool list` shows them); nothing was changed"
            )
        chosen = [e for e in held if not public_keys or e.public_key in public_keys]
        if not chosen:
            report.say(f"the key pool of {account} holds no key: nothing to remove")
            return report
        await _require_full_access(ctx)
        # record what a crash or another client left first (a key found on chain joined the
        # pool; one gone from it left, recorded now and not again below)
        named = {e.public_key for e in chosen}
        active, pending = await _settle_stored(home, ctx, store, report)
        chosen = [e for e in (*active, *pending) if e.public_key in named]
        live = [e for e in chosen if e.pool_active]
        lines = [f"remove {len(chosen)} key(s) from the key pool of {account}"]
        lines += [
            f"  {e.public_key}" + ("" if e in live else " (not on chain: only forgotten)")
            for e in chosen
        ]
        if not confirm("\n".join(lines)):
            report.say("Nothing was changed.")
            return report
        chosen = [store.set_pool_state(e, POOL_PENDING) for e in chosen]
        live_keys = {e.public_key for e in live}
        tx_hash: str | None = None
        cid = new_correlation_id()
        async with contextlib.AsyncExitStack() as holding:
            for entry in chosen:
                if entry.public_key in live_keys:
                    key = ctx.chain.nonce_key((account, entry.public_key))
                    await holding.enter_async_context(ctx.chain.nonces.hold(key))
            # read again once held: another `keys pool remove` may have deleted and forgotten
            # them while this one waited; each key is deleted, forgotten and recorded once
            chosen = [e for e in chosen if e.path.exists()]
            if live_keys:
                live_keys &= set(await onchain_access_keys(ctx, account))
            if live_keys:
                spec = KeyTransaction(signer_id=account, delete=tuple(sorted(live_keys)))
                outcome = await _send(
                    home,
                    ctx,
                    spec,
                    cid,
                    what=f"deleting {len(live_keys)} pool key(s)",
                    tool=POOL_TOOL,
                )
                tx_hash = outcome.tx_hash
                report.tx_hashes.append(tx_hash)
            for entry in chosen:
                store.remove(entry)
            for entry in chosen:
                if _recorded_on_chain(home, entry.public_key) is not False:
                    sent = tx_hash if entry.public_key in live_keys else None
                    _audit_change(home, AuditKind.GRANT_REVOKED, entry, sent, cid)
        if not chosen:
            report.say(f"another run removed those keys of {account} meanwhile: nothing left")
            return report
        done = f"deleted {len(live_keys)} from {account} (tx {tx_hash}) and " if live_keys else ""
        report.say(
            f"{done}forgot {len(chosen)} pool key(s): {', '.join(e.public_key for e in chosen)}"
        )
    return report
