"""The labelling-task tools: list_tasks, submit_label, claim_rewards.

``submit_label`` and ``claim_rewards`` attach no deposit, so a function-call access key scoped to
the tasks contract can sign them. Task texts and labels are data shown to the user; nothing in
them can change what is signed. Preconditions (task open, item not yet labelled by this account,
something to claim) are checked in ``prepare`` so a doomed transaction is never sent; the
contract's own panics are still translated into the same errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tools.action import CanonicalAction, FunctionCallSpec, TransactionSpec
from tools.amounts import format_amount
from tools.args import ClaimRewardsArgs, ListTasksArgs, SubmitLabelArgs
from tools.base import OnSigned, Tool, ToolContext, ToolResult, execute_transactions
from tools.errors import (
    AlreadyLabelledError,
    NothingToClaimError,
    TaskError,
    ToolError,
    TransactionFailedError,
    ViewCallError,
)
from tools.rpc_values import contract_u128
from tools.tokens import NEAR_DECIMALS

PAGE = 50


def tasks_contract(ctx: ToolContext, what: str = "working with tasks") -> str:
    return ctx.network.require("tasks", what)


async def fetch_tasks(ctx: ToolContext, status: str | None) -> list[dict[str, Any]]:
    contract = tasks_contract(ctx)
    out: list[dict[str, Any]] = []
    start = 0
    while True:
        page = await ctx.chain.view(
            contract, "list_tasks", {"status": status, "from_index": start, "limit": PAGE}
        )
        page = list(page or [])
        out.extend(page)
        if len(page) < PAGE:
            return out
        start += PAGE


async def get_task(ctx: ToolContext, task_id: int) -> dict[str, Any]:
    try:
        task = await ctx.chain.view(tasks_contract(ctx), "get_task", {"task_id": task_id})
    except ViewCallError as exc:
        raise TaskError(f"task {task_id} cannot be read: {exc.message}", task_id=task_id) from exc
    if not isinstance(task, Mapping):
        raise TaskError(f"task {task_id} does not exist", task_id=task_id)
    return dict(task)


def item_ids(task: Mapping[str, Any]) -> list[int]:
    """The task's item ids, whichever way the contract lists them."""
    items = task.get("items")
    if isinstance(items, list):
        ids = []
        for index, item in enumerate(items):
            if isinstance(item, Mapping):
                ids.append(int(item.get("item_id", item.get("id", index))))
            else:
                ids.append(index)
        return ids
    for key in ("item_count", "num_items", "items_count"):
        if isinstance(task.get(key), int):
            return list(range(task[key]))
    return []


def labelled_by(labels: Any, account_id: str) -> bool:
    """Whether ``get_labels`` output contains a label from ``account_id``."""
    if isinstance(labels, Mapping):
        if account_id in labels:
            return True
        labels = labels.get("labels", [])
    if isinstance(labels, list):
        for entry in labels:
            if isinstance(entry, Mapping) and account_id in (
                entry.get("account_id"),
                entry.get("tasker"),
                entry.get("tasker_id"),
            ):
                return True
    return False


def _full(task: Mapping[str, Any], labels: Any) -> bool:
    """Whether an item's label slots are taken (rejected labels free theirs)."""
    per_item = task.get("labels_per_item")
    if not isinstance(per_item, int) or not isinstance(labels, list):
        return False
    active = [e for e in labels if not (isinstance(e, Mapping) and e.get("status") == "rejected")]
    return len(active) >= per_item


