"""Shared fixtures: a devnet node on 127.0.0.1 with the default genesis; Hypothesis profiles.

Every node binds port 0 (a free port) and keeps its state in a pytest temporary folder, so the
pytest-xdist workers that run the suite in parallel never share a port or a file: each worker
gets its own session node. Temporary folders live in RAM where there is a ``/dev/shm``.

Hypothesis runs under one of two profiles: ``dev`` (the default) keeps every property test's
own example budget; ``ci`` (chosen when the environment variable ``CI`` is set, as CI sets it)
multiplies each budget by ``CI_EXAMPLE_SCALE``. ``HYPOTHESIS_PROFILE=ci`` (or
``--hypothesis-profile=ci``) picks it by hand. Neither checks timing (deadlines, "too slow").
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from agent.home import STATE_ENV
from devnet.server import RunningDevnet, start_devnet

CI_EXAMPLE_SCALE = 2.5  # CI tries 2.5x each property test's examples; keep CI well under 90 min
EXAMPLE_SCALE = {"dev": 1.0, "ci": CI_EXAMPLE_SCALE}


def profile_for(environ: Mapping[str, str]) -> str:
    """``HYPOTHESIS_PROFILE`` if set, else ``ci`` under CI, else ``dev``."""
    chosen = environ.get("HYPOTHESIS_PROFILE")
    if chosen:
        if chosen not in EXAMPLE_SCALE:
            raise pytest.UsageError(f"HYPOTHESIS_PROFILE={chosen!r}: use one of {EXAMPLE_SCALE}")
        return chosen
    return "ci" if environ.get("CI") else "dev"


def adjust(test: Callable[..., Any], factor: float) -> None:
    """One ``@given`` test: its example budget (its own, or the default) times ``factor``, and
    no timing checks (a deadline, "too slow"): on a shared machine those fail for reasons that
    are not the code's."""
    # a state machine's TestCase keeps its settings on the class, a @given test on the function
    case = getattr(test, "__self__", None)
    owner: Any = type(case) if isinstance(getattr(case, "settings", None), settings) else test
    name = "settings" if owner is not test else "_hypothesis_internal_use_settings"
    current = getattr(owner, name, None)
    if not isinstance(current, settings):  # Hypothesis renamed its attribute: fail loudly
        raise pytest.UsageError(f"cannot read the Hypothesis settings of {test!r}")
    setattr(
        owner,
        name,
        settings(
            current,
            max_examples=max(1, round(current.max_examples * factor)),
            deadline=None,
            suppress_health_check=list({*current.suppress_health_check, HealthCheck.too_slow}),
        ),
    )


def temp_root(environ: Mapping[str, str], shm: Path = Path("/dev/shm")) -> str | None:
    """Where tests' temporary folders go: RAM (``/dev/shm``) unless ``TMPDIR`` names a place.

    The stores fsync every commit (``synchronous=FULL``, the devnet's journal); on a disk those
    waits were about half of the suite's time, and a test cannot tell them apart: a killed
    process loses nothing on either. ``None`` leaves Python's default.
    """
    if environ.get("TMPDIR") or not (shm.is_dir() and os.access(shm, os.W_OK | os.X_OK)):
        return None
    return str(shm)


def pytest_configure(config: pytest.Config) -> None:
    # before any tmp_path exists (pytest picks its base folder from tempfile on first use)
    tempfile.tempdir = temp_root(os.environ) or tempfile.tempdir
    # a failure prints the blob that reproduces it; CI starts from a fresh clone (no database)
    settings.register_profile("dev", print_blob=True)
    settings.register_profile("ci", print_blob=True, database=None)
    chosen = config.getoption("hypothesis_profile", None)  # --hypothesis-profile=NAME wins
    settings.load_profile(chosen or profile_for(os.environ))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    factor = EXAMPLE_SCALE.get(settings.get_current_profile_name(), 1.0)
    adjusted: set[int] = set()
    for item in items:
        test = getattr(item, "obj", None)
        if getattr(test, "is_hypothesis_test", False) and id(test) not in adjusted:
            adjusted.add(id(test))  # parametrized items share one function: adjust it once
            adjust(test, factor)


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDevnet]:
    """One node for the whole session (default genesis, throwaway state dir)."""
    node = start_devnet(Path(tmp_path_factory.mktemp("devnet")), reset=True)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def fresh_devnet(tmp_path: Path) -> Iterator[RunningDevnet]:
    """A node of its own for a test that needs a pristine chain."""
    node = start_devnet(tmp_path / "devnet", reset=True)
    try:
        yield node
    finally:
        node.stop()


# --------------------------------------------------------------------------- user state folder


@pytest.fixture(scope="session", autouse=True)
def _user_state_for_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Never the developer's real state folder (the nonce ledger), even for wider fixtures."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STATE_ENV, str(tmp_path_factory.mktemp("state") / "near-agent"))
        yield


@pytest.fixture(autouse=True)
def _user_state_per_test(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Each test its own user state folder; its near-agent subprocesses inherit it."""
    monkeypatch.setenv(STATE_ENV, str(tmp_path_factory.mktemp("state") / "near-agent"))
