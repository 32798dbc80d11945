"""A property test that records each example it runs, for tests/test_suite_profiles.py.

Not collected by a normal run (the name does not start with ``test_``); that test runs it in a
pytest of its own with ``EXAMPLE_PROBE`` naming the file to append to.
"""

from __future__ import annotations

import os

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

BUDGET = 10


@settings(max_examples=BUDGET, database=None, phases=[Phase.generate])
@given(st.integers())
def test_probe(n: int) -> None:
    with open(os.environ["EXAMPLE_PROBE"], "a") as out:
        out.write(f"{n}\n")
