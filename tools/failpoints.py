"""Named crash and pause points, so tests can stop the agent at an exact step.

Set ``NEAR_AGENT_FAILPOINT`` to a point's name; nothing happens when it is unset. The crash is a
real SIGKILL (no cleanup, no flush), which is what a power cut or an OOM kill looks like.

Set ``NEAR_AGENT_PAUSE`` to ``<point>:<fifo>`` to hold the process at that point instead: it
writes ``paused at <point>`` on stderr and blocks until someone opens the named pipe ``<fifo>``
for writing and closes it. A barrier, not a sleep: the test decides exactly what happens while
the process waits there.
"""

from __future__ import annotations

import os
import signal
import sys

ENV = "NEAR_AGENT_FAILPOINT"
PAUSE_ENV = "NEAR_AGENT_PAUSE"
POINTS = ("after_reserve", "after_sign", "after_submit", "before_settle")


def hit(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    point, _, fifo = os.environ.get(PAUSE_ENV, "").partition(":")
    if point == name and fifo:
        print(f"paused at {name}", file=sys.stderr, flush=True)
        with open(fifo, "rb") as released:  # blocks until a writer opens the pipe
            released.read()
