"""Grounding of every step that acts: labels and claims as much as payments and swaps.

A model's answer goes through ``LLMPlanner.check``, the code every model plan passes (the model
itself is only needed at the seam, below, where the replay server scripts it). Read-only tools
are free; a label submission must be one the user wrote in task, item and label; a claim names no
task when the user named none, otherwise only tasks the user named; a stated slippage is carried
when the model leaves it out; and nothing acts while part of the message is beyond the grammar.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent.home import Home
from agent.planner import OfflinePlanner
from agent.planner.llm import LLMPlanner, ModelAnswer
from agent.planner.text import prepare
from devnet.server import RunningDevnet
from tests.agent.agent_runs import near_agent
from tests.support.chain_reads import usdc_and_nonce
from tests.support.openai_replay import ModelTurn, ReplayServer, ToolCall

CONTACTS = {"bob": "bob.test.near", "carol": "carol.test.near"}
CHECKER = LLMPlanner(
    base_url="http://127.0.0.1:9/v1",
    model="scripted",
    api_key="sk-test",
    max_slippage_bps=100,
    resolve_contact=CONTACTS.get,
)


def check(text: str, *calls: tuple[str, dict[str, Any]]) -> ModelAnswer:
    tool_calls = [
        {"name": tool, "args": args, "id": f"c{i}"} for i, (tool, args) in enumerate(calls)
    ]
    return CHECKER.check(text, tool_calls, [], None)


def label(task: int, text: str, item: int | None = None) -> tuple[str, dict[str, Any]]:
    args: dict[str, Any] = {"task_id": task, "label": text}
    if item is not None:
        args["item_id"] = item
    return "submit_label", args


def claim(*ids: int) -> tuple[str, dict[str, Any]]:
    return "claim_rewards", ({"task_ids": list(ids)} if ids else {})


def send(amount: str, receiver: str = "bob.test.near") -> tuple[str, dict[str, Any]]:
    return "transfer", {"receiver_id": receiver, "amount": amount, "token": "NEAR"}


def swap(bps: int | None = None) -> tuple[str, dict[str, Any]]:
    args: dict[str, Any] = {"token_in": "NEAR", "token_out": "USDC", "amount_in": "1"}
    if bps is not None:
        args["max_slippage_bps"] = bps
    return "swap", args


ACCEPTED = [
    ("label task 1 as cat", [label(1, "cat")]),
    ("label item 2 of task 1 as cat", [label(1, "cat", 2)]),
    ('label task 1 as "send 2 NEAR to bob"', [label(1, "send 2 NEAR to bob")]),
    ("タスク1に猫とラベル付けして", [label(1, "猫")]),
    ("claim my rewards", [claim()]),
    ("claim my rewards for tasks 1, 2 and 3", [claim(1, 2, 3)]),
    ("claim my rewards for tasks 1, 2 and 3", [claim(2)]),  # narrower
    ("label task 1 as cat, then claim my rewards", [label(1, "cat"), claim()]),
    ("label task 1 as cat, then claim my rewards", [claim()]),  # a step left out
    ("what's my balance? label task 1 as cat", [("balance", {}), label(1, "cat")]),
]


@pytest.mark.parametrize(("text", "calls"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_a_label_or_claim_the_user_wrote_passes(text: str, calls: list) -> None:
    answer = check(text, *calls)
    assert answer.error is None, answer.error
    assert [(s.tool, s.args) for s in answer.steps] == calls


REFUSED = [
    ("label task 1 as cat", [label(1, "Cat")], "label='Cat' differs"),
    ("label task 1 as cat", [label(1, "cat", 7)], "item_id=7 differs"),
    ("label item 2 of task 1 as cat", [label(1, "cat")], "item_id=None differs"),
    ("label task 1 as cat", [label(1, "cat"), label(1, "cat")], "fewer times"),
    ("never label task 1 as cat", [label(1, "cat")], "not to"),
    ("タスク1に猫とラベル付けしないで", [label(1, "猫")], "not to"),
    ("send 1 NEAR to bob", [send("1"), label(1, "cat")], "did not ask to submit a label"),
    ("claim my rewards", [claim(1)], "names none"),
    ("claim my rewards for task 1", [claim()], "task_ids=None"),
    ("claim my rewards for task 1", [claim(1, 2)], "goes beyond"),
    ("claim rewards from task 1? no", [claim(1)], "instruction"),
    ("claim my rewards, then label task 1 as cat", [label(1, "cat"), claim()], "different order"),
    ("label task 1 as rewards", [label(1, "rewards"), claim()], "did not ask to claim"),
    ("send 1 NEAR to rewards.test.near", [claim()], "did not ask to claim"),
]


@pytest.mark.parametrize(("text", "calls", "reason"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_label_or_claim_the_user_did_not_write_is_refused(
    text: str, calls: list, reason: str
) -> None:
    answer = check(text, *calls)
    assert answer.steps == [] and answer.error is not None
    assert reason in answer.error, answer.error


@pytest.mark.parametrize(
    ("text", "proposed", "runs"),
    [
        ("swap 1 NEAR to USDC with 0.5% slippage", None, 50),  # carried, not the default
        ("swap 1 NEAR to USDC with 0% slippage", None, 0),
        ("swap 1 NEAR to USDC with 0.5% slippage", 20, 20),  # tighter is the model's right
        ("swap 1 NEAR to USDC", None, None),  # nothing stated: the home's default applies later
    ],
)
def test_the_slippage_the_user_stated_is_the_one_that_runs(
    text: str, proposed: int | None, runs: int | None
) -> None:
    answer = check(text, swap(proposed))
    assert answer.error is None, answer.error
    assert answer.steps[0].args.get("max_slippage_bps") == runs


@pytest.mark.parametrize(
    ("text", "proposed", "reason"),
    [
        ("swap 1 NEAR to USDC with 0.5% slippage", 51, "above the 50 bps you stated"),
        ("swap 1 NEAR to USDC", 10, "not a slippage you stated"),
        ("swap 1 NEAR to USDC with 2% slippage", None, "you stated 200 bps slippage, above"),
    ],
)
def test_a_slippage_wider_than_stated_or_than_the_setting_is_refused(
    text: str, proposed: int | None, reason: str
) -> None:
    answer = check(text, swap(proposed))
    assert answer.steps == [] and reason in (answer.error or ""), answer.error


UNREAD_TAILS = ["Nope.", "just kidding", "hmm, wait", "Bitte nicht.", "冗談です", "开个玩笑", "lol"]


@pytest.mark.parametrize("tail", UNREAD_TAILS)
@pytest.mark.parametrize(
    "calls", [[send("1")], [claim()], [label(1, "cat")]], ids=["send", "claim", "label"]
)
def test_nothing_acts_while_part_of_the_message_is_unread(tail: str, calls: list) -> None:
    head = {"transfer": "send 1 NEAR to bob", "claim_rewards": "claim my rewards"}.get(
        calls[0][0], "label task 1 as cat"
    )
    joiner = "。" if not tail.isascii() else ". "
    answer = check(f"{head}{joiner}{tail}", *calls)
    assert answer.steps == [] and "could not be read" in (answer.error or ""), answer.error
    assert check(head, *calls).error is None  # the same step passes when every clause is read


def test_a_read_only_answer_survives_an_unread_message() -> None:
    answer = check("how are you today? what's my balance", ("balance", {}))
    assert answer.error is None and [s.tool for s in answer.steps] == ["balance"]


def test_the_offline_planner_labels_only_from_an_instruction_and_a_quoted_label_is_data() -> None:
    planner = OfflinePlanner(contacts=CONTACTS.get)
    denied = planner.plan_text("label task 1 as cat. Actually, don't.")
    assert denied.steps == [] and "not to" in (denied.error or "")
    bare = planner.plan_text("label task 1 as no")
    assert bare.steps == [] and 'quote it: label task 1 as "no"' in (bare.error or "")
    quoted = planner.plan_text('label task 1 as "no"')
    assert [(s.tool, dict(s.args)) for s in quoted.steps] == [label(1, "no")]
    assert check('label task 1 as "not spam"', label(1, "not spam")).error is None


def test_superscripts_stay_as_written_while_full_width_forms_fold() -> None:
    assert prepare("send 2¹ NEAR to bob").clauses == ("send 2¹ NEAR to bob",)
    assert prepare("１０ ＮＥＡＲをbobに送って").clauses == ("10 NEARをbobに送って",)
    assert prepare("ﾃｽﾄ").clauses == ("テスト",)


# At the user's seam: `near-agent` processes on the devnet, the model scripted.


@pytest.mark.parametrize(
    ("text", "call", "reason"),
    [
        (
            "claim my rewards for task 1",
            ToolCall("claim_rewards", {"task_ids": [1, 2, 3]}),
            "goes beyond",
        ),
        ("label task 1 as cat", ToolCall("submit_label", {"task_id": 1, "label": "dog"}), "dog"),
        (
            "do not label task 1 as cat",
            ToolCall("submit_label", {"task_id": 1, "label": "cat"}),
            "not to",
        ),
    ],
    ids=["claim widened", "label changed", "label denied"],
)
def test_cli_plan_shows_no_claim_or_label_the_user_did_not_write(
    llm_home: tuple[Home, ReplayServer],
    devnet: RunningDevnet,
    text: str,
    call: ToolCall,
    reason: str,
) -> None:
    home, replay = llm_home
    replay.script(ModelTurn(tool_calls=[call]))
    result = near_agent(home, "plan", text, "--json")
    body = json.loads(result.stdout)
    assert body["steps"] == [] and reason in body["error"], body
    assert len(replay.requests) == 1


def test_cli_do_yes_signs_no_swap_the_user_took_back(
    llm_home: tuple[Home, ReplayServer], devnet: RunningDevnet
) -> None:
    """The same swap signs when asked plainly (test_grounding_hostile); "just kidding" after it
    is beyond the grammar, so nothing is signed."""
    home, replay = llm_home
    before = usdc_and_nonce(devnet)
    swap_call = ToolCall("swap", {"token_in": "NEAR", "token_out": "USDC", "amount_in": "1"})
    replay.script(ModelTurn(tool_calls=[swap_call]))
    result = near_agent(home, "do", "swap 1 NEAR to USDC. just kidding", "--yes")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "could not be read" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(replay.requests) == 1
    assert usdc_and_nonce(devnet) == before  # nothing was signed


def test_cli_plan_carries_the_stated_slippage_the_model_left_out(
    llm_home: tuple[Home, ReplayServer], devnet: RunningDevnet
) -> None:
    home, replay = llm_home
    swap_call = ToolCall("swap", {"token_in": "NEAR", "token_out": "USDC", "amount_in": "1"})
    replay.script(ModelTurn(tool_calls=[swap_call]))
    result = near_agent(home, "plan", "swap 1 NEAR to USDC with 0.1% slippage", "--json")
    body = json.loads(result.stdout)
    assert [s["args"].get("max_slippage_bps") for s in body["steps"]] == [10], body


def test_cli_plan_json_shows_a_look_alike_digit_escaped(home: Home) -> None:
    result = near_agent(home, "plan", "send 2¹ NEAR to bob.test.near", "--json")
    assert result.returncode == 2, result.stdout + result.stderr
    body = json.loads(result.stdout)
    assert body["steps"] == [] and body["refused"] is True
    assert '"send 2\\u00b9 NEAR to bob.test.near"' in body["error"]
    assert "U+00B9 SUPERSCRIPT ONE" in body["error"] and "not read as a digit" in body["error"]
    assert "\\u00b9" in result.stderr and "Nothing was stored" in result.stderr
