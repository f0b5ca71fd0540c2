"""Fixtures for the stress suite: loopback model servers as subprocesses, killed on teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from stress_support import SimServerProcess, start_simserver


@pytest.fixture
def simserver() -> Iterator[Callable[..., SimServerProcess]]:
    """Start loopback simulators (`simserver("--latency-ms", "30")`); all die with the test."""
    started: list[SimServerProcess] = []

    def start(*flags: str) -> SimServerProcess:
        server = start_simserver(*flags)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
