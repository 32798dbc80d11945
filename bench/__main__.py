"""``python -m bench``: every benchmark in bench/, quick by default, in one table with targets.

Each benchmark runs as its own subprocess (one failing or hanging cannot stop the others), in a
quick mode sized to finish in seconds on a small machine; ``--full`` uses each benchmark's own
defaults (minutes). ``--only devnet policy`` picks benchmarks; ``--json`` prints the rows as JSON.
Each benchmark runs ``--repeats`` times (3 by default): every figure is the median of its runs,
shown beside its median ratio to a baseline measured in the same run (see bench/table.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench.table import as_json, discover, render, rows_for, spec_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--full",
        action="store_true",
        default=os.environ.get("BENCH_FULL") == "1",
        help="each benchmark's full default size (also BENCH_FULL=1)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="NAME",
        help="benchmarks to run, e.g. devnet policy (default: all)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds allowed per benchmark (default 120 quick, 1800 full)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="runs of each benchmark whose median is shown (default 3)",
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    timeout = args.timeout or (1800.0 if args.full else 120.0)
    modules = discover()
    if args.only:
        wanted = {name.removesuffix("_bench") for name in args.only}
        modules = [m for m in modules if m.removesuffix("_bench") in wanted]
        if not modules:
            parser.error(
                f"no benchmark named {', '.join(args.only)}; have: "
                f"{', '.join(m.removesuffix('_bench') for m in discover())}"
            )
    rows = []
    for module in modules:
        print(f"running {module} ...", file=sys.stderr, flush=True)
        rows += rows_for(spec_for(module), args.full, timeout, args.repeats)
    if args.json:
        print(json.dumps(as_json(rows), indent=2))
    else:
        mode = "full" if args.full else "quick"
        repeats = args.repeats or 3
        print(
            f"near-agent benchmarks ({mode} mode, median of {repeats} runs, cpus={os.cpu_count()})"
        )
        print(render(rows))
    return 1 if any(r.met == "FAILED" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
