"""Phase 2's participants as role kinds: the simulated user, its turn judge, the assistant
and the tool environment. Each speaks one message at a time; the protocol routes them.

The transcript is their shared record: each role appends what it says. The user's view of
it flips the roles; the assistant's view is the transcript itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import anyio
from pydantic import BaseModel, ConfigDict, Field

from agents.dialogue.assistant import (
    is_refusal,
    model_view,
    run_calls,
    take_answer,
)
from agents.dialogue.human import HumanSimulator, TurnJudge
from agents.dialogue.personas import DEFAULT_PERSONAS
from agents.dialogue.transcript import BestOfTurn, Candidate, ChatMessage
from agents.roles.messages import Candidates, Ended, Said, Scores, ToolCalls, ToolResults
from agents.roles.scope import EpisodeScope, PhaseServices
from agents.simulated.dialogue_scripts import assistant_script, human_script
from agents.simulated.scenario import ScenarioJSON, scenario_json
from domains.base import TRANSFER_TOOLS
from runtime.errors import ModelError
from runtime.protocol import START, Emitted, Role, RoleKind

STOP_TOKEN = "###STOP###"


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, description="model name (default: the agents entry)")
    prompt: str | None = Field(default=None, description="Jinja2 file (.j2) or inline text")
    call_timeout_s: float | None = Field(
        default=None, gt=0, description="bound on each model call, retries included"
    )


def _timeout(scope: EpisodeScope, params: _Params) -> float:
    return params.call_timeout_s or scope.timeout_s


def _failed(who: str, exc: Exception) -> list[Emitted]:
    text = "model call timed out" if isinstance(exc, TimeoutError) else str(exc)
    return [Emitted("ended", Ended("error", f"{who}: {text}"))]


# -- the simulated user ---------------------------------------------------------------------


class HumanParams(_Params):
    best_of: int = Field(default=1, ge=1, le=16, description="candidate turns a judge ranks")
    persona: bool = Field(default=False, description="give the user a sampled persona")
    personas: list[str] = Field(default_factory=lambda: list(DEFAULT_PERSONAS), min_length=1)
    stop_token: str = Field(default=STOP_TOKEN, min_length=1)


class HumanRole(Role):
    """Speaks for the user (sampling `best_of` candidates for the judge when asked to)."""

    __slots__ = ("params", "pending", "scope", "simulator")

    def __init__(self, scope: EpisodeScope, simulator: HumanSimulator, params: HumanParams):
        self.scope = scope
        self.simulator = simulator
        self.params = params
        self.pending: tuple[str, ...] = ()

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        if kind == "scores":
            assert isinstance(message, Scores)
            return self._choose(message.candidates)
        transcript = self.scope.transcript
        try:
            if self.params.best_of > 1:
                self.pending = tuple(await self.simulator.candidates(transcript))
                return [Emitted("candidates", Candidates(self.pending))]
            text = await self.simulator.sample(transcript)
        except (ModelError, TimeoutError) as exc:
            return _failed("human", exc)
        return self._say(text)

    def _choose(self, candidates: Sequence[Candidate]) -> list[Emitted]:
        chosen = max(range(len(candidates)), key=lambda i: (_rank(candidates[i]), -i))
        turn = BestOfTurn(
            turn=self.scope.transcript.turns, candidates=list(candidates), chosen=chosen
        )
        self.scope.transcript.best_of.append(turn)
        return self._say(self.pending[chosen])

    def _say(self, text: str) -> list[Emitted]:
        return say_as_user(self.scope, text, self.params.stop_token)


def say_as_user(scope: EpisodeScope, text: str, stop_token: str) -> list[Emitted]:
    """The user's turn, recorded in the transcript: it ends the dialogue if it holds the
    stop token, else it goes to the assistant."""
    transcript = scope.transcript
    transcript.messages.append(ChatMessage(role="user", content=text))
    transcript.turns += 1
    if stop_token in text:
        return [Emitted("ended", Ended("stop"))]
    return [Emitted("said", Said(text))]


def _rank(candidate: Candidate) -> float:
    """Judged candidates by score; one the judge could not score ranks below all of them."""
    return -1.0 if candidate.score is None else candidate.score


class HumanKind(RoleKind):
    """A simulated user who knows only the blueprint's instruction (and a persona)."""

    name = "human"
    accepts: ClassVar[dict[str, type[Any]]] = {START: object, "said": Said, "scores": Scores}
    emits: ClassVar[dict[str, type[Any]]] = {
        "said": Said,
        "candidates": Candidates,
        "ended": Ended,
    }
    needs = frozenset({"blueprint"})  # the instruction the user follows
    params_model = HumanParams
    can_see = frozenset({"instruction", "persona"})
    sees = ("instruction",)

    def emitted(self, params: BaseModel) -> frozenset[str]:
        """Candidate turns only with Best-of-N."""
        assert isinstance(params, HumanParams)
        return frozenset(self.emits) - (set() if params.best_of > 1 else {"candidates"})

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        assert isinstance(params, HumanParams) and isinstance(context, EpisodeScope)
        scope = context
        blueprint = scope.blueprint
        services = scope.services
        prompt = scope.role_prompt(role, params.prompt)
        if params.persona:
            persona = scope.episode.rng("persona").choice(params.personas)
            system = _human_prompt(services, prompt, blueprint.instruction, persona, params)
        else:
            plain = services.per_blueprint(
                f"human-prompt:{role}",
                lambda b: _human_prompt(services, prompt, b.instruction, None, params),
            )
            system = plain.of(blueprint)
        model = scope.models["human"] = scope.role_model(role, params.model)
        scenario = None
        if services.gateway.plays_scripts(model):
            scripts = services.per_blueprint(
                f"human-script:{params.stop_token}",
                lambda b: scenario_json(human_script(b, services.writes, 0, params.stop_token)),
            )
            scenario = _seeded(scripts.of(blueprint), scope.seed)
        simulator = HumanSimulator(
            gateway=services.gateway,
            model=model,
            system_prompt=system,
            instruction=blueprint.instruction,
            scenario=scenario,
            call=scope.call(role),
            timeout_s=_timeout(scope, params),
            best_of=params.best_of,
        )
        return HumanRole(scope, simulator, params)


