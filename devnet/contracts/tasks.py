"""Labelling tasks paid in NEAR: vendors escrow a reward pool, taskers label items and claim.

NEAR Tasks published no contract, so this is the project's own interface (docs/architecture.md).
The reward pool is held by this contract's account: it covers every label slot
(``reward_per_label * items * labels_per_item``) when the task is created, an accepted label
moves ``reward_per_label`` from the task's escrow to the tasker's claimable balance, and closing
a task refunds what no label can still earn. ``submit_label`` and ``claim_rewards`` take no
deposit so a function-call access key can sign them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from devnet.contract import Context, Contract, call, ensure, view
from devnet.contracts.common import (
    DESERIALIZE_ERROR,
    assert_initialized,
    get,
    mark_initialized,
    page,
    parse_account_id,
    u64,
    u128,
)

STANDARD = "near-agent-tasks"
VERSION = "1.0.0"
MAX_ITEMS = 1000
MAX_LABELS_PER_ITEM = 100
MAX_TITLE = 200
MAX_TEXT = 4000
MAX_LABEL = 1000
PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
OPEN, CLOSED = "open", "closed"


def content_hash(label: str) -> str:
    """The label's fingerprint: sha256 of its UTF-8 bytes, lowercase hex."""
    return hashlib.sha256(label.encode("utf-8")).hexdigest()


def _task_key(task_id: int) -> str:
    return f"task:{task_id}"


def _labels_key(task_id: int, item_id: int) -> str:
    return f"labels:{task_id}:{item_id}"


def _claim_key(account: str) -> str:
    return f"claim:{account}"


def _text(value: Any, limit: int, what: str, *, empty_ok: bool = False) -> str:
    ensure(isinstance(value, str), DESERIALIZE_ERROR)
    ensure(empty_ok or value.strip() != "", f"{what} must not be empty")
    ensure(len(value) <= limit, f"{what} is longer than {limit} characters")
    return value


