"""`near-agent` processes against a devnet over HTTP that behaves like a public endpoint: a dead
endpoint in the list, HTTP 429 with Retry-After, a per-command request budget, and a node that
garbage-collects old transactions (with an archival endpoint that does not).

Each test has its own devnet (rate limits and retention are node-wide) and its own home, whose
agent.yaml names the endpoints in ``rpc:`` as a user would write them.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.home import Home
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from tests.agent.agent_runs import PAY, TENTH, near_agent, reservations, write_pay_grant
from tests.devnet.helpers import balance
from tools.action import TransactionSpec, TransferSpec
from tools.chain import ChainClient
from tools.keys import load_credentials

ALICE, BOB, CAROL = "alice.test.near", "bob.test.near", "carol.test.near"


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def make_home(root: Path, devnet: RunningDevnet, rpc: dict[str, Any] | None = None) -> Home:
    """Alice's home on ``devnet``, allowed to pay bob up to 1 NEAR an hour, with ``rpc:``."""
    home = Home(root)
    write_config(
        home,
        network="devnet",
        account_id=ALICE,
        devnet_manifest=devnet.state_dir / "manifest.json",
    )
    if rpc is not None:
        set_rpc(home, rpc)
    write_pay_grant(home, "1")
    return home


def set_rpc(home: Home, rpc: dict[str, Any]) -> None:
    config = yaml.safe_load(home.config_file.read_text())
    config["rpc"] = rpc
    home.config_file.write_text(yaml.safe_dump(config, sort_keys=False))


def output(run: Any) -> str:
    return run.stdout + run.stderr


