"""Reading what the chain holds, straight over JSON-RPC, for tests that must not trust the agent."""

from __future__ import annotations

import base64
import json

from devnet.server import RunningDevnet
from tests.devnet.helpers import rpc


def usdc_and_nonce(devnet: RunningDevnet, account_id: str = "alice.test.near") -> tuple[int, int]:
    """The account's USDC and the sum of its keys' nonces."""
    args = base64.b64encode(json.dumps({"account_id": account_id}).encode()).decode()
    view = rpc(
        devnet,
        "query",
        {
            "request_type": "call_function",
            "finality": "final",
            "account_id": "usdc.test.near",
            "method_name": "ft_balance_of",
            "args_base64": args,
        },
    )
    keys = rpc(
        devnet,
        "query",
        {"request_type": "view_access_key_list", "finality": "final", "account_id": account_id},
    )
    nonces = sum(k["access_key"]["nonce"] for k in keys["result"]["keys"])
    return int(json.loads(bytes(view["result"]["result"]))), nonces
