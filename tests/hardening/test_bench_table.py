"""``python -m bench`` reads every benchmark's figures, text or JSON, and judges them fairly."""

from __future__ import annotations

import pytest

from bench import baseline
from bench.table import SPECS, Row, Target, discover, render, scheduler_parser, summarise

POLICY_TEXT = """\
stateless rules (evaluator, 4 action kinds):     11,527 decisions/s  (target 20,000)
engine.dry_run (grants read from SQLite):          5,238 decisions/s
engine.reserve, durable (synchronous=FULL):          387 decisions/s  (target 2,000)
engine.reserve_many, durable, batches of 16:       3,189 decisions/s
raw one-row commit, synchronous=FULL (disk):         808 commits/s
engine.reserve, synchronous=NORMAL:                2,292 decisions/s
"""
SCHEDULER_TEXT = """interval 10s per strategy, heartbeat 0.1s, 5.0 ms simulated chain time per fire
strategies   fires  fires/s   p50 ms   p99 ms   max ms  tick p99 ms
      1000     600    100.0     12.5     99.7    130.2         40.1
most strategies with p99 lateness under 1 s: 1000
"""


def test_every_benchmark_module_has_a_spec() -> None:
    assert set(discover()) <= set(SPECS), "a new bench module needs a quick mode and targets"


def test_policy_text_is_parsed_with_thousands_separators() -> None:
    figures = SPECS["policy_bench"].parse(POLICY_TEXT)
    assert figures["stateless_per_s"] == 11_527
    assert figures["reserve_durable_per_s"] == 387
    assert figures["reserve_normal_per_s"] == 2_292
    assert not SPECS["policy_bench"].targets["stateless_per_s"].met(figures["stateless_per_s"])


def test_json_output_wins_over_text() -> None:
    out = 'noise\n{"overhead_ms_per_intent": 4.2, "cli_cold_start_s": 0.3, "flag": true}\n'
    figures = SPECS["agent_bench"].parse(out)
    assert figures == {"overhead_ms_per_intent": 4.2, "cli_cold_start_s": 0.3}


def test_scheduler_table_gives_p99_per_size() -> None:
    figures = scheduler_parser(SCHEDULER_TEXT)
    assert figures == {"p99_lateness_ms_at_1000": 99.7, "most_strategies_on_time": 1000}


def test_targets_compare_in_the_right_direction() -> None:
    assert Target("<", 5, "").met(4.9) and not Target("<", 5, "").met(5)
    assert Target(">=", 2000, "").met(2000) and not Target(">=", 2000, "").met(1999)


def test_render_aligns_columns() -> None:
    text = render([Row("policy", "stateless_per_s", "1 /s", ">= 2", "NO")])
    widths = {len(line) for line in text.splitlines()}
    assert len(widths) == 1 and "| met? |" in text


def test_baseline_line_adds_to_text_figures(capsys: pytest.CaptureFixture[str]) -> None:
    baseline.emit(hash_per_s=2_000_000.0)
    figures = SPECS["policy_bench"].parse(POLICY_TEXT + capsys.readouterr().out)
    assert figures["stateless_per_s"] == 11_527
    assert figures["baseline_hash_per_s"] == 2_000_000


def test_ratio_is_paired_per_run_then_the_median() -> None:
    """A run twice as slow on a loaded machine moves the figure, not its ratio to the disk."""
    runs = [
        {"reserve_durable_per_s": 400.0, "raw_commit_per_s": 800.0},
        {"reserve_durable_per_s": 100.0, "raw_commit_per_s": 200.0},
        {"reserve_durable_per_s": 1_000.0, "raw_commit_per_s": 2_000.0},
    ]
    row = next(
        r for r in summarise(SPECS["policy_bench"], runs) if r.figure == "reserve_durable_per_s"
    )
    assert row.value == 400 and row.values == [400, 100, 1_000]
    assert row.ratio_value == 0.5 and row.ratio_values == [0.5, 0.5, 0.5]
    assert row.baseline == "raw_commit_per_s" and row.ratio == "0.5x raw_commit_per_s"
    assert row.met == "NO"  # the absolute target still reads the median figure