def _human_prompt(
    services: PhaseServices,
    prompt: str | None,
    instruction: str,
    persona: str | None,
    params: HumanParams,
) -> str:
    """The user's system prompt (a builder a phase-wide cache may keep: no episode in it)."""
    return services.templates.render(
        prompt, "human.j2", instruction=instruction, persona=persona, stop_token=params.stop_token
    )


def _seeded(script: ScenarioJSON, seed: int) -> ScenarioJSON:
    return {**script, "seed": seed}


# -- the judge of Best-of-N turns -----------------------------------------------------------


class JudgeParams(_Params):
    stop_token: str = Field(default=STOP_TOKEN, min_length=1)


class TurnJudgeRole(Role):
    """Scores each candidate user turn for faithfulness to the instruction and progress."""

    __slots__ = ("judge", "scope")

    def __init__(self, scope: EpisodeScope, judge: TurnJudge) -> None:
        self.scope = scope
        self.judge = judge

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        assert isinstance(message, Candidates)
        texts = message.texts
        scored = [Candidate(text=text) for text in texts]
        instruction = self.scope.blueprint.instruction
        seed = self.scope.seed

        async def one(index: int) -> None:
            scored[index] = await self.judge.score(
                instruction, self.scope.transcript, texts[index], seed=seed + index, index=index
            )

        async with anyio.create_task_group() as group:
            for index in range(len(texts)):
                group.start_soon(one, index)
        return [Emitted("scores", Scores(tuple(scored)))]


class TurnJudgeKind(RoleKind):
    name = "turn_judge"
    accepts: ClassVar[dict[str, type[Any]]] = {"candidates": Candidates}
    emits: ClassVar[dict[str, type[Any]]] = {"scores": Scores}
    needs = frozenset({"blueprint"})
    params_model = JudgeParams
    can_see = frozenset({"instruction", "dialogue"})
    sees = ("instruction", "dialogue")

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        assert isinstance(params, JudgeParams) and isinstance(context, EpisodeScope)
        services = context.services
        judge = TurnJudge(
            gateway=services.gateway,
            model=context.role_model(role, params.model),
            templates=services.templates,
            prompt=context.role_prompt(role, params.prompt),
            timeout_s=_timeout(context, params),
            stop_token=params.stop_token,
            call=context.call(role),
        )
        return TurnJudgeRole(context, judge)


# -- the assistant --------------------------------------------------------------------------


class AssistantParams(_Params):
    pass


