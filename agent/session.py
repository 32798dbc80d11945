"""One agent session: the configured account, planner, policy engine, audit log and memory.

This is the composition root the CLI commands share (``do``, ``plan``, ``chat``, ``demo``): it
reads the home's agent.yaml and opens every store once. Heavy modules (py-near through the tool
layer, the LLM client) are imported here, never on the CLI's start-up path.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from agent.config import AgentConfig, load_config
from agent.executor import Confirm, Executor, RunReport
from agent.grant_changes import ignored_grants_file_notice
from agent.home import Home
from agent.intent_screen import screen_intent
from agent.plan import Plan, PlanStep
from agent.planner import OfflinePlanner, Planner, PlannerContext
from agent.price_feed import PoolFeed, open_market, pool_prices
from agent.reconcile import Reconciled, reconcile_pending
from memory.audit import Actor, AuditLog, new_correlation_id
from memory.contacts import AddressBook
from memory.conversation import Conversation
from memory.preferences import Preferences, PreferencesStore
from policies.engine import PolicyEngine, chain_facts
from policies.evaluator import Decision
from tools import registry as tool_registry
from tools.action import CanonicalAction
from tools.base import ToolContext, context_from_config
from tools.chain_identity import ChainMismatchError
from tools.chain_setup import identified
from tools.errors import ToolError
from tools.market import Market

log = logging.getLogger(__name__)


async def open_chain_caches(ctx: ToolContext, home: Home) -> Any:
    """Give ``ctx`` its market and token metadata, cached in the home for the chain its network
    serves (asked once: a devnet reset at the same URL is another chain, and what was cached
    about the old one is dropped); the store to close, or None.

    When the chain cannot be asked (no endpoint answers), nothing is cached in the home for this
    run: the market lives in this process only, as it does without a home.
    """
    try:
        ctx.network = await identified(ctx.network, ctx.chain)
    except ChainMismatchError:
        raise  # the home describes a chain that is not there: nothing may run on it
    except ToolError as exc:
        log.info("the chain at %s is not known (%s); nothing cached", ctx.network.rpc_url, exc)
        ctx.market = Market.for_context(ctx)
        return None
    store = open_market(ctx, home.pools_db)
    if not ctx.network.public:
        gone = store.forget_other_chains(ctx.network.endpoint_scope, ctx.network.chain_scope)
        if gone:
            log.info("dropped what was cached about another chain at %s", ctx.network.rpc_url)
    return store


@dataclass
class AgentSession:
    home: Home
    config: AgentConfig
    ctx: ToolContext
    policy: PolicyEngine
    audit: AuditLog
    contacts: AddressBook
    preferences: PreferencesStore
    conversation: Conversation
    feed: PoolFeed
    pool_index: Any = None  # the home's pool index store, closed with the session
    session_id: str = field(default_factory=new_correlation_id)

    @classmethod
    async def open(cls, home: Home, *, require_key: bool = True) -> AgentSession:
        config = load_config(home.config_file)
        ctx = context_from_config(
            config,
            home_devnet_dir=home.devnet_dir,
            require_key=require_key,
            keys_dir=home.keys_dir,
            state_dir=home.state_dir,
        )
        pool_index = await open_chain_caches(ctx, home)
        feed = PoolFeed()
        try:
            prices: Any = await pool_prices(ctx, config.stablecoin, config.pricing.rules())
        except ToolError:
            prices = None  # no stablecoin on this network: every USD rule denies
        policy = PolicyEngine(
            home.policy_db, facts=chain_facts(ctx.network), prices=prices, quotes=prices
        )
        return cls(
            home=home,
            config=config,
            ctx=ctx,
            policy=policy,
            audit=AuditLog(home.audit_db),
            contacts=AddressBook(home.memory_db),
            preferences=PreferencesStore(home.memory_db),
            conversation=Conversation(home.memory_db),
            feed=feed,
            pool_index=pool_index,
        )

    async def close(self) -> None:
        await self.ctx.aclose()
        for store in (self.policy, self.audit, self.contacts, self.preferences, self.conversation):
            store.close()
        if self.pool_index is not None:
            self.pool_index.close()

    def grants_file_notice(self) -> str | None:
        """Once per home, that agent.yaml's ``grants_file`` is ignored; grants are never
        re-stored at start (a revoked grant would come back): only ``grants add`` writes them."""
        return ignored_grants_file_notice(self.home, self.config)

    async def reconcile(self, older_than: timedelta = timedelta(0)) -> list[Reconciled]:
        """Settle or release what an interrupted run left pending; never resends anything."""
        return await reconcile_pending(
            self.policy, self.audit, self.ctx.chain, older_than=older_than
        )

    def _resolve_contact(self, name: str) -> str | None:
        contact = self.contacts.get(name)
        return contact.account_id if contact is not None else None

    def _planner(self, prefs: Preferences) -> Planner:
        settings = self.config.planner
        unavailable = tool_registry.unavailable(self.ctx.network)  # not offered on this network
        if settings.kind == "offline":
            return OfflinePlanner(
                contacts=self._resolve_contact,
                default_token=prefs.default_token,
                unavailable=unavailable,
                language=prefs.language,
            )
        from agent.planner.llm import LLMPlanner  # the model client loads only when used

        assert settings.base_url is not None and settings.model is not None
        return LLMPlanner(
            base_url=settings.base_url,
            model=settings.model,
            api_key=os.environ.get(settings.api_key_env),
            max_slippage_bps=self.config.defaults.max_slippage_bps,
            resolve_contact=self._resolve_contact,
            timeout_s=settings.timeout_s,
            default_token=prefs.default_token,
            unavailable=unavailable,
        )

    def _planner_context(self, prefs: Preferences) -> PlannerContext | None:
        """What a model may know (the grammar needs nothing): contacts, preferences, history."""
        if self.config.planner.kind == "offline":
            return None
        history = [
            (m.role, m.text)
            for m in self.conversation.recent(self.session_id, prefs.context_messages)
        ]
        contacts = {c.name: c.account_id for c in self.contacts.list()}
        return PlannerContext(contacts=contacts, preferences=prefs.model_dump(), history=history)

    async def plan(self, text: str) -> Plan:
        """The user's words as a plan; swaps without a stated slippage get the preference."""
        screen_intent(text)
        prefs = self.preferences.load()
        plan = await self._planner(prefs).plan(text, self._planner_context(prefs))
        if not plan.ok:
            return plan
        default = min(prefs.default_slippage_bps, self.config.defaults.max_slippage_bps)
        steps = [
            PlanStep(tool=s.tool, args={**s.args, "max_slippage_bps": default})
            if s.tool == "swap" and "max_slippage_bps" not in s.args
            else s
            for s in plan.steps
        ]
        return plan.model_copy(update={"steps": steps})

    async def check(self, step: PlanStep) -> tuple[CanonicalAction, Decision]:
        """Prepare one step and dry-run the policy on it with fresh prices; nothing is reserved.

        ToolError when the step cannot be prepared. Without fresh prices the policy denies what
        needs them, as it does when the executor runs.
        """
        action = await tool_registry.prepare(step.tool, step.args, self.ctx)
        if action.transactions:
            with contextlib.suppress(ToolError):
                await self.feed.refresh(self.ctx, action)
        return action, self.policy.dry_run(action)

    def executor(
        self, confirm: Confirm | None, review: Confirm | None = None, actor: Actor = "user"
    ) -> Executor:
        return Executor(
            ctx=self.ctx,
            policy=self.policy,
            audit=self.audit,
            confirm=confirm,
            review=review,
            actor=actor,
            before_evaluate=self.feed.refresh,
        )

    async def run(
        self,
        text: str,
        confirm: Confirm | None,
        review: Confirm | None = None,
        actor: Actor = "user",
    ) -> RunReport:
        """Plan the user's words and carry the plan out under the policy."""
        screen_intent(text)
        self.ctx.chain.requests.begin_command()  # each intent has the whole request budget
        self.conversation.add(self.session_id, "user", text)
        report = await self.run_plan(await self.plan(text), confirm, review, actor)
        self.conversation.add(self.session_id, "assistant", describe(report))
        return report

    async def run_plan(
        self,
        plan: Plan,
        confirm: Confirm | None,
        review: Confirm | None = None,
        actor: Actor = "user",
    ) -> RunReport:
        return await self.executor(confirm, review, actor).run(plan)


def describe(report: RunReport) -> str:
    """A plain account of what happened and what did not."""
    if not report.plan.ok:
        return report.plan.error or "not understood"
    lines = []
    for step in report.steps:
        mark = {"done": "done", "not_run": "not run"}.get(step.status, step.status)
        lines.append(f"{step.tool}: {mark}: {step.message}")
    return "\n".join(lines)
