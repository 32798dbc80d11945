"""Every benchmark's figures, parsed from its output and set against its target.

Each benchmark stays a standalone script that prints figures; this module knows how to run each
one in a quick mode (bounded time), how to read its figures (its ``--json`` output when it has
one, its text otherwise) and what target each figure has, so one command gives one table and the
README's figures come from one run. A benchmark that fails or times out becomes a row saying so.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
Parser = Callable[[str], dict[str, float]]


@dataclass(frozen=True)
class Target:
    """``value <op> threshold`` is the goal; ``text`` is how it is shown."""

    op: str  # "<" or ">="
    threshold: float
    text: str

    def met(self, value: float) -> bool:
        return value < self.threshold if self.op == "<" else value >= self.threshold


@dataclass(frozen=True)
class Spec:
    """How to run one benchmark module quickly and read its figures."""

    module: str
    quick: tuple[str, ...]
    parse: Parser
    units: dict[str, str]
    targets: dict[str, Target] = field(default_factory=dict)
    full: tuple[str, ...] = ()


@dataclass
class Row:
    bench: str
    figure: str
    measured: str
    target: str
    met: str
    value: float | None = None  # the raw figure, for ``--json``
    unit: str = ""


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def per_million(parse: Parser) -> Parser:
    """Adds verify time scaled to a million entries (measured when the run verified a million)."""
    inner = json_or(parse)

    def with_scaled(output: str) -> dict[str, float]:
        found = inner(output)
        if found.get("verify_entries") and "verify_s" in found:
            found["verify_s_per_million"] = found["verify_s"] * 1_000_000 / found["verify_entries"]
        return found

    return with_scaled


def regex_parser(patterns: dict[str, str]) -> Parser:
    """Figures from free text: each name's pattern captures one number (commas allowed)."""

    def parse(output: str) -> dict[str, float]:
        found: dict[str, float] = {}
        for name, pattern in patterns.items():
            match = re.search(pattern, output, re.MULTILINE)
            if match:
                found[name] = _number(match.group(1))
        return found

    return parse


