"""Round-2 attack on "`audit verify --anchored` reads your anchors back from the notary contract
(never from the local copy) and fails unless each anchored head is in the local log at its
position, so an emptied or re-chained log is caught".

Which anchors are "yours" is read from the local agent.yaml (its account_id), a file whoever
empties the log can edit too: point it at an account that never anchored and the emptied log
verifies "OK"."""

from __future__ import annotations

import yaml

from agent.home import Home
from tests.agent.test_grants_source import near_agent, ok
from tests.support.anchoring_home import anchoring_home

__all__ = ["anchoring_home"]


def test_emptied_log_is_caught_even_after_agent_yaml_names_another_account(
    anchoring_home: Home,
) -> None:
    home = anchoring_home  # a devnet of its own: anchors from other tests stay on chain
    ok(near_agent(home, "audit", "anchor"))
    ok(near_agent(home, "audit", "verify", "--anchored"))

    for suffix in ("", "-wal", "-shm"):  # empty the log
        home.audit_db.with_name(home.audit_db.name + suffix).unlink(missing_ok=True)
    emptied = near_agent(home, "audit", "verify", "--anchored")
    assert emptied.returncode != 0, emptied.stdout + emptied.stderr  # caught, as promised

    config = yaml.safe_load(home.config_file.read_text())
    config["account_id"] = "bob.test.near"  # an account that never anchored
    home.config_file.write_text(yaml.safe_dump(config))
    swapped = near_agent(home, "audit", "verify", "--anchored")
    assert swapped.returncode != 0, swapped.stdout + swapped.stderr
