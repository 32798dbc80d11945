"""`near-agent devnet --rate-limit`: HTTP 429 with Retry-After beyond N requests per period from
one client IP, as the public endpoints answer; the counts are in GET /status."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from devnet.rate_limit import TOLERANCE_S, RateLimit, RateLimiter


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, method: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"jsonrpc": "2.0", "id": "t", "method": method, "params": []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), exc.read()


def _status(url: str) -> dict:
    with urllib.request.urlopen(url + "/status", timeout=10) as response:
        return json.loads(response.read())


def test_devnet_command_rate_limits_with_retry_after(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "agent", "--home", str(tmp_path / "home"), "devnet"]
    command += ["--port", str(port), "--state-dir", str(tmp_path / "state")]
    proc = subprocess.Popen(
        [*command, "--rate-limit", "2/min"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = time.monotonic()
        status = None
        while status is None and time.monotonic() - started < 30:
            try:
                status = _status(url)  # GET /status is not rate-limited: health checks use it
            except OSError:
                time.sleep(0.05)
        assert status is not None
        assert status["devnet"]["rate_limit"] == "2/min"
        assert [_post(url, "status")[0] for _ in range(2)] == [200, 200]
        code, headers, body = _post(url, "block")
        assert code == 429
        assert 1 <= int(headers["Retry-After"]) <= 60
        counts = _status(url)["devnet"]
        assert counts["requests"] == {"status": 2}
        assert counts["rate_limited"] == {"block": 1}
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert "rate limit: 2/min per client IP" in out, out + err
    assert "Traceback" not in err


def test_a_bad_rate_limit_is_refused_before_anything_starts(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "agent", "--home", str(tmp_path / "home"), "devnet"]
    refused = subprocess.run(
        [*command, "--port", str(_free_port()), "--rate-limit", "lots"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "REQUESTS/PERIOD" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "home" / "devnet").exists()


@given(
    requests=st.integers(1, 5),
    period=st.sampled_from([1.0, 2.5, 60.0]),
    gaps=st.lists(st.floats(0, 3, allow_nan=False), min_size=1, max_size=40),
)
def test_never_more_than_the_limit_in_any_window(
    requests: int, period: float, gaps: list[float]
) -> None:
    """Whatever the arrival times, no window of one period admits more than the limit, and a
    refusal's wait ends when the window has room again."""
    limiter = RateLimiter(RateLimit(requests, period))
    now, admitted = 0.0, []
    for gap in gaps:
        now += gap
        wait = limiter.admit("127.0.0.1", now)
        if wait is None:
            admitted.append(now)
            continue
        assert 0 < wait <= period + TOLERANCE_S
        assert limiter.admit("127.0.0.1", now + wait) is None  # room again, as Retry-After said
        admitted.append(now + wait)
        now += wait
    for t in admitted:
        assert sum(1 for u in admitted if u <= t < u + period - TOLERANCE_S) <= requests