def test_cedarpy_is_the_baseline_where_installed_else_the_hash_loop() -> None:
    spec = SPECS["policy_bench"]
    with_cedar = {
        "stateless_per_s": 30_000.0,
        "cedarpy_per_s": 12_500.0,
        "baseline_hash_per_s": 3e6,
    }
    without = {"stateless_per_s": 30_000.0, "baseline_hash_per_s": 3e6}
    assert [r.ratio_value for r in summarise(spec, [with_cedar])][0] == 2.4
    assert [r.ratio_value for r in summarise(spec, [without])][0] == 0.01


def test_a_ratio_target_is_judged_on_the_ratio() -> None:
    spec = SPECS["agent_bench"]
    assert spec.targets["overhead_ms_per_intent"].on_ratio
    fast_disk = {"overhead_ms_per_intent": 3.0, "baseline_raw_commit_ms": 1.0}
    slow_disk = {"overhead_ms_per_intent": 12.0, "baseline_raw_commit_ms": 10.0}
    rows = {r.figure: r for r in summarise(spec, [fast_disk])}
    assert rows["overhead_ms_per_intent"].met == "NO"
    rows = {r.figure: r for r in summarise(spec, [slow_disk])}
    assert rows["overhead_ms_per_intent"].met == "yes"
    no_baseline = {r.figure: r for r in summarise(spec, [{"overhead_ms_per_intent": 1.0}])}
    assert no_baseline["overhead_ms_per_intent"].met == "NO"


def test_baselines_are_not_divided_by_themselves() -> None:
    run = {"transfers_per_s": 1_500.0, "views_per_s": 12_000.0, "baseline_http_per_s": 6_000.0}
    rows = {r.figure: r for r in summarise(SPECS["devnet_bench"], [run])}
    assert rows["transfers_per_s"].ratio_value == 0.25
    assert rows["views_per_s"].ratio_value == 2.0
    assert rows["baseline_http_per_s"].ratio == "-"


def test_every_scheduler_size_has_a_ratio_to_the_idle_tick(
    capsys: pytest.CaptureFixture[str],
) -> None:
    baseline.emit(idle_tick_p99_ms=2.0)
    figures = SPECS["scheduler_bench"].parse(SCHEDULER_TEXT + capsys.readouterr().out)
    rows = {r.figure: r for r in summarise(SPECS["scheduler_bench"], [figures])}
    assert rows["p99_lateness_ms_at_1000"].ratio_value == 99.7 / 2
    assert rows["most_strategies_on_time"].ratio == "-"


def test_audit_verify_reads_as_hashes_per_entry(capsys: pytest.CaptureFixture[str]) -> None:
    text = "verify 20,000 entries: 0.04 s (ok=True, 5 MiB)\n"
    baseline.emit(raw_commit_per_s=1_000.0, hash_per_s=1_000_000.0)
    figures = SPECS["audit_bench"].parse(text + capsys.readouterr().out)
    rows = {r.figure: r for r in summarise(SPECS["audit_bench"], [figures])}
    assert rows["verify_s_per_million"].ratio_value == 2.0  # two hash loops' time per entry


def test_a_figure_missing_from_every_run_fails_its_target() -> None:
    rows = summarise(SPECS["devnet_bench"], [{"views_per_s": 1.0}])
    missed = {r.figure for r in rows if r.met == "NO"}
    assert missed == {"transfers_per_s", "peak_memory_mib"}  # every target, none measured


def test_render_shows_median_and_ratio_columns() -> None:
    runs = [{"reserve_durable_per_s": 400.0, "raw_commit_per_s": 800.0}]
    text = render(summarise(SPECS["policy_bench"], runs))
    header = text.splitlines()[0]
    assert "| median " in header and "| ratio to baseline (same run) |" in header
    assert "0.5x raw_commit_per_s" in text
    assert len({len(line) for line in text.splitlines()}) == 1
