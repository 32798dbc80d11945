"""Nonces that are unique per access key, across every process and every home of one user.

Why: the chain adapter picks a transaction's nonce from the key's nonce on chain. Two processes
(two ``near-agent do`` runs, a run and the scheduler, or runs of two homes configured with the
same key) that read the same chain nonce at the same moment would sign the same transaction with
the same nonce, byte for byte, so the node executes it once and answers both with its outcome:
two intents report "done" with one transaction. The nonce ledger (``NonceLedger``: SQLite plus
one lock file per key) makes every nonce, and so every signature, belong to one allocation:

* a nonce is ``max(chain nonce, last allocated for this key) + 1``, committed in one SQLite
  write transaction before anything is signed with it; after the node refuses a nonce
  the ledger only ever moves forward;
* every signed hash is recorded with its key and nonce before it is journalled or sent; a hash
  or a (key, nonce) already recorded is refused (:class:`SignatureReuseError`), so no hash can be
  handed to two intents, nor reported "done" by one that did not sign it alone.

Nonces belong to the key, not to a home, so the ledger lives in one folder per user (the agent
passes its per-user state folder), never inside a home: every home of the user that signs with
a key shares its counter and its lock. It covers one machine only; a key also used on another
machine (or by another wallet) is only caught by the node refusing a used nonce. A ``nonces.db``
left inside a home by earlier versions is no longer read: it only ever ran ahead of the chain,
and allocation takes the chain's nonce into account, so nothing it held is needed.

The per-key lock is held for the whole send (read the chain nonce, allocate, sign, journal,
deliver, wait for the final outcome), not only around allocation. NEAR applies a key's
transactions in nonce order and refuses a nonce at or below the key's current one, so two
signatures in flight on one key gain nothing: when the higher nonce lands first, the lower one
is refused and must be signed again (a wasted signature, another journalled hash for reconcile
to resolve, another round trip). One transaction in flight per key is what the in-process lock
always gave; concurrency comes from more keys (an account's key pool, tools.key_pool, which
takes whichever key ``try_hold`` finds free), which is why everything here is keyed by (network
endpoint, account, public key), never by account alone.

``ProcessNonces`` is the fallback without a state folder (bare library use): the same
interface, unique within this process only, as the adapter always was.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol
from urllib.parse import urlsplit, urlunsplit

from tools.errors import ToolError, UnusableFile
from tools.sqlite_wal import keep_wal_on_close, use_wal

LEDGER_FILE = "nonces.db"
LOCKS_DIR = "nonce-locks"
SQLITE_INT_MAX = 2**63 - 1
# SQLITE_CANTOPEN, SQLITE_CORRUPT, SQLITE_NOTADB: the file is not a database we can use
_UNUSABLE_CODES = frozenset({14, 11, 26})
DEFAULT_PORTS = {"http": 80, "https": 443}


def normal_endpoint(url: str) -> str:
    """One spelling per endpoint, so that two spellings of one URL share a key's counter and
    lock: scheme and host in lower case, no default port, no trailing slash, no fragment."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text.rstrip("/")  # not a URL we can take apart: compare it as written
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    user = parts.netloc.rpartition("@")[0]
    netloc = f"{user}@{host}" if user else host
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


@dataclass(frozen=True)
class NonceKey:
    """One access key on one network: the unit nonces (and locks) are counted per."""

    network: str  # the RPC endpoint the adapter talks to, in its normal spelling
    account_id: str
    public_key: str
    chain: str = ""  # the chain served there (chain id and genesis hash); "": not known

    def __post_init__(self) -> None:
        object.__setattr__(self, "network", normal_endpoint(self.network))

    @property
    def where(self) -> str:
        """The endpoint, and the chain it serves when known: a key counted on a chain reset
        at the same URL since is another counter (the new chain's nonces start again)."""
        return f"{self.network}#{self.chain}" if self.chain else self.network

    def digest(self) -> str:
        text = "\n".join((self.where, self.account_id, self.public_key))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def stored_network(self) -> str:
        """Where as the ledger stores it: a digest, since a provider's URL may carry its API
        key and the ledger is a plain file."""
        return "sha256:" + hashlib.sha256(self.where.encode()).hexdigest()


class KeyBusyError(ToolError):
    """Another process kept the key for longer than we wait; nothing was signed."""

    code = "key_busy"


class SignatureReuseError(ToolError):
    """A signed hash or nonce is already the ledger's under another allocation; nothing was sent."""

    code = "signature_reuse"


