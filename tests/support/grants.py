"""Giving a test home its grants the way the user does: `grants add HOME/grants.yaml`, once."""

from __future__ import annotations

from pathlib import Path

from agent.grant_changes import give_grants
from agent.home import Home
from memory.audit import AuditLog


def give_home_grants(home: Home, path: Path | None = None) -> list[tuple[str, int, bool]]:
    """Store ``path`` (default HOME/grants.yaml) as the user's `grants add` would, audited."""
    with AuditLog(home.audit_db) as audit:
        return give_grants(home, path or home.root / "grants.yaml", audit)


def demo_grant_ids() -> set[str]:
    """The ids of the shipped demo grants (policies/examples/demo-grant.yaml), read from it."""
    import yaml

    example = Path(__file__).parents[2] / "policies" / "examples" / "demo-grant.yaml"
    return {grant["id"] for grant in yaml.safe_load(example.read_text())["grants"]}