def json_or(fallback: Parser) -> Parser:
    """The last line that is a JSON object of numbers, else the text parser."""

    def parse(output: str) -> dict[str, float]:
        for line in reversed(output.strip().splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    data = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(data, dict):
                    return {
                        k: float(v)
                        for k, v in data.items()
                        if isinstance(v, int | float) and not isinstance(v, bool)
                    }
        return fallback(output)

    return parse


def scheduler_parser(output: str) -> dict[str, float]:
    """One p99 lateness per strategy count from its table, and the largest count on time."""
    found: dict[str, float] = {}
    row = re.compile(r"^\s*(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", re.MULTILINE)
    for match in row.finditer(output):
        found[f"p99_lateness_ms_at_{match.group(1)}"] = float(match.group(5))
    best = re.search(r"p99 lateness under 1 s: (\d+)", output)
    if best:
        found["most_strategies_on_time"] = float(best.group(1))
    return found


SPECS: dict[str, Spec] = {
    "agent_bench": Spec(
        module="agent_bench",
        quick=("--quick", "--json"),
        full=("--json",),
        parse=json_or(
            regex_parser(
                {
                    "overhead_ms_per_intent": r"total\s+([\d.]+) ms",
                    "cli_cold_start_s": r"cold start: ([\d.]+) s",
                }
            )
        ),
        units={
            "overhead_ms_per_intent": "ms",
            "overhead_ms_p95": "ms",
            "plan_ms": "ms",
            "prepare_ms": "ms",
            "evaluate_ms": "ms",
            "audit_ms": "ms",
            "cli_cold_start_s": "s",
        },
        targets={
            "overhead_ms_per_intent": Target("<", 5.0, "< 5 ms"),
            "cli_cold_start_s": Target("<", 0.5, "< 0.5 s"),
        },
    ),
    "audit_bench": Spec(
        module="audit_bench",
        quick=("--entries", "20000", "--single", "300"),
        parse=per_million(
            regex_parser(
                {
                    "appends_per_s_single": r"one per transaction: ([\d,.]+)/s",
                    "appends_per_s_batched": r"batches of \d+: ([\d,.]+)/s",
                    "verify_s": r"verify [\d,]+ entries: ([\d.]+) s",
                    "verify_entries": r"verify ([\d,]+) entries",
                }
            )
        ),
        units={
            "appends_per_s_single": "/s",
            "appends_per_s_batched": "/s",
            "verify_s": "s",
            "verify_entries": "entries",
            "verify_s_per_million": "s",
        },
        targets={
            "appends_per_s_batched": Target(">=", 5_000, ">= 5,000/s"),
            "verify_s_per_million": Target("<", 10.0, "< 10 s"),
        },
    ),
    "devnet_bench": Spec(
        module="devnet_bench",
        quick=("--accounts", "4", "--seconds", "2"),
        parse=json_or(
            regex_parser(
                {
                    "transfers_per_s": r"transfers: .*?= ([\d,.]+) tx/s",
                    "views_per_s": r"views: .*?= ([\d,.]+) calls/s",
                }
            )
        ),
        units={"transfers_per_s": "tx/s", "views_per_s": "calls/s"},
        targets={"transfers_per_s": Target(">=", 300, ">= 300 tx/s")},
    ),
    "policy_bench": Spec(
        module="policy_bench",
        quick=("-n", "4000", "--reserve-n", "300"),
        parse=json_or(
            regex_parser(
                {
                    "stateless_per_s": r"^stateless rules[^:]*:\s+([\d,.]+)",
                    "dry_run_per_s": r"^engine\.dry_run[^:]*:\s+([\d,.]+)",
                    "reserve_durable_per_s": r"^engine\.reserve, durable[^:]*:\s+([\d,.]+)",
                    "reserve_many_per_s": r"^engine\.reserve_many[^:]*:\s+([\d,.]+)",
                    "raw_commit_per_s": r"^raw one-row commit[^:]*:\s+([\d,.]+)",
                    "reserve_normal_per_s": r"^engine\.reserve, synchronous=NORMAL:\s+([\d,.]+)",
                    "cedarpy_per_s": r"^cedarpy, [^:]*:\s+([\d,.]+)",
                }
            )
        ),
        units={
            name: "decisions/s"
            for name in (
                "stateless_per_s",
                "dry_run_per_s",
                "reserve_durable_per_s",
                "reserve_many_per_s",
                "reserve_normal_per_s",
                "cedarpy_per_s",
            )
        }
        | {"raw_commit_per_s": "commits/s"},
        targets={
            "stateless_per_s": Target(">=", 20_000, ">= 20,000/s"),
            "reserve_durable_per_s": Target(">=", 2_000, ">= 2,000/s"),
        },
    ),
    "rpc_bench": Spec(
        module="rpc_bench",
        quick=("--warm", "2", "--json"),
        full=("--warm", "5", "--json"),
        parse=json_or(lambda _: {}),
        units={
            "cold_requests_per_swap": "requests",
            "warm_requests_per_swap": "requests",
            "full_scan_requests": "requests",
            "warm_vs_old_swap": "x",
            "warm_swap_s": "s",
            "pools": "pools",
            "devnet_start_s": "s",
            "swaps_through_30_per_min": "swaps",
            "first_swap_at_30_per_min_s": "s",
        },
        targets={
            "swaps_through_30_per_min": Target(">=", 1, ">= 1"),
            "cold_requests_per_swap": Target("<", 81, "<= 80"),
            "warm_requests_per_swap": Target("<", 13, "<= 12"),
            "pools": Target(">=", 5_000, ">= 5,000"),
        },
    ),
    "scheduler_bench": Spec(
        module="scheduler_bench",
        quick=("--strategies", "1000", "--seconds", "6"),
        parse=json_or(scheduler_parser),
        units={"p99_lateness_ms_at_1000": "ms", "most_strategies_on_time": "strategies"},
        targets={
            "p99_lateness_ms_at_1000": Target("<", 1000.0, "< 1,000 ms"),
            "most_strategies_on_time": Target(">=", 1000, ">= 1,000"),
        },
    ),
}


def discover() -> list[str]:
    """Every ``bench/*_bench.py`` module, known or not, in name order."""
    return sorted(p.stem for p in BENCH_DIR.glob("*_bench.py"))


def run_module(module: str, args: tuple[str, ...], timeout_s: float) -> tuple[int | None, str]:
    """(exit code or None on timeout, stdout + stderr) of ``python -m bench.<module> args``."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", f"bench.{module}", *args],
            cwd=BENCH_DIR.parent,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return None, out
    return done.returncode, done.stdout + done.stderr


def spec_for(module: str) -> Spec:
    """The known spec, or a generic one for a new benchmark (``--quick --json`` if it has them)."""
    if module in SPECS:
        return SPECS[module]
    code, help_text = run_module(module, ("--help",), 60)
    quick = tuple(flag for flag in ("--quick", "--json") if code == 0 and flag in help_text)
    return Spec(module=module, quick=quick, parse=json_or(lambda _: {}), units={})


def _format(value: float, unit: str) -> str:
    if unit in ("ms", "s"):
        text = f"{value:,.3f}"
    elif value >= 100:
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.2f}"
    return f"{text} {unit}".strip()


def rows_for(spec: Spec, full: bool, timeout_s: float) -> list[Row]:
    """Run one benchmark and turn its figures into rows (a failed run is one row saying so)."""
    args = spec.full if full else spec.quick
    started = time.perf_counter()
    code, output = run_module(spec.module, args, timeout_s)
    took = time.perf_counter() - started
    name = spec.module.removesuffix("_bench")
    if code is None:
        return [Row(name, "(run)", f"timed out after {timeout_s:.0f} s", "", "FAILED")]
    figures = spec.parse(output)
    if code != 0 or not figures:
        last = (output.strip().splitlines() or ["no output"])[-1][:60]
        return [Row(name, "(run)", f"exit {code}: {last}", "", "FAILED")]
    rows = []
    for figure, value in figures.items():
        target = spec.targets.get(figure)
        unit = spec.units.get(figure, "")
        rows.append(
            Row(
                name,
                figure,
                _format(value, unit),
                target.text if target else "-",
                ("yes" if target.met(value) else "NO") if target else "-",
                value,
                unit,
            )
        )
    for figure, target in spec.targets.items():
        if figure not in figures:
            rows.append(Row(name, figure, "not printed", target.text, "NO"))
    rows.append(Row(name, "(wall time)", f"{took:.1f} s", "", ""))
    return rows


def render(rows: list[Row]) -> str:
    """A plain-text table (Markdown-compatible, so it pastes into the README)."""
    header = Row("benchmark", "figure", "measured", "target", "met?")
    table = [header, *rows]
    widths = [
        max(len(getattr(r, f)) for r in table)
        for f in ("bench", "figure", "measured", "target", "met")
    ]

    def line(r: Row) -> str:
        cells = (r.bench, r.figure, r.measured, r.target, r.met)
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def as_json(rows: list[Row]) -> list[dict[str, Any]]:
    return [r.__dict__.copy() for r in rows]
