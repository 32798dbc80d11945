"""Round-2 attacks on "Text cannot lie to the eye", "a key written twice is refused whole" and
"an intent holding a seed phrase is refused", each from the CLI in a separate process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.home import Home
from devnet.server import RunningDevnet
from tests.agent.agent_runs import BOB, near_agent
from tests.devnet.helpers import balance

SEED_WORDS = [
    "abandon",
    "ability",
    "able",
    "about",
    "above",
    "absent",
    "absorb",
    "abstract",
    "absurd",
    "abuse",
    "access",
    "accident",
]


@pytest.mark.parametrize(
    "hidden",
    [
        "\ufe0f",  # VARIATION SELECTOR-16 (Mn): renders as nothing after a letter or digit
        "\U000e0100",  # VARIATION SELECTOR-17 (Mn)
        "\u180b",  # MONGOLIAN FREE VARIATION SELECTOR ONE (Mn)
        "\u17b4",  # KHMER VOWEL INHERENT AQ (Mn): invisible by design
    ],
)
def test_invisible_nonspacing_marks_in_an_intent_are_refused(
    home: Home, devnet: RunningDevnet, hidden: str
) -> None:
    """README: an intent holding zero-width or other invisible characters is refused, shown
    escaped. Invisible marks of category Mn (variation selectors, Khmer inherent vowels) are not
    in the screen's list (tools/text_screen.py: only Cf/Cc/Zl/Zp/Cs/Co/Cn and six fillers)."""
    before = balance(devnet, BOB)
    result = near_agent(home, "do", f"send 0.1 NEAR{hidden} to {BOB}", "--yes")
    shown = f"\\u{ord(hidden):04x}" if ord(hidden) <= 0xFFFF else f"\\U{ord(hidden):08x}"
    assert result.returncode == 2, result.stdout + result.stderr
    assert shown in result.stdout + result.stderr
    assert balance(devnet, BOB) == before


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_token_pinned_twice_under_keys_differing_in_case_is_refused(home: Home) -> None:
    """README: a grants file with a key written twice is refused whole. `tokens:` keys are
    looked up case-blind (policies/grants.py _Tokens: ``by_name[symbol.lower()]``), so `USDC`
    and `usdc` are one key written twice, and the later silently decides which contract the
    grant's `USDC` means."""
    expires = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    grants = _write(
        home.root / "twice.yaml",
        f"""tokens:
  USDC: {{contract_id: usdc.test.near, decimals: 6}}
  usdc: {{contract_id: evil.test.near, decimals: 6}}
grants:
- id: pay-usdc
  expires_at: "{expires}"
  kinds: [transfer]
  tokens: [USDC]
  recipients: [{BOB}]
  per_action: {{USDC: "5"}}
""",
    )
    result = near_agent(home, "grants", "add", str(grants))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "twice" in result.stderr
    shown = near_agent(home, "grants", "show", "pay-usdc")
    assert "evil.test.near" not in shown.stdout


@pytest.mark.parametrize(
    "intent",
    [
        "my seed is " + ", ".join(SEED_WORDS),
        "シードフレーズは" + "、".join(SEED_WORDS) + "です",
        "助记词:" + " ".join(SEED_WORDS),
    ],
    ids=["commas", "japanese-commas", "chinese-glued"],
)
def test_seed_phrase_in_an_intent_is_refused(home: Home, intent: str) -> None:
    """README: an intent that contains something shaped like a seed phrase is refused before any
    store sees it. tools/secret_text.py has_seed_phrase splits on whitespace only, so the same
    twelve lowercase words separated by commas (or the Japanese 、), or glued to the CJK text
    before them, are never counted as a run."""
    result = near_agent(home, "do", intent, "--yes")
    stored = b"".join(p.read_bytes() for p in home.root.rglob("*.db*") if p.is_file())
    assert b"absorb" not in stored, "the seed phrase was written to a database"
    assert result.returncode == 2, result.stdout + result.stderr
    assert "seed phrase" in result.stdout + result.stderr


def test_contact_name_with_a_variation_selector_is_refused(home: Home) -> None:
    """README: a contact holding invisible characters is refused, shown escaped. `bob` followed
    by U+FE0F looks exactly like `bob` in `contacts list`, yet is another contact, and an intent
    naming it passes the intent screen (the same gap: Mn marks are not screened). It is refused
    by the name's shape, but printed raw, so the user sees `'bob'` and cannot tell why."""
    ok = near_agent(home, "contacts", "add", "bob", BOB)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    result = near_agent(home, "contacts", "add", "bob\ufe0f", "carol.test.near")
    assert result.returncode != 0, result.stdout + result.stderr
    assert "\\ufe0f" in result.stdout + result.stderr, "refused, but the mark is not shown"


@pytest.mark.parametrize(
    "expires_at",
    ["2027-06-30T23:59:60Z", "9999-12-31T23:59:59-14:00"],
    ids=["leap-second", "past-datetime-max"],
)
def test_grants_file_with_an_impossible_expiry_is_refused_with_exit_2(
    home: Home, expires_at: str
) -> None:
    """README: a malformed grants file stops the command with one message naming the file, what
    is wrong and what to do (exit 2). A leap second makes PyYAML's timestamp constructor raise a
    bare ValueError, which load_grants_file (policies/grants.py: it catches OSError and
    yaml.YAMLError only) lets out; an offset that pushes the time past datetime.max makes
    Grant._aware's astimezone raise OverflowError, which is not a pydantic ValueError."""
    grants = _write(
        home.root / "odd-expiry.yaml",
        f"""grants:
- id: odd-expiry
  expires_at: {expires_at}
  kinds: [transfer]
  tokens: [NEAR]
  recipients: [{BOB}]
  per_action: {{NEAR: "1"}}
""",
    )
    result = near_agent(home, "grants", "add", str(grants), "--allow-long-expiry")
    said = result.stdout + result.stderr
    assert "Traceback" not in said, said
    assert result.returncode == 2, said
    assert str(grants) in said, said


def test_grants_file_with_a_variation_selector_in_a_token_name_is_refused(home: Home) -> None:
    """README: a grants file holding invisible characters is refused, shown escaped. Here the
    grant's `USDC` is `USDC` + U+FE0F, pinned to another contract than the visible `USDC`:
    the file reads as one token pinned twice, and the grant allows the other one."""
    expires = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    grants = _write(
        home.root / "selector.yaml",
        f"""tokens:
  USDC: {{contract_id: usdc.test.near, decimals: 6}}
  "USDC\ufe0f": {{contract_id: evil.test.near, decimals: 6}}
grants:
- id: pay-usdc
  expires_at: "{expires}"
  kinds: [transfer]
  tokens: ["USDC\ufe0f"]
  recipients: [{BOB}]
  per_action: {{"USDC\ufe0f": "5"}}
""",
    )
    result = near_agent(home, "grants", "add", str(grants))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "\\ufe0f" in result.stderr
