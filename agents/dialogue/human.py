"""The human simulator: a user who knows only the instruction and speaks one turn at a time.

Its model view flips the roles: its own earlier utterances are assistant messages and the
assistant's texts are user messages. With Best-of-N, N candidate turns are sampled (candidate i
is the caller's sample i: its own request seed and cache entry, and for simulated models its
own scenario seed) and a judge model scores each 0-10; the best is said, and all are recorded.
"""

from __future__ import annotations

import functools
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import orjson
from autogen_core.models import AssistantMessage, LLMMessage, SystemMessage, UserMessage
from pydantic import BaseModel, ConfigDict, Field

from agents.dialogue.transcript import BestOfTurn, Candidate, Transcript
from agents.models.gateway import CallContext, ModelGateway
from agents.models.openai_wire import WireView
from agents.models.structured import create_structured
from agents.resources import Templates
from agents.simulated.dialogue_scripts import judge_script
from agents.simulated.scenario import ScenarioJSON, SimScenario, scenario_json
from runtime.errors import ModelError

OPENING = "Hi! How can I help you today?"
JUDGE_SYSTEM = "You judge simulated customer messages. Answer with the JSON object asked for."


class JudgeScore(BaseModel):
    """The judge's verdict on one candidate user turn."""

    model_config = ConfigDict(extra="ignore")

    score: float = Field(ge=0, le=10)
    reason: str = ""


@dataclass
class HumanTurn:
    """What the human says, with the Best-of-N record when candidates were judged."""

    text: str
    best_of: BestOfTurn | None = None


def dialogue_lines(transcript: Transcript) -> list[tuple[str, str]]:
    """The user-visible dialogue as (speaker, text): what the human has seen so far."""
    lines = [("assistant", OPENING)]
    for message in transcript.messages:
        if message.role == "user":
            lines.append(("user", message.content))
        elif message.role == "assistant" and message.content:
            lines.append(("assistant", message.content))
    return lines


@dataclass(slots=True)
class TurnJudge:
    """Scores a candidate user turn for faithfulness to the instruction and progress."""

    gateway: ModelGateway
    model: str
    templates: Templates
    prompt: str | None
    timeout_s: float
    stop_token: str
    call: CallContext

    async def score(
        self, instruction: str, transcript: Transcript, candidate: str, *, seed: int, index: int = 0
    ) -> Candidate:
        """The judge's score of one candidate (`index`: which candidate, a sample of its own)."""
        dialogue = dialogue_lines(transcript)
        text = self.templates.render(
            self.prompt,
            "user_judge.j2",
            instruction=instruction,
            dialogue=dialogue,
            candidate=candidate,
            stop_token=self.stop_token,
        )
        messages: list[LLMMessage] = [
            SystemMessage(content=JUDGE_SYSTEM),
            UserMessage(content=text, source="user"),
        ]
        last_agent_message = next(text for who, text in reversed(dialogue) if who == "assistant")

        def scenario() -> SimScenario:
            return judge_script(instruction, candidate, self.stop_token, last_agent_message, seed)

        try:
            with anyio.fail_after(self.timeout_s):
                parsed = await create_structured(
                    self.gateway,
                    self.model,
                    messages,
                    JudgeScore,
                    scenario=scenario,
                    call=self.call.sample(index),
                )
        except (ModelError, TimeoutError) as exc:
            return Candidate(text=candidate, score=None, reason=f"judge failed: {exc}")
        return Candidate(text=candidate, score=parsed.value.score, reason=parsed.value.reason)


def _autogen_view(lines: list[tuple[str, str]]) -> list[LLMMessage]:
    """The human's lines as autogen messages, made afresh for a client that reads them."""
    return [_autogen_message(speaker, text) for speaker, text in lines]


def _wire_view(lines: list[tuple[str, str]]) -> list[dict[str, Any] | orjson.Fragment]:
    """The human's lines as OpenAI chat messages, as `wire_messages` makes them from
    `_autogen_view`, without the autogen objects."""
    return [_wire_line(speaker, text) for speaker, text in lines]


def _wire_line(speaker: str, text: str) -> dict[str, Any]:
    if speaker == "system":
        return {"role": "system", "content": text}
    if speaker == "user":
        return {"role": "assistant", "content": text}
    return {"role": "user", "name": "assistant", "content": text}


