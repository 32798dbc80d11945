"""Round-2 attack on "Only you write grants (`grants add`, or `init --grants` once); nothing
re-reads a grants file by itself, so a revoked grant stays revoked until you add it again".

`near-agent demo --dir HOME` pointed at an existing home (the user's own, whose grants were
revoked) rewrites HOME/grants.yaml and stores it again, so every revoked demo grant is live
once more, and HOME/agent.yaml is replaced; the user never ran `grants add`."""

from __future__ import annotations

from agent.home import Home
from tests.agent.test_grants_source import grant_rows, near_agent, ok


def test_demo_on_an_existing_home_does_not_bring_revoked_grants_back(home: Home) -> None:
    ok(near_agent(home, "grants", "revoke", "--all", "--reason", "stop everything"))
    config_before = home.config_file.read_text()
    assert all(revoked for _, _, revoked in grant_rows(home))

    near_agent(home, "demo", "--dir", str(home.root))

    live = [(grant_id, version) for grant_id, version, revoked in grant_rows(home) if not revoked]
    assert live == [], f"grants live again without `grants add`: {live}"
    assert home.config_file.read_text() == config_before, "the user's agent.yaml was replaced"
