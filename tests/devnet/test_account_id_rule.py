"""The devnet judges account ids exactly as the agent's tools do.

A node that accepted ``bob\u0663.near`` (an Arabic-Indic digit) or ``bob.near\\n`` while the
tools refused them would let a test pass against the devnet that fails against nearcore.
"""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from devnet.contract import ContractPanic
from devnet.contracts.common import parse_account_id
from devnet.state import valid_account_id
from tests.devnet.helpers import rpc
from tools.network import is_valid_account_id

TRICKY = ["bob\u0663.near", "bob.near\n", "\u0661\u0662.near", "BOB.near", "a", "a..b", "x" * 65]

_near_ids = st.text(
    alphabet=string.ascii_lowercase + string.digits + "-_.", min_size=1, max_size=70
)
_any_ids = st.one_of(
    _near_ids,
    _near_ids.map(lambda s: s + "\n"),
    st.text(min_size=0, max_size=70),
    st.sampled_from(TRICKY + ["bob.near", "alice.devnet", "0" * 64]),
)


def _contract_accepts(value: str) -> bool:
    try:
        parse_account_id(value)
    except ContractPanic:
        return False
    return True


@given(_any_ids)
def test_node_and_tools_agree_on_every_id(account_id: str) -> None:
    expected = is_valid_account_id(account_id)
    assert valid_account_id(account_id) == expected
    assert _contract_accepts(account_id) == expected


def test_view_account_refuses_lookalike_ids_as_invalid(net) -> None:
    for account_id in ("bob\u0663.near", "alice.devnet\n"):
        reply = rpc(
            net,
            "query",
            {"request_type": "view_account", "finality": "final", "account_id": account_id},
        )
        assert reply["error"]["cause"]["name"] == "INVALID_ACCOUNT", (account_id, reply)
    ok = rpc(
        net,
        "query",
        {"request_type": "view_account", "finality": "final", "account_id": "alice.devnet"},
    )
    assert "result" in ok