def test_do_fails_over_from_a_dead_endpoint(fresh_devnet: RunningDevnet, tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", fresh_devnet, {"urls": [dead_url(), fresh_devnet.rpc_url]})
    before = balance(fresh_devnet, BOB)
    paid = near_agent(home, "do", PAY, "--yes")
    assert paid.returncode == 0, output(paid)
    assert balance(fresh_devnet, BOB) - before == TENTH
    assert len(fresh_devnet.signed_by(ALICE)) == 1


def test_a_429_storm_during_a_payment_completes_with_one_signature(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    """Three requests a second: the payment's reads and its send are refused again and again
    with Retry-After: 1; waiting as asked, it completes, signed once."""
    home = make_home(tmp_path / "home", fresh_devnet)
    before = balance(fresh_devnet, BOB)
    fresh_devnet.set_rate_limit("3/s")
    paid = near_agent(home, "do", PAY, "--yes")
    fresh_devnet.set_rate_limit(None)
    assert paid.returncode == 0, output(paid)
    assert "Traceback" not in paid.stderr
    assert sum(fresh_devnet.request_counts()["rate_limited"].values()) >= 1  # a storm it was
    assert len(fresh_devnet.signed_by(ALICE)) == 1  # never a second signature
    assert balance(fresh_devnet, BOB) - before == TENTH
    assert [status for _, status in reservations(home)] == ["settled"]


def test_a_429_storm_beyond_the_wait_cap_is_one_clear_error(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    """Five requests a minute and a user who waits at most 2 s: the payment stops with one
    message naming the endpoint and the wait; at most the one transaction was ever signed."""
    home = make_home(tmp_path / "home", fresh_devnet, {"max_retry_after_s": 2})
    before = balance(fresh_devnet, BOB)
    fresh_devnet.set_rate_limit("5/min")
    stopped = near_agent(home, "do", PAY, "--yes")
    fresh_devnet.set_rate_limit(None)
    text = output(stopped)
    assert stopped.returncode != 0, text
    assert "Traceback" not in stopped.stderr
    assert "rate-limiting requests (HTTP 429)" in text and fresh_devnet.rpc_url in text, text
    assert "rpc.max_retry_after_s" in text
    assert len(fresh_devnet.signed_by(ALICE)) <= 1
    assert balance(fresh_devnet, BOB) - before in (0, TENTH)


def test_the_request_budget_stops_a_payment_before_anything_is_signed(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = make_home(tmp_path / "home", fresh_devnet, {"max_requests": 2})
    before = balance(fresh_devnet, BOB)
    stopped = near_agent(home, "do", PAY, "--yes")
    text = output(stopped)
    assert stopped.returncode != 0, text
    assert "Traceback" not in stopped.stderr
    assert "limit of 2 RPC requests" in text or "of its 2 left" in text, text
    assert "rpc.max_requests" in text
    assert fresh_devnet.signed_by(ALICE) == []
    assert balance(fresh_devnet, BOB) == before
    assert all(status != "pending" for _, status in reservations(home))


def test_an_api_key_env_that_is_not_set_is_a_clear_error(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = make_home(tmp_path / "home", fresh_devnet, {"api_key_env": "NO_SUCH_RPC_KEY_VAR"})
    stopped = near_agent(home, "do", PAY, "--yes")
    text = output(stopped)
    assert stopped.returncode != 0
    assert "NO_SUCH_RPC_KEY_VAR" in text and "not set" in text, text
    assert "Traceback" not in stopped.stderr
    assert fresh_devnet.signed_by(ALICE) == []


def _more_blocks(devnet: RunningDevnet, count: int) -> None:
    """Carol pays bob ``count`` times: ``count`` blocks after the ones before."""
    entry = next(a for a in devnet.manifest["accounts"] if a["account_id"] == CAROL)
    creds = load_credentials(Path(entry["key_file"]), CAROL)
    chain = ChainClient(devnet.rpc_url)

    async def main() -> None:
        try:
            for _ in range(count):
                spec = TransactionSpec(
                    signer_id=CAROL, receiver_id=BOB, actions=(TransferSpec(deposit=1),)
                )
                await chain.send(creds, spec)
        finally:
            await chain.close()

    asyncio.run(main())


@pytest.mark.slow  # a killed payment, then three reconciles
def test_reconcile_keeps_a_reservation_whose_transaction_the_node_forgot(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    """The payment landed, then the process died before settling; by the time reconcile runs,
    the (non-archival) node has garbage-collected it. "Unknown" from that node proves nothing:
    the budget stays reserved and the user is told an archival endpoint is needed; with one,
    the landed payment is found and counted."""
    home = make_home(tmp_path / "home", fresh_devnet)
    crashed = near_agent(home, "do", PAY, "--yes", failpoint="before_settle")
    assert crashed.returncode == -signal.SIGKILL, output(crashed)
    assert [status for _, status in reservations(home)] == ["pending"]
    _more_blocks(fresh_devnet, 3)
    fresh_devnet.set_retention(2)  # the payment's block is now older than the node keeps

    forgotten = near_agent(home, "reconcile")
    assert forgotten.returncode == 0, output(forgotten)
    assert "older than the node's history" in forgotten.stdout, forgotten.stdout
    assert "rpc.archival_urls" in forgotten.stdout
    assert [status for _, status in reservations(home)] == ["pending"]

    set_rpc(home, {"archival_urls": [fresh_devnet.archival_url]})
    found = near_agent(home, "reconcile")
    assert found.returncode == 0, output(found)
    assert "1 transaction(s) landed" in found.stdout, found.stdout
    assert "counted against your budget" in found.stdout
    assert [status for _, status in reservations(home)] == ["settled"]
    assert len(fresh_devnet.signed_by(ALICE)) == 1  # reconciling never sends anything


def test_reconcile_names_an_archival_endpoint_of_another_chain_and_keeps_the_budget(
    fresh_devnet: RunningDevnet, devnet: RunningDevnet, tmp_path: Path
) -> None:
    """A landed payment, interrupted before settling; rpc.archival_urls names another chain's
    node: reconcile says which endpoint serves which chain, and the reservation stays pending."""
    home = make_home(tmp_path / "home", fresh_devnet)
    crashed = near_agent(home, "do", PAY, "--yes", failpoint="before_settle")
    assert crashed.returncode == -signal.SIGKILL, output(crashed)
    set_rpc(home, {"archival_urls": [devnet.rpc_url]})
    lookups_before = devnet.request_counts()["requests"].get("tx", 0)
    ran = near_agent(home, "reconcile")
    assert ran.returncode == 0 and "Traceback" not in ran.stderr, output(ran)
    assert f"endpoint {devnet.rpc_url} serves chain devnet" in ran.stdout, output(ran)
    assert "the budget stays reserved" in ran.stdout, output(ran)
    assert [status for _, status in reservations(home)] == ["pending"]
    assert devnet.request_counts()["requests"].get("tx", 0) == lookups_before  # never asked
