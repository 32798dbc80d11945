"""`near-agent keys pool` as separate processes on a devnet, and `do` runs signing with the pool.

The pool's keys are on chain and in HOME/keys (0600) after `add`, a second `add` adds nothing,
`remove` deletes them on chain and forgets them; a crash after the secrets are written and
before the AddKey leaves keys that a rerun adds (never an on-chain key nobody holds); and
concurrent `do` runs each sign with a key of their own, each transfer landing exactly once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.demo import demo_grants
from agent.home import Home, user_state_dir
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from memory.audit import AuditKind, AuditLog
from tests.devnet.helpers import balance, rpc
from tests.support.gate import Gate, release_together
from tests.support.grants import give_home_grants
from tools.chain_identity import identity_from_status
from tools.failpoints import ENV, WAIT_ENV
from tools.key_sealing import PASSPHRASE_ENV
from tools.nonce_ledger import LOCKS_DIR, NonceKey

ALICE = "alice.test.near"
BOB = "bob.test.near"
TENTH = 10**23


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (ENV, WAIT_ENV)}
    return {**env, **(extra or {})}


def _command(home: Home, *args: str) -> list[str]:
    return [sys.executable, "-m", "agent", "--home", str(home.root), *args]


def agent(home: Home, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        _command(home, *args), env=_env(env), capture_output=True, text=True, timeout=120
    )


def onchain_keys(devnet: RunningDevnet, account: str = ALICE) -> dict[str, Any]:
    devnet.settle()
    result = rpc(
        devnet,
        "query",
        {"request_type": "view_access_key_list", "account_id": account, "finality": "final"},
    )["result"]
    return {k["public_key"]: k["access_key"]["permission"] for k in result["keys"]}


def stored_pool(home: Home) -> dict[str, dict[str, Any]]:
    """public key -> the key file's body, for every pool key in HOME/keys."""
    out = {}
    for path in sorted(home.keys_dir.glob("*.json")):
        body = json.loads(path.read_text())
        if body.get("pool"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            assert "private_key" in body or "encrypted" in body  # the secret is held
            out[body["public_key"]] = body
    return out


def _grants_paying_bob_unasked() -> str:
    """The demo grants, except that paying bob for the first time needs no confirmation."""
    body = yaml.safe_load(demo_grants(datetime.now(UTC) + timedelta(days=1)))
    for grant in body["grants"]:
        grant.get("confirm", {}).pop("first_time_recipient", None)
    return yaml.safe_dump(body, sort_keys=False)


@pytest.fixture
def pool_home(fresh_devnet: RunningDevnet, tmp_path: Path) -> Home:
    home = Home(tmp_path / "home")
    manifest = fresh_devnet.state_dir / "manifest.json"
    write_config(home, network="devnet", account_id=ALICE, devnet_manifest=manifest)
    (home.root / "grants.yaml").write_text(_grants_paying_bob_unasked())
    give_home_grants(home)
    return home


@pytest.mark.slow
def test_pool_add_is_on_chain_and_held_then_idempotent_then_removed(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    before = onchain_keys(fresh_devnet)

    added = agent(pool_home, "keys", "pool", "add", "--count", "3", "--yes")

    assert added.returncode == 0, added.stdout + added.stderr
    held = stored_pool(pool_home)
    assert len(held) == 3
    assert all(body["pool"] == "active" for body in held.values())
    now = onchain_keys(fresh_devnet)
    assert set(now) == set(before) | set(held)
    assert all(now[key] == "FullAccess" for key in held)
    listed = agent(pool_home, "keys", "pool", "list", "--json")
    assert {k["public_key"] for k in json.loads(listed.stdout)["pool"]} == set(held)
    assert "key pool" in agent(pool_home, "keys", "list").stdout
    status = json.loads(agent(pool_home, "status", "--json").stdout)
    assert {p["public_key"]: p["in_use"] for p in status["key"]["pool"]} == dict.fromkeys(
        held, True
    )

    again = agent(pool_home, "keys", "pool", "add", "--count", "3", "--yes")

    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to add" in again.stdout
    assert stored_pool(pool_home) == held
    assert onchain_keys(fresh_devnet) == now

    removed = agent(pool_home, "keys", "pool", "remove", "--yes")

    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert stored_pool(pool_home) == {}
    assert onchain_keys(fresh_devnet) == before
    with AuditLog(pool_home.audit_db) as log:
        assert log.verify().ok
        added_entries = log.entries(kind=AuditKind.GRANT_ADDED)
        revoked = log.entries(kind=AuditKind.GRANT_REVOKED)
    pool_added = [e.data["onchain_public_key"] for e in added_entries if "key_pool" in e.data]
    assert sorted(pool_added) == sorted(held)  # each key recorded, its public key readable
    pool_removed = [e.data["onchain_public_key"] for e in revoked if "key_pool" in e.data]
    assert sorted(pool_removed) == sorted(held)
    told = agent(pool_home, "audit", "show", "-1").stdout  # the removal, as the user reads it
    assert all(f"A pool key, public key {key}, was removed" in told for key in held), told
    assert "Grant ed25519" not in told


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--count", "0"), "--count must be between 1 and 64"),
        (("--count", "1000"), "--count must be between 1 and 64"),
    ],
)
def test_pool_add_refuses_bad_counts_in_one_line(
    pool_home: Home, fresh_devnet: RunningDevnet, args: tuple[str, ...], said: str
) -> None:
    before = onchain_keys(fresh_devnet)
    refused = agent(pool_home, "keys", "pool", "add", *args, "--yes")
    assert refused.returncode == 1
    assert said in refused.stderr and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert stored_pool(pool_home) == {} and onchain_keys(fresh_devnet) == before


