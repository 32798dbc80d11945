"""NEAR's account id rule, declared once for the agent's tools and the devnet alike.

A leaf module (no project imports) so the devnet can check ids exactly as the tools do without
importing the tool layer.
"""

from __future__ import annotations

import re

# ASCII classes and fullmatch on purpose: "\d" would admit any Unicode digit ("bob\u0663.near"),
# and "$" matches before a trailing newline ("bob.near\n"); neither is a NEAR account id.
_ACCOUNT_PART = r"[a-z0-9]+(?:[-_][a-z0-9]+)*"
_ACCOUNT_ID = re.compile(rf"{_ACCOUNT_PART}(?:\.{_ACCOUNT_PART})*", re.ASCII)
_NEAR_IMPLICIT = re.compile(r"[0-9a-f]{64}", re.ASCII)


def is_valid_account_id(account_id: str) -> bool:
    """NEAR's account id rules: 2-64 chars of a-z 0-9 - _ . without leading/doubled separators.

    Implicit accounts (64 hex chars) pass too.
    """
    return (
        isinstance(account_id, str)
        and 2 <= len(account_id) <= 64
        and _ACCOUNT_ID.fullmatch(account_id) is not None
    )


def is_near_implicit(account_id: str) -> bool:
    """A NEAR implicit account id: 64 lowercase hex characters (an ed25519 public key)."""
    return isinstance(account_id, str) and _NEAR_IMPLICIT.fullmatch(account_id) is not None
