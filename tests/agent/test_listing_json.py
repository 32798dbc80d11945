"""``--json`` on ``grants list``/``show``, ``keys list`` and ``contacts list``: the documented
shapes, amounts as base-unit strings beside whole-token text, read by a separate process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from agent.home import Home
from devnet.server import RunningDevnet

YOCTO = 10**24


def near_agent(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "agent", "--home", str(home.root), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def as_json(home: Home, *args: str) -> object:
    return json.loads(near_agent(home, *args, "--json").stdout)


def test_grants_list_json_is_the_status_shape(home: Home) -> None:
    body = as_json(home, "grants", "list")
    assert set(body) == {"grants", "ceiling"}
    by_id = {g["grant_id"]: g for g in body["grants"]}
    transfers = by_id["demo-transfers"]
    assert set(transfers) == {"grant_id", "version", "status", "kinds", "expires_at", "windows"}
    assert transfers["status"] == "active" and transfers["kinds"] == ["transfer"]
    [window] = transfers["windows"]
    assert window["cap"] == {"units": str(20 * YOCTO), "display": "20 NEAR"}
    assert window["used"] == {"units": "0", "display": "0 NEAR"} and window["frees_at"] is None
    assert body["ceiling"][0]["cap"]["units"] == str(25 * YOCTO)


def test_grants_show_json_has_every_rule_in_base_units_and_whole_tokens(home: Home) -> None:
    [version] = as_json(home, "grants", "show", "demo-transfers")
    assert version["grant_id"] == "demo-transfers" and version["revoked"] is False
    assert version["recipients"] == ["bob.test.near", "carol.test.near"]
    assert version["per_action"] == [
        {"token": "near", "units": str(5 * YOCTO), "display": "5 NEAR"}
    ]
    assert version["confirm"]["above"] == [
        {"token": "near", "units": str(2 * YOCTO), "display": "2 NEAR"}
    ]
    assert version["confirm"]["first_time_recipient"] is True
    assert version["windows"] == [
        {
            "period_s": 86400,
            "cap": {"token": "near", "units": str(20 * YOCTO), "display": "20 NEAR"},
        }
    ]
    assert version["budget"][0]["left"]["units"] == str(20 * YOCTO)
    assert version["expires_at"].endswith("Z")
    near_agent(home, "grants", "revoke", "demo-transfers")
    [revoked] = as_json(home, "grants", "show", "demo-transfers")
    assert revoked["revoked"] is True and revoked["status"] == "revoked"


def test_keys_list_json_shows_public_keys_and_never_a_secret(
    home: Home, devnet: RunningDevnet, tmp_path: Path
) -> None:
    assert as_json(home, "keys", "list") == {
        "keystore": str(home.keys_dir),
        "encrypted": False,
        "keys": [],
    }
    manifest = json.loads((devnet.state_dir / "manifest.json").read_text())
    [entry] = [a for a in manifest["accounts"] if a["account_id"] == "alice.test.near"]
    source = Path(entry["key_file"])
    source = source if source.is_absolute() else devnet.state_dir / source
    key_file = tmp_path / "alice.json"
    shutil.copyfile(source, key_file)
    os.chmod(key_file, 0o600)
    near_agent(home, "keys", "import", str(key_file))
    text = near_agent(home, "keys", "list", "--json").stdout
    body = json.loads(text)
    [key] = body["keys"]
    assert key["public_key"] == json.loads(source.read_text())["public_key"]  # readable
    assert key["full_access"] is True and key["permission"] is None
    assert key["encrypted"] is False and key["path"].startswith(str(home.keys_dir))
    secret = json.loads(source.read_text())["private_key"]
    assert secret.split(":")[-1] not in text and "private_key" not in text


def test_contacts_list_json(home: Home) -> None:
    assert as_json(home, "contacts", "list") == []
    near_agent(home, "contacts", "add", "bob", "bob.test.near", "--note", "friend")
    [bob] = as_json(home, "contacts", "list")
    assert {k: bob[k] for k in ("name", "account_id", "note")} == {
        "name": "bob",
        "account_id": "bob.test.near",
        "note": "friend",
    }
    assert bob["added_at"]