def _active(labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Labels holding a slot: pending or accepted (a rejection frees its slot)."""
    return [entry for entry in labels if entry["status"] != REJECTED]


class Tasks(Contract):
    """Vendors post tasks, taskers label, vendors review (or agreement accepts), taskers claim."""

    code_name = "tasks"

    @call
    def new(self, ctx: Context, owner_id: str) -> None:
        mark_initialized(ctx.storage)
        ctx.storage["owner_id"] = parse_account_id(owner_id)
        ctx.storage["task_count"] = 0

    # ---- vendors --------------------------------------------------------------------------
    @call(payable=True)
    def create_task(
        self,
        ctx: Context,
        title: str,
        description: str,
        items: list[str],
        reward_per_label: str,
        labels_per_item: int = 1,
        allowed_labels: list[str] | None = None,
        auto_accept: bool = False,
    ) -> int:
        """Open a task whose whole reward pool is attached now; the excess is refunded."""
        assert_initialized(ctx.storage)
        ensure(isinstance(items, list), DESERIALIZE_ERROR)
        ensure(0 < len(items) <= MAX_ITEMS, f"a task has 1 to {MAX_ITEMS} items")
        texts = [_text(item, MAX_TEXT, "an item") for item in items]
        reward = u128(reward_per_label)
        ensure(reward > 0, "reward_per_label must be positive")
        per_item = u64(labels_per_item)
        ensure(
            0 < per_item <= MAX_LABELS_PER_ITEM,
            f"labels_per_item must be between 1 and {MAX_LABELS_PER_ITEM}",
        )
        allowed = None
        if allowed_labels is not None:
            ensure(
                isinstance(allowed_labels, list) and len(allowed_labels) > 0,
                "allowed_labels must be a non-empty list or null",
            )
            allowed = [_text(label, MAX_LABEL, "an allowed label") for label in allowed_labels]
        ensure(isinstance(auto_accept, bool), DESERIALIZE_ERROR)
        pool = reward * len(texts) * per_item
        deposit = ctx.attached_deposit
        ensure(
            deposit >= pool,
            f"attached deposit {deposit} is less than the reward pool {pool} "
            f"(reward_per_label x items x labels_per_item)",
        )
        task_id = ctx.storage["task_count"]
        vendor = ctx.predecessor_account_id
        ctx.storage[_task_key(task_id)] = {
            "task_id": task_id,
            "vendor_id": vendor,
            "title": _text(title, MAX_TITLE, "title"),
            "description": _text(description, MAX_TEXT, "description", empty_ok=True),
            "items": texts,
            "reward_per_label": reward,
            "labels_per_item": per_item,
            "allowed_labels": allowed,
            "auto_accept": auto_accept,
            "status": OPEN,
            "escrow": pool,
            "pending": 0,
            "accepted": 0,
            "created_at_ns": ctx.block_timestamp,
            "closed_at_ns": None,
        }
        ctx.storage["task_count"] = task_id + 1
        if deposit > pool:
            ctx.promise(vendor).transfer(deposit - pool)
        self._emit(
            ctx,
            "task_created",
            {
                "task_id": task_id,
                "vendor_id": vendor,
                "items": len(texts),
                "reward_pool": str(pool),
            },
        )
        return task_id

    @call
    def review(
        self, ctx: Context, task_id: int, item_id: int, tasker_id: str, accept: bool
    ) -> dict[str, Any]:
        """Accept (pays the tasker) or reject (frees the slot) a pending label."""
        task = self._task(ctx, task_id)
        ensure(
            ctx.predecessor_account_id == task["vendor_id"],
            f"only the vendor can review task {task['task_id']}",
        )
        ensure(isinstance(accept, bool), DESERIALIZE_ERROR)
        item = self._item(task, item_id)
        labels = get(ctx.storage, _labels_key(task["task_id"], item), [])
        entry = next((e for e in labels if e["tasker_id"] == tasker_id), None)
        ensure(
            entry is not None, f"no label from {tasker_id} on item {item} of task {task['task_id']}"
        )
        assert entry is not None
        ensure(entry["status"] == PENDING, f"the label is already {entry['status']}")
        if accept:
            self._accept(ctx, task, entry)
        else:
            entry["status"] = REJECTED
            task["pending"] -= 1
            if task["status"] == CLOSED:
                # Its reward was held back at closing; nothing can earn it any more.
                task["escrow"] -= task["reward_per_label"]
                ctx.promise(task["vendor_id"]).transfer(task["reward_per_label"])
        ctx.storage[_labels_key(task["task_id"], item)] = labels
        ctx.storage[_task_key(task["task_id"])] = task
        self._emit(
            ctx,
            "label_reviewed",
            {
                "task_id": task["task_id"],
                "item_id": item,
                "tasker_id": tasker_id,
                "status": entry["status"],
            },
        )
        return dict(entry, item_id=item)

    @call
    def close_task(self, ctx: Context, task_id: int) -> str:
        """Stop taking labels and refund the pool except the rewards of labels under review."""
        task = self._task(ctx, task_id)
        ensure(
            ctx.predecessor_account_id == task["vendor_id"],
            f"only the vendor can close task {task['task_id']}",
        )
        ensure(task["status"] == OPEN, f"task {task['task_id']} is already closed")
        held = task["pending"] * task["reward_per_label"]
        refund = task["escrow"] - held
        task["escrow"] = held
        task["status"] = CLOSED
        task["closed_at_ns"] = ctx.block_timestamp
        ctx.storage[_task_key(task["task_id"])] = task
        if refund > 0:
            ctx.promise(task["vendor_id"]).transfer(refund)
        self._emit(ctx, "task_closed", {"task_id": task["task_id"], "refund": str(refund)})
        return str(refund)

    # ---- taskers --------------------------------------------------------------------------
    @call
    def submit_label(
        self, ctx: Context, task_id: int, label: str, item_id: int | None = None
    ) -> dict[str, Any]:
        """Label one item (``item_id`` omitted: the first item this tasker can still label)."""
        task = self._task(ctx, task_id)
        tid = task["task_id"]
        tasker = ctx.predecessor_account_id
        ensure(task["status"] == OPEN, f"task {tid} is closed")
        ensure(tasker != task["vendor_id"], "the vendor cannot label its own task")
        text = _text(label, MAX_LABEL, "label")
        allowed = task["allowed_labels"]
        ensure(
            allowed is None or text in allowed,
            f"label {text!r} is not one of the allowed labels {allowed}",
        )
        if item_id is None:
            found = self._next_item(ctx, task, tasker)
            ensure(found is not None, f"no item of task {tid} is left for {tasker} to label")
            assert found is not None
            item = found
        else:
            item = self._item(task, item_id)
        labels = get(ctx.storage, _labels_key(tid, item), [])
        ensure(
            all(e["tasker_id"] != tasker for e in labels),
            f"already labelled: {tasker} labelled item {item} of task {tid}",
        )
        ensure(
            len(_active(labels)) < task["labels_per_item"],
            f"item {item} of task {tid} has all its labels",
        )
        entry = {
            "tasker_id": tasker,
            "label": text,
            "content_hash": content_hash(text),
            "status": PENDING,
            "submitted_at_ns": ctx.block_timestamp,
            "block_height": ctx.block_height,
        }
        labels.append(entry)
        task["pending"] += 1
        if task["auto_accept"] and len(_active(labels)) == task["labels_per_item"]:
            self._accept_by_agreement(ctx, task, labels)
        ctx.storage[_labels_key(tid, item)] = labels
        ctx.storage[_task_key(tid)] = task
        self._emit(
            ctx,
            "label_submitted",
            {
                "task_id": tid,
                "item_id": item,
                "tasker_id": tasker,
                "content_hash": entry["content_hash"],
            },
        )
        return {
            "task_id": tid,
            "item_id": item,
            "content_hash": entry["content_hash"],
            "status": entry["status"],
        }

    @call
    def claim_rewards(self, ctx: Context, task_ids: list[int] | None = None) -> str:
        """Send the caller its claimable NEAR (of ``task_ids``, or of every task)."""
        assert_initialized(ctx.storage)
        claimant = ctx.predecessor_account_id
        claims = get(ctx.storage, _claim_key(claimant), {})
        chosen = self._chosen(claims, task_ids)
        total = sum(claims[key] for key in chosen)
        ensure(total > 0, "nothing to claim")
        for key in chosen:
            del claims[key]
        if claims:
            ctx.storage[_claim_key(claimant)] = claims
        elif _claim_key(claimant) in ctx.storage:
            del ctx.storage[_claim_key(claimant)]
        ctx.promise(claimant).transfer(total)
        self._emit(
            ctx,
            "rewards_claimed",
            {
                "account_id": claimant,
                "amount": str(total),
                "task_ids": sorted(int(k) for k in chosen),
            },
        )
        return str(total)

    # ---- views ----------------------------------------------------------------------------
    @view
    def list_tasks(
        self,
        ctx: Context,
        status: str | None = None,
        from_index: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        ensure(status in (None, OPEN, CLOSED), 'status must be "open", "closed" or null')
        tasks = [ctx.storage[_task_key(i)] for i in range(ctx.storage.get("task_count", 0))]
        chosen = [t for t in tasks if status is None or t["status"] == status]
        return [self._summary(ctx, t) for t in page(chosen, from_index, limit, 50)]

    @view
    def get_task(self, ctx: Context, task_id: int) -> dict[str, Any] | None:
        task = ctx.storage.get(_task_key(u64(task_id)))
        if task is None:
            return None
        summary = self._summary(ctx, task)
        summary["items"] = [self._item_view(ctx, task, i) for i in range(len(task["items"]))]
        return summary

    @view
    def get_labels(self, ctx: Context, task_id: int, item_id: int) -> list[dict[str, Any]]:
        return get(ctx.storage, _labels_key(u64(task_id), u64(item_id)), [])

    @view
    def get_claimable(
        self, ctx: Context, account_id: str, task_ids: list[int] | None = None
    ) -> str:
        claims = ctx.storage.get(_claim_key(account_id), {})
        return str(sum(claims[key] for key in self._chosen(claims, task_ids)))

    @view
    def get_next_item(self, ctx: Context, task_id: int, account_id: str) -> dict[str, Any] | None:
        """The first item ``account_id`` may still label, or null."""
        task = ctx.storage.get(_task_key(u64(task_id)))
        if task is None or task["status"] != OPEN:
            return None
        item = self._next_item(ctx, task, account_id)
        return None if item is None else self._item_view(ctx, task, item)

    # ---- internals ------------------------------------------------------------------------
    def _task(self, ctx: Context, task_id: Any) -> dict[str, Any]:
        assert_initialized(ctx.storage)
        tid = u64(task_id)
        ensure(_task_key(tid) in ctx.storage, f"task {tid} not found")
        return get(ctx.storage, _task_key(tid))

    @staticmethod
    def _item(task: dict[str, Any], item_id: Any) -> int:
        item = u64(item_id)
        ensure(item < len(task["items"]), f"task {task['task_id']} has no item {item}")
        return item

    def _next_item(self, ctx: Context, task: dict[str, Any], tasker: str) -> int | None:
        for item in range(len(task["items"])):
            labels = ctx.storage.get(_labels_key(task["task_id"], item), [])
            if len(_active(labels)) < task["labels_per_item"] and all(
                e["tasker_id"] != tasker for e in labels
            ):
                return item
        return None

    def _accept(self, ctx: Context, task: dict[str, Any], entry: dict[str, Any]) -> None:
        reward = task["reward_per_label"]
        entry["status"] = ACCEPTED
        task["pending"] -= 1
        task["accepted"] += 1
        task["escrow"] -= reward
        claims = get(ctx.storage, _claim_key(entry["tasker_id"]), {})
        key = str(task["task_id"])
        claims[key] = claims.get(key, 0) + reward
        ctx.storage[_claim_key(entry["tasker_id"])] = claims

    def _accept_by_agreement(
        self, ctx: Context, task: dict[str, Any], labels: list[dict[str, Any]]
    ) -> None:
        """Accept the pending labels that agree with a strict majority of the item's labels."""
        active = _active(labels)
        counts: dict[str, int] = {}
        for entry in active:
            counts[entry["content_hash"]] = counts.get(entry["content_hash"], 0) + 1
        winner, votes = max(counts.items(), key=lambda kv: kv[1])
        if 2 * votes <= len(active):
            return
        for entry in active:
            if entry["status"] == PENDING and entry["content_hash"] == winner:
                self._accept(ctx, task, entry)

    @staticmethod
    def _chosen(claims: dict[str, int], task_ids: Any) -> list[str]:
        if task_ids is None:
            return list(claims)
        ensure(isinstance(task_ids, list), DESERIALIZE_ERROR)
        keys = {str(u64(t)) for t in task_ids}
        return [key for key in claims if key in keys]

    def _summary(self, ctx: Context, task: dict[str, Any]) -> dict[str, Any]:
        slots = len(task["items"]) * task["labels_per_item"]
        return {
            "task_id": task["task_id"],
            "vendor_id": task["vendor_id"],
            "title": task["title"],
            "description": task["description"],
            "status": task["status"],
            "reward_per_label": str(task["reward_per_label"]),
            "labels_per_item": task["labels_per_item"],
            "allowed_labels": task["allowed_labels"],
            "auto_accept": task["auto_accept"],
            "item_count": len(task["items"]),
            "label_slots": slots,
            "pending_count": task["pending"],
            "accepted_count": task["accepted"],
            "reward_pool": str(task["escrow"]),
            "created_at_ns": task["created_at_ns"],
            "closed_at_ns": task["closed_at_ns"],
        }

    @staticmethod
    def _item_view(ctx: Context, task: dict[str, Any], item: int) -> dict[str, Any]:
        labels = ctx.storage.get(_labels_key(task["task_id"], item), [])
        active = _active(labels)
        return {
            "item_id": item,
            "text": task["items"][item],
            "label_count": len(active),
            "accepted_count": sum(1 for e in active if e["status"] == ACCEPTED),
            "open_slots": task["labels_per_item"] - len(active),
        }

    @staticmethod
    def _emit(ctx: Context, event: str, data: dict[str, Any]) -> None:
        ctx.emit_event(STANDARD, VERSION, event, [data])
