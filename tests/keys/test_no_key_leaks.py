"""No secret key ever reaches logs, output, errors, the audit log, the databases or the model.

A realistic session on a fresh devnet (init, an encrypted import, the on-chain backstop, a
transfer, a swap, failures with errors, an audit export, ``plan --json``), then every byte it
left behind is scanned for every secret used, in every text form a key has.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import traceback
from pathlib import Path

import pytest
from typer.testing import Result

from agent.home import Home
from agent.planner.llm import SYSTEM_PROMPT, PlannerContext
from agent.session import AgentSession
from tools.errors import CredentialsError
from tools.keypair import KeyPair
from tools.keys import load_credentials
from tools.keystore import PASSPHRASE_ENV, Keystore
from tools.registry import tool_schemas
from tools.signers import KeyRing, keyring_from_keystore

from .helpers import ALICE, cli
from .secrets import find_leaks

PASSPHRASE = "a long passphrase for the test"


class Collected:
    """Everything the flow said or raised, to be scanned at the end."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.errors: list[BaseException] = []

    def result(self, result: Result, expect: int | None = 0) -> Result:
        self.texts += [result.output, result.stderr if result.stderr_bytes is not None else ""]
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            self.errors.append(result.exception)
        if expect is not None:
            assert result.exit_code == expect, result.output
        return result

    def error(self, exc: BaseException) -> None:
        self.errors.append(exc)


def _session_flow(home: Home, seen: Collected) -> list[str]:
    async def flow() -> list[str]:
        session = await AgentSession.open(home)
        if session.ctx.keyring is None:  # what a session does once it loads HOME/keys
            session.ctx.keyring = keyring_from_keystore(
                Keystore(home.keys_dir), [ALICE], KeyRing.of(session.ctx.credentials)
            )
        statuses = []
        try:
            for text in (
                "send 1 NEAR to bob.test.near",
                "swap 1 NEAR to USDC",
                "label task 0 item 0 as positive",
                "label task 0 item 0 as positive",
                "send 50 NEAR to bob.test.near",
            ):
                report = await session.run(text, lambda action, decision: True)
                statuses += [s.status for s in report.steps]
                seen.texts += [s.message for s in report.steps]
            prefs = session.preferences.load()
            history = [
                (m.role, m.text) for m in session.conversation.recent(session.session_id, 50)
            ]
            contacts = {c.name: c.account_id for c in session.contacts.list()}
            context = PlannerContext(
                contacts=contacts, preferences=prefs.model_dump(), history=history
            )
            tools = tool_schemas()
            seen.texts += [SYSTEM_PROMPT, context.as_data(), json.dumps(tools)]
        finally:
            await session.close()
        return statuses

    return asyncio.run(flow())


@pytest.mark.slow  # a whole session through the CLI, with scrypt-sealed keys
def test_no_secret_key_leaks_anywhere(
    fresh_devnet,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    seen = Collected()
    home = Home(tmp_path / "home")
    manifest = fresh_devnet.state_dir / "manifest.json"
    entry = next(a for a in fresh_devnet.manifest["accounts"] if a["account_id"] == ALICE)
    devnet_key = Path(entry["key_file"])
    devnet_key = devnet_key if devnet_key.is_absolute() else fresh_devnet.state_dir / devnet_key
    alice = load_credentials(devnet_key, ALICE).key_pair
    env = {PASSPHRASE_ENV: PASSPHRASE}
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)

    # init, then import the key encrypted (a world-readable copy is refused first)
    seen.result(cli(home, "init", "--account", ALICE, "--manifest", str(manifest)))
    copy = tmp_path / "alice-copy.json"
    shutil.copy(devnet_key, copy)
    copy.chmod(0o644)
    refused = seen.result(cli(home, "keys", "import", str(copy)), expect=1)
    assert f"chmod 600 {copy}" in refused.output
    copy.chmod(0o600)
    imported = seen.result(cli(home, "keys", "import", str(copy), "--encrypt", env=env))
    assert "encrypted" in imported.output and "agent.yaml now signs with it" in imported.output
    copy.unlink()
    (home.root / "grants.yaml").write_text(_grants_text())
    seen.result(cli(home, "grants", "add", str(home.root / "grants.yaml")))

    # the on-chain backstop: the tasks key and a trading account, with the keystore encrypted
    seen.result(
        cli(home, "grants", "onchain", "--trading-account", "trading", "--fund", "2", env=env)
    )
    seen.result(cli(home, "keys", "list"))

    # a session: a transfer, a swap, a label, a label again (an error), a denied transfer
    statuses = _session_flow(home, seen)
    assert statuses == ["done", "done", "done", "refused", "denied"], statuses

    # failures with errors: a wrong passphrase, on the CLI and in the library
    wrong = {PASSPHRASE_ENV: "not the passphrase"}
    failed = seen.result(cli(home, "do", "what's my balance", "--yes", env=wrong), expect=None)
    assert failed.exit_code != 0 and "wrong passphrase" in failed.output
    stored = Keystore(home.keys_dir, passphrase=lambda: "nope")
    for key_entry in stored.entries():
        with pytest.raises(CredentialsError) as info:
            stored.load(key_entry)
        seen.error(info.value)
    seen.result(
        cli(home, "do", "send 0.5 NEAR to nobody-here.test.near", "--yes", env=env), expect=None
    )

    exported = seen.result(cli(home, "audit", "export"))
    assert exported.output.count("\n") > 10
    seen.result(cli(home, "plan", "send 1 NEAR to bob.test.near", "--json", env=env))

    # every secret used: alice's, the function-call key's and the trading account's
    store = Keystore(home.keys_dir, passphrase=lambda: PASSPHRASE)
    pairs: list[KeyPair] = [alice] + [store.load(e) for e in store.entries()]
    assert len(pairs) == 4 and len({p.public_key for p in pairs}) == 3
    out, err = capfd.readouterr()
    haystacks: dict[str, bytes | str] = {
        "captured output": "\n".join(seen.texts) + out + err,
        "log records": caplog.text
        + "\n".join(str(r.getMessage()) + str(r.args) for r in caplog.records),
        "exceptions": "\n".join(
            "".join(traceback.format_exception(e)) + repr(getattr(e, "details", ""))
            for e in seen.errors
        ),
    }
    for folder in (home.root, home.state_dir):  # the home, and the user's nonce ledger
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                haystacks[str(path.relative_to(folder))] = path.read_bytes()
    assert {"audit.db", "memory.db", "policy.db"} <= set(haystacks)
    leaks = {name: found for name, text in haystacks.items() if (found := find_leaks(text, pairs))}
    assert leaks == {}
    # the scan can find a leak: a secret in the text is found
    assert find_leaks(f"oops {pairs[1].secret_key[8:]}", pairs)


def _grants_text() -> str:
    from datetime import UTC, datetime, timedelta

    from agent.demo import demo_grants

    return demo_grants(datetime.now(UTC) + timedelta(days=1))
