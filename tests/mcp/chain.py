"""What the chain holds, read straight over JSON-RPC: nothing here trusts the agent."""

from __future__ import annotations

from devnet.server import RunningDevnet
from tests.devnet.helpers import rpc
from tests.support.chain_reads import usdc_and_nonce

ALICE = "alice.test.near"
BOB = "bob.test.near"
TENTH = 10**23


def near_of(devnet: RunningDevnet, account_id: str) -> int:
    view = rpc(
        devnet,
        "query",
        {"request_type": "view_account", "finality": "final", "account_id": account_id},
    )
    return int(view["result"]["amount"])


def alice_nonce(devnet: RunningDevnet) -> int:
    """The sum of alice's keys' nonces: it moves whenever anything is signed and sent."""
    return usdc_and_nonce(devnet, ALICE)[1]
