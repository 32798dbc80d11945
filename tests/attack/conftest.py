"""The agent tests' home fixture (alice on the shared devnet, demo grants), reused here."""

from tests.agent.conftest import home

__all__ = ["home"]
