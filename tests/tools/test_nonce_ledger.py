"""The nonce ledger: unique, increasing nonces per key across OS processes; one owner per hash."""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import stat
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.home import STATE_ENV, Home, user_state_dir
from tests.support.fake_chain import FakeChain
from tests.tools.test_chain import ALICE, BOB, transfer
from tools.chain import ChainClient
from tools.keypair import KeyPair
from tools.keys import Credentials
from tools.nonce_ledger import (
    LEDGER_FILE,
    LOCKS_DIR,
    KeyBusyError,
    NonceKey,
    NonceLedger,
    ProcessNonces,
    SignatureReuseError,
    normal_endpoint,
)
from tools.signing import SignedTx, sign_transaction

KEYS = (
    NonceKey("http://127.0.0.1:3030", ALICE, "ed25519:one"),
    NonceKey("http://127.0.0.1:3030", ALICE, "ed25519:two"),
    NonceKey("http://127.0.0.1:4040", ALICE, "ed25519:one"),  # same key, another network
)
PROCESSES = 4
ALLOCATIONS = 60
HOLDS = 40

spawn = multiprocessing.get_context("spawn")


def _allocate_many(folder: str, worker: int, start: Any) -> list[tuple[int, int, int]]:
    """(key index, chain nonce given, nonce got), in the order this process got them."""
    ledger = NonceLedger(Path(folder))
    start.wait()  # every process starts allocating at the same moment
    got = []
    for n in range(ALLOCATIONS):
        index = (n + worker) % len(KEYS)
        chain_nonce = (n * 7 + worker) % 40  # the chain's view lags, jumps and repeats
        got.append((index, chain_nonce, ledger.allocate(KEYS[index], chain_nonce)))
    return got


def test_allocations_from_many_processes_never_repeat_and_only_increase(tmp_path: Path) -> None:
    with spawn.Manager() as manager:
        start = manager.Barrier(PROCESSES)
        with spawn.Pool(PROCESSES) as pool:
            pending = [
                pool.apply_async(_allocate_many, (str(tmp_path), worker, start))
                for worker in range(PROCESSES)
            ]
            results = [p.get(timeout=120) for p in pending]
    per_key: dict[int, list[int]] = defaultdict(list)
    for got in results:
        seen: dict[int, int] = {}
        for index, chain_nonce, nonce in got:
            assert nonce > chain_nonce  # never at or below what the chain has used
            assert nonce > seen.get(index, 0)  # each process sees a key's nonces increase
            seen[index] = nonce
            per_key[index].append(nonce)
    for nonces in per_key.values():
        assert len(nonces) == len(set(nonces))  # no nonce of a key was given twice
    ledger = NonceLedger(tmp_path)
    for index, nonces in per_key.items():
        assert ledger.last(KEYS[index]) == max(nonces)


def _hold_and_count(folder: str, counter: str, start: Any) -> None:
    """Read-modify-write a plain file under the key's hold: lost updates mean no exclusion."""

    async def main() -> None:
        ledger = NonceLedger(Path(folder))
        start.wait()
        for _ in range(HOLDS):
            async with ledger.hold(KEYS[0]):
                path = Path(counter)
                value = int(path.read_text())
                await asyncio.sleep(0)  # let the loop run while holding, as a send does
                path.write_text(str(value + 1))

    asyncio.run(main())


