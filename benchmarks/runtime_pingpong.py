"""Request/reply ping-pong: our actor runtime vs autogen-core's SingleThreadedAgentRuntime.

Both run in this one process, side by side, on the same workloads:
  * sequential: one pair, N round trips (latency-bound);
  * concurrent: P pairs x R round trips each, all pairs at once (throughput under load).
A round trip is pinger -> ponger -> reply -> pinger, both sides being actors/agents.
Prints round trips per second for each runtime and the ratio (goal: ours >= 5x autogen-core).

    python benchmarks/runtime_pingpong.py [--round-trips 20000] [--pairs 1000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
from autogen_core import (
    AgentId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    message_handler,
)

from runtime.actors import Actor, ActorRef, ActorSystem
from runtime.log import configure_logging

# -- our runtime --------------------------------------------------------------------------


class Ponger(Actor[int, int]):
    async def handle(self, message: int) -> int:
        return message + 1


class Pinger(Actor[int, int]):
    """On `n`, does n round trips with its ponger and returns the last reply."""

    def __init__(self, ponger: ActorRef[int, int]) -> None:
        self._ponger = ponger

    async def handle(self, message: int) -> int:
        value = 0
        for _ in range(message):
            value = await self._ponger.ask(value, timeout=60)
        return value


async def ours(pairs: int, rounds: int) -> float:
    """Seconds for `pairs` concurrent pairs doing `rounds` round trips each."""
    async with ActorSystem(mailbox_size=16, ask_timeout_s=600) as system:
        pingers = [system.spawn(Pinger(system.spawn(Ponger()))) for _ in range(pairs)]
        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for pinger in pingers:
                tg.start_soon(_expect, pinger.ask(rounds, timeout=600), rounds)
        return time.perf_counter() - started


# -- autogen-core -------------------------------------------------------------------------


@dataclass
class Ball:
    value: int


@dataclass
class Serve:
    rounds: int


class AutogenPonger(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("ponger")

    @message_handler
    async def on_ball(self, message: Ball, ctx: MessageContext) -> Ball:
        return Ball(message.value + 1)


class AutogenPinger(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("pinger")

    @message_handler
    async def on_serve(self, message: Serve, ctx: MessageContext) -> Ball:
        ball = Ball(0)
        partner = AgentId("ponger", self.id.key)
        for _ in range(message.rounds):
            ball = await self.send_message(ball, partner)
        return ball


async def autogen(pairs: int, rounds: int) -> float:
    runtime = SingleThreadedAgentRuntime()
    await AutogenPonger.register(runtime, "ponger", AutogenPonger)
    await AutogenPinger.register(runtime, "pinger", AutogenPinger)
    runtime.start()
    try:
        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for pair in range(pairs):
                request = runtime.send_message(Serve(rounds), AgentId("pinger", f"p{pair}"))
                tg.start_soon(_expect_ball, request, rounds)
        return time.perf_counter() - started
    finally:
        await runtime.stop()


async def _expect(request: Awaitable[int], rounds: int) -> None:
    assert await request == rounds


async def _expect_ball(request: Awaitable[Ball], rounds: int) -> None:
    assert (await request).value == rounds


# -- harness ------------------------------------------------------------------------------


def _best_of(
    repeats: int, run: Callable[[int, int], Awaitable[float]], first: int, second: int
) -> float:
    return min(anyio.run(run, first, second) for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    configure_logging(level="warning")
    logging.getLogger("autogen_core").setLevel(logging.WARNING)

    workloads = [
        ("sequential: 1 pair", 1, args.round_trips),
        (f"concurrent: {args.pairs} pairs x {args.rounds}", args.pairs, args.rounds),
    ]
    print(f"{'workload':<32}{'ours rt/s':>14}{'autogen rt/s':>14}{'ratio':>9}")
    for label, pairs, rounds in workloads:
        total = pairs * rounds
        # interleave the two runtimes so machine noise hits both alike
        ours_s = _best_of(args.repeats, ours, pairs, rounds)
        autogen_s = _best_of(args.repeats, autogen, pairs, rounds)
        ours_rate, autogen_rate = total / ours_s, total / autogen_s
        ratio = ours_rate / autogen_rate
        print(f"{label:<32}{ours_rate:>14,.0f}{autogen_rate:>14,.0f}{ratio:>8.1f}x")


if __name__ == "__main__":
    main()
