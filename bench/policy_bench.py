"""Policy engine throughput: ``python -m bench.policy_bench``.

Prints decisions per second for (1) the stateless rules (the evaluator over the demo grants with
no spending history), (2) ``PolicyEngine.dry_run`` (adds the grant lookup in SQLite), (3)
``PolicyEngine.reserve`` with durable reservations (``synchronous=FULL``, one write transaction
per decision; also batched with ``reserve_many``, and the disk's raw commit rate for scale) and,
when ``cedarpy`` imports, (4) the same stateless rules written in Cedar.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

from bench import baseline
from policies.engine import PolicyEngine, to_us
from policies.evaluator import ActiveGrant, ChainFacts, evaluate
from policies.grants import parse_grants
from policies.pricing import PricePoint, QuotePoint
from policies.store import GrantBook
from policies.windows import NoState
from tools.action import (
    NEAR,
    CanonicalAction,
    FunctionCallSpec,
    TokenFlow,
    TransactionSpec,
    TransferSpec,
)

ALICE, BOB = "alice.test.near", "bob.test.near"
WRAP, USDC, EXCHANGE, TASKS = (
    "wrap.test.near",
    "usdc.test.near",
    "exchange.test.near",
    "tasks.test.near",
)
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
FACTS = ChainFacts(exchanges=frozenset({EXCHANGE}), wrap_id=WRAP)

GRANTS = {
    "tokens": {
        "wNEAR": {"contract_id": WRAP, "decimals": 24},
        "USDC": {"contract_id": USDC, "decimals": 6},
    },
    "grants": [
        {
            "id": "pay",
            "expires_at": "2030-01-01T00:00:00Z",
            "kinds": ["transfer"],
            "tokens": ["NEAR", "USDC"],
            "recipients": [BOB, "carol.test.near"],
            "per_action": {"NEAR": "5", "USDC": "100"},
        },
        {
            "id": "swap",
            "expires_at": "2030-01-01T00:00:00Z",
            "kinds": ["swap"],
            "tokens": ["NEAR", "wNEAR", "USDC"],
            "exchanges": [EXCHANGE],
            "per_action_usd": "50",
            "max_slippage_bps": 100,
        },
        {
            "id": "tasks",
            "expires_at": "2030-01-01T00:00:00Z",
            "kinds": ["submit_label"],
            "contracts": [{"contract": TASKS, "methods": ["submit_label"]}],
        },
    ],
}
RESERVE_GRANTS = {
    "grants": [
        {
            "id": "pay",
            "expires_at": "2030-01-01T00:00:00Z",
            "kinds": ["transfer"],
            "tokens": ["NEAR"],
            "recipients": [BOB],
            "per_action": {"NEAR": "5"},
            "windows": [{"token": "NEAR", "amount": "1000000000", "period": "24h"}],
            "rate_limit": {"count": 1000000, "period": "1h"},
        }
    ],
}


class StaticPrices:
    """NEAR and wNEAR at $3, USDC at $1, always fresh."""

    table = {NEAR: Fraction(3, 10**18), WRAP: Fraction(3, 10**18), USDC: Fraction(1)}

    def usd_price(self, token: str, amount: int = 0) -> PricePoint:
        return PricePoint(token, self.table[token], NOW, "static")

    def quote(self, token_in: str, token_out: str, amount_in: int) -> QuotePoint:
        out = int(amount_in * self.table[token_in] / self.table[token_out])
        return QuotePoint(token_in, token_out, amount_in, out, NOW, "static")


def _fc(method: str, args: dict, deposit: int = 0) -> FunctionCallSpec:
    return FunctionCallSpec(method_name=method, args=args, gas=30 * 10**12, deposit=deposit)


def sample_actions() -> list[CanonicalAction]:
    yocto = 10**24
    transfer = CanonicalAction(
        tool="transfer",
        signer_id=ALICE,
        preview="send 1 NEAR to bob",
        transactions=(
            TransactionSpec(
                signer_id=ALICE, receiver_id=BOB, actions=(TransferSpec(deposit=yocto),)
            ),
        ),
        outflows=(TokenFlow(token=NEAR, amount=yocto, recipient=BOB),),
        recipients=(BOB,),
    )
    ft = CanonicalAction(
        tool="transfer",
        signer_id=ALICE,
        preview="send 5 USDC to bob",
        transactions=(
            TransactionSpec(
                signer_id=ALICE,
                receiver_id=USDC,
                actions=(_fc("ft_transfer", {"receiver_id": BOB, "amount": "5000000"}, 1),),
            ),
        ),
        outflows=(TokenFlow(token=USDC, amount=5_000_000, recipient=BOB),),
        recipients=(BOB,),
    )
    msg = json.dumps(
        {
            "actions": [
                {
                    "pool_id": 0,
                    "token_in": WRAP,
                    "token_out": USDC,
                    "amount_in": str(yocto),
                    "min_amount_out": "2980000",
                }
            ]
        }
    )
    swap = CanonicalAction(
        tool="swap",
        signer_id=ALICE,
        preview="swap 1 wNEAR to USDC",
        transactions=(
            TransactionSpec(
                signer_id=ALICE,
                receiver_id=WRAP,
                actions=(
                    _fc(
                        "ft_transfer_call",
                        {"receiver_id": EXCHANGE, "amount": str(yocto), "msg": msg},
                        1,
                    ),
                ),
            ),
        ),
        outflows=(TokenFlow(token=WRAP, amount=yocto, recipient=EXCHANGE),),
    )
    label = CanonicalAction(
        tool="submit_label",
        signer_id=ALICE,
        preview="label item 3 of task 1",
        transactions=(
            TransactionSpec(
                signer_id=ALICE,
                receiver_id=TASKS,
                actions=(_fc("submit_label", {"task_id": 1, "item_id": 3, "label": "cat"}),),
            ),
        ),
    )
    return [transfer, ft, swap, label]


def bench_stateless(n: int) -> float:
    grants = [ActiveGrant(g, 1) for g in parse_grants(GRANTS).grants]
    actions = sample_actions()
    hashes = [a.action_hash() for a in actions]
    prices, state = StaticPrices(), NoState()
    outcomes = set()
    start = time.perf_counter()
    for i in range(n):
        k = i % len(actions)
        d = evaluate(
            actions[k],
            grants,
            now=NOW,
            state=state,
            facts=FACTS,
            prices=prices,
            quotes=prices,
            action_hash=hashes[k],
        )
        outcomes.add(d.outcome)
    elapsed = time.perf_counter() - start
    assert outcomes <= {"allow", "confirm"}, outcomes
    return n / elapsed


def _engine(folder: Path, doc: dict, durable: bool) -> PolicyEngine:
    db = folder / "policy.db"
    policy = parse_grants(doc)
    book = GrantBook(db)
    book.add({g.id: g.body_json() for g in policy.grants}, None, now_us=to_us(NOW))
    book.close()
    clock_state = {"t": NOW}

    def clock() -> datetime:
        clock_state["t"] += timedelta(microseconds=1)
        return clock_state["t"]

    prices = StaticPrices()
    return PolicyEngine(db, facts=FACTS, prices=prices, quotes=prices, clock=clock, durable=durable)


def bench_dry_run(n: int, folder: Path) -> float:
    engine = _engine(folder, GRANTS, durable=True)
    actions = sample_actions()
    start = time.perf_counter()
    for i in range(n):
        engine.dry_run(actions[i % len(actions)])
    elapsed = time.perf_counter() - start
    engine.close()
    return n / elapsed


def bench_reserve(n: int, folder: Path, durable: bool = True) -> float:
    engine = _engine(folder, RESERVE_GRANTS, durable=durable)
    action = sample_actions()[0]
    start = time.perf_counter()
    for _ in range(n):
        decision = engine.reserve(action)
        assert decision.reservation_id, decision.reasons
    elapsed = time.perf_counter() - start
    engine.close()
    return n / elapsed


def bench_reserve_batched(n: int, folder: Path, batch: int = 16) -> float:
    engine = _engine(folder, RESERVE_GRANTS, durable=True)
    items = [(sample_actions()[0], None)] * batch
    start = time.perf_counter()
    for _ in range(n // batch):
        assert all(d.reservation_id for d in engine.reserve_many(items))
    elapsed = time.perf_counter() - start
    engine.close()
    return (n // batch) * batch / elapsed


def bench_raw_commit(n: int, folder: Path) -> float:
    """The disk's bound: one-row SQLite commits with synchronous=FULL, nothing else."""
    return baseline.raw_commit_per_s(n, folder)


