"""The policy engine the executor calls before anything is signed.

``dry_run`` decides without reserving. ``reserve`` decides again inside one SQLite write
transaction and, when the action is allowed (or confirmed by a valid approval), records a pending
reservation in the same transaction, so two processes can never both spend the last of a budget.
The reservation is held by this process (its owner is written in the same transaction). The
executor calls ``claim`` after signing each transaction and before sending it, to confirm the
reservation is still pending and still its own, then ``settle`` with what the chain actually
moved, ``release`` if nothing happened, or ``disown`` when it cannot tell (reconcile decides).
The engine reads grants but has no way to write them: that is the user's CLI alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from memory.process_owner import ProcessOwner, current_owner
from policies.approvals import Approval, ApprovalRefused, approval_problem
from policies.evaluator import (
    ALLOW,
    CONFIRM,
    DENY,
    ActiveGrant,
    ChainFacts,
    Decision,
    Trace,
    evaluate,
)
from policies.grants import Ceiling, Grant
from policies.pricing import PricePoint, PriceSource, QuotePoint, QuoteSource
from policies.store import PolicyLedger, ReservationRow
from policies.windows import NoState, State, to_us
from tools.action import CanonicalAction

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class PolicyEngine:
    """Evaluate, reserve, settle, release and approve; read-only towards grants."""

    def __init__(
        self,
        db_path: Path | str,
        *,
        facts: ChainFacts | None = None,
        prices: PriceSource | None = None,
        quotes: QuoteSource | None = None,
        clock: Clock = utc_now,
        price_max_age: timedelta = timedelta(seconds=60),
        durable: bool = True,
        owner: ProcessOwner | None = None,
    ) -> None:
        self._ledger = PolicyLedger(db_path, durable=durable)
        self._owner = owner  # None: whichever process reserves (the normal case)
        self.facts = facts or ChainFacts()
        self.prices, self.quotes = prices, quotes
        self.clock = clock
        self.price_max_age = price_max_age
        self._cache: tuple[tuple[Any, ...], list[ActiveGrant], Ceiling | None] | None = None

    def close(self) -> None:
        self._ledger.close()

    # ------------------------------------------------------------------ reading grants

    def grants(self) -> list[ActiveGrant]:
        """The latest version of every grant, with its revocation flag (a copy; read-only)."""
        return list(self._load()[0])

    def _load(self, refresh: bool = True) -> tuple[list[ActiveGrant], Ceiling | None]:
        if self._cache is not None and not refresh:
            return self._cache[1], self._cache[2]
        token = self._ledger.state_token()
        if self._cache is None or self._cache[0] != token:
            grants = [
                ActiveGrant(Grant.model_validate_json(row.body), row.version, row.revoked)
                for row in self._ledger.grants()
            ]
            ceiling_row = self._ledger.ceiling()
            ceiling = Ceiling.model_validate_json(ceiling_row[1]) if ceiling_row else None
            self._cache = (token, grants, ceiling)
        return self._cache[1], self._cache[2]

    # ------------------------------------------------------------------ deciding

    def dry_run(self, action: CanonicalAction | Mapping[str, Any]) -> Decision:
        """The decision, trace and budget left, without reserving anything."""
        parsed = _coerce(action, self.clock)
        if isinstance(parsed, Decision):
            return parsed
        return self._evaluate(parsed, self.clock(), {}, {})

    evaluate = dry_run

    def _evaluate(
        self,
        action: CanonicalAction,
        now: datetime,
        price_cache: dict[tuple[str, int], PricePoint],
        quote_cache: dict[tuple[str, str, int], QuotePoint],
        state: State | None = None,
        action_hash: str | None = None,
        refresh: bool = True,
    ) -> Decision:
        try:
            grants, ceiling = self._load(refresh)
        except Exception as exc:  # unreadable grants: nothing is granted
            return Decision(
                DENY,
                ["grants_unreadable"],
                [Trace("grants", DENY, "grants_unreadable", str(exc))],
                action.action_hash(),
                now,
            )
        return evaluate(
            action,
            grants,
            now=now,
            state=state or self._ledger,
            facts=self.facts,
            ceiling=ceiling,
            prices=self.prices,
            quotes=self.quotes,
            price_max_age=self.price_max_age,
            price_cache=price_cache,
            quote_cache=quote_cache,
            action_hash=action_hash,
        )

    def reserve(
        self, action: CanonicalAction | Mapping[str, Any], *, approval_id: str | None = None
    ) -> Decision:
        """Decide and, if allowed, reserve the budget atomically; ``reservation_id`` is set then.

        Prices and quotes are fetched before the write lock is taken (by a first pass without
        history: state only adds denials, so a DENY there is final) and reused inside it.
        """
        return self.reserve_many([(action, approval_id)])[0]

    def reserve_many(
        self, items: Sequence[tuple[CanonicalAction | Mapping[str, Any], str | None]]
    ) -> list[Decision]:
        """Several ``reserve`` calls in one write transaction (one disk sync), in order: each
        action is decided against the budget the earlier ones in the batch left."""
        results: list[Decision | None] = []
        pending: list[
            tuple[
                int,
                CanonicalAction,
                str | None,
                dict[tuple[str, int], PricePoint],
                dict[tuple[str, str, int], QuotePoint],
                str,
            ]
        ] = []
        for action, approval_id in items:
            parsed = _coerce(action, self.clock)
            if isinstance(parsed, Decision):
                parsed.dry_run = False
                results.append(parsed)
                continue
            prices: dict[tuple[str, int], PricePoint] = {}
            quotes: dict[tuple[str, str, int], QuotePoint] = {}
            # the first pass may use cached grants; a DENY is confirmed with fresh ones
            first = self._evaluate(parsed, self.clock(), prices, quotes, NoState(), refresh=False)
            if first.outcome == DENY:
                first = self._evaluate(parsed, self.clock(), prices, quotes, NoState())
            if first.outcome == DENY:
                first.dry_run = False
                results.append(first)
                continue
            pending.append((len(results), parsed, approval_id, prices, quotes, first.action_hash))
            results.append(None)
        if pending:
            with self._ledger.transaction():
                for index, parsed, approval_id, prices, quotes, digest in pending:
                    results[index] = self._reserve_locked(
                        parsed, approval_id, prices, quotes, digest
                    )
        return [r for r in results if r is not None]

    def _reserve_locked(
        self,
        parsed: CanonicalAction,
        approval_id: str | None,
        prices: dict[tuple[str, int], PricePoint],
        quotes: dict[tuple[str, str, int], QuotePoint],
        digest: str,
    ) -> Decision:
        """The decision and reservation, inside the write transaction."""
        now = self.clock()
        decision = self._evaluate(parsed, now, prices, quotes, action_hash=digest)
        decision.dry_run = False
        now_us = to_us(now)
        if decision.outcome == CONFIRM and approval_id is not None:
            problem = approval_problem(
                self._ledger.approval(approval_id), decision.action_hash, now_us
            )
            if problem is None:
                decision.outcome, decision.reasons = ALLOW, ["approved"]
                decision.approval_id = approval_id
                decision.trace.append(Trace("approval", ALLOW, "approved", approval_id))
            else:
                decision.trace.append(Trace("approval", CONFIRM, problem, approval_id))
                decision.reasons.append(problem)
        if decision.outcome != ALLOW:
            return decision
        assert decision.grant_id is not None and decision.grant_version is not None
        decision.reservation_id = self._ledger.insert_reservation(
            grant_id=decision.grant_id,
            grant_version=decision.grant_version,
            action_hash=decision.action_hash,
            tool=parsed.tool,
            created_us=now_us,
            amounts=decision.spent,
            usd=decision.usd,
            recipients=decision.recipients,
            detail={"reasons": decision.reasons},
            owner=self.owner,
        )
        if decision.approval_id is not None and not self._ledger.use_approval(
            decision.approval_id, now_us=now_us, reservation_id=decision.reservation_id
        ):
            raise RuntimeError("approval was used concurrently")  # rolls everything back
        return decision

    @property
    def owner(self) -> ProcessOwner:
        """The process this engine's reservations are held by."""
        return self._owner or current_owner()

    def claim(self, reservation_id: str) -> bool:
        """Right before a signed transaction is sent: True while the reservation is still pending
        and still ours; False when it was taken away (then nothing may be sent for it)."""
        return self._ledger.claim(reservation_id, self.owner, now_us=to_us(self.clock()))

    def disown(self, reservation_id: str) -> bool:
        """Let go of our still pending reservation, which we will neither settle nor release, so
        that any reconcile resolves it from the chain now; False if it was no longer ours."""
        return self._ledger.disown(reservation_id, self.owner, now_us=to_us(self.clock()))

    def settle(
        self,
        reservation_id: str,
        actual: Mapping[str, int] | None = None,
        *,
        owner: ProcessOwner | None = None,
        durable: bool = True,
    ) -> ReservationRow:
        """The action ran: keep its reservation at what the chain moved (``actual`` per token,
        base units; None keeps the reserved amounts) and remember its recipients.

        ReservationResolved if it is no longer pending (or no longer ``owner``'s). ``durable``
        may be False only when every transaction sent for it is journalled (see the ledger)."""
        return self._ledger.settle(
            reservation_id, actual, now_us=to_us(self.clock()), owner=owner, durable=durable
        )

    def release(
        self, reservation_id: str, reason: str = "", *, owner: ProcessOwner | None = None
    ) -> None:
        """The action failed or was abandoned: its reservation no longer counts.

        ReservationResolved if it is no longer pending (or no longer ``owner``'s)."""
        self._ledger.release(reservation_id, now_us=to_us(self.clock()), reason=reason, owner=owner)

    def reservation(self, reservation_id: str) -> ReservationRow | None:
        return self._ledger.reservation(reservation_id)

    def pending(self, older_than: timedelta = timedelta(0)) -> list[ReservationRow]:
        """Reservations still pending (they keep counting as spent until settled or released);
        the executor reconciles them against the chain after a restart."""
        return self._ledger.pending(to_us(self.clock() - older_than))

    def approve(
        self, action: CanonicalAction, *, ttl: timedelta = timedelta(minutes=5)
    ) -> Approval:
        """Record the user's confirmation of exactly this action, usable once before ``ttl``.

        Refused unless the action currently evaluates to CONFIRM: an approval never overrides
        a DENY, and an ALLOW needs none.
        """
        decision = self.dry_run(action)
        if decision.outcome != CONFIRM:
            raise ApprovalRefused(f"the action is {decision.outcome}, not confirm", decision)
        now = self.clock()
        expires = now + ttl
        approval_id = self._ledger.add_approval(
            decision.action_hash, now_us=to_us(now), expires_us=to_us(expires)
        )
        return Approval(approval_id, decision.action_hash, expires)


def chain_facts(network: Any) -> ChainFacts:
    """ChainFacts from a ``tools.network.Network`` (its exchange and wNEAR contract ids)."""
    exchange = getattr(network, "exchange_id", None)
    return ChainFacts(
        exchanges=frozenset({exchange} if exchange else ()),
        wrap_id=getattr(network, "wrap_id", None),
    )


def _coerce(
    action: CanonicalAction | Mapping[str, Any], clock: Clock = utc_now
) -> CanonicalAction | Decision:
    """A canonical action, or a DENY decision when the input is not one."""
    if isinstance(action, CanonicalAction):
        return action
    try:
        return CanonicalAction.model_validate(action)
    except (ValidationError, TypeError, ValueError) as exc:
        try:
            text = json.dumps(action, sort_keys=True, separators=(",", ":"), default=str)
        except (TypeError, ValueError):
            text = repr(action)
        digest = hashlib.sha256(text.encode()).hexdigest()
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Decision(
            DENY,
            ["malformed_action"],
            [Trace("decode", DENY, "malformed_action", detail)],
            digest,
            clock(),
        )
