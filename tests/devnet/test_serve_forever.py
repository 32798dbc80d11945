"""``serve_forever`` as ``near-agent devnet`` runs it: up within 2 s, Ctrl-C stops it cleanly."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

from devnet.server import manifest_path
from tests.devnet.helpers import rpc


class _Url:
    def __init__(self, url: str) -> None:
        self.rpc_url = url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_forever_starts_fast_and_stops_on_ctrl_c(tmp_path):
    port = _free_port()
    state_dir = tmp_path / "state"
    code = (
        "from pathlib import Path; from devnet.server import serve_forever; "
        f"serve_forever(Path({str(state_dir)!r}), port={port})"
    )
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        status = None
        while time.monotonic() - started < 10 and status is None:
            try:
                status = rpc(_Url(url), "status", [])
            except OSError:
                time.sleep(0.02)
        assert status is not None and "result" in status
        # python start-up included; the node itself is up well inside this
        assert time.monotonic() - started < 5
        manifest = json.loads(manifest_path(state_dir).read_text())
        assert manifest["rpc_url"] == url
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert url in out and str(manifest_path(state_dir)) in out
    assert "Traceback" not in err


def test_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = (
            "from pathlib import Path; from devnet.server import serve_forever; "
            f"serve_forever(Path({str(tmp_path / 's')!r}), port={port})"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
        )
    assert done.returncode == 1
    assert "devnet cannot start" in done.stderr
    assert "Traceback" not in done.stderr
