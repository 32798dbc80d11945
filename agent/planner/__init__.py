"""Planners turn the user's words into a Plan of typed tool calls; they never execute anything.

``OfflinePlanner`` (deterministic rules, no model) is the embedded default.
"""

from agent.planner.offline import OfflinePlanner

__all__ = ["OfflinePlanner"]
