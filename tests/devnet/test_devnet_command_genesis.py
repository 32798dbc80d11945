"""``near-agent devnet --genesis mainnet`` as a user runs it: a separate process that starts in
seconds with 5,000 pools, writes a manifest ``near-agent init`` can use, keeps its chain across a
restart, and refuses (changing nothing) a genesis or pool count that does not match its chain."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devnet.genesis_choice import GenesisChoice, GenesisChoiceError, genesis_for
from devnet.genesis_mainnet import build_mainnet_genesis
from devnet.server import start_devnet

STARTUP_LIMIT_S = 30.0  # measured 1.1 s with 5,000 pools (4 s on a busy 2-core machine)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "agent", "--home", str(home), *args]


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(home, *args), capture_output=True, text=True, timeout=120)


def _start(home: Path, port: int, *args: str) -> tuple[subprocess.Popen[str], dict, float]:
    """Start the devnet command; return it with its fresh manifest and the seconds it took."""
    manifest_file = home / "devnet" / "manifest.json"
    manifest_file.unlink(missing_ok=True)
    started = time.monotonic()
    proc = subprocess.Popen(
        _command(home, "devnet", "--port", str(port), *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while time.monotonic() - started < STARTUP_LIMIT_S and proc.poll() is None:
        if manifest_file.exists():
            manifest = json.loads(manifest_file.read_text())
            if manifest.get("rpc_url", "").endswith(f":{port}"):
                return proc, manifest, time.monotonic() - started
        time.sleep(0.05)  # another process writes the file: nothing to wait on but the file
    proc.kill()
    out, err = proc.communicate(timeout=10)
    raise AssertionError(f"no manifest within {STARTUP_LIMIT_S} s: {out}{err}")


def _stop(proc: subprocess.Popen[str]) -> str:
    """Ctrl-C; what the process printed."""
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return out


@pytest.mark.slow
def test_mainnet_shaped_devnet_process_writes_its_manifest_and_keeps_its_chain(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    port = _free_port()
    proc, manifest, seconds = _start(home, port, "--genesis", "mainnet")
    try:
        assert seconds < STARTUP_LIMIT_S
        assert manifest["network_id"] == "mainnet" and manifest["genesis"] == "mainnet"
        assert manifest["exchange"]["contract_id"] == "v2.ref-finance.near"
        assert len(manifest["exchange"]["pools"]) == 5_000
        symbols = {t["symbol"]: t["contract_id"] for t in manifest["tokens"]}
        assert symbols["USDC"] == "17208628f84f5d6ad33f0da3bbbeb27ffcb398eac501a31bd6ad2011e36133a1"
        init = _run(home, "init", "--account", "alice.near")
        assert init.returncode == 0, init.stderr
        config = (home / "agent.yaml").read_text()
        assert "alice.near" in config and "keys/alice.near.json" in config
    finally:
        printed = _stop(proc)
    assert "genesis: a mainnet-shaped genesis with 5000 pools" in printed
    genesis = (home / "devnet" / "genesis.json").read_bytes()

    # the same command again: the same chain (same genesis, same keys), not a new one
    proc, again, _ = _start(home, port, "--genesis", "mainnet")
    _stop(proc)
    assert (home / "devnet" / "genesis.json").read_bytes() == genesis
    assert again["accounts"] == manifest["accounts"]

    # another shape or pool count on this state dir: refused, nothing changed
    for args in (("--genesis", "testnet"), ("--genesis", "mainnet", "--pools", "6000")):
        refused = _run(home, "devnet", "--port", str(port), *args)
        assert refused.returncode == 1
        assert "--reset" in refused.stderr and "Traceback" not in refused.stderr
        assert (home / "devnet" / "genesis.json").read_bytes() == genesis


def test_testnet_pools_option_starts_that_many_pools(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc, manifest, _ = _start(home, _free_port(), "--genesis", "testnet", "--pools", "300")
    _stop(proc)
    assert manifest["network_id"] == "testnet"
    assert manifest["exchange"]["contract_id"] == "ref-finance-101.testnet"
    assert len(manifest["exchange"]["pools"]) == 300


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--genesis", "devnet2"), "unknown genesis 'devnet2'"),
        (("--pools", "100"), "--pools applies to --genesis mainnet or testnet"),
        (("--genesis", "mainnet", "--pools", "3"), "--pools must be between"),
        (("--genesis", "mainnet", "--pools", "1000000"), "--pools must be between"),
    ],
)
def test_bad_genesis_options_are_clear_errors_that_start_nothing(
    tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    home = tmp_path / "home"
    result = _run(home, "devnet", "--port", str(_free_port()), *args)
    assert result.returncode == 2
    assert says in result.stderr and "Traceback" not in result.stderr
    assert not (home / "devnet").exists()


def test_a_state_dir_keeps_its_chain_unless_reset(tmp_path: Path) -> None:
    """What the command decides before starting: keep the stored chain when it matches, refuse
    another one, and build the requested one only with reset."""
    state = tmp_path / "state"
    start_devnet(state, genesis=build_mainnet_genesis(pools=50), reset=True).stop()
    stored = (state / "genesis.json").read_bytes()
    assert genesis_for(state, GenesisChoice.parse("Mainnet", 50), reset=False) is None
    assert genesis_for(state, None, reset=False) is None
    with pytest.raises(GenesisChoiceError, match="--reset"):
        genesis_for(state, GenesisChoice.parse("testnet", 50), reset=False)
    with pytest.raises(GenesisChoiceError, match="default genesis"):
        genesis_for(state, GenesisChoice.parse("default"), reset=False)
    assert (state / "genesis.json").read_bytes() == stored
    fresh = genesis_for(state, GenesisChoice.parse("testnet", 50), reset=True)
    assert fresh is not None and fresh.manifest["network_id"] == "testnet"
    assert len(fresh.manifest["exchange"]["pools"]) == 50
    again = genesis_for(state, None, reset=True)  # --reset alone: the same shape, started again
    assert again is not None and GenesisChoice.of(again) == GenesisChoice("mainnet", 50)
