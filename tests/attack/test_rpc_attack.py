"""A careless or hostile RPC configuration against reconcile and failover (tools/chain.py,
tools/endpoints.py, agent/reconcile.py): separate `near-agent` processes, two devnets over HTTP.
"""

from __future__ import annotations

import signal
from pathlib import Path

from agent.home import Home
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from tests.agent.agent_runs import (
    PAY,
    TENTH,
    finish,
    gate,
    near_agent,
    reservations,
    start,
    wait_paused,
)
from tests.agent.test_rpc_endpoints_cli import ALICE, BOB, make_home, output, set_rpc
from tests.attack.test_held import _keep_releasing
from tests.devnet.helpers import balance
from tests.scheduler.devnet_home import swap_grant
from tests.support.grants import give_home_grants


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


def _bob_swapper(root: Path, node: RunningDevnet, max_requests: int) -> Home:
    """Bob's home (not yet registered on USDC, so a NEAR->USDC swap is two transactions:
    storage_deposit, then the swap), allowed to swap, with ``rpc.max_requests``."""
    home = Home(root)
    manifest = node.state_dir / "manifest.json"
    write_config(home, network="devnet", account_id=BOB, devnet_manifest=manifest)
    (home.root / "grants.yaml").write_text(swap_grant("5"))
    give_home_grants(home)
    set_rpc(home, {"max_requests": max_requests})
    return home


EXACT_BUDGET = 17  # what this swap needs on a quiet node: 16 is refused before any signature


def test_a_rate_limit_after_the_first_signature_does_not_leave_a_swap_half_done(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    """A budget the swap fits on a quiet node (``rpc.max_requests: 17``; 16 is refused before
    anything is signed). The endpoint starts answering 429 right after the first of the
    swap's two transactions is signed. Promised (tools/base.py: "every transaction's requests
    fit the command's budget, or none is sent (no half-done swap)"; issue 13: "a 429 storm
    ends in one clear error or a completed action"): both transactions, or none. What
    happened: each 429 answer to the second transaction's nonce/block reads is charged to
    the budget (``RequestMeter.spend`` before every attempt), so the budget the check reserved
    runs out mid-action: the storage deposit is on chain, the swap never is, and the user
    reads "swap: failed: this command reached its limit of 17 RPC requests ... before block;
    nothing more was sent". (``require`` also counts 3 requests per transaction where 2 are
    metered: the slack hides this until two 429s.)
    """
    quiet = _bob_swapper(tmp_path / "quiet", fresh_devnet, EXACT_BUDGET - 1)
    refused = near_agent(quiet, "do", "swap 1 NEAR to USDC", "--yes")
    assert "nothing was signed" in refused.stdout, output(refused)
    assert fresh_devnet.signed_by(BOB) == []

    home = _bob_swapper(tmp_path / "home", fresh_devnet, EXACT_BUDGET)
    held = gate()
    run = start(home, "do", "swap 1 NEAR to USDC", "--yes", pause=("after_sign", held))
    wait_paused(run, held)
    fresh_devnet.set_rate_limit("1/2s")  # one request every 2 s: a few 429s
    _keep_releasing(held)  # and every later signature of this run
    code, out, err = finish(run)
    held.close()
    fresh_devnet.set_rate_limit(None)
    signed = len(fresh_devnet.signed_by(BOB))
    assert signed in (0, 2), f"{signed} of the swap's 2 transactions were signed: {out}{err}"
