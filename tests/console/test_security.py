"""The console refuses what is not its user's own page: plain HTTP against a real process."""

from __future__ import annotations

import http.client
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from agent.home import Home
from devnet.server import RunningDevnet
from memory.audit import AuditLog
from memory.switch import KillSwitch
from tests.console.harness import RunningConsole, agent_command, running_console
from tests.scheduler.devnet_home import make_home


@pytest.fixture
def home(devnet: RunningDevnet, tmp_path: Path) -> Home:
    return make_home(tmp_path / "home", devnet.state_dir / "manifest.json")


@pytest.fixture
def console(home: Home) -> Iterator[RunningConsole]:
    with running_console(home) as running:
        yield running


def request(
    console: RunningConsole,
    method: str,
    path: str,
    *,
    host: str | None = None,
    cookie: str | None = None,
    body: dict[str, str] | None = None,
    origin: str | None = None,
) -> http.client.HTTPResponse:
    parts = urlsplit(console.base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Host": host or console.host}
    if cookie is not None:
        headers["Cookie"] = f"{console.cookie}={cookie}"
    if origin is not None:
        headers["Origin"] = origin
    data = None
    if body is not None:
        data = urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    response.read()
    return response


def csrf_of(console: RunningConsole) -> str:
    parts = urlsplit(console.base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(
        "GET", "/", headers={"Host": console.host, "Cookie": f"{console.cookie}={console.token}"}
    )
    page = conn.getresponse().read().decode()
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert match, page
    return match.group(1)


def is_paused(home: Home) -> bool:
    with AuditLog(home.audit_db) as audit:
        switch = KillSwitch(home.memory_db, audit)
        try:
            return switch.is_paused()
        finally:
            switch.close()


def test_the_printed_url_is_exchanged_for_a_strict_http_only_cookie(
    console: RunningConsole,
) -> None:
    response = request(console, "GET", f"/?token={console.token}")
    assert response.status == 303 and response.getheader("Location") == "/"
    cookie = response.getheader("Set-Cookie") or ""
    assert f"{console.cookie}={console.token}" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = request(console, "GET", "/", cookie=console.token)
    assert page.status == 200
    policy = page.getheader("Content-Security-Policy") or ""
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


@pytest.mark.parametrize(
    "path", ["/", "/approvals", "/activity", "/grants", "/live", "/static/console.js"]
)
def test_no_token_is_refused(console: RunningConsole, path: str) -> None:
    assert request(console, "GET", path).status == 403
    assert request(console, "GET", path, cookie="not-the-token").status == 403
    assert request(console, "GET", path + "?token=not-the-token").status == 403


@pytest.mark.parametrize("host", ["evil.example:80", "attacker.test", "127.0.0.1:1"])
def test_a_wrong_host_header_is_refused(console: RunningConsole, host: str) -> None:
    """DNS rebinding: a page on another name resolving to 127.0.0.1 sends its own Host."""
    assert request(console, "GET", "/", host=host, cookie=console.token).status == 421
    assert request(console, "GET", f"/?token={console.token}", host=host).status == 421


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    console: RunningConsole, home: Home
) -> None:
    refused = request(console, "POST", "/switch", cookie=console.token, body={"to": "pause"})
    assert refused.status == 403
    wrong = {"to": "pause", "csrf": "0" * 64}
    assert request(console, "POST", "/switch", cookie=console.token, body=wrong).status == 403
    assert not is_paused(home)

    good = {"to": "pause", "csrf": csrf_of(console)}
    foreign = request(
        console, "POST", "/switch", cookie=console.token, body=good, origin="http://evil.example"
    )
    assert foreign.status == 403 and not is_paused(home)
    assert request(console, "POST", "/switch", body=good).status == 403  # no cookie
    assert not is_paused(home)

    done = request(console, "POST", "/switch", cookie=console.token, body=good)
    assert done.status == 303 and is_paused(home)
    with AuditLog(home.audit_db) as log:
        (paused,) = log.entries(kind="paused")
    assert paused.actor == "console"


def test_another_host_than_loopback_needs_an_explicit_flag(home: Home) -> None:
    refused = subprocess.run(
        agent_command(home, "console", "--host", "0.0.0.0", "--port", "0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "--allow-remote" in refused.stderr
    with running_console(home, "--host", "0.0.0.0", "--allow-remote") as console:
        assert console.url.startswith("http://0.0.0.0:")
        console.process.terminate()
        _, err = console.process.communicate(timeout=10)
    assert "WARNING" in err and "anyone who can reach this machine" in err
