"""The Hypothesis profiles: each property test's own budget locally, several times it under CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SCALE, profile_for
from tests.support.example_budget_probe import BUDGET

REPO = Path(__file__).resolve().parents[1]
PROBE = REPO / "tests" / "support" / "example_budget_probe.py"


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


def test_a_property_test_runs_its_budget_times_the_profiles_scale(tmp_path: Path) -> None:
    """Two pytest runs of one property test, side by side: as a developer runs it, and as CI."""
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    runs = {}
    for profile, extra in (("dev", {}), ("ci", {"CI": "true"})):
        probe = tmp_path / f"{profile}.txt"
        runs[profile, probe] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider", str(PROBE)],
            cwd=REPO,
            env=base | extra | {"EXAMPLE_PROBE": str(probe)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    for (profile, probe), run in runs.items():
        out, _ = run.communicate(timeout=120)
        assert run.returncode == 0, out
        examples = probe.read_text().splitlines()
        assert len(examples) == round(BUDGET * EXAMPLE_SCALE[profile]), profile
    assert EXAMPLE_SCALE["ci"] > EXAMPLE_SCALE["dev"] == 1