CEDAR_POLICIES = """
permit (principal == Agent::"alice.test.near", action == Action::"transfer", resource)
when {
  ["bob.test.near", "carol.test.near"].contains(context.recipient) &&
  ((context.token == "near" && context.amount <= 5000000) ||
   (context.token == "usdc.test.near" && context.amount <= 100000000)) &&
  context.deposit_to_other == 0
};
permit (principal == Agent::"alice.test.near", action == Action::"swap", resource)
when {
  resource == Exchange::"exchange.test.near" &&
  ["near", "wrap.test.near", "usdc.test.near"].contains(context.token_in) &&
  ["near", "wrap.test.near", "usdc.test.near"].contains(context.token_out) &&
  context.usd_micro <= 50000000 && context.slippage_bps <= 100
};
permit (principal == Agent::"alice.test.near", action == Action::"submit_label", resource)
when { resource == Contract::"tasks.test.near" && context.deposit == 0 };
forbid (principal, action, resource) when { context.expired };
"""


def cedar_requests() -> list[dict]:
    agent = 'Agent::"alice.test.near"'
    return [
        {
            "principal": agent,
            "action": 'Action::"transfer"',
            "resource": 'Account::"bob"',
            "context": {
                "recipient": BOB,
                "token": "near",
                "amount": 1000000,
                "deposit_to_other": 0,
                "expired": False,
            },
        },
        {
            "principal": agent,
            "action": 'Action::"transfer"',
            "resource": 'Account::"bob"',
            "context": {
                "recipient": BOB,
                "token": USDC,
                "amount": 5000000,
                "deposit_to_other": 0,
                "expired": False,
            },
        },
        {
            "principal": agent,
            "action": 'Action::"swap"',
            "resource": 'Exchange::"exchange.test.near"',
            "context": {
                "token_in": WRAP,
                "token_out": USDC,
                "usd_micro": 3000000,
                "slippage_bps": 67,
                "expired": False,
            },
        },
        {
            "principal": agent,
            "action": 'Action::"submit_label"',
            "resource": 'Contract::"tasks.test.near"',
            "context": {"deposit": 0, "expired": False},
        },
    ]


