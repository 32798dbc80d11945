"""``near-agent init`` refuses, with a specific message and nothing written, what would make a
home that cannot work: an invalid account id, a missing key file, one for another account or
readable by others, and a devnet manifest whose devnet is not running or is another chain now."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devnet.server import RunningDevnet, start_devnet


def init(home: Path, *args: str, user_home: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if user_home is not None:
        env["HOME"] = str(user_home)  # where near-cli keeps keys (~/.near-credentials)
    command = [sys.executable, "-m", "agent", "--home", str(home), "init", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def refused(done: subprocess.CompletedProcess, home: Path, *words: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr, done.stderr
    assert not (home / "agent.yaml").exists()


def alice_key(devnet: RunningDevnet, to: Path, mode: int = 0o600) -> Path:
    manifest = json.loads((devnet.state_dir / "manifest.json").read_text())
    [entry] = [a for a in manifest["accounts"] if a["account_id"] == "alice.test.near"]
    source = Path(entry["key_file"])
    source = source if source.is_absolute() else devnet.state_dir / source
    shutil.copyfile(source, to)
    os.chmod(to, mode)
    return to


@pytest.mark.parametrize(
    "account", ["Alice.near", "alice..near", "a", "al ice.near", "-alice.near"]
)
def test_an_invalid_account_id_is_refused(tmp_path: Path, account: str) -> None:
    home = tmp_path / "home"
    done = init(home, "--account", account, "--network", "testnet", user_home=tmp_path)
    refused(done, home, "is not a valid NEAR account id", "nothing was written")
    assert not home.exists()


def test_a_missing_key_file_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = init(home, "--account", "alice.testnet", "--network", "testnet", "--key-file",
                str(tmp_path / "nope.json"))  # fmt: skip
    refused(done, home, f"no key file at {tmp_path / 'nope.json'}")
    near_cli = tmp_path / ".near-credentials" / "testnet" / "alice.testnet.json"
    done = init(home, "--account", "alice.testnet", "--network", "testnet", user_home=tmp_path)
    refused(done, home, f"no key file at {near_cli}", "--key-file")
    assert not home.exists()


def test_a_key_file_others_can_read_is_refused(devnet: RunningDevnet, tmp_path: Path) -> None:
    home = tmp_path / "home"
    key = alice_key(devnet, tmp_path / "alice.json", 0o644)
    done = init(home, "--account", "alice.test.near", "--network", "testnet", "--key-file",
                str(key))  # fmt: skip
    refused(done, home, "mode 0644", f"chmod 600 {key}")


def test_a_key_file_of_another_account_is_refused(devnet: RunningDevnet, tmp_path: Path) -> None:
    home = tmp_path / "home"
    key = alice_key(devnet, tmp_path / "alice.json")
    done = init(home, "--account", "bob.test.near", "--network", "testnet", "--key-file",
                str(key))  # fmt: skip
    refused(done, home, "is for 'alice.test.near', not 'bob.test.near'")


def test_a_good_key_file_is_taken(devnet: RunningDevnet, tmp_path: Path) -> None:
    home = tmp_path / "home"
    key = alice_key(devnet, tmp_path / "alice.json")
    done = init(home, "--account", "alice.test.near", "--network", "testnet", "--key-file",
                str(key))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"key_file: {key}" in (home / "agent.yaml").read_text()
    assert (home.stat().st_mode & 0o777) == 0o700


def test_the_manifest_of_a_devnet_that_is_not_running_is_refused(tmp_path: Path) -> None:
    node = start_devnet(tmp_path / "devnet", reset=True)
    node.stop()
    home = tmp_path / "home"
    done = init(home, "--account", "alice.test.near", "--manifest",
                str(tmp_path / "devnet" / "manifest.json"))  # fmt: skip
    refused(done, home, "does not answer", "near-agent devnet", "Nothing was written")


def test_a_manifest_of_another_genesis_is_refused(devnet: RunningDevnet, tmp_path: Path) -> None:
    """What a devnet reset since leaves: its manifest names a genesis the node no longer has."""
    manifest = json.loads((devnet.state_dir / "manifest.json").read_text())
    for entry in manifest["accounts"]:
        path = Path(entry["key_file"])
        entry["key_file"] = str(path if path.is_absolute() else devnet.state_dir / path)
    manifest["genesis_hash"] = "11111111111111111111111111111111"
    stale = tmp_path / "manifest.json"
    stale.write_text(json.dumps(manifest))
    home = tmp_path / "home"
    done = init(home, "--account", "alice.test.near", "--manifest", str(stale))
    refused(done, home, f"the manifest {stale} is stale", "another chain")


def test_a_refused_init_leaves_an_existing_home_as_it_was(
    devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    manifest = str(devnet.state_dir / "manifest.json")
    assert init(home, "--account", "alice.test.near", "--manifest", manifest).returncode == 0
    before = (home / "agent.yaml").read_text()
    done = init(home, "--account", "Bob.test.near", "--manifest", manifest, "--force")
    assert done.returncode == 2 and "not a valid NEAR account id" in done.stderr
    assert (home / "agent.yaml").read_text() == before
