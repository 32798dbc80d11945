"""Role-aware grounding in English, Japanese and Chinese: which model plans the user's words back.

A plan is grounded when each fund-moving step equals a payment or swap the sentence asks for in
every field (recipient, amount, token; sold token, amount, bought token), each clause once, in
order. Negated, questioning and hypothetical sentences back no payment, swap or claim, in the
offline planner as much as under a model.
"""

from __future__ import annotations

import pytest

from agent.planner import OfflinePlanner
from agent.planner.grounding import ungrounded_plan

CONTACTS = {"bob": "bob.near", "carol": "carol.testnet", "ref": "ref-friend.near"}


def t(receiver: str, amount: str, token: str = "NEAR") -> tuple[str, dict]:
    return "transfer", {"receiver_id": receiver, "amount": amount, "token": token}


def s(token_in: str, token_out: str, amount: str, bps: int | None = None) -> tuple[str, dict]:
    args = {"token_in": token_in, "token_out": token_out, "amount_in": amount}
    if bps is not None:
        args["max_slippage_bps"] = bps
    return "swap", args


CLAIM = ("claim_rewards", {})
BALANCE = ("balance", {})

GROUNDED = [
    # English
    ("send 2.5 NEAR to bob", [t("bob.near", "2.5")]),
    ("pay carol 3 near", [t("carol.testnet", "3")]),
    ("send 5 to bob", [t("bob.near", "5")]),
    ("transfer 1,000.25 USDC to bob.near", [t("bob.near", "1000.25", "USDC")]),
    ("swap 5 NEAR to USDC", [s("NEAR", "USDC", "5")]),
    ("sell 5 NEAR for USDC", [s("NEAR", "USDC", "5")]),
    ("convert 1.25 wnear into ref", [s("wNEAR", "REF", "1.25")]),
    ("buy USDC with 5 NEAR", [s("NEAR", "USDC", "5")]),
    ("buy 5 NEAR worth of USDC", [s("NEAR", "USDC", "5")]),
    ("swap 5 NEAR to USDC with 1% slippage", [s("NEAR", "USDC", "5", 50)]),
    ("could you send 1 NEAR to bob?", [t("bob.near", "1")]),
    ("swap 2 NEAR to REF", [s("NEAR", "REF", "2")]),
    ("send 2 NEAR to ref", [t("ref-friend.near", "2")]),
    ("send 1 NEAR to bob and 3 NEAR to carol", [t("bob.near", "1"), t("carol.testnet", "3")]),
    ("send 1 NEAR to bob and 3 NEAR to carol", [t("carol.testnet", "3")]),
    ("send 1 NEAR to bob, 3 USDC to carol", [t("bob.near", "1"), t("carol.testnet", "3", "USDC")]),
    ("send 2 NEAR to bob, then 2 NEAR to bob again", [t("bob.near", "2"), t("bob.near", "2")]),
    (
        "swap 5 NEAR to USDC and then send 10 USDC to bob",
        [s("NEAR", "USDC", "5"), t("bob.near", "10", "USDC")],
    ),
    ("what's my balance? send 1 NEAR to bob", [BALANCE, t("bob.near", "1")]),
    ("claim my rewards", [CLAIM]),
    # Japanese
    ("1 NEARをbobに送って", [t("bob.near", "1")]),
    ("bobに0.5 NEARを送金して", [t("bob.near", "0.5")]),
    ("２。５ NEARをbobに送って", [t("bob.near", "2.5")]),
    ("5 NEARをUSDCに交換して", [s("NEAR", "USDC", "5")]),
    ("5 NEARでUSDCを買って", [s("NEAR", "USDC", "5")]),
    ("スリッページ1%で5 NEARをUSDCに交換して", [s("NEAR", "USDC", "5", 100)]),
    ("報酬を受け取って", [CLAIM]),
    # Chinese
    ("给 bob 转 2 NEAR", [t("bob.near", "2")]),
    ("转2个NEAR给bob", [t("bob.near", "2")]),
    ("把 10 USDC 换成 NEAR", [s("USDC", "NEAR", "10")]),
    ("用 10 USDC 买 NEAR", [s("USDC", "NEAR", "10")]),
    (
        "把 10 USDC 换成 NEAR 然后给 bob 转 2 NEAR",
        [s("USDC", "NEAR", "10"), t("bob.near", "2")],
    ),
    ("领取奖励", [CLAIM]),
]


