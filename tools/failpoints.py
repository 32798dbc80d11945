"""Named points where tests can stop the agent: kill it, or hold it until released.

Set ``NEAR_AGENT_FAILPOINT`` to a point's name to crash there; nothing happens when it is unset.
The crash is a real SIGKILL (no cleanup, no flush), which is what a power cut or an OOM kill
looks like.

Set ``NEAR_AGENT_WAITPOINT`` to ``NAME@HOST:PORT`` to hold the process at a point until a test
releases it: the process connects to that TCP address and blocks until it reads a byte. A test
that accepts N such connections and then answers them all starts N separate processes at the
same step together (a cross-process barrier, with no sleeps).
"""

from __future__ import annotations

import os
import signal
import socket

ENV = "NEAR_AGENT_FAILPOINT"
WAIT_ENV = "NEAR_AGENT_WAITPOINT"
POINTS = ("after_reserve", "before_send", "after_sign", "after_submit", "before_settle")
"""Every named point; each can be a crash point or a waitpoint."""


def hit(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    wait = os.environ.get(WAIT_ENV)
    if wait:
        point, _, address = wait.partition("@")
        if point == name:
            _hold(address)


def _hold(address: str) -> None:
    host, _, port = address.rpartition(":")
    with socket.create_connection((host, int(port))) as gate:
        gate.recv(1)  # blocks until the test releases every waiter at once
