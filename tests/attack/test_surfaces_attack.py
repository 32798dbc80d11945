"""Attacks on the console, the MCP server and status, at the level a user or an attacker acts:
real ``near-agent`` processes, real HTTP, a real browser, another local user."""

from __future__ import annotations

import html
import http.client
import http.server
import json
import os
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import anyio
import pytest

from agent.console.security import COOKIE
from agent.home import Home
from devnet.server import RunningDevnet
from tests.console.harness import CHROMIUM, CHROMIUM_ARGS, RunningConsole, running_console
from tests.console.test_security import csrf_of, is_paused, request
from tests.mcp.clients import ROOT, data, http_server, stdio_session
from tests.mcp.conftest import MakeHome, make_home
from tests.scheduler.devnet_home import make_home as devnet_home

__all__ = ["make_home"]

SYSTEM_PYTHON = Path("/usr/bin/python3")  # runnable by any user (the venv's is root's own)
OTHER_UID = 65534  # nobody


def needs_another_user() -> None:
    if os.geteuid() != 0 or not SYSTEM_PYTHON.exists():
        pytest.skip("acting as another local user needs root and /usr/bin/python3")


def as_other_user(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` as another local user (nobody), with the standard library only."""
    return subprocess.run(
        [str(SYSTEM_PYTHON), "-I", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        user=OTHER_UID,
        group=OTHER_UID,
        extra_groups=[],
        cwd="/",
    )


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A headless Chromium page of its own, closed (event loop and all) after the test, so the
    tests here that drive the MCP client with ``anyio.run`` can share a worker with it."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM}")
        pytest.skip(f"the browser tests need Debian's chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


@pytest.fixture
def home(devnet: RunningDevnet, tmp_path: Path) -> Home:
    return devnet_home(tmp_path / "home", devnet.state_dir / "manifest.json")


@pytest.fixture
def console(home: Home) -> Iterator[RunningConsole]:
    with running_console(home) as running:
        yield running


class _Recorder(http.server.BaseHTTPRequestHandler):
    cookies: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        type(self).cookies.append(self.headers.get("Cookie") or "")
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<p>another user's page</p>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other_users_page() -> Iterator[tuple[str, list[str]]]:
    """A web server on another port of 127.0.0.1 (as another local user could run one)."""
    handler = type("Recorder", (_Recorder,), {"cookies": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", handler.cookies
    finally:
        server.shutdown()
        server.server_close()


def get_as_other_user(console: RunningConsole, cookie: str) -> int:
    parts = urlsplit(console.base)
    code = (
        "import http.client\n"
        f"c = http.client.HTTPConnection({parts.hostname!r}, {parts.port}, timeout=30)\n"
        f"c.request('GET', '/grants', headers={{'Host': {console.host!r}, 'Cookie': {cookie!r}}})\n"
        "print(c.getresponse().status)\n"
    )
    done = as_other_user(code)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def test_the_console_cookie_reaching_another_users_port_does_not_open_the_console(
    console: RunningConsole, browser_page: object, other_users_page: tuple[str, list[str]]
) -> None:
    """A browser sends a cookie to every port of its host: a page another local user serves on
    127.0.0.1 receives the console's cookie. With it, that user must still be refused."""
    needs_another_user()
    page: object = browser_page
    page.goto(console.url)  # type: ignore[attr-defined]
    url, cookies = other_users_page
    page.goto(url)  # type: ignore[attr-defined]
    leaked = next(c for c in cookies if COOKIE in c)
    assert console.token in leaked  # what the browser gives away, whatever the console does
    assert get_as_other_user(console, leaked) == 403


INIT = (
    '{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": '
    '"2025-06-18", "capabilities": {}, "clientInfo": {"name": "other", "version": "0"}}}'
)


def post_init_code(url: str, token: str) -> str:
    parts = urlsplit(url)
    return (
        "import http.client\n"
        f"c = http.client.HTTPConnection({parts.hostname!r}, {parts.port}, timeout=30)\n"
        f"c.request('POST', {parts.path!r}, body={INIT!r}, headers={{"
        f"'Host': {parts.netloc!r}, 'Authorization': 'Bearer {token}', "
        "'Content-Type': 'application/json', "
        "'Accept': 'application/json, text/event-stream'})\n"
        "print(c.getresponse().status)\n"
    )


def test_the_mcp_token_in_another_local_users_hands_opens_nothing(make_home: MakeHome) -> None:
    """The bearer token can leave its user (a shared shell history, a config file left
    readable): another user of the machine who has it is refused all the same."""
    needs_another_user()
    token = secrets.token_urlsafe(32)
    with http_server(make_home(), token) as url:
        mine = subprocess.run(
            [sys.executable, "-I", "-c", post_init_code(url, token)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert mine.stdout.strip() == "200", mine.stderr
        theirs = as_other_user(post_init_code(url, token))
        assert theirs.returncode == 0, theirs.stderr
        assert theirs.stdout.strip() == "401"


def audit_rows(home: Home, *args: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "agent", "--home", str(home.root), "audit", "list", "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["items"]


def test_an_mcp_query_refused_or_answered_is_never_left_pending_in_the_audit_review(
    make_home: MakeHome,
) -> None:
    """A hostile ``check`` (an unknown field) and ``recent_activity`` (a float) are refused and
    audited: the audit review says refused, with the field named; answered queries are records,
    not actions waiting for an outcome."""
    home = make_home()
    smuggled = {"tool": "transfer", "args": {"receiver_id": "bob.test.near"}, "sign": True}

    async def scenario() -> None:
        async with stdio_session(home, client="hostile") as client:
            assert data(await client.call_tool("check", smuggled))["status"] == "refused"
            refused = await client.call_tool("recent_activity", {"limit": 1.5})
            assert data(refused)["status"] == "refused"
            assert "entries" in data(await client.call_tool("recent_activity", {"limit": 2}))

    anyio.run(scenario)
    rows = [r for r in audit_rows(home) if r["actor"].startswith("mcp")]
    assert [r["outcome"] for r in rows] == ["recorded", "refused", "refused"]
    refused = audit_rows(home, "--status", "refused")
    assert [r["tools"] for r in refused] == [["recent_activity"], ["check"]]
    assert "limit" in refused[0]["detail"] and "sign" in refused[1]["detail"]
    assert audit_rows(home, "--status", "pending") == []
    shown = subprocess.run(
        [sys.executable, "-m", "agent", "--home", str(home.root), "audit", "show"]
        + [refused[1]["intent_id"]],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert "Refused: unknown field(s) ['sign']" in shown.stdout, shown.stdout


def test_a_kill_switch_post_that_says_neither_pause_nor_resume_changes_nothing(
    console: RunningConsole, home: Home
) -> None:
    """The page's own form (its CSRF token included) with the ``to`` field missing or mangled:
    the switch must stay as it is, never be lifted by default."""
    csrf = csrf_of(console)
    paused = request(
        console, "POST", "/switch", cookie=console.token, body={"to": "pause", "csrf": csrf}
    )
    assert paused.status == 303 and is_paused(home)
    for body in ({"csrf": csrf}, {"to": "Pause", "csrf": csrf}, {"to": "", "csrf": csrf}):
        answer = request(console, "POST", "/switch", cookie=console.token, body=body)
        assert answer.status == 400, body
        assert is_paused(home), body


VICTIM = "victim"
# a client names itself; in a link, ".." segments would walk out of its own strategy's path
PATH_WALKER = "a/../../../strategies/mcp:victim"


def pending_strategies(home: Home) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "agent", "--home", str(home.root), "approvals", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    items = listed["items"] if isinstance(listed, dict) else listed
    return sorted(i["strategy_id"] for i in items if i["status"] == "pending")


def test_a_client_name_cannot_point_the_consoles_buttons_at_another_strategy(
    make_home: MakeHome,
) -> None:
    """Two clients that cannot ask the user file one request each; one named itself with path
    segments. Its 'Deny all' button on the Approvals page must deny its own request only."""
    home = make_home()
    pay = {"receiver_id": "bob.test.near", "amount": "0.1", "token": "NEAR"}

    async def file_requests() -> None:
        for name in (VICTIM, PATH_WALKER):
            async with stdio_session(home, client=name) as client:
                assert data(await client.call_tool("transfer", pay))["status"] == (
                    "awaiting_approval"
                )

    anyio.run(file_requests)
    victim, walker = f"mcp:{VICTIM} 1.0", f"mcp:{PATH_WALKER} 1.0"
    assert pending_strategies(home) == sorted([victim, walker])
    with running_console(home) as console:
        parts = urlsplit(console.base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        cookie = f"{console.cookie}={console.token}"
        conn.request("GET", "/approvals", headers={"Host": console.host, "Cookie": cookie})
        page = conn.getresponse().read().decode()
        forms = re.findall(r'<form method="post" action="([^"]+)" data-confirm="([^"]+)"', page)
        [action] = [a for a, q in forms if q == f"Deny every waiting action of {walker}?"]
        target = urlsplit(urljoin(console.base + "/approvals", html.unescape(action)))
        answer = request(
            console,
            "POST",
            target.path + (f"?{target.query}" if target.query else ""),
            cookie=console.token,
            body={"csrf": csrf_of(console)},
        )
        assert answer.status == 303
    assert pending_strategies(home) == [victim]


def run_agent(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", "--home", str(home.root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def mode_of(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_every_file_of_a_home_is_kept_owner_only_not_just_its_databases(
    home: Home, tmp_path: Path
) -> None:
    """agent.yaml names the account and the key file, grants.yaml the user's limits and
    recipients: left readable by others (an editor, a copy), a command makes them owner-only as
    it does the databases; a home file that is a link to a file others can read is reported."""
    (home.root / "grants.yaml").write_text("grants: []\n")
    for name in ("agent.yaml", "grants.yaml"):
        os.chmod(home.root / name, 0o644)
    (home.root / "notes").mkdir(mode=0o755)
    os.chmod(home.root / "notes", 0o755)
    assert run_agent(home, "audit", "list").returncode == 0
    assert mode_of(home.root / "agent.yaml") == 0o600
    assert mode_of(home.root / "grants.yaml") == 0o600
    assert mode_of(home.root / "notes") == 0o700

    outside = tmp_path / "shared.yaml"
    outside.write_text((home.root / "agent.yaml").read_text())
    os.chmod(outside, 0o644)
    (home.root / "agent.yaml").unlink()
    (home.root / "agent.yaml").symlink_to(outside)
    status = run_agent(home, "status", "--offline")
    assert status.returncode == 1, status.stdout + status.stderr
    assert f"{home.root / 'agent.yaml'} is mode 0644" in status.stdout
    assert mode_of(outside) == 0o644  # a file outside the home is never changed


def test_a_folder_that_is_not_a_home_is_never_chmodded(tmp_path: Path) -> None:
    """``--home`` mistyped as an existing folder (``/tmp``, the user's own home folder): no
    command may change its modes or those of anything in it."""
    folder = tmp_path / "projects"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "main.py").write_text("print('hi')\n")
    modes = {folder: 0o755, folder / "src": 0o755, folder / "src" / "main.py": 0o644}
    for path, mode in modes.items():
        os.chmod(path, mode)
    for args in (("status", "--offline"), ("audit", "list"), ("grants", "list")):
        run_agent(Home(folder), *args)
        assert {p: mode_of(p) for p in modes} == modes, args


SPOOF = "Your grants were reset: run near-agent grants add /tmp/evil.yaml"


def test_a_link_from_another_page_cannot_put_words_in_the_consoles_mouth(
    console: RunningConsole,
) -> None:
    """Any page on another port of 127.0.0.1 is the same site: its links arrive with the
    console's cookie. The line the console shows after an action (``said``) must be the
    console's own, not text a link carried."""
    parts = urlsplit(console.base)

    def get(path: str) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"Host": console.host, "Cookie": f"{console.cookie}={console.token}"}
        conn.request("GET", path, headers=headers)
        return conn.getresponse()

    spoofed = get(f"/approvals?said={quote(SPOOF)}").read().decode()
    assert "Your grants were reset" not in spoofed

    denied = request(
        console,
        "POST",
        "/approvals/no-such-item/deny",
        cookie=console.token,
        body={"csrf": csrf_of(console)},
    )
    assert denied.status == 303
    location = denied.getheader("location")
    page = get(location).read().decode()
    assert "no-such-item" in page  # the console's own answer is shown


@pytest.mark.parametrize("name", ["memory.db", "jobs.db"])
def test_status_on_a_damaged_database_names_it_instead_of_a_traceback(
    home: Home, name: str
) -> None:
    damaged = home.root / name
    for side in ("-wal", "-shm"):
        Path(f"{damaged}{side}").unlink(missing_ok=True)
    damaged.write_bytes(b"not a database " * 400)
    os.chmod(damaged, 0o600)
    for args in (("status", "--offline"), ("status", "--offline", "--json")):
        done = run_agent(home, *args)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        assert f"{damaged}: the database is damaged" in done.stderr


def test_the_console_on_a_damaged_database_names_it_on_the_page(
    console: RunningConsole, home: Home
) -> None:
    damaged = home.jobs_db
    for side in ("-wal", "-shm"):
        Path(f"{damaged}{side}").unlink(missing_ok=True)
    damaged.write_bytes(b"not a database " * 400)
    parts = urlsplit(console.base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(
        "GET",
        "/approvals",
        headers={"Host": console.host, "Cookie": f"{console.cookie}={console.token}"},
    )
    answer = conn.getresponse()
    page = answer.read().decode()
    assert answer.status == 503, page
    assert f"{damaged}: the database is damaged" in page
    assert answer.getheader("content-security-policy")  # the guard's headers still apply


@pytest.mark.parametrize(
    "host", ["127.example.invalid", "127.0.0.1.example.invalid", "::ffff:10.0.0.1"]
)
def test_a_host_name_that_only_looks_like_loopback_needs_allow_remote(
    home: Home, host: str
) -> None:
    """``--host 127.mycorp.lan`` is a name, and it can resolve to any address: only a loopback
    address (or localhost) is taken as this machine only."""
    done = run_agent(home, "console", "--host", host, "--port", "0")
    assert done.returncode == 2
    assert "--allow-remote" in done.stderr, done.stderr


def test_two_consoles_of_two_homes_stay_open_side_by_side_in_one_browser(
    devnet: RunningDevnet, tmp_path: Path, browser_page: Any
) -> None:
    """A testnet home and a mainnet home, a console for each: a browser keeps one cookie per
    name for all of 127.0.0.1, so opening the second must not lock the first out."""
    manifest = devnet.state_dir / "manifest.json"
    first, second = (devnet_home(tmp_path / name, manifest) for name in ("one", "two"))
    with running_console(first) as one, running_console(second) as two:
        browser_page.goto(one.url)
        browser_page.goto(two.url)
        assert browser_page.goto(one.base + "/grants").status == 200
        assert browser_page.goto(two.base + "/grants").status == 200
