"""The permission policy engine: grants, decoding, rules, rolling windows, reservations, approvals.

The executor uses :class:`policies.engine.PolicyEngine` (``dry_run``, ``reserve``, ``settle``,
``release``, ``approve``); only ``near-agent grants`` (agent/cli_grants.py) writes grants.
"""
