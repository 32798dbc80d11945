"""What ``schedule add`` checks against the network and the grants before storing a strategy.

A strategy that names a token the network does not know, or whose order no grant in force could
ever allow (over a per-action cap, over a whole window's cap, a token or kind no grant covers),
would only fail at every fire: it is refused at once, naming the grant and the rule. A denial
that depends on the moment (budget already used, no fresh price) is a warning, not a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Denials that no passage of time undoes: only a new grant or a smaller order does.
LASTING_DENIALS = frozenset(
    {
        "per_action_cap",
        "per_action_usd_cap",
        "no_cap_for_token",
        "kind_not_granted",
        "token_not_allowed",
        "exchange_not_allowed",
        "no_grant",
        "no_slippage_bound",
    }
)


@dataclass
class Preflight:
    refusal: str | None = None
    notes: list[str] = field(default_factory=list)


def _lasting(decision: Any) -> list[str]:
    """The denying rules' own words when every denial is lasting; [] when one may pass later."""
    denials = [t for t in decision.trace if t.result == "deny"]
    over_window = {b.scope for b in decision.budgets if b.requested > b.cap}
    words: list[str] = []
    for t in denials:
        lasting = t.code in LASTING_DENIALS or (t.code == "window_cap" and t.grant in over_window)
        if not lasting:
            return []
        words.append(f"{t.grant + ': ' if t.grant else ''}{t.detail or t.code} ({t.code})")
    return words


async def check_strategy(session: Any, strategy: Any) -> Preflight:
    """Refuse unknown tokens and orders no grant can ever allow; note what fails today.

    RpcError when the network does not answer: nothing could be checked (the caller says so).
    """
    from tools.errors import RpcError, ToolError, UnknownTokenError

    result = Preflight()
    for token in strategy.tokens():
        try:
            await session.ctx.tokens.resolve(token)
        except UnknownTokenError as exc:
            result.refusal = exc.message
            return result
        except RpcError:
            raise
        except ToolError as exc:
            result.notes.append(f"could not check token {token}: {exc.message}")
    step = strategy.sample_step()
    if step is None:
        return result
    try:
        action, decision = await session.check(step)
    except RpcError:
        raise
    except ToolError as exc:
        result.notes.append(f"today its order could not be prepared: {exc.message}")
        return result
    if decision.outcome == "deny":
        lasting = _lasting(decision)
        if lasting:
            result.refusal = (
                f"no grant in force can ever allow {action.preview}: {'; '.join(lasting)}. "
                "Lower the amount to fit, or add a grant that allows it (`near-agent grants add`)"
            )
        else:
            why = "; ".join(
                f"{t.detail or t.code} ({t.code})" for t in decision.trace if t.result == "deny"
            )
            result.notes.append(f"the policy would deny its order right now: {why}")
    elif decision.outcome == "confirm":
        result.notes.append(
            "the policy wants each of its orders confirmed: every fire waits in "
            "`near-agent approvals list`"
        )
    return result
