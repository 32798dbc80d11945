"""Anchoring the audit log on the embedded devnet's notary contract, and reading it back.

Each test anchors on a devnet of its own: ``verify --anchored`` checks every anchor the account
ever published, so anchors from another test's log would (rightly) fail it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from agent.cli_audit import audit_app
from agent.home import Home
from memory.audit import AuditKind, AuditLog
from tests.support.sqlite_copy import copy_database

from .tampering import open_raw, rehash_all


@pytest.fixture
def chain_notary(fresh_devnet: Any) -> Any:
    from tests.tools.conftest import make_context
    from tools.notary import ChainNotary

    ctx = make_context(fresh_devnet)
    if not ctx.network.notary_id:
        pytest.skip("no notary contract in this devnet")
    return ChainNotary(ctx)


def test_anchor_round_trip_and_rewrite_detection(tmp_path: Path, chain_notary: Any) -> None:
    path = tmp_path / "audit.db"
    with AuditLog(path) as log:
        for i in range(5):
            log.append(
                AuditKind.TX_OUTCOME,
                actor="system",
                correlation_id=f"c{i}",
                data={"i": i, "tx_hash": f"h{i}"},
            )
        anchor = log.anchor(chain_notary)
        assert (
            anchor.tx_hash and anchor.entries == 5 and anchor.contract == chain_notary.contract_id
        )
        on_chain = chain_notary.read_anchor(anchor.head_hash)
        assert on_chain is not None and on_chain["entries"] == 5
        report = log.verify(anchored=chain_notary)
        assert report.ok and report.anchors_checked == 1, report.reason

        # Rewrite history consistently, local anchor records included: only the chain knows.
        with open_raw(path) as conn:
            body = conn.execute("SELECT body FROM entries WHERE id=2").fetchone()[0]
            conn.execute("UPDATE entries SET body=? WHERE id=2", (body.replace("h1", "h9"),))
            conn.execute("DELETE FROM entries WHERE id=6")  # the anchor entry
            rehash_all(conn)
            forged = conn.execute("SELECT hash FROM entries WHERE id=5").fetchone()[0]
            conn.execute("UPDATE anchors SET head_hash=?", (forged,))
        assert log.verify().ok
        report = log.verify(anchored=chain_notary)
        assert not report.ok and report.first_bad_id == 5 and "not on chain" in report.reason


def test_cli_anchor_and_verify_anchored_through_agent_yaml(
    tmp_path: Path, fresh_devnet: Any
) -> None:
    devnet = fresh_devnet
    from devnet.server import manifest_path
    from tests.tools.conftest import ALICE, manifest_of

    manifest, base = manifest_of(devnet)
    if not manifest.get("notary"):
        pytest.skip("no notary contract in this devnet")
    entry = next(a for a in manifest["accounts"] if a["account_id"] == ALICE)
    key_file = Path(entry["key_file"])
    key_file = key_file if key_file.is_absolute() else base / key_file
    home = Home(tmp_path / "home")
    home.root.mkdir()
    home.config_file.write_text(
        f"network: devnet\nrpc_url: {devnet.rpc_url}\n"
        f"devnet_manifest: {manifest_path(devnet.state_dir)}\n"
        f"account_id: {ALICE}\nkey_file: {key_file}\n"
    )
    with AuditLog(home.audit_db) as log:
        log.append(AuditKind.USER_MESSAGE, actor="user", correlation_id="c", data={"text": "hi"})

    app = typer.Typer()

    @app.callback()
    def _home(ctx: typer.Context) -> None:
        ctx.obj = home

    app.add_typer(audit_app, name="audit")
    runner = CliRunner()
    made = runner.invoke(app, ["audit", "anchor"])
    assert made.exit_code == 0, made.output
    assert "Anchored 1 entries" in made.output
    checked = runner.invoke(app, ["audit", "verify", "--anchored"])
    assert checked.exit_code == 0, checked.output
    assert "1 anchor(s) checked on chain" in checked.output


def near_agent(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "agent", "--home", str(home.root), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def _emptied(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _rechained_without_local_anchors(path: Path) -> None:
    """Rewrite entry 2, drop the anchor entry and the anchor rows, re-hash: locally consistent."""
    with open_raw(path) as conn:
        body = conn.execute("SELECT body FROM entries WHERE id=2").fetchone()[0]
        conn.execute("UPDATE entries SET body=? WHERE id=2", (body.replace("h1", "h9"),))
        conn.execute("DELETE FROM entries WHERE kind = 'anchor'")
        conn.execute("DELETE FROM anchors")
        rehash_all(conn)


def _cut_without_local_anchors(path: Path) -> None:
    """Cut the log below the anchor and delete the local anchor rows (nothing left to compare)."""
    with open_raw(path) as conn:
        conn.execute("DELETE FROM entries WHERE id > 2")
        conn.execute("DELETE FROM anchors")


def _extended_after_local_rows_dropped(path: Path) -> None:
    """Only the local anchor rows are gone; the log itself is intact: still verifies."""
    with open_raw(path) as conn:
        conn.execute("DELETE FROM anchors")


TAMPERS: dict[str, tuple[Callable[[Path], None], int | None]] = {
    "emptied": (_emptied, 1),
    "rechained": (_rechained_without_local_anchors, 4),
    "cut": (_cut_without_local_anchors, 3),
    "anchor rows dropped only": (_extended_after_local_rows_dropped, None),
}


@pytest.mark.slow
def test_verify_anchored_reads_the_anchors_from_chain_not_the_local_copy(
    tmp_path: Path, fresh_devnet: Any
) -> None:
    """`audit anchor`, then tamper with audit.db: `verify --anchored` trusts only the chain."""
    from agent.setup_home import write_config

    home = Home(tmp_path / "home")
    write_config(
        home,
        network="devnet",
        account_id="alice.test.near",
        devnet_manifest=fresh_devnet.state_dir / "manifest.json",
    )
    with AuditLog(home.audit_db) as log:
        for i in range(4):
            log.append(
                AuditKind.TX_OUTCOME, actor="system", correlation_id=f"c{i}", data={"h": f"h{i}"}
            )
    made = near_agent(home, "audit", "anchor")
    assert made.returncode == 0, made.stderr
    assert "Anchored 4 entries" in made.stdout
    ok = near_agent(home, "audit", "verify", "--anchored")
    assert ok.returncode == 0 and "1 anchor(s) checked on chain" in ok.stdout, ok.stderr
    pristine = tmp_path / "pristine.db"
    copy_database(home.audit_db, pristine)

    for name, (tamper, first_bad) in TAMPERS.items():
        _emptied(home.audit_db)
        copy_database(pristine, home.audit_db)
        tamper(home.audit_db)
        checked = near_agent(home, "audit", "verify", "--anchored")
        if first_bad is None:
            assert checked.returncode == 0, (name, checked.stderr)
            assert "1 anchor(s) checked on chain" in checked.stdout, name
            continue
        assert checked.returncode == 1, (name, checked.stdout, checked.stderr)
        assert "OK" not in checked.stdout, name
        assert f"TAMPERED: entry {first_bad}:" in checked.stderr, (name, checked.stderr)
        assert "anchor 1 of 1 on chain" in checked.stderr, (name, checked.stderr)