def _autogen_message(speaker: str, text: str) -> LLMMessage:
    """A line of the human's view as autogen's: the roles flipped."""
    if speaker == "system":
        return SystemMessage(content=text)
    if speaker == "user":
        return AssistantMessage(content=text, source="human")
    return UserMessage(content=text, source="assistant")


def _rank(candidate: Candidate) -> float:
    """Judged candidates by score; one the judge could not score ranks below all of them."""
    return -1.0 if candidate.score is None else candidate.score


@dataclass(slots=True)
class HumanSimulator:
    """One episode's simulated user."""

    gateway: ModelGateway
    model: str
    system_prompt: str
    instruction: str
    scenario: SimScenario | ScenarioJSON | None  # None: the model plays no scripts
    call: CallContext
    timeout_s: float
    best_of: int = 1
    judge: TurnJudge | None = None

    def __post_init__(self) -> None:
        if self.scenario is not None:  # sent with every call: dump it once
            self.scenario = scenario_json(self.scenario)

    def view(self, transcript: Transcript) -> WireView:
        """The human's model request: its utterances as assistant messages, and vice versa.

        It holds the lines, not their encoding (see `WireView`).
        """
        lines = [("system", self.system_prompt), *dialogue_lines(transcript)]
        return WireView(
            functools.partial(_wire_view, lines),
            len(lines),
            functools.partial(_autogen_view, lines),
        )

    def sample(self, transcript: Transcript) -> Coroutine[Any, Any, str]:
        """One next user turn (the sampling coroutine itself: one fewer under the episode)."""
        return self._sample(self.view(transcript), self.scenario, self.call)

    async def candidates(self, transcript: Transcript) -> list[str]:
        """`best_of` candidate next turns, each its own sample."""
        return await self._candidates(self.view(transcript))

    async def speak(self, transcript: Transcript) -> HumanTurn:
        """The next user turn (the best of N candidates when a judge is set)."""
        messages = self.view(transcript)
        if self.judge is None or self.best_of <= 1:
            return HumanTurn(await self._sample(messages, self.scenario, self.call))
        texts = await self._candidates(messages)
        candidates = await self._judge(transcript, texts, self.judge)
        chosen = max(range(len(candidates)), key=lambda i: (_rank(candidates[i]), -i))
        return HumanTurn(
            texts[chosen], BestOfTurn(turn=transcript.turns, candidates=candidates, chosen=chosen)
        )

    async def _sample(
        self,
        messages: Sequence[LLMMessage],
        scenario: SimScenario | ScenarioJSON | None,
        call: CallContext,
    ) -> str:
        result = await self.gateway.create(
            self.model, messages, scenario=scenario, call=call, timeout_s=self.timeout_s
        )
        if not isinstance(result.content, str):
            raise ModelError(self.model, "the simulated user answered with tool calls")
        return result.content.strip()

    @property
    def seed(self) -> int:
        """The seed of the simulator's scripts (the user's, its judge's): its script's own, or
        0 when the user's model plays no scripts."""
        return 0 if self.scenario is None else int(scenario_json(self.scenario)["seed"])

    def _candidate_script(self, index: int) -> ScenarioJSON | None:
        """Candidate i of a Best-of-N turn plays the script with its seed + i."""
        if self.scenario is None:
            return None
        return {**scenario_json(self.scenario), "seed": self.seed + index}

    async def _candidates(self, messages: Sequence[LLMMessage]) -> list[str]:
        texts = [""] * self.best_of

        async def one(index: int) -> None:
            scenario = self._candidate_script(index)
            texts[index] = await self._sample(messages, scenario, self.call.sample(index))

        async with anyio.create_task_group() as tg:
            for index in range(self.best_of):
                tg.start_soon(one, index)
        return texts

    async def _judge(
        self, transcript: Transcript, texts: list[str], judge: TurnJudge
    ) -> list[Candidate]:
        candidates = [Candidate(text=text) for text in texts]

        async def one(index: int) -> None:
            candidates[index] = await judge.score(
                self.instruction,
                transcript,
                texts[index],
                seed=self.seed + index,
                index=index,
            )

        async with anyio.create_task_group() as tg:
            for index in range(len(texts)):
                tg.start_soon(one, index)
        return candidates
