"""The suite's own setup: Hypothesis profiles (each property test's own budget locally, several
times it under CI) and temporary folders in RAM."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from tests.conftest import EXAMPLE_SCALE, profile_for, pytest_collection_modifyitems, temp_root


@pytest.mark.parametrize(
    ("environ", "profile"),
    [
        ({}, "dev"),
        ({"CI": "true"}, "ci"),
        ({"CI": "true", "HYPOTHESIS_PROFILE": "dev"}, "dev"),
        ({"HYPOTHESIS_PROFILE": "ci"}, "ci"),
    ],
)
def test_ci_selects_the_thorough_profile(environ: dict[str, str], profile: str) -> None:
    assert profile_for(environ) == profile


def test_an_unknown_profile_name_is_a_usage_error() -> None:
    with pytest.raises(pytest.UsageError, match="HYPOTHESIS_PROFILE='fast'"):
        profile_for({"HYPOTHESIS_PROFILE": "fast"})


@pytest.mark.parametrize("profile", ["dev", "ci"])
def test_a_property_test_runs_its_budget_times_the_profiles_scale(profile: str) -> None:
    calls: list[int] = []

    @settings(max_examples=10, database=None, phases=[Phase.generate], deadline=1)
    @given(st.integers())
    def probe(n: int) -> None:
        calls.append(n)
        time.sleep(0.002)  # over its own 1 ms deadline: timing is not checked

    # collected as two items (parametrized), it is still one function: adjusted once
    items = [SimpleNamespace(obj=probe), SimpleNamespace(obj=probe)]
    active = settings.get_current_profile_name()
    settings.load_profile(profile)
    try:
        pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    finally:
        settings.load_profile(active)
    probe()
    assert len(calls) == round(10 * EXAMPLE_SCALE[profile])
    assert EXAMPLE_SCALE["ci"] > EXAMPLE_SCALE["dev"] == 1


def test_temporary_folders_go_to_ram_unless_tmpdir_says_otherwise(tmp_path: Path) -> None:
    ram = tmp_path / "shm"
    ram.mkdir()
    assert temp_root({}, shm=ram) == str(ram)
    assert temp_root({"TMPDIR": "/var/tmp"}, shm=ram) is None
    assert temp_root({}, shm=tmp_path / "missing") is None
    chosen = temp_root(os.environ)
    if chosen is not None:  # this very run put its folders there
        assert tmp_path.resolve().is_relative_to(Path(chosen).resolve())


@pytest.mark.parametrize("profile", ["dev", "ci"])
def test_a_state_machine_runs_its_budget_times_the_profiles_scale(profile: str) -> None:
    runs: list[int] = []

    class Machine(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            runs.append(1)

        @rule()
        def step(self) -> None:
            pass

    Machine.TestCase.settings = settings(
        max_examples=4, database=None, phases=[Phase.generate], stateful_step_count=2
    )
    items = [SimpleNamespace(obj=Machine.TestCase("runTest").runTest)]
    active = settings.get_current_profile_name()
    settings.load_profile(profile)
    try:
        pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    finally:
        settings.load_profile(active)
    Machine.TestCase("runTest").runTest()
    assert len(runs) == round(4 * EXAMPLE_SCALE[profile])
