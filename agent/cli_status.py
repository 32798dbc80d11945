"""``near-agent status``: how the agent stands, on one screen (or as JSON, ``--json``).

The facts come from agent.status (the web console shows the same); this module only renders
them. Exit 0 when all is well, 1 when something needs the user (the node does not answer, the
kill switch is on, a file others can read, no key), so scripts can check it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from agent.home import Home
    from agent.status import AgentStatus, WindowBudget


def status(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="The same facts as JSON (shape in the README).")
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not ask the node (no balance, no node check).")
    ] = False,
) -> None:
    """Network and node, account and balances, signing key, each grant's budget left, kill
    switch, daemon and pending approvals."""
    from agent.status import read_status

    home: Home = ctx.obj
    facts = read_status(home, probe_chain=not offline)
    if as_json:
        typer.echo(json.dumps(facts.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        from memory.audit.text import shown

        for line in render(facts):  # a node's or a file's words may hold control characters
            typer.echo(shown(line))
    raise typer.Exit(0 if healthy(facts) else 1)


def healthy(facts: AgentStatus) -> bool:
    """Whether nothing needs the user's attention."""
    node_down = facts.node is not None and facts.node.probed and not facts.node.answers
    return (
        facts.exists
        and facts.configured
        and not node_down
        and not facts.kill_switch.paused
        and not facts.problems
        and (facts.key is None or facts.key.error is None)
    )


def _when(moment: object) -> str:
    from datetime import datetime

    return moment.strftime("%Y-%m-%d %H:%M UTC") if isinstance(moment, datetime) else "-"


def _period(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _window(w: WindowBudget) -> str:
    line = f"{w.left.display} left of {w.cap.display} per {_period(w.period_s)}"
    line += f" (used {w.used.display})"
    if w.frees_at is not None:
        line += f"; frees from {_when(w.frees_at)}"
    return line


def render(facts: AgentStatus) -> list[str]:
    """The status as lines of text, what matters first."""
    lines = [f"home       {facts.home}"]
    if not facts.exists:
        return lines + [
            "           no near-agent home here: make one with `near-agent init --account ID`,",
            "           try `near-agent demo`, or pass the right --home",
        ]
    if not facts.configured:
        lines.append(f"config     {facts.config_error}")
    if facts.node is not None:
        n = facts.node
        where = f"{n.network} at {n.rpc_url}" if n.rpc_url else n.network
        if not n.probed:
            state = "not asked"
        elif n.answers:
            state = f"answers (chain {n.chain_id}, block {n.latest_block_height})"
        else:
            state = f"DOES NOT ANSWER: {n.error}"
            if n.how_to_start:
                state += f"\n           start it with: {n.how_to_start}"
        lines.append(f"network    {where}: {state}")
    if facts.account is not None:
        a = facts.account
        lines.append(f"account    {a.account_id}")
        for b in a.balances:
            lines.append(f"           {b.balance.display}")
        if a.error:
            lines.append(f"           balance unknown: {a.error}")
    if facts.key is not None:
        k = facts.key
        if k.public_key:
            sealed = "encrypted" if k.encrypted else "not encrypted"
            lines.append(f"key        public key {k.public_key} in {k.kept_at} ({sealed})")
        if k.error:
            lines.append(f"key        PROBLEM: {k.error}")
        if k.pool:
            in_use = sum(1 for p in k.pool if p.in_use)
            pending = len(k.pool) - in_use
            waiting = f", {pending} pending (not on chain)" if pending else ""
            lines.append(
                f"key pool   {in_use} more full-access key(s) sign in parallel{waiting}"
                " (`near-agent keys pool list`)"
            )
    if not facts.grants:
        lines.append("grants     none: the agent may do nothing (`near-agent grants add FILE`)")
    for g in facts.grants:
        lines.append(
            f"grant      {g.grant_id} v{g.version} {g.status}, {', '.join(g.kinds)}; "
            f"expires {_when(g.expires_at)}"
        )
        lines += [f"           {_window(w)}" for w in g.windows]
    for w in facts.ceiling:
        lines.append(f"ceiling    {_window(w)}")
    ks = facts.kill_switch
    lines.append(
        f"switch     PAUSED since {_when(ks.changed_at)}"
        + (f" ({ks.reason})" if ks.reason else "")
        + ": `near-agent resume` lifts it"
        if ks.paused
        else "switch     off (autonomous actions may run)"
    )
    d = facts.daemon
    lines.append(f"daemon     running (pid {d.pid})" if d.running else "daemon     not running")
    lines.append(f"approvals  {facts.approvals_pending} pending")
    lines += [f"PROBLEM    {p}" for p in facts.problems]
    return lines