def bench_cedar(n: int) -> float | None:
    try:
        import cedarpy
    except ImportError:
        return None
    policies = cedarpy.PolicySet.from_str(CEDAR_POLICIES)
    entities = cedarpy.Entities.from_json_str("[]")
    requests = cedar_requests()
    start = time.perf_counter()
    for i in range(n):
        result = cedarpy.is_authorized(requests[i % len(requests)], policies, entities)
        assert result.allowed
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="stateless decisions")
    parser.add_argument("--reserve-n", type=int, default=3_000, help="reserved decisions")
    args = parser.parse_args()
    print(
        f"stateless rules (evaluator, 4 action kinds): {bench_stateless(args.n):>10,.0f} "
        "decisions/s  (target 20,000)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "a").mkdir()
        (folder / "b").mkdir()
        (folder / "c").mkdir()
        (folder / "d").mkdir()
        print(
            f"engine.dry_run (grants read from SQLite):     "
            f"{bench_dry_run(args.n // 2, folder / 'a'):>10,.0f} decisions/s"
        )
        print(
            f"engine.reserve, durable (synchronous=FULL):   "
            f"{bench_reserve(args.reserve_n, folder / 'b'):>10,.0f} decisions/s  "
            "(target 2,000)"
        )
        print(
            f"engine.reserve_many, durable, batches of 16:  "
            f"{bench_reserve_batched(args.reserve_n, folder / 'd'):>10,.0f} decisions/s"
        )
        print(
            f"raw one-row commit, synchronous=FULL (disk):  "
            f"{bench_raw_commit(args.reserve_n, folder):>10,.0f} commits/s"
        )
        print(
            f"engine.reserve, synchronous=NORMAL:           "
            f"{bench_reserve(args.reserve_n, folder / 'c', durable=False):>10,.0f} "
            "decisions/s"
        )
    cedar = bench_cedar(args.n)
    if cedar is None:
        print("cedarpy: not installed (pip install -e '.[bench]' to compare)")
    else:
        print(f"cedarpy, same stateless rules (precomputed context): {cedar:>10,.0f} decisions/s")
    baseline.emit(hash_per_s=baseline.hash_loop_per_s(args.n * 10))


if __name__ == "__main__":
    main()
