"""``near-agent demo``: the whole product in one command, on an in-process devnet.

It starts a local network, sets up a home with a grant and two contacts, then runs a short
session through the same planner, policy engine, executor and audit log a user gets: a transfer
(confirmed, first-time recipient), a swap, a label submission the vendor accepts, a reward claim,
an over-limit transfer the policy denies and a confirmation the user declines. It ends by
printing the audit log and verifying its hash chain.

The demo writes its own agent.yaml and gives its grants itself, which only the user may do to
a home of theirs: so it runs only in a new or empty folder, or one an earlier demo made (marked
by ``DEMO_MARK``), and refuses any other folder before touching it.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from agent.executor import RunReport
from agent.grant_changes import give_grants
from agent.home import Home
from agent.session import AgentSession
from agent.setup_home import write_config
from policies.evaluator import Decision
from tools.action import CanonicalAction
from tools.errors import UnusableFile

USER = "alice.test.near"
CONTACTS = {"bob": "bob.test.near", "carol": "carol.test.near"}

VENDOR_REVIEWS = "(the vendor reviews the label)"

# (what the user types, whether the user approves if the policy asks, the expected outcome)
SCRIPT: tuple[tuple[str, bool, str], ...] = (
    ("what's my balance", True, "done"),
    ("send 1 NEAR to bob", True, "done"),
    ("swap 2 NEAR to USDC", True, "done"),
    ("label task 0 item 0 as positive", True, "done"),
    (VENDOR_REVIEWS, True, "done"),
    ("claim my rewards", True, "done"),
    ("send 50 NEAR to bob", True, "denied"),
    ("carolに3 NEARを送って", False, "declined"),
)


def demo_grants(expires_at: datetime) -> str:
    """The shipped example grant with an expiry the demo sets (a grant must always expire)."""
    text = resources.files("policies").joinpath("examples/demo-grant.yaml").read_text()
    body = yaml.safe_load(text)
    for grant in body["grants"]:
        grant["expires_at"] = expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return yaml.safe_dump(body, sort_keys=False)


DEMO_MARK = ".demo"
_PICK = (
    "Give `near-agent demo --dir` a new or empty folder, or one an earlier demo made; "
    "for a home of your own use `near-agent init` and `near-agent grants add`."
)


def claim_demo_folder(folder: Path) -> Home:
    """The demo's home in ``folder``: new, empty or made by a demo (then marked as the demo's).

    UnusableFile for any other folder, changing nothing in it: the demo would replace its
    agent.yaml and give grants the user never gave (or revoked).
    """
    root = folder.expanduser().resolve()
    try:
        if root.exists() and not root.is_dir():
            raise UnusableFile(root, "this is a file, not a folder; nothing was changed.", _PICK)
        if root.is_dir() and not (root / DEMO_MARK).is_file() and any(root.iterdir()):
            raise UnusableFile(
                root,
                "this folder is not empty and no demo made it; the demo would replace its "
                "agent.yaml and give grants in it, so nothing was changed.",
                _PICK,
            )
        Home(root).make()
        (root / DEMO_MARK).write_text(
            "Made by `near-agent demo`: a demo home on a local devnet, whose grants the demo "
            "gives itself each time it runs here.\n"
        )
    except OSError as exc:
        raise UnusableFile(root, f"the demo cannot make its home here ({exc})", _PICK) from exc
    return Home(root)


def run_demo(root: Path | None = None, console: Console | None = None) -> int:
    """Run the demo; returns the process exit code (0 when every expectation held)."""
    home = claim_demo_folder(root or Path(tempfile.mkdtemp(prefix="near-agent-demo-")))
    return asyncio.run(_demo(home, console or Console()))


async def _demo(home: Home, console: Console) -> int:
    from devnet.server import start_devnet

    console.rule("[bold]near-agent demo")
    console.print(f"home: {home.root}")
    node = start_devnet(home.devnet_dir, port=0, reset=True)
    try:
        console.print(f"devnet: {node.rpc_url} (manifest {home.devnet_dir / 'manifest.json'})")
        write_config(home, network="devnet", account_id=USER, overwrite=True)
        grants_file = home.root / "grants.yaml"
        grants_file.write_text(demo_grants(datetime.now(UTC) + timedelta(days=1)))
        session = await AgentSession.open(home)
        try:
            # The user's own act, as `near-agent grants add grants.yaml`: once, audited.
            wrap = session.policy.facts.wrap_id
            given = give_grants(
                home, grants_file, session.audit, wrapped_near=frozenset({wrap} if wrap else ())
            )
            for grant_id, version, _ in given:
                console.print(f"grant {grant_id} v{version} given by the user")
            for name, account in CONTACTS.items():
                session.contacts.add(name, account, replace=True)
            seen: list[str] = []
            for text, approve, _ in SCRIPT:
                if text == VENDOR_REVIEWS:
                    seen.append(await _vendor_accepts(session, console, node.manifest))
                    continue
                report = await _turn(session, console, text, approve)
                seen.append(report.steps[0].status if report.steps else "refused")
            return _finish(session, console, seen)
        finally:
            await session.close()
    finally:
        node.stop()


async def _turn(session: AgentSession, console: Console, text: str, approve: bool) -> RunReport:
    console.print()
    console.print(f"[bold cyan]you>[/] {text}")

    def confirm(action: CanonicalAction, decision: Decision) -> bool:
        console.print(f"  [yellow]confirm?[/] {action.preview}  ({', '.join(decision.reasons)})")
        console.print(f"  [yellow]you answer:[/] {'yes' if approve else 'no'}")
        return approve

    report = await session.run(text, confirm)
    if not report.plan.ok:
        console.print(f"  [red]not understood:[/] {report.plan.error}")
    for step in report.steps:
        colour = {"done": "green", "denied": "red", "declined": "yellow"}.get(step.status, "red")
        console.print(f"  [{colour}]{step.tool}: {step.status}[/] {step.message}")
    return report


async def _vendor_accepts(session: AgentSession, console: Console, manifest: dict) -> str:
    """The vendor reviews the demo's label from its own account, as a real vendor would."""
    from tools.action import FunctionCallSpec, TransactionSpec
    from tools.errors import ToolError
    from tools.keys import load_credentials

    vendor = manifest["vendor_account"]
    key_file = next(a["key_file"] for a in manifest["accounts"] if a["account_id"] == vendor)
    creds = load_credentials(Path(key_file), vendor)
    review = FunctionCallSpec(
        method_name="review",
        args={"task_id": 0, "item_id": 0, "tasker_id": USER, "accept": True},
        gas=30 * 10**12,
    )
    spec = TransactionSpec(
        signer_id=vendor, receiver_id=manifest["tasks"]["contract_id"], actions=(review,)
    )
    console.print()
    try:
        await session.ctx.chain.send(creds, spec)
    except ToolError as exc:
        console.print(f"[red]{vendor} could not review the label:[/] {exc.message}")
        return "failed"
    console.print(f"[dim]{vendor} reviews the label from its own account and accepts it[/]")
    return "done"


def _finish(session: AgentSession, console: Console, seen: list[str]) -> int:
    expected = [outcome for _, _, outcome in SCRIPT]
    console.print()
    console.rule("[bold]audit log")
    table = Table("id", "kind", "actor", "tool", "status", "intent")
    entries = session.audit.entries(limit=None)
    for entry in entries:
        table.add_row(
            str(entry.id),
            str(entry.kind),
            entry.actor,
            entry.tool or "",
            entry.status or "",
            entry.correlation_id[:8],
        )
    console.print(table)
    report = session.audit.verify()
    if report.ok:
        console.print(
            f"[green]audit log verified:[/] {report.count} entries, head {report.head_hash[:16]}…"
        )
    else:
        console.print(f"[red]audit log broken at entry {report.first_bad_id}:[/] {report.reason}")
    if seen != expected:
        console.print(f"[red]the demo expected {expected}, got {seen}[/]")
        return 1
    console.print(f"Review it yourself: near-agent --home {session.home.root} audit list")
    return 0 if report.ok else 1