def test_a_key_is_held_by_one_process_at_a_time(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    with spawn.Manager() as manager:
        start = manager.Barrier(PROCESSES)
        with spawn.Pool(PROCESSES) as pool:
            pending = [
                pool.apply_async(_hold_and_count, (str(tmp_path), str(counter), start))
                for _ in range(PROCESSES)
            ]
            for p in pending:
                p.get(timeout=120)
    assert int(counter.read_text()) == PROCESSES * HOLDS


def _hold_until(folder: str, held: Any, release: Any) -> None:
    async def main() -> None:
        async with NonceLedger(Path(folder)).hold(KEYS[0]):
            held.set()
            release.wait()

    asyncio.run(main())


def test_a_key_held_too_long_by_another_process_is_refused_before_signing(
    tmp_path: Path,
) -> None:
    with spawn.Manager() as manager:
        held, release = manager.Event(), manager.Event()
        other = spawn.Process(target=_hold_until, args=(str(tmp_path), held, release))
        other.start()
        try:
            assert held.wait(60)
            ledger = NonceLedger(tmp_path, wait_s=0.2)

            async def try_hold() -> None:
                async with ledger.hold(KEYS[0]):
                    pytest.fail("held a key another process holds")

            with pytest.raises(KeyBusyError, match="nothing was signed"):
                asyncio.run(try_hold())

            async def other_key() -> bool:
                async with ledger.hold(KEYS[1]):  # other keys are not blocked
                    return True

            assert asyncio.run(other_key())
        finally:
            release.set()
            other.join(60)


# one ledger, any interleaving of the chain's answers: allocations only ever go up
operations = st.lists(
    st.tuples(st.sampled_from(["allocate", "advance"]), st.integers(0, 2**40)),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(operations)
def test_allocation_is_above_the_chain_every_earlier_nonce_and_every_refusal(
    ops: list[tuple[str, int]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        ledger = NonceLedger(Path(folder))
        floor = 0  # the highest nonce given or known used
        given_out: set[int] = set()
        for op, value in ops:
            if op == "advance":
                ledger.advance(KEYS[0], value)
                floor = max(floor, value)
                continue
            nonce = ledger.allocate(KEYS[0], value)
            assert nonce == max(value, floor) + 1
            assert nonce not in given_out
            given_out.add(nonce)
            floor = nonce
        assert ledger.last(KEYS[0]) == floor


def test_a_hash_or_a_nonce_is_recorded_for_one_allocation_only(tmp_path: Path) -> None:
    ledger = NonceLedger(tmp_path)
    ledger.record(KEYS[0], 8, "HashA")
    with pytest.raises(SignatureReuseError, match="HashA"):
        ledger.record(KEYS[0], 9, "HashA")  # the same bytes handed to a second allocation
    with pytest.raises(SignatureReuseError, match="already signed transaction HashA"):
        ledger.record(KEYS[0], 8, "HashB")  # a second signature on one nonce
    ledger.record(KEYS[1], 8, "HashC")  # another key has its own nonces
    ledger.record(KEYS[0], 9, "HashD")


# --------------------------------------------------------------------------- in the adapter


def _on_a_fake_node(scenario: Any, folder: Path) -> Any:
    async def main() -> Any:
        key = KeyPair.generate()
        node = FakeChain(balances={ALICE: 10**25, BOB: 0}, nonces={(ALICE, key.public_key): 7})
        chain = node.client(timeout_s=5, retries=3, backoff_s=0.01, nonces=NonceLedger(folder))
        try:
            return await scenario(node, chain, Credentials(ALICE, key))
        finally:
            await chain.close()

    return asyncio.run(main())


@pytest.mark.parametrize("taken", ["the same hash", "the nonce"])
def test_the_adapter_refuses_to_send_a_signature_the_ledger_gave_another_allocation(
    tmp_path: Path, taken: str
) -> None:
    """Defence in depth: should the ledger's counter ever fall behind its own signatures (a
    restored backup), a signature that is another allocation's is neither journalled nor sent."""

    async def scenario(node: FakeChain, chain: ChainClient, creds: Credentials) -> None:
        key = chain.nonce_key(creds)
        block_hash = await chain.latest_block_hash()
        same = sign_transaction(creds, transfer(5), 8, block_hash)  # what the send will sign
        other = sign_transaction(creds, transfer(6), 8, block_hash)
        chain.nonces.record(key, 8, same.tx_hash if taken == "the same hash" else other.tx_hash)
        journalled: list[SignedTx] = []
        with pytest.raises(SignatureReuseError, match="nothing was sent"):
            await chain.send(creds, transfer(5), on_signed=journalled.append)
        assert journalled == [] and node.applied == 0

    _on_a_fake_node(scenario, tmp_path)


def test_each_send_through_the_ledger_signs_its_own_nonce(tmp_path: Path) -> None:
    async def scenario(node: FakeChain, chain: ChainClient, creds: Credentials) -> None:
        journalled: list[SignedTx] = []
        for _ in range(3):
            await chain.send(creds, transfer(5), on_signed=journalled.append)
        assert [s.nonce for s in journalled] == [8, 9, 10]
        assert node.balances[BOB] == 15 and node.applied == 3
        assert chain.nonces.last(chain.nonce_key(creds)) == 10  # type: ignore[attr-defined]

    _on_a_fake_node(scenario, tmp_path)


def test_without_a_home_a_process_never_signs_one_hash_twice_for_a_key() -> None:
    nonces = ProcessNonces()
    key = NonceKey("http://127.0.0.1:1", ALICE, KeyPair.generate().public_key)
    first = nonces.allocate(key, 7)
    assert (first, nonces.allocate(key, 7)) == (8, 9)
    nonces.record(key, first, "HashE")
    with pytest.raises(SignatureReuseError, match="HashE"):
        nonces.record(key, first + 1, "HashE")


# --------------------------------------------------------------------------- where it lives


def test_the_state_folder_is_the_users_whichever_home_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert user_state_dir() == (tmp_path / "explicit").resolve()
    assert Home(tmp_path / "a").state_dir == Home(tmp_path / "b").state_dir == user_state_dir()
    monkeypatch.delenv(STATE_ENV)
    assert user_state_dir() == (tmp_path / "xdg" / "near-agent").resolve()
    monkeypatch.setenv("XDG_STATE_HOME", "relative/path")  # not absolute: ignored, as XDG says
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert user_state_dir() == (tmp_path / "user" / ".local" / "state" / "near-agent").resolve()
    monkeypatch.delenv("XDG_STATE_HOME")
    assert user_state_dir() == (tmp_path / "user" / ".local" / "state" / "near-agent").resolve()


def test_the_ledger_is_private_and_made_again_whenever_it_has_gone(tmp_path: Path) -> None:
    folder = tmp_path / "state" / "near-agent"
    ledger = NonceLedger(folder)

    async def send_once(chain_nonce: int) -> int:
        async with ledger.hold(KEYS[0]):
            return ledger.allocate(KEYS[0], chain_nonce)

    assert not folder.exists()  # made on first use only
    assert asyncio.run(send_once(7)) == 8
    modes = {
        path.name: stat.S_IMODE(path.stat().st_mode)
        for path in (folder, folder / LOCKS_DIR, folder / LEDGER_FILE, *folder.glob("*/*.lock"))
    }
    assert len(modes) == 4
    assert modes == {name: 0o700 if name in (folder.name, LOCKS_DIR) else 0o600 for name in modes}
    shutil.rmtree(folder / LOCKS_DIR)
    assert asyncio.run(send_once(7)) == 9
    (folder / LEDGER_FILE).unlink()  # its count is lost: the chain's nonce is the floor again
    assert asyncio.run(send_once(20)) == 21
    shutil.rmtree(folder)
    assert asyncio.run(send_once(20)) == 21
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / LEDGER_FILE).stat().st_mode) == 0o600


def test_an_api_key_in_the_endpoint_never_reaches_the_ledger_files(tmp_path: Path) -> None:
    secret = "p9Xq2LmZ7rTq4vW8yB3nK6dF1hJ5sA0c"
    key = NonceKey(f"https://rpc.provider.example/v3/{secret}?apikey={secret}", ALICE, "ed25519:a")
    ledger = NonceLedger(tmp_path / "state")

    async def send_once() -> None:
        async with ledger.hold(key):
            nonce = ledger.allocate(key, 7)
            ledger.record(key, nonce, "HashF")

    asyncio.run(send_once())
    assert ledger.last(key) == 8
    stored = b"".join(p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file())
    assert b"HashF" in stored and secret.encode() not in stored
    assert not any(secret in p.name for p in tmp_path.rglob("*"))


# --------------------------------------------------------------------------- endpoint spellings


@pytest.mark.parametrize(
    ("spelling", "normal"),
    [
        ("http://127.0.0.1:3030", "http://127.0.0.1:3030"),
        ("HTTP://127.0.0.1:3030/", "http://127.0.0.1:3030"),
        ("https://RPC.Mainnet.near.org:443/", "https://rpc.mainnet.near.org"),
        ("https://rpc.mainnet.near.org:8443", "https://rpc.mainnet.near.org:8443"),
        ("http://Node.Example:80//", "http://node.example"),
        ("https://rpc.example/v1/KeyCase/", "https://rpc.example/v1/KeyCase"),  # path as written
        ("https://rpc.example/?apikey=AbC#top", "https://rpc.example?apikey=AbC"),
        ("http://[::1]:3030/", "http://[::1]:3030"),
        ("http://User:Pw@Host.Example:80", "http://User:Pw@host.example"),
        ("http://host:notaport/", "http://host:notaport"),  # not a URL: only the slash goes
    ],
)
def test_an_endpoint_has_one_spelling(spelling: str, normal: str) -> None:
    assert normal_endpoint(spelling) == normal
    assert NonceKey(spelling, ALICE, "ed25519:one") == NonceKey(normal, ALICE, "ed25519:one")


hosts = st.from_regex(r"[a-z][a-z0-9-]{0,12}(\.[a-z][a-z0-9-]{0,12}){0,3}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https"]),
    host=hosts,
    port=st.one_of(st.none(), st.integers(1, 65535)),
    path=st.from_regex(r"(/[A-Za-z0-9_-]{1,8}){0,3}", fullmatch=True),
    upper=st.lists(st.booleans(), min_size=1, max_size=20),
    slashes=st.integers(0, 2),
)
def test_spellings_of_one_endpoint_share_a_key_and_others_do_not(
    scheme: str,
    host: str,
    port: int | None,
    path: str,
    upper: list[bool],
    slashes: int,
) -> None:
    plain = f"{scheme}://{host}{f':{port}' if port else ''}{path}"
    default = {"http": 80, "https": 443}[scheme]
    shouty = "".join(
        c.upper() if upper[i % len(upper)] else c for i, c in enumerate(f"{scheme}://{host}")
    )
    spelled = f"{shouty}:{port or default}{path}{'/' * slashes}"
    key = NonceKey(plain, ALICE, "ed25519:one")
    assert NonceKey(spelled, ALICE, "ed25519:one") == key
    assert key.digest() == NonceKey(spelled, ALICE, "ed25519:one").digest()  # one lock file
    assert normal_endpoint(key.network) == key.network
    other_port = (port or default) % 65535 + 1
    assert NonceKey(f"{scheme}://{host}:{other_port}{path}", ALICE, "ed25519:one") != key
    assert NonceKey(plain + "/other", ALICE, "ed25519:one") != key
