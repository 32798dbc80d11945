"""Where the agent keeps its configuration, keys and databases."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "NEAR_AGENT_HOME"


@dataclass(frozen=True)
class Home:
    """The agent's home folder and the well-known paths inside it."""

    root: Path

    @classmethod
    def resolve(cls, explicit: str | Path | None = None) -> Home:
        """``--home`` wins, then ``$NEAR_AGENT_HOME``, then ``~/.near-agent``."""
        chosen = explicit or os.environ.get(HOME_ENV) or Path.home() / ".near-agent"
        return cls(Path(chosen).expanduser().resolve())

    @property
    def config_file(self) -> Path:
        return self.root / "agent.yaml"

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def audit_db(self) -> Path:
        return self.root / "audit.db"

    @property
    def memory_db(self) -> Path:
        return self.root / "memory.db"

    @property
    def policy_db(self) -> Path:
        return self.root / "policy.db"

    @property
    def devnet_dir(self) -> Path:
        return self.root / "devnet"
