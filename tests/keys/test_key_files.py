"""Key files: permissions are checked, encrypted files open only with the right passphrase."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tools.errors import CredentialsError
from tools.keypair import KeyPair
from tools.keys import load_credentials
from tools.keystore import (
    PASSPHRASE_ENV,
    FunctionCallPermission,
    Keystore,
    passphrase_from_env_or_prompt,
)

from .secrets import secret_forms


def _near_cli_file(path: Path, pair: KeyPair, mode: int) -> Path:
    pair.write_credentials(path, "alice.test.near")
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_a_key_file_others_can_read_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    pair = KeyPair.generate()
    path = _near_cli_file(tmp_path / "alice.json", pair, mode)
    with pytest.raises(CredentialsError) as info:
        load_credentials(path, "alice.test.near")
    message = info.value.message
    assert f"chmod 600 {path}" in message and f"{mode:04o}" in message
    assert not any(form in message for form in secret_forms(pair))
    assert not any(form in repr(info.value.to_dict()) for form in secret_forms(pair))


def test_a_key_file_for_its_owner_only_loads(tmp_path: Path) -> None:
    pair = KeyPair.generate()
    path = _near_cli_file(tmp_path / "alice.json", pair, 0o600)
    assert load_credentials(path).public_key == pair.public_key
    path.chmod(0o400)
    assert load_credentials(path).public_key == pair.public_key


def test_devnet_key_files_are_written_for_their_owner(devnet) -> None:
    for entry in devnet.manifest["accounts"]:
        path = Path(entry["key_file"])
        path = path if path.is_absolute() else devnet.state_dir / path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert load_credentials(path, entry["account_id"]).account_id == entry["account_id"]


def test_encrypted_keystore_round_trip_and_no_plaintext_on_disk(tmp_path: Path) -> None:
    store = Keystore(tmp_path / "keys", passphrase=lambda: "correct horse")
    store.enable_encryption()
    pair = KeyPair.generate()
    entry = store.store("alice.test.near", pair)
    assert entry.encrypted
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o600
    for path in (tmp_path / "keys").iterdir():
        data = path.read_bytes()
        assert not any(form.encode() in data for form in secret_forms(pair)), path
        assert pair.seed not in data
    again = Keystore(tmp_path / "keys", passphrase=lambda: "correct horse")
    assert again.load(again.entries()[0]).secret_key == pair.secret_key
    assert load_credentials(entry.path, passphrase=lambda: "correct horse").public_key == (
        pair.public_key
    )


def test_a_wrong_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    store = Keystore(tmp_path / "keys", passphrase=lambda: "right")
    store.enable_encryption()
    pair = KeyPair.generate()
    entry = store.store("alice.test.near", pair)
    wrong = Keystore(tmp_path / "keys", passphrase=lambda: "wrong")
    with pytest.raises(CredentialsError, match="wrong passphrase"):
        wrong.load(entry)
    with pytest.raises(CredentialsError, match="wrong passphrase"):
        load_credentials(entry.path, passphrase=lambda: "wrong")
    with pytest.raises(CredentialsError, match="wrong passphrase"):  # can't store under another
        wrong.store("bob.test.near", KeyPair.generate())


def test_a_tampered_box_is_refused(tmp_path: Path) -> None:
    store = Keystore(tmp_path / "keys", passphrase=lambda: "pw")
    store.enable_encryption()
    entry = store.store("alice.test.near", KeyPair.generate())
    raw = json.loads(entry.path.read_text())
    raw["account_id"] = "mallory.test.near"  # the box is bound to its account and public key
    entry.path.write_text(json.dumps(raw))
    entry.path.chmod(0o600)
    with pytest.raises(CredentialsError, match="wrong passphrase|altered"):
        load_credentials(entry.path, passphrase=lambda: "pw")


def test_turning_encryption_on_seals_keys_stored_in_plain(tmp_path: Path) -> None:
    store = Keystore(tmp_path / "keys", passphrase=lambda: "pw")
    pair = KeyPair.generate()
    perm = FunctionCallPermission("tasks.test.near", ("submit_label",), 10**23)
    entry = store.store("alice.test.near", pair, permission=perm)
    assert pair.secret_key in entry.path.read_text()
    store.enable_encryption()
    (sealed,) = store.entries()
    assert sealed.encrypted and sealed.permission == perm
    assert pair.secret_key not in sealed.path.read_text()
    assert store.load(sealed).public_key == pair.public_key


def test_passphrase_comes_from_the_environment_or_fails_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "from-env")
    assert passphrase_from_env_or_prompt(interactive=False) == "from-env"
    monkeypatch.delenv(PASSPHRASE_ENV)
    with pytest.raises(CredentialsError, match=PASSPHRASE_ENV):
        passphrase_from_env_or_prompt(interactive=False)


def test_the_keystore_folder_is_private(tmp_path: Path) -> None:
    store = Keystore(tmp_path / "keys")
    store.store("alice.test.near", KeyPair.generate())
    assert stat.S_IMODE(os.stat(tmp_path / "keys").st_mode) == 0o700


def test_keys_commands_import_list_and_encrypt(devnet, tmp_path: Path) -> None:
    from .helpers import cli, make_home

    home = make_home(devnet, tmp_path / "home")
    pair = KeyPair.generate()
    source = _near_cli_file(tmp_path / "alice.json", pair, 0o600)
    imported = cli(home, "keys", "import", str(source))
    assert imported.exit_code == 0, imported.output
    assert "not encrypted" in imported.output
    assert f"key_file: {home.keys_dir / 'alice.test.near.json'}" in imported.output
    assert str(home.keys_dir / "alice.test.near.json") in home.config_file.read_text()
    listed = cli(home, "keys", "list")
    assert pair.public_key in listed.output and "full access" in listed.output
    assert "(encrypted)" not in listed.output
    no_pass = cli(home, "keys", "encrypt", env={PASSPHRASE_ENV: ""})
    assert no_pass.exit_code == 1 and PASSPHRASE_ENV in no_pass.output
    sealed = cli(home, "keys", "encrypt", env={PASSPHRASE_ENV: "pw"})
    assert sealed.exit_code == 0, sealed.output
    assert "(encrypted)" in cli(home, "keys", "list").output
    stored = (home.keys_dir / "alice.test.near.json").read_text()
    assert not any(form in stored for form in secret_forms(pair))
    wrong = cli(home, "keys", "import", str(source), env={PASSPHRASE_ENV: "other"})
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.output
    for result in (imported, listed, sealed, wrong):
        assert not any(form in result.output for form in secret_forms(pair))