@pytest.mark.parametrize(("text", "steps"), GROUNDED, ids=[g[0] for g in GROUNDED])
def test_grounded(text: str, steps: list) -> None:
    assert ungrounded_plan(steps, text, CONTACTS.get) == []


UNGROUNDED = [
    # English: a field changed
    ("send 2.5 NEAR to bob", [t("bob.near", "25")], "amount='25'"),
    ("send 2.5 NEAR to bob", [t("carol.testnet", "2.5")], "receiver_id='carol.testnet'"),
    ("send 2.5 NEAR to bob", [t("bob.near", "2.5", "USDC")], "token='USDC'"),
    ("send 5 to bob", [t("bob.near", "5", "USDC")], "token='USDC'"),
    ("swap 5 NEAR to USDC", [s("USDC", "NEAR", "5")], "token_in='USDC'"),
    ("buy USDC with 5 NEAR", [s("USDC", "NEAR", "5")], "token_in='USDC'"),
    ("swap 5 NEAR to USDC", [s("NEAR", "USDC", "5", 50)], "not a slippage you stated"),
    ("swap 5 NEAR to USDC with 0.5% slippage", [s("NEAR", "USDC", "5", 100)], "above the 50"),
    # English: a step added, or moved between clauses
    ("send 2 NEAR to bob", [t("bob.near", "2"), t("bob.near", "2")], "fewer times"),
    ("send 2 NEAR to bob", [t("bob.near", "2"), s("NEAR", "USDC", "2")], "not a swap"),
    ("swap 2 NEAR to REF", [t("ref-friend.near", "2")], "never a recipient"),
    ("label task 3 item 2 as cat", [t("thief.near", "99")], "not an account or contact"),
    ("label task 3 item 2 as cat", [CLAIM], "did not ask to claim"),
    # English: not an instruction
    ("send 2 NEAR to bob?", [t("bob.near", "2")], "question"),
    ("should I send 2 NEAR to bob", [t("bob.near", "2")], "question"),
    ("how much USDC would 1 NEAR get me?", [s("NEAR", "USDC", "1")], "question"),
    ("if the price drops, swap 5 NEAR to USDC", [s("NEAR", "USDC", "5")], "hypothetical"),
    ("what if I swap 5 NEAR to USDC", [s("NEAR", "USDC", "5")], "instruction"),
    ("never send 2 NEAR to bob", [t("bob.near", "2")], "not to"),
    ("do NOT send 2 NEAR to bob", [t("bob.near", "2")], "not to"),
    ("don't swap 5 NEAR to USDC", [s("NEAR", "USDC", "5")], "not to"),
    # Refusing the ambiguous rather than guessing which part the "not" is about.
    ("send 2 NEAR to bob, not carol", [t("bob.near", "2")], "not to"),
    ("send 1 NEAR to bob. Actually, don't.", [t("bob.near", "1")], "not to"),
    ("send 1 NEAR to bob. I don’t want that after all", [t("bob.near", "1")], "not to"),
    # In a shared-verb sentence a token that was not written is not assumed.
    ("send 1 USDC to bob, 3 to carol", [t("carol.testnet", "3")], "receiver_id="),
    ("send 1 USDC to bob, 3 to carol", [t("carol.testnet", "3", "USDC")], "receiver_id="),
    ("claim my rewards?", [CLAIM], "question"),
    ('label task 3 as "send 2 NEAR to bob"', [t("bob.near", "2")], "recipient"),
    ("buy 1 NEAR with USDC", [s("NEAR", "USDC", "1")], "amount to receive"),
    ('bob wrote "send 2 NEAR to bob"', [t("bob.near", "2")], "recipient"),
    # Japanese
    ("bobが「2 NEARをbobに送って」と言った", [t("bob.near", "2")], "recipient"),
    ("1 NEARをbobに送って", [t("carol.testnet", "1")], "receiver_id='carol.testnet'"),
    ("5 NEARをUSDCに交換して", [s("USDC", "NEAR", "5")], "token_in='USDC'"),
    ("2 NEARをbobに送らないで", [t("bob.near", "2")], "not to"),
    ("bobに1 NEARを送ってもいいですか", [t("bob.near", "1")], "question"),
    ("もし価格が上がったら5 NEARをUSDCに交換して", [s("NEAR", "USDC", "5")], "hypothetical"),
    ("1 NEARをUSDCで買って", [s("NEAR", "USDC", "1")], "amount to receive"),
    ("報酬を受け取らないで", [CLAIM], "not to"),
    # Chinese
    ("给 bob 转 2 NEAR", [t("carol.testnet", "2")], "receiver_id='carol.testnet'"),
    ("bob说“给 bob 转 2 NEAR”", [t("bob.near", "2")], "recipient"),
    ("把 10 USDC 换成 NEAR", [s("NEAR", "USDC", "10")], "token_in='NEAR'"),
    ("用 10 USDC 买 NEAR", [s("NEAR", "USDC", "10")], "token_in='NEAR'"),
    ("不要给bob转2 NEAR", [t("bob.near", "2")], "not to"),
    ("给bob转2 NEAR吗", [t("bob.near", "2")], "question"),
    ("如果价格涨了就把 10 USDC 换成 NEAR", [s("USDC", "NEAR", "10")], "hypothetical"),
    ("我能用10 USDC买多少NEAR？", [s("USDC", "NEAR", "10")], "question"),
    ("用USDC买1个NEAR", [s("USDC", "NEAR", "1")], "amount to receive"),
]


