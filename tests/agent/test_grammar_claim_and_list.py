"""Natural Japanese and Chinese ways to claim rewards and list tasks, in tables.

Before, "私の報酬を受け取って", "報酬の受け取りをお願いします", "领取一下奖励", "把奖励领了",
"タスク一覧を見せて", "有哪些任务" and many more were not understood. The negative tables hold
what must never become a claim: a denial, a question, a past or a how-to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent.planner import OfflinePlanner

REPO = Path(__file__).resolve().parents[2]

CLAIM_ALL: dict[str, Any] = {}

CLAIM = [
    # Japanese
    ("報酬を受け取って", CLAIM_ALL),
    ("報酬を受け取りたい", CLAIM_ALL),
    ("報酬を受け取る", CLAIM_ALL),
    ("報酬受け取り", CLAIM_ALL),
    ("報酬をもらう", CLAIM_ALL),
    ("報酬をもらいたい", CLAIM_ALL),
    ("報酬を請求して", CLAIM_ALL),
    ("私の報酬を受け取って", CLAIM_ALL),
    ("タスクの報酬を受け取って", CLAIM_ALL),
    ("報酬をください", CLAIM_ALL),
    ("報酬を引き出して", CLAIM_ALL),
    ("報酬を全部受け取って", CLAIM_ALL),
    ("すべての報酬を受け取って", CLAIM_ALL),
    ("報酬を受け取ってください", CLAIM_ALL),
    ("報酬の受け取り", CLAIM_ALL),
    ("報酬の受け取りをお願いします", CLAIM_ALL),
    ("稼いだ報酬を受け取って", CLAIM_ALL),
    ("貯まった報酬を受け取りたいです", CLAIM_ALL),
    ("リワードを受け取る", CLAIM_ALL),
    ("報酬をゲットして", CLAIM_ALL),
    ("報酬を回収して", CLAIM_ALL),
    ("タスク3の報酬を受け取って", {"task_ids": [3]}),
    ("タスク1と2の報酬を受け取って", {"task_ids": [1, 2]}),
    # Chinese
    ("领取奖励", CLAIM_ALL),
    ("领取我的奖励", CLAIM_ALL),
    ("领奖励", CLAIM_ALL),
    ("帮我领取奖励", CLAIM_ALL),
    ("请领取奖励", CLAIM_ALL),
    ("领取任务奖励", CLAIM_ALL),
    ("领取所有奖励", CLAIM_ALL),
    ("把奖励领了", CLAIM_ALL),
    ("把我的奖励领取了", CLAIM_ALL),
    ("帮我把奖励领了", CLAIM_ALL),
    ("把报酬领出来", CLAIM_ALL),
    ("提取报酬", CLAIM_ALL),
    ("领取一下奖励", CLAIM_ALL),
    ("领一下奖励", CLAIM_ALL),
    ("提现奖励", CLAIM_ALL),
    ("领取赚到的奖励", CLAIM_ALL),
    ("领取任务的报酬", CLAIM_ALL),
    ("领取全部奖励吧", CLAIM_ALL),
    ("领取任务3的奖励", {"task_ids": [3]}),
]

LIST = [
    # Japanese
    ("タスク一覧", {}),
    ("タスクの一覧", {}),
    ("タスク一覧を見せて", {}),
    ("タスクを一覧表示して", {}),
    ("タスクの一覧を表示", {}),
    ("タスク一覧を表示してください", {}),
    ("タスクを見せて", {}),
    ("タスクを確認して", {}),
    ("タスクを一覧で見せて", {}),
    ("タスクの一覧を見たい", {}),
    ("タスクを一覧にして", {}),
    ("全タスクを見せて", {}),
    ("すべてのタスクを表示", {}),
    ("ラベリングタスクの一覧", {}),
    ("どんなタスクがある?", {}),
    ("タスクは何がありますか", {}),
    ("オープンなタスク", {"status": "open"}),
    ("公開中のタスク一覧", {"status": "open"}),
    ("募集中のタスクを見せて", {"status": "open"}),
    ("利用可能なタスク", {"status": "open"}),
    ("終了したタスクを表示", {"status": "closed"}),
    # Chinese
    ("任务列表", {}),
    ("列出任务", {}),
    ("列出所有任务", {}),
    ("查看任务", {}),
    ("查看任务列表", {}),
    ("显示任务", {}),
    ("有哪些任务", {}),
    ("有什么任务", {}),
    ("看看有哪些任务", {}),
    ("现在有什么任务", {}),
    ("给我看任务列表", {}),
    ("列一下任务", {}),
    ("查一下任务", {}),
    ("看一下任务列表", {}),
    ("任务清单", {}),
    ("查看开放的任务", {"status": "open"}),
    ("列出开放任务", {"status": "open"}),
    ("列出可做的任务", {"status": "open"}),
    ("有哪些开放的任务?", {"status": "open"}),
    ("显示已关闭的任务", {"status": "closed"}),
]

NOT_AN_ACTION = [
    "報酬を受け取らないで",
    "報酬をもらわないで",
    "報酬を受け取りましたか",
    "報酬を受け取った",
    "報酬をもらった",
    "報酬を受け取れる?",
    "報酬を受け取る方法を教えて",
    "報酬はいくら?",
    "別に報酬は要らない",
    "報酬を送って",
    "タスクを削除して",
    "タスクを作成して",
    "不要领取奖励",
    "别领取奖励",
    "不要把奖励领了",
    "奖励先别领",
    "领取奖励了吗",
    "领取了奖励",
    "奖励领了吗",
    "怎么领取奖励",
    "报酬是多少",
    "奖励在哪里",
    "删除任务",
    "创建任务",
    "任务完成了吗",
]


def _plan(text: str) -> Any:
    return OfflinePlanner().plan_text(text)


@pytest.mark.parametrize(("text", "args"), CLAIM)
def test_claiming_rewards_is_understood(text: str, args: dict[str, Any]) -> None:
    plan = _plan(text)
    assert plan.ok, plan.error
    assert [(s.tool, dict(s.args)) for s in plan.steps] == [("claim_rewards", args)]


@pytest.mark.parametrize(("text", "args"), LIST)
def test_listing_tasks_is_understood(text: str, args: dict[str, Any]) -> None:
    plan = _plan(text)
    assert plan.ok, plan.error
    assert [(s.tool, dict(s.args)) for s in plan.steps] == [("list_tasks", args)]


@pytest.mark.parametrize("text", NOT_AN_ACTION)
def test_what_is_not_an_instruction_to_act_is_not_planned_as_one(text: str) -> None:
    plan = _plan(text)
    acting = [s.tool for s in plan.steps if s.tool not in ("balance", "list_tasks")]
    assert acting == [], (text, acting)


@pytest.mark.parametrize(
    ("text", "tool", "code"),
    [("報酬の受け取りをお願いします", "claim_rewards", 0), ("有哪些任务", "list_tasks", 0)],
)
def test_the_cli_plans_them_too(tmp_path: Path, text: str, tool: str, code: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "agent", "--home", str(tmp_path), "plan", text, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == code, done.stderr
    assert [s["tool"] for s in json.loads(done.stdout)["steps"]] == [tool]


def test_the_cli_exits_3_on_what_it_does_not_understand(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "agent", "--home", str(tmp_path), "plan", "不要领取奖励"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