class UnusableLedger(UnusableFile):
    """The ledger's database or lock folder cannot be used (damaged, of the wrong kind, not
    readable); nothing was signed. It keeps nothing the chain does not: deleting it is safe
    while no near-agent process runs (allocation starts again from the chain's nonces)."""

    def __init__(self, path: Path, reason: str) -> None:
        remove = f"rm -r {path}" if path.is_dir() else f"rm {path}"
        super().__init__(
            path,
            f"the nonce ledger cannot be used ({reason}); nothing was signed or sent.",
            "It only keeps the nonces this machine signed with, which the chain also knows, so "
            f"it is safe to delete when no near-agent process is running: stop them, then "
            f"{remove} and try again.",
        )


@contextlib.contextmanager
def _usable(path: Path) -> Iterator[None]:
    """Report an OS or SQLite error that means the file itself cannot be used as
    UnusableLedger (naming the file the OS names, else ``path``); others pass through."""
    try:
        yield
    except OSError as exc:
        named = Path(exc.filename) if exc.filename else path
        raise UnusableLedger(named, exc.strerror or str(exc)) from exc
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) not in _UNUSABLE_CODES:
            raise
        raise UnusableLedger(path, str(exc)) from exc


Release = Callable[[], None]
"""Lets go of a key taken with ``try_hold``."""


class NonceSource(Protocol):
    """What the chain adapter needs to give every signature its own nonce."""

    def hold(self, key: NonceKey) -> contextlib.AbstractAsyncContextManager[None]:
        """The key, exclusively, for one whole send."""
        ...

    async def try_hold(self, key: NonceKey) -> Release | None:
        """The key, exclusively, if it is free right now (never waits); None when it is not.
        (How tools.key_pool takes whichever key of a pool is free.)"""
        ...

    def allocate(self, key: NonceKey, chain_nonce: int) -> int:
        """A nonce no other signature of this key has had; recorded before it is returned."""
        ...

    def least_recent_first(self, keys: Sequence[NonceKey]) -> list[NonceKey]:
        """``keys``, the one that signed longest ago (or never) first, ties in the given order:
        a pool's keys take turns, so a key whose last signature was never sent (its run died)
        signs again soon, its nonce moves past that signature, and reconcile can let go of
        the budget it held (tools.key_pool)."""
        ...

    def advance(self, key: NonceKey, used: int) -> None:
        """The chain says ``used`` is taken: never allocate it or below (forward only)."""
        ...

    def record(self, key: NonceKey, nonce: int, tx_hash: str) -> None:
        """Claim ``tx_hash`` for this allocation; SignatureReuseError if it or its nonce is
        already another signature's."""
        ...


# --------------------------------------------------------------------------- in-process


_loop_locks: dict[tuple[int, NonceKey], asyncio.Lock] = {}


def _loop_lock(key: NonceKey) -> asyncio.Lock:
    """One coroutine per key in this event loop (an asyncio.Lock belongs to one loop)."""
    slot = (id(asyncio.get_running_loop()), key)
    lock = _loop_locks.get(slot)
    if lock is None:
        lock = _loop_locks[slot] = asyncio.Lock()
    return lock


async def _try_loop_lock(key: NonceKey) -> asyncio.Lock | None:
    """The key's in-process lock if nobody holds or awaits it; acquiring a free lock does not
    suspend, so nothing can take it between the look and the take."""
    lock = _loop_lock(key)
    if lock.locked():
        return None
    await lock.acquire()
    return lock


class ProcessNonces:
    """Unique within this process only: for use without an agent home."""

    KEEP_HASHES = 10_000
    _last: ClassVar[dict[NonceKey, int]] = {}
    _signed: ClassVar[OrderedDict[tuple[NonceKey, str], int]] = OrderedDict()  # -> nonce
    _signed_at: ClassVar[dict[NonceKey, float]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: NonceKey) -> AsyncIterator[None]:
        async with _loop_lock(key):
            yield

    async def try_hold(self, key: NonceKey) -> Release | None:
        lock = await _try_loop_lock(key)
        return None if lock is None else lock.release

    def allocate(self, key: NonceKey, chain_nonce: int) -> int:
        last = self._last.get(key, 0)
        # a nonce we used may not be visible yet; a far-off remembered one is from another chain
        nonce = (last if 0 <= last - chain_nonce <= 1000 else chain_nonce) + 1
        self._last[key] = nonce
        return nonce

    def advance(self, key: NonceKey, used: int) -> None:
        self._last[key] = max(self._last.get(key, 0), used)

    def least_recent_first(self, keys: Sequence[NonceKey]) -> list[NonceKey]:
        return sorted(keys, key=lambda k: self._signed_at.get(k, 0.0))

    def record(self, key: NonceKey, nonce: int, tx_hash: str) -> None:
        """An assertion within this process and key (the last KEEP_HASHES signatures)."""
        held = self._signed.get((key, tx_hash))
        if held is not None:
            raise _reuse(tx_hash, nonce, held)
        self._signed[(key, tx_hash)] = nonce
        self._signed_at[key] = time.monotonic()
        while len(self._signed) > self.KEEP_HASHES:
            self._signed.popitem(last=False)