class ListTasksTool(Tool[ListTasksArgs]):
    name: ClassVar[str] = "list_tasks"
    needs_contracts = ("tasks",)
    description: ClassVar[str] = "List labelling tasks (open, closed or all)."
    Args = ListTasksArgs
    read_only = True

    async def prepare(self, args: ListTasksArgs, ctx: ToolContext) -> CanonicalAction:
        contract = tasks_contract(ctx)
        return CanonicalAction(
            tool=self.name,
            signer_id=ctx.account_id,
            transactions=(),
            preview=f"List {args.status or 'all'} tasks on {contract}",
            args=args.model_dump(exclude_none=True),
        )

    async def execute(
        self, action: CanonicalAction, ctx: ToolContext, on_signed: OnSigned | None = None
    ) -> ToolResult:
        status = action.args.get("status")
        tasks = await fetch_tasks(ctx, status)
        return ToolResult(
            tool=self.name,
            summary=f"{len(tasks)} {status or ''} task(s)".replace("  ", " "),
            data={"tasks": tasks, "status": status},
        )


class SubmitLabelTool(Tool[SubmitLabelArgs]):
    name: ClassVar[str] = "submit_label"
    description: ClassVar[str] = "Label one item of a task (earns a share of its reward)."
    Args = SubmitLabelArgs
    contract_methods = ("submit_label",)
    grounded_fields = ("task_id", "item_id", "label")
    asks_to = "submit a label"
    needs_contracts = ("tasks",)

    async def prepare(self, args: SubmitLabelArgs, ctx: ToolContext) -> CanonicalAction:
        contract = tasks_contract(ctx)
        task = await get_task(ctx, args.task_id)
        if str(task.get("status", "open")).lower() != "open":
            raise TaskError(
                f"task {args.task_id} is {task.get('status')}; it takes no labels",
                task_id=args.task_id,
            )
        allowed = task.get("labels") or task.get("allowed_labels") or task.get("label_options")
        if isinstance(allowed, list) and allowed and args.label not in allowed:
            raise TaskError(
                f"task {args.task_id} accepts the labels {allowed}, not {args.label!r}",
                task_id=args.task_id,
            )
        if task.get("vendor_id") == ctx.account_id:
            raise TaskError(
                f"{ctx.account_id} posted task {args.task_id} and cannot label it",
                task_id=args.task_id,
            )
        ids = item_ids(task)
        if args.item_id is not None:
            if ids and args.item_id not in ids:
                raise TaskError(
                    f"task {args.task_id} has no item {args.item_id}", task_id=args.task_id
                )
            labels = await ctx.chain.view(
                contract, "get_labels", {"task_id": args.task_id, "item_id": args.item_id}
            )
            if labelled_by(labels, ctx.account_id):
                raise AlreadyLabelledError(
                    f"{ctx.account_id} already labelled item {args.item_id} of task {args.task_id}",
                    task_id=args.task_id,
                    item_id=args.item_id,
                )
            if _full(task, labels):
                raise TaskError(
                    f"item {args.item_id} of task {args.task_id} has all its labels",
                    task_id=args.task_id,
                    item_id=args.item_id,
                )
            item = args.item_id
        else:
            item = await self._next_item(ctx, contract, task, ids)
        tx = TransactionSpec(
            signer_id=ctx.account_id,
            receiver_id=contract,
            actions=(
                FunctionCallSpec(
                    method_name="submit_label",
                    args={"task_id": args.task_id, "item_id": item, "label": args.label},
                    gas=ctx.gas_for("submit_label"),
                    deposit=0,
                ),
            ),
        )
        return CanonicalAction(
            tool=self.name,
            signer_id=ctx.account_id,
            transactions=(tx,),
            recipients=(contract,),
            preview=f"Label item {item} of task {args.task_id} as {args.label!r}",
        )

    async def _next_item(
        self, ctx: ToolContext, contract: str, task: Mapping[str, Any], ids: list[int]
    ) -> int:
        """The first item this account has not labelled and that still has a free slot."""
        task_id = int(task.get("task_id", 0))
        try:  # one view instead of one per item, where the contract offers it
            found = await ctx.chain.view(
                contract, "get_next_item", {"task_id": task_id, "account_id": ctx.account_id}
            )
        except ViewCallError:
            found = False
        if isinstance(found, Mapping) and isinstance(found.get("item_id"), int):
            return int(found["item_id"])
        any_mine = False
        for candidate in ids:
            labels = await ctx.chain.view(
                contract, "get_labels", {"task_id": task_id, "item_id": candidate}
            )
            if labelled_by(labels, ctx.account_id):
                any_mine = True
                continue
            if not _full(task, labels):
                return candidate
        if any_mine:
            raise AlreadyLabelledError(
                f"{ctx.account_id} has labelled every item of task {task_id} it can",
                task_id=task_id,
            )
        raise TaskError(f"task {task_id} has no item left to label", task_id=task_id)

    async def execute(
        self, action: CanonicalAction, ctx: ToolContext, on_signed: OnSigned | None = None
    ) -> ToolResult:
        try:
            result, outcomes = await execute_transactions(action, ctx, [], on_signed=on_signed)
        except TransactionFailedError as exc:
            raise translate_task_failure(exc) from exc
        value = outcomes[-1].json_value()
        result.data["receipt"] = value
        result.summary = f"Done: {action.preview}"
        return result


