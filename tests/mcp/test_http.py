"""``near-agent mcp --http``: the SDK's client over streamable HTTP against the devnet, and what
a caller without the token, or a page reached through DNS rebinding, gets (nothing)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import anyio
import pytest

from devnet.server import RunningDevnet
from memory.audit import AuditLog
from tests.mcp.chain import BOB, TENTH, alice_nonce, near_of
from tests.mcp.clients import ROOT, answering, data, http_server, http_session
from tests.mcp.conftest import MakeHome

pytestmark = pytest.mark.slow

PAY_BOB = {"receiver_id": BOB, "amount": "0.1", "token": "NEAR"}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "curl", "version": "0"},
    },
}


def post(url: str, headers: dict[str, str], body: Any = INIT) -> tuple[int, str]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            **headers,
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode(errors="replace")


def test_http_clients_transfer_under_the_policy_and_elicitation_reaches_them(
    make_home: MakeHome, devnet: RunningDevnet
) -> None:
    home = make_home()
    token = secrets.token_urlsafe(32)
    before = near_of(devnet, BOB)

    async def scenario(url: str) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
        async with http_session(url, token, client="ide-agent", elicit=answering(True)) as ide:
            tools = [t.name for t in (await ide.list_tools()).tools]
            paid = data(await ide.call_tool("transfer", PAY_BOB))  # first time: asked, accepted
        async with http_session(url, token, client="web-agent") as web:  # cannot elicit
            again = data(await web.call_tool("transfer", {**PAY_BOB, "amount": "3"}))
        return tools, paid, again

    with http_server(home, token) as url:
        tools, paid, again = anyio.run(scenario, url)
    assert "transfer" in tools and "check" in tools
    assert paid["status"] == "done", paid
    assert paid["confirmation"]["answer"] == "accept"
    assert near_of(devnet, BOB) - before == TENTH  # the 3 NEAR one waits for the user
    assert again["status"] == "awaiting_approval" and again["inbox_id"]
    with AuditLog(home.audit_db) as audit:
        clients = {e.data["client"] for e in audit.entries(actor="mcp")}
        paid_story = audit.entries(correlation_id=paid["correlation_id"])
    assert clients == {"ide-agent 2.0", "web-agent 2.0"}
    assert "tx_submitted" in {e.kind.value for e in paid_story}


def test_requests_without_the_token_or_from_another_host_are_refused(
    make_home: MakeHome, devnet: RunningDevnet
) -> None:
    home = make_home(first_time_confirm=False)
    token = secrets.token_urlsafe(32)
    nonce = alice_nonce(devnet)
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "transfer", "arguments": PAY_BOB},
    }
    with http_server(home, token) as url:
        port = url.split(":")[2].split("/")[0]
        assert post(url, {})[0] == 401
        assert post(url, {}, call)[0] == 401
        assert post(url, {"Authorization": f"Bearer {token[:-1]}x"}, call)[0] == 401
        assert post(url, {"Authorization": token})[0] == 401
        rebound = post(url, {"Authorization": f"Bearer {token}", "Host": f"evil.example:{port}"})
        assert rebound[0] in (400, 403, 421), rebound
        page = post(
            url, {"Authorization": f"Bearer {token}", "Origin": "http://evil.example"}, INIT
        )
        assert page[0] in (400, 403), page
        status, body = post(url, {"Authorization": f"Bearer {token}"})
        assert status == 200 and "near-agent" in body
    assert alice_nonce(devnet) == nonce
    with AuditLog(home.audit_db) as audit:
        assert not audit.entries(actor="mcp")


def _mcp_http(home_root: Path, *extra: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agent", "--home", str(home_root), "mcp", "--http", "0", *extra],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_token_file_others_can_read_or_a_short_token_is_refused(
    make_home: MakeHome, tmp_path: Path
) -> None:
    home = make_home()
    shared = tmp_path / "token"
    shared.write_text(secrets.token_urlsafe(32))
    shared.chmod(0o644)
    done = _mcp_http(home.root, "--token-file", str(shared), env={})
    assert done.returncode == 2 and "chmod 600" in done.stderr, done.stderr
    short = _mcp_http(home.root, env={"NEAR_AGENT_MCP_TOKEN": "abc"})
    assert short.returncode == 2 and "at least 32" in short.stderr, short.stderr
    assert "Traceback" not in done.stderr + short.stderr
