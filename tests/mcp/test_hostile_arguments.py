"""Whatever a client sends as arguments, the server either passes the very value the tool's
argument model accepts, or refuses it, audited with the client's name, before anything is
prepared: no traceback, no half-done action, nothing signed (alice's nonce does not move)."""

from __future__ import annotations

from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from devnet.server import RunningDevnet
from memory.audit import AuditLog
from tests.mcp.chain import alice_nonce
from tests.mcp.conftest import MakeHome
from tools import registry

pytestmark = pytest.mark.slow

FIELDS = ("receiver_id", "amount", "token", "amount_in", "token_in", "token_out", "task_id")
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=80)
    | st.sampled_from(["bob.test.near", "1", "0.1", "NEAR", "USDC", "1e3", "-1", " 2 "]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
arguments = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), json_values)


def test_any_arguments_the_model_refuses_are_refused_audited_and_nothing_is_signed(
    make_home: MakeHome, devnet: RunningDevnet
) -> None:
    from agent.mcp_server.calls import Calls
    from agent.mcp_server.server import open_app

    home = make_home(first_time_confirm=False)
    nonce = alice_nonce(devnet)
    refused = 0
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(open_app(home)) as app,
    ):
        calls = Calls(app, "fuzzer")

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(tool=st.sampled_from(["transfer", "swap", "submit_label"]), args=arguments)
        def property_(tool: str, args: dict[str, Any]) -> None:
            nonlocal refused
            try:
                registry.tool_args()[tool].model_validate(args)
            except ValidationError:
                out = portal.call(calls.agent_tool, tool, args)
                assert out.is_error and out.data["status"] == "refused", out.data
                assert out.data["problems"] and all(
                    isinstance(p, str) for p in out.data["problems"]
                )
                refused += 1
                return
            # valid by the model: what the policy does with it is other tests' business

        property_()
    assert alice_nonce(devnet) == nonce
    with AuditLog(home.audit_db) as audit:
        plans = audit.entries(actor="mcp", kind="plan", status="refused")
    assert len(plans) == refused > 0
    assert {e.data["client"] for e in plans} == {"fuzzer"}
