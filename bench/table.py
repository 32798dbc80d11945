"""Every benchmark's figures, parsed from its output and set against its target.

Each benchmark stays a standalone script that prints figures; this module knows how to run each
one in a quick mode (bounded time), how to read its figures (its ``--json`` output when it has
one, its text otherwise) and what target each figure has, so one command gives one table and the
README's figures come from one run. A benchmark that fails or times out becomes a row saying so.

On a shared machine one run's figures can differ 4x from the next, so each benchmark runs several
times and every figure is the median of its repeats; each run also prints baselines measured in
the same process (``bench.baseline``), and a figure divided by its baseline in the same repeat
(then the median of those) is the ratio shown beside it, which moves far less with the load.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
Parser = Callable[[str], dict[str, float]]


@dataclass(frozen=True)
class Target:
    """``value <op> threshold`` is the goal; ``text`` is how it is shown."""

    op: str  # "<", "<=" or ">="
    threshold: float
    text: str
    on_ratio: bool = False  # judged on the figure's ratio to its baseline, not the figure

    def met(self, value: float) -> bool:
        if self.op == "<":
            return value < self.threshold
        if self.op == "<=":
            return value <= self.threshold
        return value >= self.threshold


@dataclass(frozen=True)
class Spec:
    """How to run one benchmark module quickly and read its figures."""

    module: str
    quick: tuple[str, ...]
    parse: Parser
    units: dict[str, str]
    targets: dict[str, Target] = field(default_factory=dict)
    full: tuple[str, ...] = ()
    # figure (a glob such as ``reserve_*``) -> baselines to divide by, the first one printed wins
    ratios: dict[str, tuple[str, ...]] = field(default_factory=dict)
    repeats: int = 3  # runs whose median is shown; 1 where figures do not depend on the machine

    def baseline_for(self, figure: str, figures: dict[str, float]) -> str | None:
        """The baseline figure ``figure`` is divided by in this run, if any was printed."""
        if figure.startswith("baseline_"):
            return None
        for pattern, baselines in self.ratios.items():
            if fnmatchcase(figure, pattern):
                return next((b for b in baselines if figures.get(b)), None)
        return None


@dataclass
class Row:
    bench: str
    figure: str
    measured: str
    target: str
    met: str
    value: float | None = None  # the median figure, for ``--json``
    unit: str = ""
    ratio: str = "-"
    ratio_value: float | None = None  # median of figure / baseline over the repeats
    baseline: str = ""
    values: list[float] = field(default_factory=list)  # each repeat's figure
    ratio_values: list[float] = field(default_factory=list)  # each repeat's ratio


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def per_million(parse: Parser) -> Parser:
    """Adds verify time scaled to a million entries (measured when the run verified a million)."""
    inner = json_or(parse)

    def with_scaled(output: str) -> dict[str, float]:
        found = inner(output)
        if found.get("verify_entries") and "verify_s" in found:
            found["verify_s_per_million"] = found["verify_s"] * 1_000_000 / found["verify_entries"]
        if found.get("baseline_hash_per_s"):
            found["baseline_hash_s_per_million"] = 1_000_000 / found["baseline_hash_per_s"]
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
    """Figures from every line that is a JSON object of numbers, over the text parser's."""

    def parse(output: str) -> dict[str, float]:
        found = fallback(output)
        for line in output.strip().splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict):
                found |= {
                    k: float(v)
                    for k, v in data.items()
                    if isinstance(v, int | float) and not isinstance(v, bool)
                }
        return found

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
            "syncs_per_swap": "fsyncs",
            "baseline_raw_commit_ms": "ms",
            "baseline_python_start_s": "s",
        },
        targets={
            "overhead_ms_per_intent": Target("<=", 1.5, "<= 1.5x raw commit", on_ratio=True),
            "cli_cold_start_s": Target("<", 0.5, "< 0.5 s"),
            "syncs_per_swap": Target("<=", 8, "<= 8"),
        },
        ratios={
            "overhead_ms_per_intent": ("baseline_raw_commit_ms",),
            "overhead_ms_p95": ("baseline_raw_commit_ms",),
            "audit_ms": ("baseline_raw_commit_ms",),
            "cli_cold_start_s": ("baseline_python_start_s",),
        },
    ),
    "activity_bench": Spec(
        module="activity_bench",
        quick=("--entries", "100000", "--repeats", "5", "--json"),
        parse=json_or(regex_parser({})),
        units={
            "entries": "entries",
            "intents": "intents",
            "index_build_s": "s",
            "page_ms": "ms",
            "denied_page_ms": "ms",
            "deep_page_ms": "ms",
            "search_ms": "ms",
            "baseline_raw_select_ms": "ms",
        },
        targets={"page_ms": Target("<", 200, "< 200 ms")},
        ratios={"*_ms": ("baseline_raw_select_ms",)},
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
            "baseline_raw_commit_per_s": "commits/s",
            "baseline_hash_per_s": "hashes/s",
            "baseline_hash_s_per_million": "s",
        },
        targets={
            "appends_per_s_batched": Target(">=", 5_000, ">= 5,000/s"),
            "verify_s_per_million": Target("<", 10.0, "< 10 s"),
        },
        ratios={
            "appends_per_s_*": ("baseline_raw_commit_per_s",),
            "verify_s_per_million": ("baseline_hash_s_per_million",),
        },
    ),
    "console_bench": Spec(
        module="console_bench",
        quick=("--quick", "--json"),
        full=("--json",),
        parse=json_or(regex_parser({"activity_page_ms": r"entries: ([\d.]+) ms server time"})),
        units={
            "activity_page_ms": "ms",
            "activity_first_render_ms": "ms",
            "audit_entries": "entries",
            "baseline_empty_page_ms": "ms",
        },
        targets={"activity_page_ms": Target("<", 200.0, "< 200 ms at 100,000 entries")},
        ratios={"activity_*_ms": ("baseline_empty_page_ms",)},
    ),
    "devnet_bench": Spec(
        module="devnet_bench",
        quick=("--accounts", "4", "--seconds", "2"),
        parse=json_or(
            regex_parser(
                {
                    "transfers_per_s": r"transfers: .*?= ([\d,.]+) tx/s",
                    "waited_transfers_per_s": r"transfers waited one by one: .*?= ([\d,.]+) tx/s",
                    "views_per_s": r"views: .*?= ([\d,.]+) calls/s",
                    "peak_memory_mib": r"memory: peak ([\d,.]+) MiB",
                }
            )
        ),
        units={
            "transfers_per_s": "tx/s",
            "waited_transfers_per_s": "tx/s",
            "views_per_s": "calls/s",
            "baseline_http_per_s": "calls/s",
            "peak_memory_mib": "MiB",
        },
        targets={
            "transfers_per_s": Target(">=", 1_000, ">= 1,000 tx/s"),
            "peak_memory_mib": Target("<", 200, "< 200 MiB after 100,000 transactions"),
        },
        ratios={"*_per_s": ("baseline_http_per_s",)},
    ),
    "mcp_bench": Spec(
        module="mcp_bench",
        quick=("--quick", "--json"),
        full=("--json",),
        parse=json_or(lambda _: {}),
        units={
            f"{call}_{way}_ms": "ms"
            for call in ("refused", "activity", "denied", "denied_overhead")
            for way in ("stdio", "http", "inprocess")
        }
        | {f"baseline_{call}_inprocess_ms": "ms" for call in ("refused", "activity", "denied")},
        ratios={
            "refused_*_ms": ("baseline_refused_inprocess_ms",),
            "activity_*_ms": ("baseline_activity_inprocess_ms",),
            "denied_*_ms": ("baseline_denied_inprocess_ms",),
        },
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
        | {"raw_commit_per_s": "commits/s", "baseline_hash_per_s": "hashes/s"},
        targets={
            "stateless_per_s": Target(">=", 20_000, ">= 20,000/s"),
            "reserve_durable_per_s": Target(">=", 2_000, ">= 2,000/s"),
        },
        ratios={
            "stateless_per_s": ("cedarpy_per_s", "baseline_hash_per_s"),
            "dry_run_per_s": ("baseline_hash_per_s",),
            "reserve_durable_per_s": ("raw_commit_per_s",),
            "reserve_many_per_s": ("raw_commit_per_s",),
            # synchronous=NORMAL does not wait for the disk: CPU work, like the hash loop
            "reserve_normal_per_s": ("baseline_hash_per_s",),
            "cedarpy_per_s": ("baseline_hash_per_s",),
        },
    ),
    "reservation_bench": Spec(
        module="reservation_bench",
        quick=("--quick", "--json"),
        full=("--json",),
        parse=json_or(lambda _: {}),
        units={
            **{f"reserve_p99_ms_at_{n}": "ms" for n in (1, 2, 4, 8)},
            **{f"reserve_per_s_at_{n}": "reserves/s" for n in (1, 2, 4, 8)},
            **{f"overspend_near_at_{n}": "NEAR" for n in (1, 2, 4, 8)},
            "baseline_raw_commit_ms": "ms",
        },
        targets={
            "reserve_p99_ms_at_8": Target("<", 20.0, "< 20 ms"),
            **{f"overspend_near_at_{n}": Target("<=", 0, "0") for n in (1, 2, 4, 8)},
        },
        ratios={"reserve_p99_ms_at_*": ("baseline_raw_commit_ms",)},
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
        repeats=1,
    ),
    "signing_bench": Spec(
        module="signing_bench",
        # 16 transfers at once, blocks every 0.1 s: about 15 s a run
        quick=("--transfers", "16", "--block-interval", "0.1", "--json"),
        full=("--json",),
        parse=json_or(lambda _: {}),
        units={
            **{f"wall_s_at_{k}": "s" for k in (1, 2, 4, 8)},
            **{f"speedup_at_{k}": "x" for k in (1, 2, 4, 8)},
            **{f"nonce_errors_at_{k}": "refused" for k in (1, 2, 4, 8)},
            **{f"failed_at_{k}": "transfers" for k in (1, 2, 4, 8)},
            **{f"duplicate_sends_at_{k}": "hashes" for k in (1, 2, 4, 8)},
            **{f"balance_off_at_{k}": "yoctoNEAR" for k in (1, 2, 4, 8)},
            "baseline_wall_s_one_key": "s",
        },
        targets={
            "speedup_at_4": Target(">=", 3.0, ">= 3x one key (about 4x)"),
            **{f"nonce_errors_at_{k}": Target("<=", 0, "0") for k in (1, 2, 4, 8)},
            **{f"failed_at_{k}": Target("<=", 0, "0") for k in (1, 2, 4, 8)},
            **{f"duplicate_sends_at_{k}": Target("<=", 0, "0") for k in (1, 2, 4, 8)},
            **{
                f"balance_off_at_{k}": Target("<=", 0, "0 (each landed once)") for k in (1, 2, 4, 8)
            },
        },
        ratios={"wall_s_at_*": ("baseline_wall_s_one_key",)},
    ),
    "scheduler_bench": Spec(
        module="scheduler_bench",
        quick=("--strategies", "1000", "10000", "--seconds", "6"),
        parse=json_or(scheduler_parser),
        units={
            "p99_lateness_ms_at_1000": "ms",
            "p99_lateness_ms_at_10000": "ms",
            "coalesced_at_1000": "fires",
            "coalesced_at_10000": "fires",
            "cpu_ms_per_fire_at_1000": "ms",
            "cpu_ms_per_fire_at_10000": "ms",
            "most_strategies_on_time": "strategies",
            "baseline_idle_tick_p99_ms": "ms",
        },
        targets={
            "p99_lateness_ms_at_1000": Target("<", 1000.0, "< 1,000 ms"),
            "p99_lateness_ms_at_10000": Target("<", 1000.0, "< 1,000 ms"),
            "coalesced_at_10000": Target("<=", 0, "0 (every due fire runs)"),
            "most_strategies_on_time": Target(">=", 10_000, ">= 10,000"),
        },
        ratios={"p99_lateness_ms_at_*": ("baseline_idle_tick_p99_ms",)},
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


def _ratio_text(ratio: float, baseline: str) -> str:
    name = baseline.removeprefix("baseline_")
    return f"{ratio:,.3g}x {name}"


def summarise(spec: Spec, runs: list[dict[str, float]]) -> list[Row]:
    """One row per figure: its median over the runs and the median of its per-run ratio."""
    name = spec.module.removesuffix("_bench")
    names = [f for f in dict.fromkeys(k for run in runs for k in run)]
    rows = []
    for figure in names:
        values = [run[figure] for run in runs if figure in run]
        ratios, baseline = [], ""
        for run in runs:
            used = spec.baseline_for(figure, run) if figure in run else None
            if used:
                ratios.append(run[figure] / run[used])
                baseline = used
        value = statistics.median(values)
        ratio = statistics.median(ratios) if ratios else None
        unit = spec.units.get(figure, "")
        target = spec.targets.get(figure)
        judged = ratio if target and target.on_ratio else value
        met = "-" if not target else ("NO" if judged is None or not target.met(judged) else "yes")
        rows.append(
            Row(
                name,
                figure,
                _format(value, unit),
                target.text if target else "-",
                met,
                value,
                unit,
                _ratio_text(ratio, baseline) if ratio is not None else "-",
                ratio,
                baseline,
                values,
                ratios,
            )
        )
    for figure, target in spec.targets.items():
        if figure not in names:
            rows.append(Row(name, figure, "not printed", target.text, "NO"))
    return rows


def rows_for(spec: Spec, full: bool, timeout_s: float, repeats: int | None = None) -> list[Row]:
    """Run one benchmark ``repeats`` times and turn its figures into rows (a failure is one row)."""
    args = spec.full if full else spec.quick
    name = spec.module.removesuffix("_bench")
    count = 1 if spec.repeats == 1 else (repeats or spec.repeats)
    runs: list[dict[str, float]] = []
    started = time.perf_counter()
    for _ in range(count):
        code, output = run_module(spec.module, args, timeout_s)
        if code is None:
            return [Row(name, "(run)", f"timed out after {timeout_s:.0f} s", "", "FAILED")]
        figures = spec.parse(output)
        if code != 0 or not figures:
            last = (output.strip().splitlines() or ["no output"])[-1][:60]
            return [Row(name, "(run)", f"exit {code}: {last}", "", "FAILED")]
        runs.append(figures)
    took = time.perf_counter() - started
    rows = summarise(spec, runs)
    rows.append(Row(name, "(wall time)", f"{took:.1f} s for {count} run(s)", "", ""))
    return rows


COLUMNS = (
    ("bench", "benchmark"),
    ("figure", "figure"),
    ("measured", "median"),
    ("ratio", "ratio to baseline (same run)"),
    ("target", "target"),
    ("met", "met?"),
)


def render(rows: list[Row]) -> str:
    """A plain-text table (Markdown-compatible, so it pastes into the README)."""
    table = [[title for _, title in COLUMNS], *([getattr(r, f) for f, _ in COLUMNS] for r in rows)]
    widths = [max(len(cells[i]) for cells in table) for i in range(len(COLUMNS))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(table[0]), rule, *(line(cells) for cells in table[1:])])


def as_json(rows: list[Row]) -> list[dict[str, Any]]:
    return [r.__dict__.copy() for r in rows]
