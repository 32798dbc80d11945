"""Tasks: escrowed rewards, one label per tasker per item, review, agreement, claim and close."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devnet.contracts.tasks import Tasks
from tests.devnet.contract_harness import NEAR, Chain

T = "tasks.near"
REWARD = NEAR // 100
TASKERS = ("alice.near", "bob.near", "carol.near")


@pytest.fixture
def chain() -> Chain:
    c = Chain()
    for name in ("vendor.near", *TASKERS):
        c.account(name, 100 * NEAR)
    c.deploy(T, Tasks, balance=NEAR)
    assert c.call(T, "new", {"owner_id": "vendor.near"}, by=T).ok
    return c


def create(
    chain: Chain,
    *,
    items: int = 2,
    per_item: int = 1,
    auto: bool = False,
    allowed: list[str] | None = None,
    deposit: int | None = None,
):
    args = {
        "title": "Sentiment",
        "description": "positive or negative?",
        "items": [f"text {i}" for i in range(items)],
        "reward_per_label": str(REWARD),
        "labels_per_item": per_item,
        "allowed_labels": allowed,
        "auto_accept": auto,
    }
    pool = REWARD * items * per_item
    return chain.call(
        T, "create_task", args, by="vendor.near", deposit=pool if deposit is None else deposit
    )


def label(chain: Chain, tasker: str, text: str, item: int | None = 0, task: int = 0):
    args: dict = {"task_id": task, "label": text}
    if item is not None:
        args["item_id"] = item
    return chain.call(T, "submit_label", args, by=tasker)


def test_create_escrows_exact_pool_and_refunds_excess(chain: Chain) -> None:
    before = chain.balances["vendor.near"]
    out = create(chain, items=3, per_item=2, deposit=NEAR)
    assert out.ok and out.value == 0
    assert chain.balances["vendor.near"] == before - 6 * REWARD
    assert chain.balances[T] == NEAR + 6 * REWARD
    task = chain.view(T, "get_task", task_id=0)
    assert task["status"] == "open" and task["vendor_id"] == "vendor.near"
    assert task["reward_per_label"] == str(REWARD) and task["reward_pool"] == str(6 * REWARD)
    assert [i["item_id"] for i in task["items"]] == [0, 1, 2]
    assert task["items"][0] == {
        "item_id": 0,
        "text": "text 0",
        "label_count": 0,
        "accepted_count": 0,
        "open_slots": 2,
    }
    assert create(chain).value == 1  # ids count up
    assert chain.view(T, "get_task", task_id=7) is None


def test_create_with_insufficient_deposit_is_refused(chain: Chain) -> None:
    before = chain.balances["vendor.near"]
    out = create(chain, items=2, deposit=2 * REWARD - 1)
    assert not out.ok and "less than the reward pool" in out.error
    assert chain.balances["vendor.near"] == before
    assert chain.view(T, "list_tasks") == []


def test_submit_records_hash_and_refuses_a_second_label(chain: Chain) -> None:
    create(chain)
    out = label(chain, "alice.near", "positive ☺")
    assert out.ok
    digest = hashlib.sha256("positive ☺".encode()).hexdigest()
    assert out.value == {"task_id": 0, "item_id": 0, "content_hash": digest, "status": "pending"}
    assert out.events[-1]["event"] == "label_submitted"
    again = label(chain, "alice.near", "negative")
    assert not again.ok and "already labelled" in again.error
    labels = chain.view(T, "get_labels", task_id=0, item_id=0)
    assert [(e["tasker_id"], e["status"]) for e in labels] == [("alice.near", "pending")]


def test_submit_rules(chain: Chain) -> None:
    create(chain, items=1, allowed=["pos", "neg"])
    assert "not one of the allowed labels" in label(chain, "alice.near", "meh").error
    assert label(chain, "vendor.near", "pos").error == "the vendor cannot label its own task"
    assert label(chain, "alice.near", "pos", item=5).error == "task 0 has no item 5"
    assert label(chain, "alice.near", "pos", task=3).error == "task 3 not found"
    assert label(chain, "alice.near", "pos").ok
    assert "has all its labels" in label(chain, "bob.near", "pos").error
    assert (
        chain.call(
            T, "submit_label", {"task_id": 0, "label": "pos"}, by="bob.near", deposit=1
        ).error
        == "Method submit_label doesn't accept deposit"
    )


def test_item_id_omitted_picks_next_open_item(chain: Chain) -> None:
    create(chain, items=3)
    assert label(chain, "alice.near", "x", item=None).value["item_id"] == 0
    assert label(chain, "bob.near", "x", item=None).value["item_id"] == 1
    assert chain.view(T, "get_next_item", task_id=0, account_id="carol.near")["item_id"] == 2


def test_review_accept_and_reject(chain: Chain) -> None:
    create(chain, items=1, per_item=2)
    label(chain, "alice.near", "a")
    label(chain, "bob.near", "b")
    assert (
        chain.call(
            T,
            "review",
            {"task_id": 0, "item_id": 0, "tasker_id": "alice.near", "accept": True},
            by="alice.near",
        ).error
        == "only the vendor can review task 0"
    )
    out = chain.call(
        T,
        "review",
        {"task_id": 0, "item_id": 0, "tasker_id": "alice.near", "accept": True},
        by="vendor.near",
    )
    assert out.ok and out.value["status"] == "accepted"
    assert chain.view(T, "get_claimable", account_id="alice.near") == str(REWARD)
    out = chain.call(
        T,
        "review",
        {"task_id": 0, "item_id": 0, "tasker_id": "bob.near", "accept": False},
        by="vendor.near",
    )
    assert out.ok and out.value["status"] == "rejected"
    assert chain.view(T, "get_claimable", account_id="bob.near") == "0"
    # the rejected slot is open again for someone else, the pool still holds its reward
    assert chain.view(T, "get_task", task_id=0)["items"][0]["open_slots"] == 1
    assert chain.view(T, "get_task", task_id=0)["reward_pool"] == str(REWARD)
    assert label(chain, "carol.near", "a").ok
    twice = chain.call(
        T,
        "review",
        {"task_id": 0, "item_id": 0, "tasker_id": "alice.near", "accept": False},
        by="vendor.near",
    )
    assert twice.error == "the label is already accepted"


def test_auto_accept_by_agreement(chain: Chain) -> None:
    create(chain, items=1, per_item=3, auto=True)
    assert label(chain, "alice.near", "cat").value["status"] == "pending"
    assert label(chain, "bob.near", "dog").value["status"] == "pending"
    assert label(chain, "carol.near", "cat").value["status"] == "accepted"
    statuses = {
        e["tasker_id"]: e["status"] for e in chain.view(T, "get_labels", task_id=0, item_id=0)
    }
    assert statuses == {"alice.near": "accepted", "bob.near": "pending", "carol.near": "accepted"}
    assert chain.view(T, "get_claimable", account_id="alice.near") == str(REWARD)
    assert chain.view(T, "get_claimable", account_id="bob.near") == "0"


def test_auto_accept_without_majority_waits_for_review(chain: Chain) -> None:
    create(chain, items=1, per_item=2, auto=True)
    label(chain, "alice.near", "cat")
    assert label(chain, "bob.near", "dog").value["status"] == "pending"
    assert chain.view(T, "get_claimable", account_id="alice.near") == "0"


def test_claim_sends_near_once(chain: Chain) -> None:
    create(chain, items=2, auto=True)
    create(chain, items=1, auto=True)
    label(chain, "alice.near", "x", item=0, task=0)
    label(chain, "alice.near", "x", item=1, task=0)
    label(chain, "alice.near", "x", item=0, task=1)
    assert chain.view(T, "get_claimable", account_id="alice.near", task_ids=[1]) == str(REWARD)
    before = chain.balances["alice.near"]
    out = chain.call(T, "claim_rewards", {"task_ids": [0]}, by="alice.near")
    assert out.ok and out.value == str(2 * REWARD)
    assert chain.balances["alice.near"] == before + 2 * REWARD
    out = chain.call(T, "claim_rewards", {"task_ids": None}, by="alice.near")
    assert out.value == str(REWARD)
    again = chain.call(T, "claim_rewards", {}, by="alice.near")
    assert again.error == "nothing to claim"
    assert chain.call(T, "claim_rewards", {}, by="bob.near").error == "nothing to claim"


def test_close_refunds_unspent_and_holds_pending(chain: Chain) -> None:
    create(chain, items=3)
    label(chain, "alice.near", "x", item=0)
    label(chain, "bob.near", "x", item=1)
    chain.call(
        T,
        "review",
        {"task_id": 0, "item_id": 0, "tasker_id": "alice.near", "accept": True},
        by="vendor.near",
    )
    before = chain.balances["vendor.near"]
    assert (
        chain.call(T, "close_task", {"task_id": 0}, by="bob.near").error
        == "only the vendor can close task 0"
    )
    out = chain.call(T, "close_task", {"task_id": 0}, by="vendor.near")
    assert out.ok and out.value == str(REWARD)  # item 2 never labelled; bob's label pending
    assert chain.balances["vendor.near"] == before + REWARD
    assert label(chain, "carol.near", "x", item=2).error == "task 0 is closed"
    assert [t["task_id"] for t in chain.view(T, "list_tasks", status="closed")] == [0]
    assert chain.view(T, "list_tasks", status="open") == []
    # rejecting the held label after closing returns its reward to the vendor
    chain.call(
        T,
        "review",
        {"task_id": 0, "item_id": 1, "tasker_id": "bob.near", "accept": False},
        by="vendor.near",
    )
    assert chain.balances["vendor.near"] == before + 2 * REWARD
    assert chain.view(T, "get_task", task_id=0)["reward_pool"] == "0"
    assert (
        chain.call(T, "close_task", {"task_id": 0}, by="vendor.near").error
        == "task 0 is already closed"
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["label", "accept", "reject", "claim", "close"]),
            st.sampled_from(TASKERS),
            st.integers(0, 2),
            st.sampled_from(["a", "b"]),
        ),
        max_size=25,
    )
)
def test_money_is_conserved(ops: list[tuple[str, str, int, str]]) -> None:
    """Contract balance = escrow of every task + everything claimable, whatever happens."""
    c = Chain()
    for name in ("vendor.near", *TASKERS):
        c.account(name, 100 * NEAR)
    c.deploy(T, Tasks, balance=0)
    c.call(T, "new", {"owner_id": "vendor.near"}, by=T)
    create(c, items=3, per_item=2, auto=True)
    total = sum(c.balances.values())
    for op, who, item, text in ops:
        if op == "label":
            label(c, who, text, item=item)
        elif op in ("accept", "reject"):
            c.call(
                T,
                "review",
                {"task_id": 0, "item_id": item, "tasker_id": who, "accept": op == "accept"},
                by="vendor.near",
            )
        elif op == "claim":
            c.call(T, "claim_rewards", {}, by=who)
        else:
            c.call(T, "close_task", {"task_id": 0}, by="vendor.near")
        task = c.view(T, "get_task", task_id=0)
        claimable = sum(int(c.view(T, "get_claimable", account_id=t)) for t in TASKERS)
        assert c.balances[T] == int(task["reward_pool"]) + claimable
        assert sum(c.balances.values()) == total
        assert all(i["open_slots"] >= 0 for i in task["items"])