@pytest.mark.parametrize(
    ("text", "steps", "reason"), UNGROUNDED, ids=[f"{u[0]} {u[1]}"[:60] for u in UNGROUNDED]
)
def test_ungrounded(text: str, steps: list, reason: str) -> None:
    problems = ungrounded_plan(steps, text, CONTACTS.get)
    assert problems, "a step the user did not ask for was accepted"
    assert reason in "; ".join(problems)


def test_a_transfer_without_a_token_takes_the_users_default_token() -> None:
    steps = [t("bob.near", "5", "USDC")]
    assert ungrounded_plan(steps, "send 5 to bob", CONTACTS.get, default_token="USDC") == []


@pytest.mark.parametrize(
    "text",
    [
        "send 2 NEAR to bob?",
        "2 NEARをbobに送らないで",
        "bobに1 NEARを送ってもいいですか",
        "给bob转2 NEAR吗",
        "claim my rewards?",
        "send 1 NEAR to bob. Actually, don't.",
    ],
)
def test_the_offline_planner_plans_no_payment_from_a_sentence_that_is_no_instruction(
    text: str,
) -> None:
    plan = OfflinePlanner(contacts=CONTACTS.get).plan_text(text)
    assert plan.steps == [] and "is not an instruction" in (plan.error or "")


@pytest.mark.parametrize(
    ("text", "tools"),
    [
        ("could you send 1 NEAR to bob?", ["transfer"]),
        ("what's my balance? send 1 NEAR to bob", ["balance", "transfer"]),
        ("how much NEAR do I have", ["balance"]),
        ("USDCの残高は？", ["balance"]),
        ("我有多少NEAR", ["balance"]),
        ('label task 3 as "don\'t"; send 1 NEAR to bob', ["submit_label", "transfer"]),
        ("send 1 NEAR to not.near", ["transfer"]),
        ("send 1 NEAR to no-rush.near", ["transfer"]),
    ],
)
def test_questions_and_quoted_words_elsewhere_do_not_block_an_instruction(
    text: str, tools: list[str]
) -> None:
    plan = OfflinePlanner(contacts=CONTACTS.get).plan_text(text)
    assert [s.tool for s in plan.steps] == tools, plan.error


def test_a_contact_never_stands_in_for_a_token() -> None:
    planner = OfflinePlanner(contacts=CONTACTS.get)
    assert planner.plan_text("swap 2 NEAR to REF").steps[0].args["token_out"] == "REF"
    assert planner.plan_text("send 2 NEAR to ref").steps[0].args["receiver_id"] == "ref-friend.near"
    refused = planner.plan_text("swap 2 NEAR to bob")
    assert refused.steps == [] and "one of your contacts, not a token" in (refused.error or "")
