"""``python -m bench`` reads every benchmark's figures, text or JSON, and judges them fairly."""

from __future__ import annotations

from bench.table import SPECS, Row, Target, discover, render, scheduler_parser

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
