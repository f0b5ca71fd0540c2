"""Stopping a run on SIGINT or SIGTERM: what Ctrl-C, SLURM, Kubernetes and systemd send.

Either signal cancels the run: in-flight episodes are abandoned (nothing of theirs is
committed, so `resume` redoes them), the run is marked `interrupted`, and the program exits
with 128 + the signal number (130 for SIGINT, 143 for SIGTERM), as a shell reports a process
the signal killed. The wind-down is bounded by `timeouts.shutdown_s`: past it (a stuck
thread, a store that does not answer) the process exits anyway, with the same code. A
second signal does not wait for the wind-down. A signal ignored when the program started (a
background job's SIGINT) stays ignored. Only the CLI does this: an embedding host owns its
process's signals.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):
    """The run was stopped by a signal; `exit_code` is what the program should exit with."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


def exit_code(signum: int) -> int:
    """128 + the signal number: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + signum


async def run_until_signalled(func: Callable[[], Awaitable[T]], *, grace_s: float) -> T:
    """Await `func()`; on SIGINT or SIGTERM cancel it and raise `Interrupted`.

    From the first signal on, the process has `grace_s` seconds to unwind before it exits
    regardless; a second signal gets the default action at once.
    """
    loop = asyncio.get_running_loop()
    received: list[int] = []
    watched = [sig for sig in SIGNALS if signal.getsignal(sig) is not signal.SIG_IGN]
    with anyio.CancelScope() as scope:

        def on_signal(signum: int) -> None:
            received.append(signum)
            for sig in watched:  # a second signal acts at once
                loop.remove_signal_handler(sig)
            _exit_after(grace_s, signum)
            scope.cancel()

        for sig in watched:
            loop.add_signal_handler(sig, on_signal, sig)
        try:
            result = await func()
        finally:
            if not received:
                for sig in watched:
                    loop.remove_signal_handler(sig)
    if scope.cancelled_caught:
        raise Interrupted(received[0])
    return result


def _exit_after(grace_s: float, signum: int) -> None:
    """Exit the process `grace_s` seconds from now unless it has exited by then."""

    def expire() -> None:
        name = signal.Signals(signum).name
        print(
            f"interrupted by {name}: shutdown took longer than timeouts.shutdown_s"
            f" ({grace_s:g}s); exiting (`resume` continues the run)",
            file=sys.stderr,
            flush=True,
        )
        os._exit(exit_code(signum))

    timer = threading.Timer(grace_s, expire)
    timer.daemon = True
    timer.start()
