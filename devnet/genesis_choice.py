"""Which world a devnet starts from: the default genesis, or one shaped like mainnet or testnet.

A state dir keeps the chain it was started with. Asking for another shape (or another number of
pools) on a state dir that holds a chain is refused with a clear message rather than silently
ignored or silently wiped: ``reset`` says the old chain may go.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devnet.genesis import Genesis
from devnet.genesis_pools import minimum_pools
from devnet.genesis_shapes import SHAPES
from devnet.journal import Journal

DEFAULT = "default"
GENESIS_NAMES = (DEFAULT, *SHAPES)
MAX_POOLS = 100_000


class GenesisChoiceError(ValueError):
    """A genesis that cannot be built or does not match the state dir's chain."""


@dataclass(frozen=True)
class GenesisChoice:
    """A genesis by name, with a pool count for the mainnet and testnet shapes."""

    name: str
    pools: int  # 0 for the default genesis (its pools are fixed)

    @classmethod
    def parse(cls, name: str, pools: int | None = None) -> GenesisChoice:
        """Validate a name and pool count as a user gave them; GenesisChoiceError says why."""
        from devnet.genesis_mainnet import DEFAULT_POOLS

        folded = name.strip().lower()
        if folded not in GENESIS_NAMES:
            raise GenesisChoiceError(
                f"unknown genesis {name!r}: use one of {', '.join(GENESIS_NAMES)}"
            )
        if folded == DEFAULT:
            if pools is not None:
                raise GenesisChoiceError(
                    "--pools applies to --genesis mainnet or testnet; the default genesis has "
                    "its own few pools"
                )
            return cls(DEFAULT, 0)
        count = DEFAULT_POOLS[folded] if pools is None else pools
        least = minimum_pools(SHAPES[folded])
        if not least <= count <= MAX_POOLS:
            raise GenesisChoiceError(
                f"--pools must be between {least} and {MAX_POOLS} for a {folded}-shaped devnet, "
                f"not {count}"
            )
        return cls(folded, count)

    def describe(self) -> str:
        if self.name == DEFAULT:
            return "the default genesis"
        return f"a {self.name}-shaped genesis with {self.pools} pools"

    def build(self) -> Genesis:
        from devnet.genesis_default import build_default_genesis
        from devnet.genesis_mainnet import build_public_genesis

        if self.name == DEFAULT:
            return build_default_genesis()
        return build_public_genesis(SHAPES[self.name], self.pools)

    @classmethod
    def of(cls, genesis: Genesis) -> GenesisChoice:
        """The choice a stored genesis was built from."""
        name = str(genesis.manifest.get("genesis", DEFAULT))
        if name not in SHAPES:
            return cls(DEFAULT, 0)
        return cls(name, len(genesis.manifest.get("exchange", {}).get("pools", [])))


def genesis_for(state_dir: Path, choice: GenesisChoice | None, reset: bool) -> Genesis | None:
    """The genesis to start a new chain from, or None to keep (or default) the state dir's.

    Without a choice, ``reset`` starts again from the same kind of genesis the state dir held
    (new keys, a fresh chain). GenesisChoiceError when the state dir holds a chain from another
    choice and ``reset`` was not given: nothing is changed then.
    """
    journal = Journal(Path(state_dir))
    if not journal.has_genesis():
        return choice.build() if choice is not None else None
    if choice is None:
        if not reset:
            return None
        stored = GenesisChoice.of(journal.load_genesis())
        return stored.build() if stored.name != DEFAULT else None
    if reset:
        return choice.build()
    stored = GenesisChoice.of(journal.load_genesis())
    if stored != choice:
        raise GenesisChoiceError(
            f"{state_dir} holds a chain started from {stored.describe()}, not "
            f"{choice.describe()}: add --reset to replace it (its chain is forgotten), or "
            "use another --state-dir"
        )
    return None
