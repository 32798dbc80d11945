"""The agent tests' home fixtures (alice on the shared devnet, demo grants; the LLM planner
pointed at a replay server), reused here."""

from tests.agent.conftest import home, llm_home

__all__ = ["home", "llm_home"]