def test_pool_add_without_a_node_or_a_home_changes_nothing(
    pool_home: Home, fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    fresh_devnet.stop()
    down = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")
    assert down.returncode == 1, down.stdout + down.stderr
    assert "Traceback" not in down.stderr and down.stderr.startswith("Nothing more was done")
    assert stored_pool(pool_home) == {}

    nowhere = agent(Home(tmp_path / "nowhere"), "keys", "pool", "add", "--count", "2", "--yes")
    assert nowhere.returncode == 2 and "Traceback" not in nowhere.stderr
    assert not (tmp_path / "nowhere").exists()


def test_pool_remove_refuses_a_key_that_is_not_a_pool_key(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    main = next(iter(onchain_keys(fresh_devnet)))
    refused = agent(pool_home, "keys", "pool", "remove", main, "--yes")
    assert refused.returncode == 1
    assert "is not a key of the pool" in refused.stderr and "Traceback" not in refused.stderr
    assert main in onchain_keys(fresh_devnet)


@pytest.mark.slow
def test_a_crash_before_the_addkey_leaves_keys_a_rerun_adds(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    before = onchain_keys(fresh_devnet)

    crashed = agent(
        pool_home, "keys", "pool", "add", "--count", "2", "--yes", env={ENV: "before_send"}
    )

    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    written = stored_pool(pool_home)
    assert len(written) == 2  # the secrets were written first...
    assert all(body["pool"] == "pending" for body in written.values())
    assert onchain_keys(fresh_devnet) == before  # ...and nothing reached the chain
    signing = agent(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes")
    assert signing.returncode == 0, signing.stdout + signing.stderr  # pending keys are not used

    rerun = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    held = stored_pool(pool_home)
    assert set(held) == set(written)  # the same keys, not two more
    assert all(body["pool"] == "active" for body in held.values())
    assert set(onchain_keys(fresh_devnet)) == set(before) | set(written)


@pytest.mark.slow
def test_concurrent_do_runs_sign_with_keys_of_their_own(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    runs = 4
    intent = "send 0.1 NEAR to bob.test.near"
    added = agent(pool_home, "keys", "pool", "add", "--count", str(runs - 1), "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    planned = agent(pool_home, "plan", intent)
    assert "policy: allow" in planned.stdout, planned.stdout + planned.stderr
    bob_before = balance(fresh_devnet, BOB)

    with Gate() as gate:
        processes = [
            subprocess.Popen(
                _command(pool_home, "do", intent, "--yes"),
                env=_env(gate.env("before_send")),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(runs)
        ]
        # every send waits a second for its answer, so all four are in flight together
        outputs = release_together(gate, processes, fresh_devnet, latency_s=1.0, timeout_s=180)

    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, out + err
        assert "transfer: done" in out, out + err
    assert balance(fresh_devnet, BOB) - bob_before == runs * TENTH  # each landed exactly once
    with AuditLog(pool_home.audit_db) as log:
        assert log.verify().ok
        journalled = [
            e.data for e in log.entries(kind=AuditKind.TX_SUBMITTED) if e.data["receiver_id"] == BOB
        ]
    assert len(journalled) == runs
    assert Counter(j["tx_hash"] for j in journalled).most_common(1)[0][1] == 1  # no hash twice
    signing_keys = {j["public_key"] for j in journalled}
    assert len(signing_keys) == runs  # in flight together, so each on a key of its own
    for entry in journalled:  # the chain agrees on who signed each one
        status = rpc(fresh_devnet, "tx", {"tx_hash": entry["tx_hash"], "sender_account_id": ALICE})
        assert status["result"]["transaction"]["public_key"] == entry["public_key"]
        assert "SuccessValue" in status["result"]["status"]


@contextlib.contextmanager
def another_process_sends_with(devnet: RunningDevnet, public_key: str) -> Iterator[None]:
    """Hold a key's lock in the user's nonce ledger, as a send under way in another process
    (counted, as the agent counts it, on the chain the devnet serves)."""
    served = identity_from_status(rpc(devnet, "status", [])["result"], devnet.rpc_url)
    key = NonceKey(devnet.rpc_url, ALICE, public_key, chain=str(served))
    locks = user_state_dir() / LOCKS_DIR
    locks.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(locks / f"{key.digest()}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)


@pytest.mark.slow
def test_a_send_signed_by_a_removed_pool_key_is_released_by_reconcile(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    (main,) = onchain_keys(fresh_devnet)
    added = agent(pool_home, "keys", "pool", "add", "--count", "1", "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    (pool_key,) = stored_pool(pool_home)
    with another_process_sends_with(fresh_devnet, main):  # so the run signs with the pool key
        crashed = agent(
            pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes", env={ENV: "after_sign"}
        )
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    with AuditLog(pool_home.audit_db) as log:
        (journalled,) = [
            e for e in log.entries(kind=AuditKind.TX_SUBMITTED) if e.data["receiver_id"] == BOB
        ]
    assert journalled.data["public_key"] == pool_key

    removed = agent(pool_home, "keys", "pool", "remove", "--yes")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    recovered = agent(pool_home, "reconcile")

    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "still able to land" not in recovered.stdout  # its key is gone: it never can
    assert "released" in recovered.stdout, recovered.stdout
    assert "Nothing to recover." in agent(pool_home, "reconcile").stdout


@pytest.mark.parametrize("answer", ["n\n", ""])  # a "no", and no terminal to answer on
def test_pool_add_shows_the_keys_and_asks_first(
    pool_home: Home, fresh_devnet: RunningDevnet, answer: str
) -> None:
    before = onchain_keys(fresh_devnet)
    asked = subprocess.run(
        _command(pool_home, "keys", "pool", "add", "--count", "2"),
        env=_env(),
        input=answer,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert asked.returncode == 0, asked.stdout + asked.stderr
    assert "add 2 full-access key(s) to alice.test.near in one transaction" in asked.stdout
    assert "Nothing was changed." in asked.stdout
    assert stored_pool(pool_home) == {} and onchain_keys(fresh_devnet) == before


@pytest.mark.slow
def test_pool_keys_are_sealed_like_every_key_of_an_encrypted_keystore(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    secret = {PASSPHRASE_ENV: "correct horse battery staple"}
    sealed = agent(pool_home, "keys", "encrypt", env=secret)
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr

    added = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes", env=secret)

    assert added.returncode == 0, added.stdout + added.stderr
    held = stored_pool(pool_home)
    assert len(held) == 2
    assert all("encrypted" in body and "private_key" not in body for body in held.values())
    paid = agent(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes", env=secret)
    assert paid.returncode == 0, paid.stdout + paid.stderr
    assert "transfer: done" in paid.stdout
