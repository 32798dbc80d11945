"""Where the agent keeps its configuration, keys and databases, and the user's shared state."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "NEAR_AGENT_HOME"
STATE_ENV = "NEAR_AGENT_STATE"


def user_state_dir() -> Path:
    """State that belongs to the user's keys rather than to one home (the nonce ledger), so
    shared by every home of this user on this machine: ``$NEAR_AGENT_STATE``, then
    ``$XDG_STATE_HOME/near-agent``, then ``~/.local/state/near-agent``."""
    explicit = os.environ.get(STATE_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return (base / "near-agent").resolve()


@dataclass(frozen=True)
class Home:
    """The agent's home folder and the well-known paths inside it."""

    root: Path

    @classmethod
    def resolve(cls, explicit: str | Path | None = None) -> Home:
        """``--home`` wins, then ``$NEAR_AGENT_HOME``, then ``~/.near-agent``."""
        chosen = explicit or os.environ.get(HOME_ENV) or Path.home() / ".near-agent"
        return cls(Path(chosen).expanduser().resolve())

    def make(self) -> Home:
        """Create the home folder, readable by its owner alone (0700); tighten it if it is
        looser. The one way a home's folder is made (``init``, ``demo``, ``keys import``)."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = self.root.stat()
        if info.st_mode & 0o077 and info.st_uid == os.getuid():
            os.chmod(self.root, info.st_mode & 0o700)
        return self

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
    def pools_db(self) -> Path:
        """The exchange pool index (``memory.pool_index``): a cache, rebuilt from the chain."""
        return self.root / "pools.db"

    @property
    def jobs_db(self) -> Path:
        """The scheduler's strategies, fire ledger and approval inbox (``memory.jobs``)."""
        return self.root / "jobs.db"

    @property
    def devnet_dir(self) -> Path:
        return self.root / "devnet"

    @property
    def state_dir(self) -> Path:
        """The user's state folder, outside the home and shared by all of them (see
        :func:`user_state_dir`)."""
        return user_state_dir()

    @property
    def anchorers_db(self) -> Path:
        """Which accounts anchored which home's audit log (``memory.audit.anchorers``): in the
        state folder, where editing or emptying a home does not reach."""
        return self.state_dir / "anchorers.db"
