"""Named crash points, so tests can kill the agent with SIGKILL at an exact step.

Set ``NEAR_AGENT_FAILPOINT`` to a point's name; nothing happens when it is unset. The crash is a
real SIGKILL (no cleanup, no flush), which is what a power cut or an OOM kill looks like.
"""

from __future__ import annotations

import os
import signal

ENV = "NEAR_AGENT_FAILPOINT"
POINTS = ("after_reserve", "after_sign", "after_submit", "before_settle")


def hit(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
