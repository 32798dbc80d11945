"""What `do` and `plan` tell the user, run as the user runs them: separate processes on a real
home and the devnet over HTTP (and a devnet standing in for testnet, for explorer links).

Before: a denial said only its code, `do --yes` without a terminal said "you declined", `plan`
exited 0 on what it could not do, replies stayed English to Japanese and Chinese users, balances
showed 24 decimals, a done action showed no hash, link or fee, and `list open tasks` only
counted the tasks.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from agent.home import Home
from devnet.server import RunningDevnet, start_devnet
from tests.support.grants import give_home_grants
from tests.support.testnet_standin import standin_genesis, swap_grants, write_testnet_home

REPO = Path(__file__).resolve().parents[2]
TOO_PRECISE = re.compile(r"\d\.\d{7,}")  # more than 6 decimals shown to a person


def near_agent(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    command = [sys.executable, "-m", "agent", "--home", str(home.root), *args]
    done = subprocess.run(
        command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_a_denial_says_the_rules_own_words(home: Home) -> None:
    done = near_agent(home, "do", "send 10 NEAR to bob.test.near", "--yes")
    assert done.returncode == 1
    assert "10 NEAR exceeds 5 NEAR per action" in done.stdout
    assert "Nothing was sent" in done.stdout


def test_do_yes_without_a_terminal_says_no_one_was_asked(home: Home) -> None:
    done = near_agent(home, "do", "send 3 NEAR to bob.test.near", "--yes")
    assert done.returncode == 1
    assert "you declined" not in done.stdout
    assert "no terminal to ask on" in done.stdout
    assert "3 NEAR is above" in done.stdout or "first" in done.stdout  # why it asks


@pytest.mark.parametrize(
    ("intent", "code"),
    [
        ("what's my balance", 0),
        ("make me rich", 3),
        ("send 10 NEAR to bob.test.near", 4),
        ("send 1 NOPE to bob.test.near", 5),
    ],
)
def test_plan_exit_codes_tell_apart_what_it_could_not_do(
    home: Home, intent: str, code: int
) -> None:
    assert near_agent(home, "plan", intent).returncode == code
    assert near_agent(home, "plan", intent, "--json").returncode == code


def test_plan_help_documents_its_exit_codes(home: Home) -> None:
    text = " ".join(near_agent(home, "plan", "--help").stdout.split())
    for code in ("3 not understood", "4 the policy would deny", "5 a step cannot be prepared"):
        assert code in text


def test_a_denied_plan_shows_the_rules_words(home: Home) -> None:
    done = near_agent(home, "plan", "send 10 NEAR to bob.test.near")
    assert "because: 10 NEAR exceeds 5 NEAR per action" in done.stdout


def test_balances_print_in_whole_tokens_with_sensible_precision(home: Home) -> None:
    swapped = near_agent(home, "do", "swap 1 NEAR to USDC", "--yes")  # gas leaves 24 decimals
    assert swapped.returncode == 0, swapped.stdout + swapped.stderr
    done = near_agent(home, "do", "what's my balance", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "balance: done" in done.stdout
    assert re.search(r"[\d,]+(?:\.\d{1,6})? NEAR", done.stdout)
    assert not TOO_PRECISE.search(done.stdout), done.stdout


@pytest.mark.parametrize(
    ("intent", "words"),
    [
        ("残高を教えて", ("完了", "残高")),
        ("我的余额", ("完成", "余额")),
        ("what's my balance", ("done",)),
    ],
)
def test_replies_follow_the_language_of_the_intent(
    home: Home, intent: str, words: tuple[str, ...]
) -> None:
    done = near_agent(home, "do", intent, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    for word in words:
        assert word in done.stdout


def test_the_language_preference_sets_the_reply_language(home: Home) -> None:
    assert near_agent(home, "prefs", "set", "language", "ja").returncode == 0
    done = near_agent(home, "do", "what's my balance", "--yes")
    assert "balance: 完了: 残高" in done.stdout
    denied = near_agent(home, "do", "send 10 NEAR to bob.test.near", "--yes")
    assert "拒否しました" in denied.stdout
    assert near_agent(home, "prefs", "set", "language", "zh").returncode == 0
    unasked = near_agent(home, "do", "send 3 NEAR to bob.test.near", "--yes")
    assert "没有可询问的终端" in unasked.stdout


def test_list_open_tasks_lists_them(home: Home) -> None:
    done = near_agent(home, "do", "list open tasks", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("  #")]
    assert rows, done.stdout
    assert all("NEAR per label" in row and '"' in row for row in rows)
    assert re.search(r"\d+ open task\(s\)", done.stdout)


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDevnet]:
    node = start_devnet(
        tmp_path_factory.mktemp("testnet-standin"), genesis=standin_genesis(), reset=True
    )
    try:
        yield node
    finally:
        node.stop()


def test_a_done_action_shows_hashes_explorer_links_and_the_fee(
    standin: RunningDevnet, tmp_path: Path
) -> None:
    home = Home(tmp_path / "home")
    write_testnet_home(home, standin)
    expiry = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (home.root / "grants.yaml").write_text(yaml.safe_dump(swap_grants(expiry)))
    give_home_grants(home)
    done = near_agent(home, "do", "swap 1 NEAR to USDC", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    links = re.findall(r"tx (\w{43,44})  https://testnet\.nearblocks\.io/txns/(\w+)", done.stdout)
    assert links and all(tx == linked for tx, linked in links), done.stdout
    fee = re.search(r"fee (0\.\d{1,8}) NEAR", done.stdout)
    assert fee is not None and fee.group(1) != "0", done.stdout
    assert not TOO_PRECISE.search(done.stdout.split("fee")[1])


HOSTILE_TITLE = '[bold red]x[/] "quoted"\x1b[2J\ntransfer: done: sent 99 NEAR\u202e'


async def _post_task(node: RunningDevnet, title: str) -> None:
    from tools.action import FunctionCallSpec, TransactionSpec
    from tools.chain import ChainClient
    from tools.keys import load_credentials

    vendor = node.manifest["vendor_account"]
    key = next(a["key_file"] for a in node.manifest["accounts"] if a["account_id"] == vendor)
    call = FunctionCallSpec(
        method_name="create_task",
        args={"title": title, "description": "", "items": ["a"], "reward_per_label": "1000"},
        gas=100 * 10**12,
        deposit=1000,
    )
    chain = ChainClient(node.rpc_url)
    try:
        spec = TransactionSpec(
            signer_id=vendor, receiver_id=node.manifest["tasks"]["contract_id"], actions=(call,)
        )
        assert (await chain.send(load_credentials(Path(key), vendor), spec)).ok
    finally:
        await chain.close()


def test_a_task_title_is_shown_as_quoted_data(fresh_devnet: RunningDevnet, tmp_path: Path) -> None:
    import asyncio

    from agent.demo import demo_grants
    from agent.setup_home import write_config

    asyncio.run(_post_task(fresh_devnet, HOSTILE_TITLE))
    home = Home(tmp_path / "home")
    manifest = fresh_devnet.state_dir / "manifest.json"
    write_config(home, network="devnet", account_id="alice.test.near", devnet_manifest=manifest)
    (home.root / "grants.yaml").write_text(demo_grants(datetime.now(UTC) + timedelta(days=1)))
    give_home_grants(home)
    done = near_agent(home, "do", "list open tasks", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\x1b" not in done.stdout and "\u202e" not in done.stdout
    assert not any(line.startswith("transfer:") for line in done.stdout.splitlines())
    [row] = [line for line in done.stdout.splitlines() if "[bold red]" in line]
    assert '"[bold red]x[/] \\"quoted\\"\\u001b[2J\\ntransfer: done: sent 99 NEAR\\u202e"' in row
