"""Secret-shaped text in what a user types, and redaction of the values this process holds."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memory.redact import REDACTED, redact_text
from tests.keys.secrets import secret_forms
from tools.keypair import KeyPair
from tools.keys import Credentials
from tools.secret_text import has_seed_phrase, register_secret, secret_in_typed_text

NOT_SECRETS = [
    "send 2 NEAR to bob.test.near",
    "send 1 NEAR to 98793cd91a3f870fb126f66285808c7e094afcfc4eda8a970f6648cdf0dbd6de",
    "send 1 NEAR to ed25519:6E8sCci9badyRkXb3JoRpBj5p8C6Tw41ELDZoiihKEtp",  # a public key
    "swap five near for usdc when the price looks good and then tell me about it",
    "please swap some near into usdc when the price looks good today thanks",
    "１０ NEARをbobに送って",
    "claim my rewards from every task",
    "send 1 NEAR to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # a checksummed address
    "what happened to tx 9cJ6vYjWMYd5rGhdHqFxuTK1NhLJjMowpAPy5bEnf8Dz",  # a hash
]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_ordinary_intents_hold_no_secret(text: str) -> None:
    assert secret_in_typed_text(text) is None


def test_every_text_form_of_a_private_key_is_found() -> None:
    pair = KeyPair.generate()
    for form in secret_forms(pair)[:2] + [bytes.fromhex(pair.seed.hex() * 2).hex()]:
        assert secret_in_typed_text(f"send 1 NEAR to bob {form}") is not None, form


@pytest.mark.parametrize(
    "phrase",
    [
        "legal winner thank year wave sausage worth useful legal winner thank yellow",
        " ".join(["abandon"] * 23 + ["art"]),
    ],
)
def test_seed_phrases_are_found(phrase: str) -> None:
    assert has_seed_phrase(f"restore {phrase}")
    assert secret_in_typed_text(phrase) == "a seed phrase"


def test_eleven_words_are_not_a_seed_phrase() -> None:
    assert not has_seed_phrase("legal winner thank year wave sausage worth useful legal winner")


@given(st.text(max_size=40), st.text(max_size=40))
def test_a_registered_secret_is_redacted_in_any_text(prefix: str, suffix: str) -> None:
    secret = "Zq7plainApiKeyValue0192"
    register_secret(secret)
    out = redact_text(prefix + secret + suffix)
    assert secret.lower() not in out.lower()
    assert REDACTED in out


def test_a_loaded_key_is_redacted_in_every_form() -> None:
    pair = KeyPair.generate()
    Credentials("alice.test.near", pair)  # loading a key registers it
    for form in secret_forms(pair):
        assert form not in redact_text(f"said: {form}!"), form


def test_log_records_and_output_of_the_process_are_redacted(tmp_path) -> None:
    """What a process logs or prints after install_redaction never shows a registered secret."""
    secret = "Zq7plainApiKeyValue0192"
    script = (
        "import logging, sys\n"
        "from memory.redact_io import install_redaction\n"
        "from tools.secret_text import register_secret\n"
        "install_redaction()\n"
        f"register_secret({secret!r})\n"
        "logging.basicConfig(level=logging.INFO)\n"
        f"logging.getLogger('tools.chain').warning('retrying with key %s', {secret!r})\n"
        f"print('key', {secret!r}); sys.stdout.write('part {secret[:5]}'); "
        f"sys.stdout.write('{secret[5:]} end\\n')\n"
        f"try:\n    raise RuntimeError('failed with ' + {secret!r})\n"
        "except RuntimeError:\n    logging.getLogger('x').exception('boom')\n"
        f"raise ValueError({secret!r})\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 1
    assert "retrying with key [REDACTED]" in result.stderr and "ValueError" in result.stderr
    assert "key [REDACTED]" in result.stdout and "part [REDACTED] end" in result.stdout
    assert secret not in result.stdout + result.stderr
    logging.getLogger(__name__).debug("the test process itself is untouched")
