"""A careless or hostile RPC configuration against reconcile and failover (tools/chain.py,
tools/endpoints.py, agent/reconcile.py): separate `near-agent` processes, two devnets over HTTP.
"""

from __future__ import annotations

import signal
from pathlib import Path

from devnet.server import RunningDevnet
from tests.agent.agent_runs import PAY, TENTH, near_agent, reservations
from tests.agent.test_rpc_endpoints_cli import ALICE, BOB, make_home, output, set_rpc
from tests.devnet.helpers import balance


def test_reconcile_keeps_a_landed_payment_when_the_archival_endpoint_is_another_chain(
    fresh_devnet: RunningDevnet, devnet: RunningDevnet, tmp_path: Path
) -> None:
    """The payment landed on the user's chain, then the process died before settling. The user
    (or a provider's wrong URL) names as ``rpc.archival_urls`` an endpoint that serves another
    chain (here a second devnet, whose genesis differs). Promised (issue 13: "a journalled
    transaction ... reconcile against a non-archival node releases a transaction that landed"
    is what must not happen; reconcile.py: "Nothing is ever sent again" and a landed
    transaction is counted): the reservation stays pending or is settled, never released
    while the payment sits on chain. What happened: reconcile asks only the archival endpoint,
    trusts its "unknown" because "an archival endpoint always" keeps the time, and releases
    the landed payment's budget; no check that the endpoint serves the same chain (genesis
    hash / chain id) as the others.
    """
    home = make_home(tmp_path / "home", fresh_devnet)
    before = balance(fresh_devnet, BOB)
    crashed = near_agent(home, "do", PAY, "--yes", failpoint="before_settle")
    assert crashed.returncode == -signal.SIGKILL, output(crashed)
    assert balance(fresh_devnet, BOB) - before == TENTH  # it landed
    assert [status for _, status in reservations(home)] == ["pending"]

    set_rpc(home, {"archival_urls": [devnet.rpc_url]})  # another chain's endpoint
    ran = near_agent(home, "reconcile")
    assert [status for _, status in reservations(home)] != ["released"], output(ran)
    assert len(fresh_devnet.signed_by(ALICE)) == 1


def test_a_payment_does_not_fail_over_to_an_endpoint_of_another_chain(
    fresh_devnet: RunningDevnet, devnet: RunningDevnet, tmp_path: Path
) -> None:
    """The home is alice's on one devnet; its endpoint list names that devnet's node, which is
    down, then a node of another chain (a provider URL for the wrong network). Promised
    (README, "rpc.urls (endpoints tried in order, failing over to the next)": endpoints of
    the network the home is on): the payment stops with a clear error and nothing is signed
    for, or sent to, the other chain. What happened: failover checks nothing about which chain
    answered (no genesis hash / chain id check), so every read came from the other chain and
    the user is told "the key ed25519:... is not an access key of alice.test.near", a wrong
    diagnosis (the key is fine; the endpoint is another chain's). Here the key mismatch stopped
    the send; on two chains where the key exists (testnet vs mainnet with one key, a devnet
    reset) the reads, balances and prices come from the wrong chain with no warning.
    """
    from tests.agent.test_rpc_endpoints_cli import dead_url

    home = make_home(tmp_path / "home", fresh_devnet, {"urls": [dead_url(), devnet.rpc_url]})
    other_before = balance(devnet, BOB)
    ran = near_agent(home, "do", PAY, "--yes")
    assert "Traceback" not in ran.stderr, output(ran)
    assert devnet.signed_by(ALICE) == [] or balance(devnet, BOB) == other_before, output(ran)
    assert ran.returncode != 0 and "chain" in output(ran).lower(), output(ran)
