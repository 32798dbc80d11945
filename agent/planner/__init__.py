"""Planners turn the user's words into a Plan of typed tool calls; they never execute anything.

Each implements ``Planner`` (``agent.planner.protocol``): ``OfflinePlanner`` (deterministic
rules, no model) is the embedded default; ``agent.planner.llm.LLMPlanner`` asks a chat model.
"""

from agent.planner.offline import OfflinePlanner
from agent.planner.protocol import Planner, PlannerContext

__all__ = ["OfflinePlanner", "Planner", "PlannerContext"]
