"""Key pools attacked from where a user (or someone else holding the account) acts.

Separate `near-agent` processes on a devnet over HTTP: a crash after the AddKey or the DeleteKey
landed, the main key's file being one the pool made, a pool key deleted on chain by another NEAR
client, several runs crashing with a pool key each in flight. Each asserts what README's "Key
pools" promises: nothing sent twice, no nonce error shown, a removed or pending key never signs,
every pool change in the audit log (which verifies), never the main key removed.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from agent.home import Home
from devnet.server import RunningDevnet
from memory.audit import AuditKind, AuditLog
from tests.devnet.helpers import balance, near_account
from tests.keys.test_key_pool_devnet import (
    ALICE,
    BOB,
    TENTH,
    _command,
    _env,
    agent,
    another_process_sends_with,
    onchain_keys,
    pool_home,
    stored_pool,
)
from tests.support.gate import Gate, release_together
from tools.failpoints import ENV

__all__ = ["pool_home"]  # the fixture, shared with the pool's own devnet tests


def _pool_changes(home: Home) -> tuple[list[str], list[str]]:
    """(keys recorded as added, keys recorded as removed), from the audit log, which verifies."""
    with AuditLog(home.audit_db) as log:
        assert log.verify().ok
        added = log.entries(kind=AuditKind.GRANT_ADDED)
        revoked = log.entries(kind=AuditKind.GRANT_REVOKED)
    return (
        [e.data["onchain_public_key"] for e in added if e.data.get("key_pool")],
        [e.data["onchain_public_key"] for e in revoked if e.data.get("key_pool")],
    )


def _journalled_to_bob(home: Home) -> list[dict]:
    with AuditLog(home.audit_db) as log:
        return [
            e.data for e in log.entries(kind=AuditKind.TX_SUBMITTED) if e.data["receiver_id"] == BOB
        ]


def _verify_cli(home: Home) -> None:
    verified = agent(home, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.slow
def test_a_crash_after_the_addkey_landed_is_recorded_when_the_rerun_finds_the_keys(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    (main,) = onchain_keys(fresh_devnet)

    crashed = agent(
        pool_home, "keys", "pool", "add", "--count", "2", "--yes", env={ENV: "after_submit"}
    )

    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    written = stored_pool(pool_home)
    assert set(onchain_keys(fresh_devnet)) == {main, *written}  # the AddKey landed...
    assert all(body["pool"] == "pending" for body in written.values())  # ...unrecorded
    paid = agent(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes")
    assert paid.returncode == 0, paid.stdout + paid.stderr
    assert [j["public_key"] for j in _journalled_to_bob(pool_home)] == [main]  # pending: unused

    rerun = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert set(onchain_keys(fresh_devnet)) == {main, *written}  # nothing added twice
    assert all(body["pool"] == "active" for body in stored_pool(pool_home).values())
    added, _ = _pool_changes(pool_home)
    assert sorted(added) == sorted(written)  # each key that joined the pool is on record once
    told = agent(pool_home, "audit", "show", "-1").stdout  # the last key found, as read
    assert any(f"public key {key}, was added on chain (found there)." in told for key in written)
    _verify_cli(pool_home)


@pytest.mark.slow
def test_a_crash_after_the_deletekey_landed_is_finished_by_the_rerun_and_recorded(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    (main,) = onchain_keys(fresh_devnet)
    added = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    pool = set(stored_pool(pool_home))

    crashed = agent(pool_home, "keys", "pool", "remove", "--yes", env={ENV: "after_submit"})

    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    assert set(onchain_keys(fresh_devnet)) == {main}
    with another_process_sends_with(fresh_devnet, main):  # only the removed keys are free
        waiting = subprocess.Popen(
            _command(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes"),
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        with pytest.raises(subprocess.TimeoutExpired):  # it waits for the main key...
            waiting.wait(timeout=8)
    out, err = waiting.communicate(timeout=120)  # ...and signs with it once it is free
    assert waiting.returncode == 0, out + err
    assert "nonce" not in (out + err).lower()
    assert [j["public_key"] for j in _journalled_to_bob(pool_home)] == [main]

    rerun = agent(pool_home, "keys", "pool", "remove", "--yes")

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert stored_pool(pool_home) == {}
    _, removed = _pool_changes(pool_home)
    assert sorted(removed) == sorted(pool)
    _verify_cli(pool_home)


@pytest.mark.slow
def test_keys_pool_remove_never_deletes_the_main_key_even_when_it_is_a_pool_file(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    """The user points agent.yaml at one of the pool's key files (a key of its own for this
    home); `keys pool remove` with no key named must still leave the key the agent signs with."""
    added = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    pool = stored_pool(pool_home)
    chosen = sorted(pool)[0]
    key_file = next(p for p in pool_home.keys_dir.glob("*.pool.*.json") if chosen in p.read_text())
    manifest = fresh_devnet.state_dir / "manifest.json"
    again = agent(
        pool_home,
        "init",
        "--account",
        ALICE,
        "--key-file",
        str(key_file),
        "--manifest",
        str(manifest),
        "--force",
    )
    assert again.returncode == 0, again.stdout + again.stderr

    named = agent(pool_home, "keys", "pool", "remove", chosen, "--yes")
    assert named.returncode == 1, named.stdout + named.stderr
    assert "main key" in named.stderr and "Traceback" not in named.stderr
    assert chosen in onchain_keys(fresh_devnet)

    removed = agent(pool_home, "keys", "pool", "remove", "--yes")

    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert chosen in onchain_keys(fresh_devnet)  # the key the agent signs with is still there
    paid = agent(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes")
    assert paid.returncode == 0 and "transfer: done" in paid.stdout, paid.stdout + paid.stderr
    _verify_cli(pool_home)


@pytest.mark.slow
def test_a_pool_key_deleted_by_another_client_is_never_signed_with_nor_shown_as_an_error(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    (main,) = onchain_keys(fresh_devnet)
    added = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    gone, kept = sorted(stored_pool(pool_home))

    async def delete_elsewhere() -> None:  # another wallet of the user's, with the main key
        account = await near_account(fresh_devnet, ALICE, _main_secret(fresh_devnet))
        await account.delete_public_key(gone)

    asyncio.run(delete_elsewhere())
    assert gone not in onchain_keys(fresh_devnet)
    bob_before = balance(fresh_devnet, BOB)

    with another_process_sends_with(fresh_devnet, main):  # the pool keys are the free ones
        paid = agent(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes")

    assert paid.returncode == 0, paid.stdout + paid.stderr
    assert "transfer: done" in paid.stdout
    assert "nonce" not in (paid.stdout + paid.stderr).lower()
    assert [j["public_key"] for j in _journalled_to_bob(pool_home)] == [kept]
    assert balance(fresh_devnet, BOB) - bob_before == TENTH

    removed = agent(pool_home, "keys", "pool", "remove", "--yes")

    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert set(onchain_keys(fresh_devnet)) == {main}
    added_keys, removed_keys = _pool_changes(pool_home)
    assert sorted(added_keys) == sorted(removed_keys) == sorted([gone, kept])  # each once
    _verify_cli(pool_home)


def _main_secret(devnet: RunningDevnet) -> str:
    for entry in devnet.manifest["accounts"]:
        if entry["account_id"] == ALICE:
            return json.loads(Path(entry["key_file"]).read_text())["private_key"]
    raise KeyError(ALICE)


@pytest.mark.slow
def test_reconcile_settles_each_of_several_runs_that_crashed_in_flight_on_pool_keys(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    runs = 3
    added = agent(pool_home, "keys", "pool", "add", "--count", str(runs - 1), "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    bob_before = balance(fresh_devnet, BOB)

    with Gate() as gate:
        processes = [
            subprocess.Popen(
                _command(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes"),
                env=_env({**gate.env("before_send"), ENV: "after_submit"}),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(runs)
        ]
        release_together(gate, processes, fresh_devnet, latency_s=1.0, timeout_s=180)

    assert all(p.returncode == -signal.SIGKILL for p in processes)
    journalled = _journalled_to_bob(pool_home)
    assert len({j["public_key"] for j in journalled}) == runs  # one key each, all in flight
    assert balance(fresh_devnet, BOB) - bob_before == runs * TENTH

    recovered = agent(pool_home, "reconcile")

    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert recovered.stdout.count("1 transaction(s) landed") == runs, recovered.stdout
    assert "Nothing to recover." in agent(pool_home, "reconcile").stdout
    assert balance(fresh_devnet, BOB) - bob_before == runs * TENTH  # nothing resent
    _verify_cli(pool_home)


@pytest.mark.slow
def test_keys_pool_remove_waits_for_a_send_under_way_with_the_key_then_deletes_it(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    (main,) = onchain_keys(fresh_devnet)
    added = agent(pool_home, "keys", "pool", "add", "--count", "1", "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    (pool_key,) = stored_pool(pool_home)
    bob_before = balance(fresh_devnet, BOB)

    with Gate() as gate:
        with another_process_sends_with(fresh_devnet, main):  # so the run takes the pool key
            sending = subprocess.Popen(
                _command(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes"),
                env=_env(gate.env("after_sign")),  # signed with the key, held before it leaves
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            gate.wait_for(1)
        removing = subprocess.Popen(
            _command(pool_home, "keys", "pool", "remove", "--yes"),
            env=_env({"PYTHONUNBUFFERED": "1"}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert removing.stdout is not None
        assert removing.stdout.readline().startswith("This will remove 1 key(s)")
        with pytest.raises(subprocess.TimeoutExpired):  # it waits for the send under way
            removing.wait(timeout=5)
        gate.release()
        sent_out, sent_err = sending.communicate(timeout=120)
        removed_out, removed_err = removing.communicate(timeout=120)

    assert sending.returncode == 0, sent_out + sent_err
    assert "transfer: done" in sent_out and "nonce" not in (sent_out + sent_err).lower()
    assert [j["public_key"] for j in _journalled_to_bob(pool_home)] == [pool_key]
    assert removing.returncode == 0, removed_out + removed_err
    assert set(onchain_keys(fresh_devnet)) == {main}
    assert balance(fresh_devnet, BOB) - bob_before == TENTH
    _verify_cli(pool_home)


@pytest.mark.slow
def test_a_running_chat_never_signs_with_a_pool_key_removed_after_it_started(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    import sys

    import pexpect

    (main,) = onchain_keys(fresh_devnet)
    added = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    gone, kept = sorted(stored_pool(pool_home))
    env = {**_env(), "TERM": "xterm", "COLUMNS": "200"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agent", "--home", str(pool_home.root), "chat"],
        env=env,
        encoding="utf-8",
        timeout=90,
        dimensions=(40, 200),
    )
    try:
        child.expect("you>")  # the chat has read its keys: both pool keys
        removed = agent(pool_home, "keys", "pool", "remove", gone, "--yes")
        assert removed.returncode == 0, removed.stdout + removed.stderr
        assert gone not in onchain_keys(fresh_devnet)
        with another_process_sends_with(fresh_devnet, main):  # the pool keys are the free ones
            for _ in range(2):
                child.sendline("send 0.1 NEAR to bob.test.near")
                child.expect(r"Go ahead\? \[y/N\]: ")  # chat asks before it signs
                child.sendline("y")
                child.expect("transfer: done")
                child.expect("you>")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.terminate(force=True)
    assert "nonce" not in (child.before or "").lower()
    assert [j["public_key"] for j in _journalled_to_bob(pool_home)] == [kept, kept]


@pytest.fixture
def capped_home(pool_home: Home) -> Home:
    """pool_home, with bob payable at most 0.3 NEAR a day, whatever key signs."""
    import yaml

    from tests.support.grants import give_home_grants

    body = yaml.safe_load((pool_home.root / "grants.yaml").read_text())
    for grant in body["grants"]:
        if grant["id"] == "demo-transfers":
            grant["id"] = "capped-transfers"
            grant["windows"] = [{"token": "NEAR", "amount": "0.3", "period": "24h"}]
    capped = pool_home.root / "capped.yaml"
    capped.write_text(yaml.safe_dump(body, sort_keys=False))
    revoked = agent(pool_home, "grants", "revoke", "--all")
    assert revoked.returncode == 0, revoked.stdout + revoked.stderr
    give_home_grants(pool_home, capped)
    return pool_home


@pytest.mark.slow
def test_parallel_sends_on_a_pool_stay_within_the_grants_budget(
    capped_home: Home, fresh_devnet: RunningDevnet
) -> None:
    runs = 4
    added = agent(capped_home, "keys", "pool", "add", "--count", str(runs - 1), "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    bob_before = balance(fresh_devnet, BOB)

    with Gate() as gate:
        processes = [
            subprocess.Popen(
                _command(capped_home, "do", "send 0.1 NEAR to bob.test.near", "--yes"),
                env=_env(gate.env("after_reserve")),  # past the policy, budget held, unsigned
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(runs)
        ]
        gate.wait_for(3)  # three runs reserved their budget and wait, unsigned
        gate.release()
        outputs = [p.communicate(timeout=180) for p in processes]

    done = [out for out, _ in outputs if "transfer: done" in out]
    assert len(done) == 3, outputs  # the fourth found no budget left, whatever key was free
    assert balance(fresh_devnet, BOB) - bob_before == 3 * TENTH
    assert len(_journalled_to_bob(capped_home)) == 3
    _verify_cli(capped_home)


@pytest.mark.slow
def test_pool_key_files_with_swapped_secrets_are_refused_in_one_line_and_nothing_is_sent(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    added = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    first, second = sorted(pool_home.keys_dir.glob("*.pool.*.json"))
    one, two = json.loads(first.read_text()), json.loads(second.read_text())
    one["private_key"], two["private_key"] = two["private_key"], one["private_key"]
    first.write_text(json.dumps(one))
    second.write_text(json.dumps(two))
    bob_before = balance(fresh_devnet, BOB)

    paid = agent(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes")

    assert paid.returncode != 0, paid.stdout + paid.stderr
    told = paid.stdout + paid.stderr
    assert "does not match" in told and "Traceback" not in told, told
    assert str(first) in told or str(second) in told, told
    assert balance(fresh_devnet, BOB) == bob_before and _journalled_to_bob(pool_home) == []


def test_keys_pool_add_on_an_encrypted_keystore_without_a_passphrase_changes_nothing(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    from tools.key_sealing import PASSPHRASE_ENV

    sealed = agent(pool_home, "keys", "encrypt", env={PASSPHRASE_ENV: "correct horse"})
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    before = onchain_keys(fresh_devnet)

    for env in ({}, {PASSPHRASE_ENV: "wrong horse"}):
        refused = subprocess.run(
            _command(pool_home, "keys", "pool", "add", "--count", "2", "--yes"),
            env=_env(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert refused.returncode != 0, refused.stdout + refused.stderr
        assert "Traceback" not in refused.stderr and refused.stderr.strip(), refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert stored_pool(pool_home) == {} and onchain_keys(fresh_devnet) == before


@pytest.mark.slow
def test_two_homes_removing_the_same_pool_at_once_delete_each_key_once_and_both_succeed(
    pool_home: Home, fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    (main,) = onchain_keys(fresh_devnet)
    added = agent(pool_home, "keys", "pool", "add", "--count", "1", "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    (pool_key,) = stored_pool(pool_home)
    copy = Home(tmp_path / "copy")  # the home copied as a whole folder: the same keys
    shutil.copytree(pool_home.root, copy.root)
    homes = [pool_home, copy]

    with another_process_sends_with(fresh_devnet, pool_key):  # a send under way with it
        removes = [
            subprocess.Popen(
                _command(home, "keys", "pool", "remove", "--yes"),
                env=_env({"PYTHONUNBUFFERED": "1"}),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for home in homes
        ]
        for process in removes:  # both read the chain's keys and now wait for the key
            assert process.stdout is not None
            assert process.stdout.readline().startswith("This will remove 1 key(s)")
    outputs = [process.communicate(timeout=120) for process in removes]

    for process, (out, err) in zip(removes, outputs, strict=True):
        assert process.returncode == 0, out + err
    assert set(onchain_keys(fresh_devnet)) == {main}
    deletes = []
    for home in homes:
        assert stored_pool(home) == {}
        with AuditLog(home.audit_db) as log:
            deletes += [
                e.data["tx_hash"]
                for e in log.entries(kind=AuditKind.TX_SUBMITTED)
                if e.tool == "keys pool"
            ]
        assert _pool_changes(home)[1] == [pool_key]  # each home records forgetting it once
        _verify_cli(home)
    assert len(set(deletes)) == 2  # the AddKey (copied), and one DeleteKey between the homes


@pytest.mark.slow
def test_a_second_keys_pool_add_while_one_runs_changes_nothing(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    (main,) = onchain_keys(fresh_devnet)

    with another_process_sends_with(fresh_devnet, main):  # the first add waits to sign
        first = subprocess.Popen(
            _command(pool_home, "keys", "pool", "add", "--count", "2", "--yes"),
            env=_env({"PYTHONUNBUFFERED": "1"}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert first.stdout is not None
        assert first.stdout.readline().startswith("This will add 2")  # read the chain: 0 keys
        second = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")
        assert second.returncode == 1, second.stdout + second.stderr
        assert "another `near-agent keys pool` change is running" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1 and second.stdout == ""
        removing = agent(pool_home, "keys", "pool", "remove", "--yes")
        assert removing.returncode == 1, removing.stdout + removing.stderr
    out, err = first.communicate(timeout=120)

    assert first.returncode == 0, out + err
    held = stored_pool(pool_home)
    assert len(held) == 2 and all(body["pool"] == "active" for body in held.values())
    assert set(onchain_keys(fresh_devnet)) == {main, *held}  # two keys, not four
    added, _ = _pool_changes(pool_home)
    assert sorted(added) == sorted(held)


@pytest.mark.slow
def test_keys_pool_add_count_is_the_pool_size_afterwards_not_keys_to_add(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    (main,) = onchain_keys(fresh_devnet)
    first = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")
    assert first.returncode == 0, first.stdout + first.stderr

    grown = agent(pool_home, "keys", "pool", "add", "--count", "3", "--yes")

    assert grown.returncode == 0, grown.stdout + grown.stderr
    assert "add 1 full-access key(s)" in grown.stdout
    held = stored_pool(pool_home)
    assert len(held) == 3 and set(onchain_keys(fresh_devnet)) == {main, *held}


@pytest.mark.slow
def test_keys_pool_add_and_remove_refuse_a_function_call_main_key_in_one_line(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    made = agent(pool_home, "grants", "onchain")
    assert made.returncode == 0, made.stdout + made.stderr
    added = agent(pool_home, "keys", "pool", "add", "--count", "1", "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    (fc_file,) = pool_home.keys_dir.glob("*.fc.*.json")
    manifest = fresh_devnet.state_dir / "manifest.json"
    init = agent(
        pool_home,
        "init",
        "--account",
        ALICE,
        "--key-file",
        str(fc_file),
        "--manifest",
        str(manifest),
        "--force",
    )
    assert init.returncode == 0, init.stdout + init.stderr  # init takes it: the pool must refuse
    before, held = onchain_keys(fresh_devnet), stored_pool(pool_home)

    for args in (("add", "--count", "2"), ("remove",)):
        refused = agent(pool_home, "keys", "pool", *args, "--yes")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "full-access key" in refused.stderr and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert onchain_keys(fresh_devnet) == before and stored_pool(pool_home) == held


@pytest.mark.slow
def test_a_remove_killed_before_its_deletekey_leaves_keys_unused_and_the_log_true(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    (main,) = onchain_keys(fresh_devnet)
    added = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    pool = set(stored_pool(pool_home))

    crashed = agent(pool_home, "keys", "pool", "remove", "--yes", env={ENV: "before_send"})

    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    assert set(onchain_keys(fresh_devnet)) == {main, *pool}  # still on chain...
    assert all(body["pool"] == "pending" for body in stored_pool(pool_home).values())
    paid = agent(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes")
    assert paid.returncode == 0, paid.stdout + paid.stderr
    assert [j["public_key"] for j in _journalled_to_bob(pool_home)] == [main]  # ...not used

    again = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")

    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to add" in again.stdout
    assert all(body["pool"] == "active" for body in stored_pool(pool_home).values())
    added_keys, removed_keys = _pool_changes(pool_home)
    assert sorted(added_keys) == sorted(pool) and removed_keys == []  # they never left
    _verify_cli(pool_home)


@pytest.mark.slow
def test_a_reservation_left_on_an_idle_pool_key_is_released_after_later_sends(
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
    assert [j["public_key"] for j in _journalled_to_bob(pool_home)] == [pool_key]

    for _ in range(2):  # later work, as a user goes on
        paid = agent(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes")
        assert paid.returncode == 0, paid.stdout + paid.stderr
    recovered = agent(pool_home, "reconcile")

    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "still able to land" not in recovered.stdout, recovered.stdout


@pytest.mark.slow
def test_after_a_devnet_reset_the_stale_pool_is_never_signed_with_and_add_rebuilds_it(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    from devnet.server import start_devnet

    added = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    stale = set(stored_pool(pool_home))
    for _ in range(2):  # nonces in the ledger for the old chain
        paid = agent(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes")
        assert paid.returncode == 0, paid.stdout + paid.stderr
    state, port = fresh_devnet.state_dir, int(fresh_devnet.rpc_url.rsplit(":", 1)[1])
    fresh_devnet.stop()
    reset = start_devnet(state, port=port, reset=True)
    try:
        (main,) = onchain_keys(reset)
        assert not stale & set(onchain_keys(reset))
        seen = len(_journalled_to_bob(pool_home))

        paid = agent(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes")

        told = paid.stdout + paid.stderr
        assert "Traceback" not in told and "nonce" not in told.lower(), told
        now = _journalled_to_bob(pool_home)[seen:]
        assert all(j["public_key"] not in stale for j in now), now  # the stale keys never sign
        assert paid.returncode == 0 and "transfer: done" in paid.stdout, told
        rebuilt = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")
        rebuilt_told = rebuilt.stdout + rebuilt.stderr
        assert "Traceback" not in rebuilt_told, rebuilt_told
        assert rebuilt.returncode == 0, rebuilt_told  # the same secrets, added again
        assert set(stored_pool(pool_home)) == stale
        assert set(onchain_keys(reset)) == {main, *stale}
    finally:
        reset.stop()


@pytest.mark.slow
def test_keys_pool_shows_which_keys_it_adds_lists_and_removes(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    added = agent(pool_home, "keys", "pool", "add", "--count", "2", "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    held = sorted(stored_pool(pool_home))
    listed = agent(pool_home, "keys", "pool", "list")
    removed = agent(pool_home, "keys", "pool", "remove", "--yes")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    said = {"add": added.stdout, "list": listed.stdout, "remove": removed.stdout}
    unreadable = [name for name, told in said.items() if not all(key in told for key in held)]
    assert unreadable == [], said


@pytest.mark.slow
def test_pool_keys_added_before_keys_encrypt_are_sealed_by_it_and_still_sign(
    pool_home: Home, fresh_devnet: RunningDevnet
) -> None:
    from tools.key_sealing import PASSPHRASE_ENV

    (main,) = onchain_keys(fresh_devnet)
    added = agent(pool_home, "keys", "pool", "add", "--count", "1", "--yes")
    assert added.returncode == 0, added.stdout + added.stderr
    secret = {PASSPHRASE_ENV: "correct horse battery staple"}

    sealed = agent(pool_home, "keys", "encrypt", env=secret)

    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    ((pool_key, body),) = stored_pool(pool_home).items()
    assert "encrypted" in body and "private_key" not in body and body["pool"] == "active"
    with another_process_sends_with(fresh_devnet, main):  # so the run signs with the pool key
        paid = agent(pool_home, "do", "send 0.1 NEAR to bob.test.near", "--yes", env=secret)
    assert paid.returncode == 0 and "transfer: done" in paid.stdout, paid.stdout + paid.stderr
    assert [j["public_key"] for j in _journalled_to_bob(pool_home)] == [pool_key]
