"""The SDK's own client starts ``near-agent mcp`` over stdio, as a desktop client does, and
calls the agent's tools against the devnet: what it is offered, what lands, what the policy
denies or wants confirmed, and that every call is in the audit log with the client's name."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import anyio
import pytest

from agent.home import Home
from devnet.server import RunningDevnet
from memory.audit import AuditLog
from tests.mcp.chain import BOB, TENTH, alice_nonce, near_of
from tests.mcp.clients import answering, data, stdio_session
from tests.mcp.conftest import MakeHome
from tools import registry

pytestmark = pytest.mark.slow

PAY_BOB = {"receiver_id": BOB, "amount": "0.1", "token": "NEAR"}
EXPOSED = {"balance", "transfer", "swap", "list_tasks", "submit_label", "claim_rewards"}


def story(home: Home, correlation_id: str) -> list[Any]:
    with AuditLog(home.audit_db) as audit:
        return audit.entries(correlation_id=correlation_id)


def test_the_tools_offered_are_the_agent_tools_with_their_own_argument_schemas(
    make_home: MakeHome,
) -> None:
    home = make_home()

    async def scenario() -> tuple[Any, Any]:
        async with stdio_session(home) as client:
            return await client.list_tools(), await client.list_resources()

    tools, resources = anyio.run(scenario)
    by_name = {tool.name: tool for tool in tools.tools}
    assert set(by_name) == EXPOSED | {"check", "recent_activity"}
    models = registry.tool_args()
    for name in EXPOSED:
        assert by_name[name].input_schema == models[name].model_json_schema()
        assert by_name[name].description == registry.declared()[name].description
    check = by_name["check"].input_schema
    assert {c["properties"]["tool"]["const"]: c["properties"]["args"] for c in check["oneOf"]} == {
        name: models[name].model_json_schema() for name in EXPOSED
    }
    assert by_name["balance"].annotations.read_only_hint is True
    assert by_name["transfer"].annotations.read_only_hint is False
    assert {str(r.uri) for r in resources.resources} == {
        "near-agent://grants",
        "near-agent://audit/recent",
    }


def test_an_allowed_transfer_lands_and_its_story_names_the_client(
    make_home: MakeHome, devnet: RunningDevnet
) -> None:
    home = make_home(first_time_confirm=False)
    before = near_of(devnet, BOB)

    async def scenario() -> dict[str, Any]:
        async with stdio_session(home, client="Claude Desktop") as client:
            return data(await client.call_tool("transfer", PAY_BOB))

    out = anyio.run(scenario)
    assert out["status"] == "done", out
    assert out["decision"]["outcome"] == "allow"
    assert near_of(devnet, BOB) - before == TENTH
    entries = story(home, out["correlation_id"])
    kinds = [e.kind.value for e in entries]
    assert kinds[:2] == ["user_message", "plan"] and "tx_submitted" in kinds
    assert kinds[-1] == "tx_outcome"
    assert {e.actor for e in entries} == {"mcp"}
    assert {e.data["client"] for e in entries} == {"Claude Desktop 1.0"}
    [sent] = [e for e in entries if e.kind.value == "tx_submitted"]
    assert sent.data["tx_hash"] == out["result"]["tx_hashes"][0]


def test_an_over_cap_transfer_is_denied_with_its_reasons_and_nothing_is_signed(
    make_home: MakeHome, devnet: RunningDevnet
) -> None:
    home = make_home(first_time_confirm=False)
    nonce = alice_nonce(devnet)
    six = {**PAY_BOB, "amount": "6"}

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], bool]:
        async with stdio_session(home) as client:
            dry = data(await client.call_tool("check", {"tool": "transfer", "args": six}))
            result = await client.call_tool("transfer", six)
            return dry, data(result), result.is_error

    dry, out, is_error = anyio.run(scenario)
    assert is_error and out["status"] == "denied"
    assert out["decision"]["reasons"] == ["per_action_cap"]
    [rule] = out["decision"]["rules"]
    assert rule["code"] == "per_action_cap" and rule["detail"] == "6 NEAR exceeds 5 NEAR per action"
    assert dry["decision"]["reasons"] == ["per_action_cap"] and dry["status"] == "checked"
    assert alice_nonce(devnet) == nonce
    entries = story(home, out["correlation_id"])
    assert not [e for e in entries if e.kind.value == "tx_submitted"]
    assert [e.status for e in entries if e.kind.value == "policy_decision"] == ["deny"]


def test_a_first_time_recipient_is_asked_through_elicitation_and_an_accept_lands(
    make_home: MakeHome, devnet: RunningDevnet
) -> None:
    home = make_home()
    asked: list[str] = []
    before = near_of(devnet, BOB)

    async def scenario() -> dict[str, Any]:
        async with stdio_session(home, elicit=answering(True, asked)) as client:
            return data(await client.call_tool("transfer", PAY_BOB))

    out = anyio.run(scenario)
    assert out["status"] == "done", out
    assert out["confirmation"] == {"asked": "elicitation", "answer": "accept"}
    [question] = asked
    assert "Send 0.1 NEAR to bob.test.near" in question and "never paid before" in question
    assert near_of(devnet, BOB) - before == TENTH
    kinds = [e.kind.value for e in story(home, out["correlation_id"])]
    assert "approval_requested" in kinds and "approval_granted" in kinds


def test_a_declined_elicitation_signs_nothing(make_home: MakeHome, devnet: RunningDevnet) -> None:
    home = make_home()
    nonce = alice_nonce(devnet)

    async def scenario() -> dict[str, Any]:
        async with stdio_session(home, elicit=answering(False)) as client:
            return data(await client.call_tool("transfer", PAY_BOB))

    out = anyio.run(scenario)
    assert out["status"] == "declined"
    assert out["confirmation"]["answer"] == "decline"
    assert alice_nonce(devnet) == nonce
    kinds = [e.kind.value for e in story(home, out["correlation_id"])]
    assert "approval_denied" in kinds and "tx_submitted" not in kinds


def test_a_client_that_cannot_elicit_gets_an_inbox_id_and_nothing_is_signed(
    make_home: MakeHome, devnet: RunningDevnet
) -> None:
    home = make_home()
    nonce = alice_nonce(devnet)

    async def scenario() -> tuple[dict[str, Any], bool]:
        async with stdio_session(home, client="no-elicit") as client:
            result = await client.call_tool("transfer", PAY_BOB)
            return data(result), result.is_error

    out, is_error = anyio.run(scenario)
    assert out["status"] == "awaiting_approval" and not is_error
    inbox_id = out["inbox_id"]
    assert alice_nonce(devnet) == nonce
    listed = subprocess.run(
        [sys.executable, "-m", "agent", "--home", str(home.root), "approvals", "list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert inbox_id in listed.stdout and "mcp:no-elicit 1.0" in listed.stdout
    assert "Send 0.1 NEAR to bob.test.near" in listed.stdout
    [filed] = [e for e in story(home, out["correlation_id"]) if e.status == "inbox"]
    assert filed.data["inbox_id"] == inbox_id and filed.data["client"] == "no-elicit 1.0"
    assert filed.actor == "mcp"  # the client filed it, not a scheduled fire
    by_mcp = subprocess.run(
        [sys.executable, "-m", "agent", "--home", str(home.root)]
        + ["audit", "list", "--entries", "--actor", "mcp", "--status", "inbox", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert by_mcp.returncode == 0, by_mcp.stdout + by_mcp.stderr
    assert [e["data"]["inbox_id"] for e in json.loads(by_mcp.stdout)["items"]] == [inbox_id]
    before = near_of(devnet, BOB)
    approved = subprocess.run(  # the user approves it, on the fresh preview: then it lands
        [sys.executable, "-m", "agent", "--home", str(home.root)]
        + ["approvals", "approve", inbox_id, "--yes"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert near_of(devnet, BOB) - before == TENTH


def test_a_client_on_the_requestless_protocol_gets_the_inbox_even_if_it_could_elicit(
    make_home: MakeHome, devnet: RunningDevnet
) -> None:
    home = make_home()
    nonce = alice_nonce(devnet)
    asked: list[str] = []

    async def scenario() -> dict[str, Any]:
        async with stdio_session(
            home, client="modern", elicit=answering(True, asked), modern=True
        ) as client:
            return data(await client.call_tool("transfer", PAY_BOB))

    out = anyio.run(scenario)
    assert out["status"] == "awaiting_approval" and out["inbox_id"] and not asked
    assert alice_nonce(devnet) == nonce
    assert {e.data["client"] for e in story(home, out["correlation_id"])} == {"modern 1.0"}


HOSTILE: list[tuple[str, Any, str]] = [
    ("transfer", {"receiver_id": BOB, "amount": 0.1, "token": "NEAR"}, "amount"),
    ("transfer", {"receiver_id": BOB, "amount": 1, "token": "NEAR"}, "amount"),
    ("transfer", {**PAY_BOB, "deposit": "100"}, "deposit"),
    ("transfer", {"receiver_id": BOB, "amount": "0.1"}, "token"),
    ("transfer", {**PAY_BOB, "receiver_id": "BOB!!"}, "receiver_id"),
    ("transfer", {**PAY_BOB, "amount": "-1"}, "amount"),
    ("transfer", {**PAY_BOB, "amount": "1e3"}, "amount"),
    ("swap", {"token_in": "NEAR", "token_out": "NEAR", "amount_in": "1"}, "token_in"),
    ("submit_label", {"task_id": "1", "label": "x"}, "task_id"),
    ("claim_rewards", {"task_ids": []}, "task_ids"),
    ("add_key", {"public_key": "ed25519:x"}, "unknown tool"),
    ("claim_lostfound", {}, "unknown tool"),
    ("delete_account", {"beneficiary_id": "mallory.test.near"}, "unknown tool"),
    ("check", {"tool": "transfer", "args": {**PAY_BOB, "amount": 2.5}}, "amount"),
    ("check", {"tool": "grants_add", "args": {}}, "tool"),
    ("check", {"tool": "transfer", "args": PAY_BOB, "approve": True}, "approve"),
    ("recent_activity", {"limit": 10**9}, "limit"),
]


def test_malformed_or_extra_arguments_are_refused_audited_and_nothing_is_signed(
    make_home: MakeHome, devnet: RunningDevnet
) -> None:
    home = make_home(first_time_confirm=False)
    nonce = alice_nonce(devnet)
    before = near_of(devnet, BOB)

    async def scenario() -> list[tuple[Any, bool]]:
        async with stdio_session(home, client="hostile") as client:
            out = []
            for tool, args, _ in HOSTILE:
                result = await client.call_tool(tool, args)
                out.append((data(result), result.is_error))
            return out

    results = anyio.run(scenario)
    for (tool, _, field), (out, is_error) in zip(HOSTILE, results, strict=True):
        assert is_error and out["status"] == "refused", (tool, out)
        assert any(field in problem for problem in out["problems"]), (tool, field, out)
    assert alice_nonce(devnet) == nonce and near_of(devnet, BOB) == before
    with AuditLog(home.audit_db) as audit:
        refused = audit.entries(actor="mcp", status="refused")
    assert len(refused) == len(HOSTILE)
    assert {e.data["client"] for e in refused} == {"hostile 1.0"}
    assert not audit_has_kind(home, "tx_submitted")


def audit_has_kind(home: Home, kind: str) -> bool:
    with AuditLog(home.audit_db) as audit:
        return bool(audit.entries(kind=kind))


def test_resources_show_the_budget_left_and_recent_activity_as_data(
    make_home: MakeHome,
) -> None:
    home = make_home(first_time_confirm=False)

    async def scenario() -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        async with stdio_session(home, client="reader") as client:
            paid = data(await client.call_tool("transfer", PAY_BOB))
            grants = await client.read_resource("near-agent://grants")
            recent = await client.read_resource("near-agent://audit/recent")
            activity = data(await client.call_tool("recent_activity", {"limit": 5}))
            assert paid["status"] == "done", paid
            return grants.contents[0].text, recent.contents[0].text, activity, paid

    grants_text, recent_text, activity, paid = anyio.run(scenario)
    grants = json.loads(grants_text)
    transfers = next(g for g in grants["grants"] if g["grant"]["id"] == "demo-transfers")
    [window] = transfers["budgets"]
    assert window["used_whole"] == "0.1" and window["left_whole"] == "19.9"
    assert window["cap"] == str(20 * 10**24)
    assert grants["global"][0]["left_whole"] == "24.9"
    recent = json.loads(recent_text)["entries"]
    assert paid["correlation_id"] in {e["correlation_id"] for e in recent}
    assert len(activity["entries"]) == 5
    assert activity["entries"][0]["data"]["client"] == "reader 1.0"


def test_task_texts_from_the_chain_come_back_as_data_fields_only(make_home: MakeHome) -> None:
    from devnet.genesis_default import TASK_SPECS

    home = make_home()

    async def scenario() -> dict[str, Any]:
        async with stdio_session(home) as client:
            return data(await client.call_tool("list_tasks", {"status": "open"}))

    out = anyio.run(scenario)
    assert out["status"] == "done"
    titles = {spec["title"] for spec in TASK_SPECS}
    listed = json.dumps(out["result"]["data"])
    assert all(title in listed for title in titles)
    outside = json.dumps({k: v for k, v in out.items() if k != "result"})
    assert not any(title in outside for title in titles)
    assert not any(title in out["result"]["summary"] for title in titles)
