"""Secrets never reach the audit database file, wherever they hide in a payload."""

from __future__ import annotations

import tempfile
from pathlib import Path

import base58
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from memory.audit import AuditKind, AuditLog
from memory.redact import REDACTED, redact


def _near_secret(seed: bytes) -> tuple[str, str]:
    """A near-cli style (secret key, public key) pair from a 32-byte seed."""
    key = SigningKey(seed)
    public = bytes(key.verify_key)
    return (
        "ed25519:" + base58.b58encode(seed + public).decode(),
        "ed25519:" + base58.b58encode(public).decode(),
    )


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.binary(min_size=32, max_size=32),
    before=text,
    after=text,
    api_key=st.text(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=20, max_size=48
    ),
    token=st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=12, max_size=40),
    field=st.sampled_from(
        [
            "private_key",
            "secretKey",
            "API_KEY",
            "passphrase",
            "password",
            "seed_phrase",
            "mnemonic",
            "secret_key",
        ]
    ),
)
def test_no_secret_survives_in_the_database_bytes(
    seed: bytes, before: str, after: str, api_key: str, token: str, field: str
) -> None:
    secret, public = _near_secret(seed)
    sk_key = f"sk-proj-{api_key}"
    token = f"eyJhbGciOi.{token}"  # a distinctive bearer token (JWT-like)
    words = "correct horse battery staple " + api_key
    payload = {
        "key_file": {"account_id": "alice.near", "public_key": public, "private_key": secret},
        "note": f"{before}{secret}{after}",
        "llm": {"headers": {"Authorization": f"Bearer {token}"}, "error": f"bad key {sk_key}"},
        "steps": [["signed with", secret], {field: words}],
        "bare": f"exported key:{secret.split(':')[1]}\n",
        secret: "secret as a key",
    }
    with tempfile.TemporaryDirectory() as folder:
        with AuditLog(Path(folder) / "audit.db") as log:
            entry = log.append(
                AuditKind.ERROR,
                actor="system",
                correlation_id=f"x {sk_key}",
                tool=f"tool {secret}",
                status=f"Bearer {token}",
                data=payload,
            )
            log.append(
                AuditKind.USER_MESSAGE,
                actor="user",
                correlation_id="c",
                data={"text": f"my key is {secret}, use it"},
            )
            assert log.verify().ok
            stored = _all_bytes(Path(folder))  # database, -wal and -shm while open
        stored += _all_bytes(Path(folder))  # and after the WAL is checkpointed
    needles = [secret, secret.split(":")[1], sk_key, token, words]
    for needle in needles:
        assert needle.encode() not in stored, needle
    # The public key is not a secret and stays, so the signer can be identified.
    assert entry.data["key_file"]["public_key"] == public
    assert entry.data["key_file"]["private_key"] == REDACTED


def test_redact_leaves_ordinary_values_alone() -> None:
    data = {
        "receiver_id": "bob.near",
        "amount": "5",
        "token": "USDC",
        "secret_santa": None,
        "public_key": "ed25519:6E8sCci9badyRkXb3JoRpBj5p8C6Tw41ELDZoiihKEtp",
        "text": "skip the bearer of bad news; sk-short",
    }
    assert redact(data) == data


def test_a_32_byte_seed_is_hidden_unless_it_is_a_public_key_field() -> None:
    import base58

    from memory.redact import REDACTED, redact

    seed = "ed25519:" + base58.b58encode(bytes(range(32))).decode()
    out = redact({"note": f"my key is {seed}", "public_key": seed, "signer_public_key": seed})
    assert out["note"] == f"my key is ed25519:{REDACTED}"
    assert out["public_key"] == seed and out["signer_public_key"] == seed