# --------------------------------------------------------------------------- across processes


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS key_nonces (
    network TEXT NOT NULL,  -- NonceKey.stored_network(): a digest, never the URL
    account_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    last_nonce INTEGER NOT NULL,
    PRIMARY KEY (network, account_id, public_key)
)""",
    """CREATE TABLE IF NOT EXISTS signatures (
    tx_hash TEXT PRIMARY KEY,
    network TEXT NOT NULL,
    account_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    signed_at REAL NOT NULL,
    UNIQUE (network, account_id, public_key, nonce)
)""",
)


class NonceLedger:
    """Nonces and signatures of every key the user signs with, shared by all their processes.

    ``folder`` (the user's state folder, shared by every home) holds ``nonces.db`` and
    ``nonce-locks/``, made private (0700, files 0600) on first use and made again whenever
    they have gone, so a long-running process outlives their removal. ``wait_s`` bounds how
    long a send waits for another process's send on the same key before giving up.
    """

    def __init__(self, folder: Path, *, wait_s: float = 120.0) -> None:
        self.folder = folder
        self.path = folder / LEDGER_FILE
        self.locks_dir = folder / LOCKS_DIR
        self.wait_s = wait_s  # files are made on first use: a read-only session writes nothing

    def __repr__(self) -> str:
        return f"NonceLedger({str(self.path)!r})"

    def _ensure_locks_dir(self) -> None:
        """The folder and its locks folder, private, whether never made or removed since."""
        with _usable(self.locks_dir):
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.locks_dir.mkdir(exist_ok=True, mode=0o700)

    def _ensure_file(self) -> None:
        """The folder and the database file, private, whether never made or removed since."""
        with _usable(self.path):
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                return
            # a new file: a log left by the removed one would be replayed into it, half a database
            for leftover in ("-wal", "-shm"):
                Path(f"{self.path}{leftover}").unlink(missing_ok=True)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, begun before reading (BEGIN IMMEDIATE): atomic across
        processes. The schema is made inside it, so a removed database is simply begun again.

        Commits survive a crash of any process but are not synced to the disk (WAL with
        ``synchronous=NORMAL``): the ledger orders the processes of a running machine, and
        after a power cut none of them is left to collide with. What a power cut may take
        back is the latest allocations; a nonce sent with one is then on chain (allocation
        starts above the chain's) or, at worst, refused by the node as used, never sent
        twice: the journal, synced before every send, keeps the hash for reconcile."""
        self._ensure_file()
        with _usable(self.path):
            conn = sqlite3.connect(self.path, timeout=self.wait_s, isolation_level=None)
            try:
                use_wal(conn)
                keep_wal_on_close(conn)
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _SCHEMA:
                        conn.execute(statement)
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                conn.close()

    def _open_lock_file(self, key: NonceKey) -> int:
        self._ensure_locks_dir()
        lock_file = self.locks_dir / f"{key.digest()}.lock"
        with _usable(lock_file):
            return os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)

    @contextlib.asynccontextmanager
    async def hold(self, key: NonceKey) -> AsyncIterator[None]:
        async with _loop_lock(key):
            fd = self._open_lock_file(key)
            try:
                await self._flock(fd, key)
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    async def try_hold(self, key: NonceKey) -> Release | None:
        lock = await _try_loop_lock(key)
        if lock is None:
            return None
        try:
            fd = self._open_lock_file(key)
        except BaseException:
            lock.release()
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another process sends with it
            os.close(fd)
            lock.release()
            return None

        def release() -> None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
                lock.release()

        return release

    async def _flock(self, fd: int, key: NonceKey) -> None:
        """Take the key's file lock without blocking the event loop, and cancellably.

        When another process has it, a thread blocks in flock on a duplicate of ``fd`` (one
        open file, so one lock) and wakes the loop when the kernel grants it: no polling. Given
        up (cancelled, or after ``wait_s``), the lock is let go as soon as it is granted, by the
        thread itself, so no one else waits on this event loop for it.
        """
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        loop = asyncio.get_running_loop()
        granted: asyncio.Future[None] = loop.create_future()
        waiter = os.dup(fd)
        guard = threading.Lock()
        state = {"wanted": True, "got": False}

        def wait_in_thread() -> None:
            error: OSError | None = None
            try:
                fcntl.flock(waiter, fcntl.LOCK_EX)
            except OSError as exc:
                error = exc
            with guard:
                if error is None and state["wanted"]:
                    state["got"] = True  # the lock is the waiting send's from now on
                else:
                    if error is None:
                        fcntl.flock(waiter, fcntl.LOCK_UN)  # given up meanwhile: nobody's
                    os.close(waiter)
            with contextlib.suppress(RuntimeError):  # the loop is gone: so is the send
                loop.call_soon_threadsafe(_settle, granted, error)

        threading.Thread(target=wait_in_thread, name="nonce-key-wait", daemon=True).start()
        try:
            await asyncio.wait_for(granted, self.wait_s)
        except BaseException as exc:
            with guard:
                state["wanted"] = False
                if state["got"]:  # granted just now, but no one will use it
                    fcntl.flock(waiter, fcntl.LOCK_UN)
                    os.close(waiter)
            if isinstance(exc, TimeoutError):
                raise KeyBusyError(
                    f"another near-agent process has been sending with the key "
                    f"{key.public_key} of {key.account_id} for over {self.wait_s:.0f} s; "
                    "nothing was signed, try again",
                    account_id=key.account_id,
                    public_key=key.public_key,
                ) from None
            raise
        os.close(waiter)  # the lock stays held through ``fd``, the same open file

    def allocate(self, key: NonceKey, chain_nonce: int) -> int:
        with self._write() as conn:
            last = self._last(conn, key)
            nonce = max(chain_nonce, last) + 1
            if nonce > SQLITE_INT_MAX:
                raise SignatureReuseError(f"the nonce of key {key.public_key} is exhausted")
            self._store_last(conn, key, nonce)
        return nonce

    def advance(self, key: NonceKey, used: int) -> None:
        with self._write() as conn:
            if used > self._last(conn, key):
                self._store_last(conn, key, min(used, SQLITE_INT_MAX))

    def least_recent_first(self, keys: Sequence[NonceKey]) -> list[NonceKey]:
        with self._write() as conn:
            signed_at = {
                key: conn.execute(
                    "SELECT MAX(signed_at) FROM signatures WHERE network = ? AND account_id = ? "
                    "AND public_key = ?",
                    (key.stored_network(), key.account_id, key.public_key),
                ).fetchone()[0]
                or 0.0
                for key in keys
            }
        return sorted(keys, key=signed_at.__getitem__)

    def last(self, key: NonceKey) -> int:
        """The highest nonce allocated (or seen used) for ``key``; 0 when none."""
        with self._write() as conn:
            return self._last(conn, key)

    def record(self, key: NonceKey, nonce: int, tx_hash: str) -> None:
        with self._write() as conn:
            held = conn.execute(
                "SELECT nonce FROM signatures WHERE tx_hash = ?", (tx_hash,)
            ).fetchone()
            if held is not None:
                raise _reuse(tx_hash, nonce, held[0])
            other = conn.execute(
                "SELECT tx_hash FROM signatures WHERE network = ? AND account_id = ? "
                "AND public_key = ? AND nonce = ?",
                (key.stored_network(), key.account_id, key.public_key, nonce),
            ).fetchone()
            if other is not None:
                raise SignatureReuseError(
                    f"refusing to send transaction {tx_hash}: its nonce {nonce} already signed "
                    f"transaction {other[0]}; nothing was sent",
                    tx_hash=tx_hash,
                    nonce=nonce,
                )
            conn.execute(
                "INSERT INTO signatures (tx_hash, network, account_id, public_key, nonce, pid, "
                "signed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    tx_hash,
                    key.stored_network(),
                    key.account_id,
                    key.public_key,
                    nonce,
                    os.getpid(),
                    time.time(),
                ),
            )

    @staticmethod
    def _last(conn: sqlite3.Connection, key: NonceKey) -> int:
        row = conn.execute(
            "SELECT last_nonce FROM key_nonces WHERE network = ? AND account_id = ? "
            "AND public_key = ?",
            (key.stored_network(), key.account_id, key.public_key),
        ).fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _store_last(conn: sqlite3.Connection, key: NonceKey, nonce: int) -> None:
        conn.execute(
            "INSERT INTO key_nonces (network, account_id, public_key, last_nonce) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (network, account_id, public_key) "
            "DO UPDATE SET last_nonce = excluded.last_nonce",
            (key.stored_network(), key.account_id, key.public_key, nonce),
        )


def _settle(granted: asyncio.Future[None], error: OSError | None) -> None:
    """Wake the send waiting for a key's file lock (unless it stopped waiting)."""
    if granted.done():
        return
    if error is None:
        granted.set_result(None)
    else:
        granted.set_exception(error)


def _reuse(tx_hash: str, nonce: int, held_nonce: int) -> SignatureReuseError:
    return SignatureReuseError(
        f"refusing to send transaction {tx_hash} (nonce {nonce}): the same transaction was "
        f"already signed under nonce {held_nonce} for another intent; nothing was sent",
        tx_hash=tx_hash,
        nonce=nonce,
    )
