"""Any interleaving of reserve, sign, land, crash, letting go, reconcile, settle, revoke and time
passing keeps spending within every window of every grant and the global ceiling, and never
revives a grant.

The policy engine, its SQLite ledger, the audit journal and reconcile are the real ones; each run
is its own owner (a process identity), and the chain is a small stand-in (the edge of the world
for this property): transactions land in nonce order, a nonce passed over can never land.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    rule,
)

from agent.reconcile import reconcile_pending
from memory.audit import AuditKind, AuditLog
from memory.process_owner import ProcessOwner
from policies.engine import PolicyEngine
from policies.evaluator import ALLOW
from policies.store import GrantBook
from policies.windows import to_us
from tests.policy.helpers import (
    ALICE,
    BOB,
    CAROL,
    FACTS,
    YOCTO,
    Clock,
    Prices,
    grants_doc,
    near_transfer,
    store_grants,
    transfer_grant,
)

TENTH = YOCTO // 10
HOUR_US = 3600 * 1_000_000
KEY = "ed25519:stand-in"
# (grant, recipient) and each grant's windows as (amount, period in microseconds)
RECIPIENT = {"pay": BOB, "pay2": CAROL}
WINDOWS = {
    "pay": [(10 * TENTH, HOUR_US), (15 * TENTH, 24 * HOUR_US)],
    "pay2": [(8 * TENTH, HOUR_US // 2)],
}
CEILING = [(20 * TENTH, 24 * HOUR_US)]


def _windows(windows: list[tuple[int, int]]) -> list[dict[str, str]]:
    return [
        {
            "token": "NEAR",
            "amount": f"{amount // TENTH // 10}.{amount // TENTH % 10}",
            "period": f"{period // 1_000_000}s",
        }
        for amount, period in windows
    ]


def _doc() -> dict:
    return grants_doc(
        transfer_grant(id="pay", recipients=[BOB], windows=_windows(WINDOWS["pay"])),
        transfer_grant(id="pay2", recipients=[CAROL], windows=_windows(WINDOWS["pay2"])),
        ceiling=_windows(CEILING),
    )


@dataclass
class Landed:
    ok: bool = True


@dataclass
class Tx:
    hash: str
    nonce: int
    reservation_id: str
    landed: bool = False


@dataclass
class StandInChain:
    """What reconcile asks the chain: a transaction's outcome and the key's nonce."""

    nonce: int = 0  # the key's nonce on chain
    assigned: int = 0  # the highest nonce any signer used
    txs: dict[str, Tx] = field(default_factory=dict)
    archival: str | None = "stand-in archival endpoint"  # it keeps every transaction

    async def tx_status(
        self, tx_hash: str, sender_id: str, *, archival: bool = False
    ) -> Landed | None:
        tx = self.txs.get(tx_hash)
        return Landed() if tx is not None and tx.landed else None

    async def access_key_nonce(self, account_id: str, public_key: str) -> int:
        return self.nonce


@dataclass
class Run:
    """One `do` run: its own process (owner) and engine."""

    owner: ProcessOwner
    engine: PolicyEngine
    reservation_id: str
    grant: str
    tx: Tx | None = None


class Interleavings(RuleBasedStateMachine):
    runs = Bundle("runs")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.db = self.folder / "policy.db"
        self.clock = Clock()
        store_grants(self.db, _doc(), self.clock())
        self.audit = AuditLog(self.folder / "audit.db")
        self.chain = StandInChain()
        self.reconciler = self._engine(ProcessOwner(1, "boot/1", "here"))
        self.live: set[ProcessOwner] = {self.reconciler.owner}
        self.next_pid = 2
        self.revoked: set[str] = set()
        self.engines = [self.reconciler]

    def teardown(self) -> None:
        for engine in self.engines:
            engine.close()
        self.audit.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _engine(self, owner: ProcessOwner) -> PolicyEngine:
        engine = PolicyEngine(
            self.db,
            facts=FACTS,
            prices=Prices(self.clock),
            clock=self.clock,
            durable=False,
            owner=owner,
        )
        if hasattr(self, "engines"):
            self.engines.append(engine)
        return engine

    # ------------------------------------------------------------------ rules

    @rule(target=runs, grant=st.sampled_from(sorted(RECIPIENT)), tenths=st.integers(1, 6))
    def reserve(self, grant: str, tenths: int) -> Run:
        owner = ProcessOwner(self.next_pid, f"boot/{self.next_pid}", "here")
        self.next_pid += 1
        engine = self._engine(owner)
        self.live.add(owner)
        decision = engine.reserve(near_transfer(RECIPIENT[grant], tenths * TENTH))
        if grant in self.revoked:
            assert decision.outcome != ALLOW, "a revoked grant allowed again"
        if decision.reservation_id is None:
            self.live.discard(owner)
            return multiple()
        assert decision.grant_id == grant
        return Run(owner, engine, decision.reservation_id, grant)

    @rule(run=runs)
    def sign(self, run: Run) -> None:
        """The owner confirms its reservation, journals the transaction, and sends it."""
        if run.owner not in self.live or run.tx is not None:
            return
        claimed = run.engine.claim(run.reservation_id)
        assert claimed, "a live run's reservation was taken away"
        self.chain.assigned += 1
        tx = Tx(f"tx{self.chain.assigned}", self.chain.assigned, run.reservation_id)
        self.audit.append(
            AuditKind.TX_SUBMITTED,
            actor="user",
            correlation_id=run.reservation_id,
            data={
                "tx_hash": tx.hash,
                "signer_id": ALICE,
                "public_key": KEY,
                "nonce": tx.nonce,
                "reservation_id": run.reservation_id,
            },
            tool="transfer",
            status="signed",
        )
        self.chain.txs[tx.hash] = tx
        run.tx = tx

    @rule(data=st.data())
    def land(self, data: st.DataObject) -> None:
        """A signed transaction reaches the chain (only while its nonce is still usable)."""
        waiting = sorted(h for h, tx in self.chain.txs.items() if not tx.landed)
        if not waiting:
            return
        tx = self.chain.txs[data.draw(st.sampled_from(waiting))]
        if tx.nonce > self.chain.nonce:
            tx.landed = True
            self.chain.nonce = tx.nonce

    @rule()
    def other_transaction(self) -> None:
        """The user's key is used for something else: every nonce up to now is spent."""
        self.chain.assigned += 1
        self.chain.nonce = self.chain.assigned

    @rule(run=consumes(runs))
    def finish(self, run: Run) -> None:
        """The owner settles what it sent, or releases what it never signed."""
        if run.owner not in self.live:
            return
        if run.tx is not None:
            run.engine.settle(run.reservation_id, owner=run.owner)
        else:
            run.engine.release(run.reservation_id, "nothing was sent", owner=run.owner)
        self.live.discard(run.owner)

    @rule(run=consumes(runs))
    def let_go(self, run: Run) -> None:
        """The owner's step ends without knowing what became of it (sent, fate unknown): it lets
        go of its reservation and lives on; from then on reconcile resolves it from the chain."""
        if run.owner not in self.live:
            return
        assert run.engine.disown(run.reservation_id), "a live run's reservation was taken away"
        assert not run.engine.claim(run.reservation_id)  # nothing more may be sent for it
        row = self.reconciler.reservation(run.reservation_id)
        assert row is not None and row.status == "pending" and row.owner is None

    @rule(run=runs)
    def crash(self, run: Run) -> None:
        self.live.discard(run.owner)

    @rule()
    def reconcile(self) -> None:
        asyncio.run(
            reconcile_pending(
                self.reconciler, self.audit, self.chain, alive=lambda row: row.owner in self.live
            )
        )

    @rule(grant=st.sampled_from(sorted(RECIPIENT)))
    def revoke(self, grant: str) -> None:
        book = GrantBook(self.db)
        try:
            book.revoke(grant, now_us=to_us(self.clock()), reason="test")
        finally:
            book.close()
        self.revoked.add(grant)

    @rule(minutes=st.sampled_from([1, 10, 29, 31, 61, 600, 1441]))
    def advance(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    # ------------------------------------------------------------------ invariants

    def _live_rows(self) -> list[tuple[str, str, int, int]]:
        """(id, grant, created_us, NEAR amount) of every reservation that still counts."""
        return self.reconciler._ledger.conn.execute(
            "SELECT r.id, r.grant_id, r.created_us, a.a0 + (a.a1 << 43) + (a.a2 << 86) "
            "FROM reservations r JOIN reservation_amounts a ON a.reservation_id = r.id "
            "WHERE r.status != 'released' AND a.token = 'near'"
        ).fetchall()

    @invariant()
    def spending_within_every_window(self) -> None:
        rows = self._live_rows()
        scopes = [(WINDOWS[g], [r for r in rows if r[1] == g]) for g in WINDOWS]
        scopes.append((CEILING, rows))
        for windows, members in scopes:
            for cap, period in windows:
                for _, _, end, _ in members:
                    inside = sum(a for _, _, t, a in members if end - period <= t <= end)
                    assert inside <= cap, (cap, period, inside)

    @invariant()
    def every_landed_transaction_stays_counted(self) -> None:
        counted = {r[0] for r in self._live_rows()}
        for tx in self.chain.txs.values():
            if tx.landed:
                assert tx.reservation_id in counted, "a payment escaped the budget"

    @invariant()
    def revoked_grants_stay_revoked(self) -> None:
        for active in self.reconciler.grants():
            if active.grant.id in self.revoked:
                assert active.revoked


Interleavings.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_interleavings = pytest.mark.slow(Interleavings.TestCase)
