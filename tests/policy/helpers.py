"""Builders for canonical actions, grants files and engines used by the policy tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from policies.engine import PolicyEngine, to_us
from policies.evaluator import ChainFacts
from policies.grants import parse_grants
from policies.pricing import PricePoint, PriceUnavailable, QuotePoint
from policies.store import GrantBook
from tools.action import (
    NEAR,
    CanonicalAction,
    FunctionCallSpec,
    TokenFlow,
    TransactionSpec,
    TransferSpec,
)
from tools.pools import SIMPLE_POOL, Pool

ALICE, BOB, CAROL, EVE = "alice.test.near", "bob.test.near", "carol.test.near", "eve.test.near"
WRAP, USDC, REF = "wrap.test.near", "usdc.test.near", "ref.test.near"
EXCHANGE, TASKS = "exchange.test.near", "tasks.test.near"
YOCTO = 10**24
USDC_UNIT = 10**6
TGAS = 10**12
START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
FACTS = ChainFacts(exchanges=frozenset({EXCHANGE}), wrap_id=WRAP)


def pool(
    pool_id: int,
    left: tuple[str, int],
    right: tuple[str, int],
    *,
    fee_bps: int = 30,
    kind: str = SIMPLE_POOL,
    at: datetime | None = START,
) -> Pool:
    """A two-token pool as read at ``at``: each side is (token, reserve in base units)."""
    return Pool(
        pool_id, (left[0], right[0]), (left[1], right[1]), fee_bps, kind=kind, fetched_at=at
    )


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Prices:
    """Micro-USD per whole token; NEAR at $3, USDC at $1 unless told otherwise."""

    clock: Clock
    usd_per_token: dict[str, tuple[Fraction, int]] = field(
        default_factory=lambda: {
            NEAR: (Fraction(3), 24),
            WRAP: (Fraction(3), 24),
            USDC: (Fraction(1), 6),
            REF: (Fraction(1, 2), 18),
        }
    )
    age: timedelta = timedelta(0)
    calls: int = 0

    def usd_price(self, token: str, amount: int = 0) -> PricePoint:
        self.calls += 1
        if token not in self.usd_per_token:
            raise PriceUnavailable(f"no price for {token}")
        usd, decimals = self.usd_per_token[token]
        return PricePoint(token, usd * 10**6 / 10**decimals, self.clock() - self.age, "test")


@dataclass
class Quotes:
    """Quotes from the same table as Prices, less ``haircut_bps``."""

    prices: Prices
    haircut_bps: int = 0
    age: timedelta = timedelta(0)

    def quote(self, token_in: str, token_out: str, amount_in: int) -> QuotePoint:
        p_in = self.prices.usd_price(token_in).micro_usd_per_unit
        p_out = self.prices.usd_price(token_out).micro_usd_per_unit
        out = int(amount_in * p_in / p_out) * (10_000 - self.haircut_bps) // 10_000
        return QuotePoint(
            token_in, token_out, amount_in, out, self.prices.clock() - self.age, "test"
        )


def grants_doc(
    *grants: dict[str, Any], ceiling: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "tokens": {
            "wNEAR": {"contract_id": WRAP, "decimals": 24},
            "USDC": {"contract_id": USDC, "decimals": 6},
            "REF": {"contract_id": REF, "decimals": 18},
        },
        "grants": [{"expires_at": "2030-01-01T00:00:00Z", **g} for g in grants],
    }
    if ceiling:
        doc["global"] = {"windows": ceiling}
    return doc


def transfer_grant(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "pay",
        "kinds": ["transfer"],
        "tokens": ["NEAR", "USDC"],
        "recipients": [BOB, CAROL],
        "per_action": {"NEAR": "5", "USDC": "100"},
        **overrides,
    }


def swap_grant(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "swap",
        "kinds": ["swap"],
        "tokens": ["NEAR", "wNEAR", "USDC", "REF"],
        "exchanges": [EXCHANGE],
        "per_action_usd": "50",
        "max_slippage_bps": 100,
        **overrides,
    }


def tasks_grant(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "tasks",
        "kinds": ["submit_label", "claim_rewards", "balance"],
        "contracts": [{"contract": TASKS, "methods": ["submit_label", "claim_rewards"]}],
        **overrides,
    }


def store_grants(db: Path, doc: dict[str, Any], now: datetime = START) -> None:
    policy = parse_grants(doc)
    book = GrantBook(db)
    try:
        book.add(
            {g.id: g.body_json() for g in policy.grants},
            policy.ceiling.model_dump_json() if policy.ceiling else None,
            now_us=to_us(now),
        )
    finally:
        book.close()


def write_yaml(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def make_engine(
    db: Path,
    doc: dict[str, Any] | None = None,
    *,
    clock: Clock | None = None,
    prices: bool = True,
    haircut_bps: int = 0,
    durable: bool = False,
) -> tuple[PolicyEngine, Clock]:
    clock = clock or Clock()
    if doc is not None:
        store_grants(db, doc, clock())
    price_source = Prices(clock) if prices else None
    quotes = Quotes(price_source, haircut_bps) if price_source else None
    engine = PolicyEngine(
        db, facts=FACTS, prices=price_source, quotes=quotes, clock=clock, durable=durable
    )
    return engine, clock


def _action(
    tool: str, txs: list[TransactionSpec], outflows: list[TokenFlow], recipients: list[str]
) -> CanonicalAction:
    return CanonicalAction(
        tool=tool,
        signer_id=ALICE,
        transactions=tuple(txs),
        outflows=tuple(outflows),
        recipients=tuple(recipients),
        preview=f"{tool} (test)",
    )


def near_transfer(to: str, amount: int) -> CanonicalAction:
    return _action(
        "transfer",
        [TransactionSpec(signer_id=ALICE, receiver_id=to, actions=(TransferSpec(deposit=amount),))],
        [TokenFlow(token=NEAR, amount=amount, recipient=to, purpose="transfer")],
        [to],
    )


def call(
    method: str, args: dict[str, Any], deposit: int = 0, gas: int = 30 * TGAS
) -> FunctionCallSpec:
    return FunctionCallSpec(method_name=method, args=args, gas=gas, deposit=deposit)


def ft_transfer(token: str, to: str, amount: int, *, deposit: int = 1) -> CanonicalAction:
    tx = TransactionSpec(
        signer_id=ALICE,
        receiver_id=token,
        actions=(call("ft_transfer", {"receiver_id": to, "amount": str(amount)}, deposit),),
    )
    return _action("transfer", [tx], [TokenFlow(token=token, amount=amount, recipient=to)], [to])


def swap_msg(token_in: str, token_out: str, amount_in: int, min_out: int, **extra: Any) -> str:
    return json.dumps(
        {
            "actions": [
                {
                    "pool_id": 0,
                    "token_in": token_in,
                    "token_out": token_out,
                    "amount_in": str(amount_in),
                    "min_amount_out": str(min_out),
                }
            ],
            **extra,
        }
    )


def swap(
    token_in: str,
    token_out: str,
    amount_in: int,
    min_out: int,
    *,
    msg: str | None = None,
    wrap: bool = False,
) -> CanonicalAction:
    actions = [
        call(
            "ft_transfer_call",
            {
                "receiver_id": EXCHANGE,
                "amount": str(amount_in),
                "msg": msg
                if msg is not None
                else swap_msg(token_in, token_out, amount_in, min_out),
            },
            1,
            180 * TGAS,
        )
    ]
    txs = []
    if wrap:
        txs.append(
            TransactionSpec(
                signer_id=ALICE, receiver_id=WRAP, actions=(call("near_deposit", {}, amount_in),)
            )
        )
    txs.append(TransactionSpec(signer_id=ALICE, receiver_id=token_in, actions=tuple(actions)))
    return _action(
        "swap",
        txs,
        [TokenFlow(token=token_in, amount=amount_in, recipient=EXCHANGE, purpose="swap_in")],
        [],
    )


def submit_label(
    deposit: int = 0, method: str = "submit_label", receiver: str = TASKS
) -> CanonicalAction:
    tx = TransactionSpec(
        signer_id=ALICE,
        receiver_id=receiver,
        actions=(call(method, {"task_id": 1, "label": "cat"}, deposit),),
    )
    return _action("submit_label", [tx], [], [])


def reserve_worker(db: str, attempts: int, amount: int, start: datetime) -> list[str]:
    """Run in a separate process: try ``attempts`` reservations; return the ids granted."""
    engine = PolicyEngine(
        db, facts=FACTS, prices=None, quotes=None, clock=lambda: start, durable=False
    )
    granted = []
    for _ in range(attempts):
        decision = engine.reserve(near_transfer(BOB, amount))
        if decision.reservation_id:
            granted.append(decision.reservation_id)
    engine.close()
    return granted
