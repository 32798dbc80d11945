"""Anchoring the audit log on the embedded devnet's notary contract, and reading it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from agent.cli_audit import audit_app
from agent.home import Home
from memory.audit import AuditKind, AuditLog

from .tampering import open_raw, rehash_all


@pytest.fixture
def chain_notary(devnet: Any) -> Any:
    from tests.tools.conftest import make_context
    from tools.notary import ChainNotary

    ctx = make_context(devnet)
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


def test_cli_anchor_and_verify_anchored_through_agent_yaml(tmp_path: Path, devnet: Any) -> None:
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
