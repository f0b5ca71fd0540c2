"""A tiny built-in protocol that exercises the whole spine without models or domains.

Each episode spawns its own echo actor, asks it a few rounds, records the replies and stops
it: the same life cycle a per-episode human simulator or assistant actor has.
"""

from __future__ import annotations

import anyio
from pydantic import Field

from runtime.actors import Actor
from runtime.messages import Message
from runtime.steps import Episode, Step, StepOutcome, StepParams, StepRegistry


class EchoRequest(Message):
    text: str
    round: int


class EchoReply(Message):
    text: str
    round: int


class EchoActor(Actor[EchoRequest, EchoReply]):
    """Answers every request with its own text, after an optional delay."""

    def __init__(self, delay_s: float) -> None:
        self._delay_s = delay_s

    async def handle(self, message: EchoRequest) -> EchoReply:
        if self._delay_s:
            await anyio.sleep(self._delay_s)
        return EchoReply(text=message.text, round=message.round)


class EchoParams(StepParams):
    rounds: int = Field(default=3, ge=1, le=1000, description="requests per episode")
    delay_s: float = Field(default=0.0, ge=0, description="simulated work per request")
    fail_rate: float = Field(
        default=0.0, ge=0, le=1, description="chance an attempt fails (seeded per episode)"
    )


class EchoStep(Step):
    """Round-trips messages through a per-episode actor; may fail on purpose (seeded)."""

    params_model = EchoParams

    async def run(self, episode: Episode) -> StepOutcome:
        params = self.params
        assert isinstance(params, EchoParams)
        actor = self.phase.system.spawn(EchoActor(params.delay_s), name=f"echo-{episode.key}")
        try:
            for round_no in range(params.rounds):
                text = f"{episode.key}/{episode.attempt}/{round_no}"
                request = EchoRequest(text=text, round=round_no)
                reply = await actor.ask(request, timeout=self.phase.ask_timeout_s)
                if reply.text != text:
                    return StepOutcome.fail("echo.mismatch", expected=text, got=reply.text)
        finally:
            await actor.stop(timeout=self.phase.ask_timeout_s)
        episode.record("echo", {"attempt": episode.attempt, "rounds": params.rounds})
        if episode.rng("echo-fail").random() < params.fail_rate:
            return StepOutcome.fail("echo.injected_failure")
        return StepOutcome.ok(rounds=params.rounds)


class NoteParams(StepParams):
    text: str = "retrying"


class NoteStep(Step):
    """Records a note; a stand-in for reflection in the echo protocol's `on_fail`."""

    params_model = NoteParams

    async def run(self, episode: Episode) -> StepOutcome:
        assert isinstance(self.params, NoteParams)
        episode.event("note", text=self.params.text, attempt=episode.attempt)
        return StepOutcome.ok()


def register_echo_steps(registry: StepRegistry) -> None:
    registry.register("echo", EchoStep)
    registry.register("note", NoteStep)
