"""The contracts the devnet can deploy, by the ``code_name`` a DeployContract refers to."""

from __future__ import annotations

from devnet.contract import Contract
from devnet.contracts.exchange import Exchange
from devnet.contracts.fungible_token import FungibleToken
from devnet.contracts.notary import Notary
from devnet.contracts.rated_token import RatedToken
from devnet.contracts.tasks import Tasks
from devnet.contracts.wrapped_near import WrappedNear

CONTRACTS: dict[str, type[Contract]] = {
    cls.code_name: cls for cls in (FungibleToken, WrappedNear, Exchange, Tasks, Notary, RatedToken)
}

__all__ = [
    "CONTRACTS",
    "Exchange",
    "FungibleToken",
    "Notary",
    "RatedToken",
    "Tasks",
    "WrappedNear",
]