class AssistantRole(Role):
    """One model call per message: a text reply, or tool calls for the environment."""

    __slots__ = ("call", "calls", "model", "scenario", "scope", "timeout")

    def __init__(
        self,
        scope: EpisodeScope,
        role: str,
        model: str,
        scenario: ScenarioJSON | None,
        timeout: float,
    ):
        self.scope = scope
        self.model = model
        self.scenario = scenario
        self.timeout = timeout
        self.call = scope.call(role)
        self.calls = 0

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        transcript = self.scope.transcript
        services = self.scope.services
        try:
            result = await services.gateway.create(
                self.model,
                model_view(transcript.system, transcript.messages),
                tools=services.tools,
                scenario=self.scenario,
                call=self.call,
                timeout_s=self.timeout,
            )
        except (ModelError, TimeoutError) as exc:
            return _failed("assistant", exc)
        calls = take_answer(transcript, result, self._next_id)
        if calls is None:
            if is_refusal(result):
                return [Emitted("ended", Ended("refusal"))]
            return [Emitted("said", Said(transcript.messages[-1].content))]
        writes = any(call.name in services.writes for call in calls)
        return [Emitted("tool_calls", ToolCalls(tuple(calls), writes))]

    def _next_id(self) -> str:
        self.calls += 1
        return f"call_{self.calls}"


class AssistantKind(RoleKind):
    """The assistant under training or evaluation: the policy as its prompt, the tools."""

    name = "assistant"
    accepts: ClassVar[dict[str, type[Any]]] = {"said": Said, "tool_results": ToolResults}
    emits: ClassVar[dict[str, type[Any]]] = {"said": Said, "tool_calls": ToolCalls, "ended": Ended}
    predicates: ClassVar[dict[str, frozenset[str]]] = {"tool_calls": frozenset({"writes"})}
    params_model = AssistantParams
    can_see = frozenset({"policy", "tools", "dialogue"})
    sees = ("policy", "tools", "dialogue")

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        assert isinstance(params, AssistantParams) and isinstance(context, EpisodeScope)
        services = context.services
        prompt = context.role_prompt(role, params.prompt)
        system = services.per_blueprint(
            f"assistant-prompt:{role}", lambda _b: _assistant_prompt(services, prompt)
        ).of(context.blueprint)
        context.transcript.system = system
        context.transcript.tools = list(services.tools)  # type: ignore[arg-type]
        model = context.models["assistant"] = context.role_model(role, params.model)
        scenario = None
        if services.gateway.plays_scripts(model):
            scripts = services.per_blueprint(
                "assistant-script",
                lambda b: scenario_json(assistant_script(b, services.writes, 0)),
            )
            scenario = _seeded(scripts.of(context.blueprint), context.seed)
        return AssistantRole(context, role, model, scenario, _timeout(context, params))

    def check_predicate(self, kind: str, predicate: str, message: Any) -> bool:
        assert isinstance(message, ToolCalls) and predicate == "writes"
        return message.writes


def _assistant_prompt(services: PhaseServices, prompt: str | None) -> str:
    """The assistant's system prompt (a builder a phase-wide cache may keep: no episode in it)."""
    domain = services.handle.domain
    return services.templates.render(
        prompt, "assistant.j2", domain=domain.name, policy=domain.policy
    )


# -- the tool environment -------------------------------------------------------------------


class EnvironmentParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sequential: bool | None = Field(
        default=None,
        description="run only the first of several calls in one message (default: what the "
        "domain's policy says)",
    )
    transfer_tools: list[str] = Field(default_factory=lambda: list(TRANSFER_TOOLS))


class EnvironmentRole(Role):
    """Runs the assistant's calls on the episode's fork and answers with the results."""

    __slots__ = ("scope", "sequential", "transfers")

    def __init__(self, scope: EpisodeScope, sequential: bool, transfers: frozenset[str]):
        self.scope = scope
        self.sequential = sequential
        self.transfers = transfers

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        assert isinstance(message, ToolCalls)
        results, transferred = run_calls(
            self.scope.env,
            message.calls,
            sequential=self.sequential,
            transfer_tools=self.transfers,
            executed=self.scope.executed,
        )
        self.scope.transcript.messages.extend(results)
        if transferred:
            return [Emitted("ended", Ended("transfer"))]
        return [Emitted("tool_results", ToolResults(tuple(results)))]


class EnvironmentKind(RoleKind):
    """The domain's tools on the episode's fork of its data."""

    name = "environment"
    accepts: ClassVar[dict[str, type[Any]]] = {"tool_calls": ToolCalls}
    emits: ClassVar[dict[str, type[Any]]] = {"tool_results": ToolResults, "ended": Ended}
    params_model = EnvironmentParams

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        assert isinstance(params, EnvironmentParams) and isinstance(context, EpisodeScope)
        domain = context.services.handle.domain
        sequential = (
            domain.sequential_tool_calls if params.sequential is None else params.sequential
        )
        return EnvironmentRole(context, sequential, frozenset(params.transfer_tools))