class ClaimRewardsTool(Tool[ClaimRewardsArgs]):
    name: ClassVar[str] = "claim_rewards"
    description: ClassVar[str] = "Claim the NEAR earned by accepted labels."
    Args = ClaimRewardsArgs
    contract_methods = ("claim_rewards",)
    grounded_fields = ("task_ids",)
    asks_to = "claim rewards"
    needs_contracts = ("tasks",)

    async def prepare(self, args: ClaimRewardsArgs, ctx: ToolContext) -> CanonicalAction:
        contract = tasks_contract(ctx)
        query: dict[str, Any] = {"account_id": ctx.account_id}
        if args.task_ids is not None:
            query["task_ids"] = args.task_ids
        raw = await ctx.chain.view(contract, "get_claimable", query)
        claimable = contract_u128(raw, contract, "get_claimable", f"{ctx.account_id}'s rewards")
        scope = f"tasks {', '.join(map(str, args.task_ids))}" if args.task_ids else "all tasks"
        if claimable <= 0:
            raise NothingToClaimError(f"{ctx.account_id} has nothing to claim from {scope}")
        tx = TransactionSpec(
            signer_id=ctx.account_id,
            receiver_id=contract,
            actions=(
                FunctionCallSpec(
                    method_name="claim_rewards",
                    args={"task_ids": args.task_ids},
                    gas=ctx.gas_for("claim_rewards"),
                    deposit=0,
                ),
            ),
        )
        return CanonicalAction(
            tool=self.name,
            signer_id=ctx.account_id,
            transactions=(tx,),
            recipients=(contract,),
            preview=(
                f"Claim {format_amount(claimable, NEAR_DECIMALS)} NEAR of rewards from "
                f"{scope} on {contract}"
            ),
        )

    async def execute(
        self, action: CanonicalAction, ctx: ToolContext, on_signed: OnSigned | None = None
    ) -> ToolResult:
        try:
            result, outcomes = await execute_transactions(action, ctx, [], on_signed=on_signed)
        except TransactionFailedError as exc:
            raise translate_task_failure(exc) from exc
        claimed = int(outcomes[-1].json_value() or 0)
        result.data["claimed"] = str(claimed)
        result.summary = f"Claimed {format_amount(claimed, NEAR_DECIMALS)} NEAR"
        return result


def translate_task_failure(exc: TransactionFailedError) -> ToolError:
    text = (exc.outcome.first_error() if exc.outcome is not None else exc.message) or ""
    low = text.lower()
    if "nothing to claim" in low:
        new: ToolError = NothingToClaimError(f"nothing to claim: {text}")
    elif "already labelled" in low or "already labeled" in low:
        new = AlreadyLabelledError(f"already labelled: {text}")
    else:
        return exc
    new.result = exc.result
    return new
