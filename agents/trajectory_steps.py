"""Phase 2 step kinds: load_task (a tau-bench task file as blueprints), converse and verify.

`converse` reads the blueprint from the episode's inputs (the source item's `blueprint`
result), plays the human simulator against the assistant on a fork of the phase's base
environment and records the transcript; `verify` replays the ground truth and records the
verdict. Trials of one blueprint run concurrently; `keep` is applied afterwards over the
stored items (see `agents.passk`), never while trials are still running.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, Literal, TypeVar

import anyio
from pydantic import Field, TypeAdapter, ValidationError

from agents.assistant import Assistant, tool_schemas
from agents.blueprint import Blueprint, Provenance
from agents.conversation import AssistantRole, ConversationLimits, converse
from agents.dialogue_script import assistant_script, human_script
from agents.human import HumanSimulator, TurnJudge
from agents.passk import Keep
from agents.personas import DEFAULT_PERSONAS
from agents.resources import DomainCatalog, PlaybookFile
from agents.scenario import ScenarioJSON, scenario_json
from agents.step_base import BLUEPRINT, AgentStep, record_funnel
from agents.trajectory_policy import trajectory_violations
from agents.transcript import EndReason, Transcript
from agents.verify import verify_trajectory
from domains.base import Task
from domains.environment import Environment
from runtime.errors import ApigenError
from runtime.playbook import PhaseConfig
from runtime.plugins import Extensions
from runtime.steps import Episode, Step, StepOutcome, StepParams

TRAJECTORY = "trajectory"
VERDICT = "verdict"
DEFAULT_BEST_OF = 4
FINISHED: tuple[EndReason, ...] = ("stop", "transfer")

_TASKS = TypeAdapter(list[Task])
K = TypeVar("K")
V = TypeVar("V")


class LoadTaskParams(StepParams):
    path: str = Field(description="JSON list of {user_id, instruction, actions, outputs}")


class LoadTaskStep(Step):
    """Records task `index` of a tau-bench-style file as this episode's blueprint."""

    params_model = LoadTaskParams
    tasks: list[Task]
    source: str

    async def setup(self) -> None:
        params = self.params
        assert isinstance(params, LoadTaskParams)
        located = self.phase.resources.get(PlaybookFile) or PlaybookFile(None)
        path = located.resolve(params.path)
        try:
            text = await anyio.Path(path).read_text(encoding="utf-8")
            self.tasks = _TASKS.validate_python(json.loads(text))
        except (OSError, ValueError) as exc:
            raise ApigenError(f"task file {path}: {_short(exc)}") from exc
        self.source = path.name

    async def run(self, episode: Episode) -> StepOutcome:
        if episode.index >= len(self.tasks):
            return StepOutcome.fail(f"no_task: the file holds {len(self.tasks)} tasks")
        task = self.tasks[episode.index]
        try:
            blueprint = Blueprint(
                **task.model_dump(), provenance=Provenance(model=f"file:{self.source}")
            )
        except ValidationError as exc:
            return StepOutcome.fail(f"invalid_task: {_short(exc)}")
        catalog = self.phase.resources.get(DomainCatalog)
        if catalog is not None and self.phase.phase in catalog.by_phase:
            writes = catalog.for_phase(self.phase.phase).domain.write_tools()
            blueprint.ending = blueprint.resolved_ending(writes)
        episode.record(BLUEPRINT, blueprint.model_dump(mode="json"))
        return StepOutcome.ok(task=episode.index)


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)


class ConverseParams(StepParams):
    human: str = Field(default="human", description="role of the simulated user")
    assistant: str = Field(default="assistant", description="role of the assistant")
    judge: str = Field(default="user_judge", description="role that scores Best-of-N turns")
    max_turns: int = Field(default=20, ge=1, le=500, description="user turns at most")
    stop_token: str = Field(default="###STOP###", min_length=1)
    max_tool_steps: int = Field(default=10, ge=1, le=100, description="tool rounds per turn")
    best_of: bool | int = Field(
        default=False, description=f"candidate user turns to judge (true = {DEFAULT_BEST_OF})"
    )
    persona: bool = Field(default=False, description="give the user a sampled persona")
    personas: list[str] = Field(default_factory=lambda: list(DEFAULT_PERSONAS), min_length=1)
    transfer_tools: list[str] = Field(default_factory=lambda: ["transfer_to_human_agents"])
    call_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description="bound on each model call, retries included (default: timeouts.ask_s)",
    )

    @property
    def candidates(self) -> int:
        if self.best_of is True:
            return DEFAULT_BEST_OF
        return max(1, int(self.best_of))


class ConverseStep(AgentStep):
    """Plays one conversation for the episode's blueprint and records its transcript."""

    params_model = ConverseParams

    async def setup(self) -> None:
        await super().setup()
        self.writes = set(self.handle.domain.write_tools())
        self.tools = tool_schemas(self.handle.domain)
        self.system_prompt = self.assistant_prompt()
        self._blueprints = _PerObject(Blueprint.model_validate)
        self._scripts = _PerObject(self._unseeded_scripts)
        self._plain_human_prompts: _PerObject[Blueprint, str] = _PerObject(
            lambda blueprint: self._human_prompt(blueprint, None)
        )

    async def run(self, episode: Episode) -> StepOutcome:
        params = self.params
        assert isinstance(params, ConverseParams)
        blueprint = self._blueprints.of(_blueprint_payload(episode))
        timeout = params.call_timeout_s or self.phase.ask_timeout_s
        seed = (episode.seed + 7919 * episode.attempt) % (2**63)
        env = self.handle.base.fork()
        human = self._human(episode, blueprint, seed, timeout)
        agent = self.roster.role(params.assistant)
        assistant = self.build_assistant(episode, blueprint, env, seed, timeout)
        limits = ConversationLimits(max_turns=params.max_turns, stop_token=params.stop_token)
        transcript = await converse(human, assistant, limits)
        episode.state.update(blueprint=blueprint, env=env, transcript=transcript)
        episode.record(TRAJECTORY, self._payload(episode, transcript, human.model, agent.model))
        episode.outcome.update(
            end=transcript.end, turns=transcript.turns, tool_calls=len(transcript.tool_calls())
        )
        record_funnel(episode, "converse", transcript.end != "error")
        if transcript.end == "error":
            return StepOutcome.error(f"model_error: {transcript.error}")
        return StepOutcome.ok(end=transcript.end, turns=transcript.turns)

    def assistant_prompt(self) -> str:
        """The assistant's system prompt: the domain policy through the role's template."""
        params = self.params
        assert isinstance(params, ConverseParams)
        return self.templates.render(
            self.roster.role(params.assistant).prompt,
            "assistant.j2",
            domain=self.handle.domain.name,
            policy=self.handle.domain.policy,
        )

    def scenario(
        self, blueprint: Blueprint, role: Literal["assistant", "human"], seed: int
    ) -> ScenarioJSON:
        """What the simulated `role` plays for `blueprint` (real models ignore it)."""
        return {**self._scripts.of(blueprint)[role], "seed": seed}

    def _unseeded_scripts(self, blueprint: Blueprint) -> dict[str, ScenarioJSON]:
        params = self.params
        assert isinstance(params, ConverseParams)
        human = human_script(blueprint, self.writes, 0, params.stop_token)
        assistant = assistant_script(blueprint, self.writes, 0)
        return {"assistant": scenario_json(assistant), "human": scenario_json(human)}

    def build_assistant(
        self, episode: Episode, blueprint: Blueprint, env: Environment, seed: int, timeout: float
    ) -> AssistantRole:
        """The assistant for one conversation; override to plug in another implementation."""
        params = self.params
        assert isinstance(params, ConverseParams)
        return Assistant(
            gateway=self.gateway,
            model=self.roster.role(params.assistant).model,
            system_prompt=self.system_prompt,
            tools=self.tools,
            env=env,
            scenario=self.scenario(blueprint, "assistant", seed),
            call=self.call(episode, params.assistant),
            timeout_s=timeout,
            max_tool_steps=params.max_tool_steps,
            transfer_tools=tuple(params.transfer_tools),
            sequential_calls=self.handle.domain.sequential_tool_calls,
        )

    def _human(
        self, episode: Episode, blueprint: Blueprint, seed: int, timeout: float
    ) -> HumanSimulator:
        params = self.params
        assert isinstance(params, ConverseParams)
        agent = self.roster.role(params.human)
        if params.persona:
            system = self._human_prompt(blueprint, episode.rng("persona").choice(params.personas))
        else:
            system = self._plain_human_prompts.of(blueprint)
        judge = None
        if params.candidates > 1:
            judge_agent = self.roster.role(params.judge)
            judge = TurnJudge(
                gateway=self.gateway,
                model=judge_agent.model,
                templates=self.templates,
                prompt=judge_agent.prompt,
                timeout_s=timeout,
                stop_token=params.stop_token,
                call=self.call(episode, params.judge),
            )
        return HumanSimulator(
            gateway=self.gateway,
            model=agent.model,
            system_prompt=system,
            instruction=blueprint.instruction,
            scenario=self.scenario(blueprint, "human", seed),
            call=self.call(episode, params.human),
            timeout_s=timeout,
            best_of=params.candidates,
            judge=judge,
        )

    def _human_prompt(self, blueprint: Blueprint, persona: str | None) -> str:
        params = self.params
        assert isinstance(params, ConverseParams)
        return self.templates.render(
            self.roster.role(params.human).prompt,
            "human.j2",
            instruction=blueprint.instruction,
            persona=persona,
            stop_token=params.stop_token,
        )

    def _payload(
        self, episode: Episode, transcript: Transcript, human_model: str, assistant_model: str
    ) -> dict[str, Any]:
        models = {"human": human_model, "assistant": assistant_model}
        blueprint: Blueprint = episode.state["blueprint"]
        return {
            "attempt": episode.attempt,
            "trial": episode.trial,
            "domain": self.handle.domain.name,
            "ending": blueprint.resolved_ending(self.writes),
            "models": models,
            "simulated": any(self.gateway.is_simulated(m) for m in models.values()),
            **transcript.model_dump(mode="json"),
        }


def _blueprint_payload(episode: Episode) -> dict[str, Any]:
    """The source item's (last) `blueprint` result: what this episode plays."""
    found = [item.payload for item in episode.inputs if item.kind == BLUEPRINT]
    if not found:
        raise ApigenError(f"episode {episode.key} has no blueprint input (is `input:` set?)")
    return found[-1]


class _PerObject(Generic[K, V]):
    """A value derived from an object that many episodes share, computed once per object.

    Trials of one source item share its payload (and so its Blueprint): validating it and
    building its scripts and user prompt once per object instead of once per trial saves
    CPU and keeps the live episodes small. Keyed by the object itself, which is held so its
    id cannot be reused; the most recent `size` objects are kept. Users only read the values.
    """

    def __init__(self, make: Callable[[K], V], size: int = 1024) -> None:
        self._make = make
        self._size = size
        self._entries: OrderedDict[int, tuple[K, V]] = OrderedDict()

    def of(self, key: K) -> V:
        entry = self._entries.get(id(key))
        if entry is not None and entry[0] is key:
            self._entries.move_to_end(id(key))
            return entry[1]
        value = self._make(key)
        self._entries[id(key)] = (key, value)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value


PolicyMode = Literal["enforce", "report", "off"]


class VerifyParams(StepParams):
    policy: PolicyMode = Field(
        default="enforce",
        description="the trajectory policy check (confirmed writes, one call at a time, the "
        "domain's rules, transfers): enforce (reject), report (record only) or off",
    )
    state: bool = Field(default=True, description="compare the final state with the replay")
    outputs: bool = Field(default=True, description="require every output in the replies")
    endings: list[EndReason] = Field(
        default_factory=lambda: list(FINISHED),
        description="conversation endings a trajectory may have (list them all to judge "
        "by state and outputs alone, as tau-bench does)",
    )
    keep: Keep = Field(
        default="all",
        description="which accepted trials exports keep: all, the first (lowest trial "
        "index) or the best (fewest turns) per blueprint; applied over the stored items",
    )


class VerifyStep(Step):
    """Checks the conversation's outcome against the blueprint and records the verdict."""

    params_model = VerifyParams
    base: Environment

    async def setup(self) -> None:
        catalog = self.phase.resources.require(DomainCatalog)
        self.base = catalog.for_phase(self.phase.phase).base
        self.writes = set(self.base.domain.write_tools())

    async def run(self, episode: Episode) -> StepOutcome:
        params = self.params
        assert isinstance(params, VerifyParams)
        blueprint: Blueprint = episode.state["blueprint"]
        transcript: Transcript = episode.state["transcript"]
        expected = blueprint.resolved_ending(self.writes)
        violations = None
        if params.policy != "off":
            violations = trajectory_violations(
                self.base.domain,
                self.base,
                transcript.messages,
                subject=blueprint.user_id,
                expected=expected,
            )
        verdict = verify_trajectory(
            self.base,
            blueprint.actions,
            blueprint.outputs,
            episode.state["env"],
            transcript.assistant_texts(),
            check_state=params.state,
            check_outputs=params.outputs,
            end=transcript.end,
            endings=params.endings,
            expected=expected,
            violations=violations,
            enforce_policy=params.policy == "enforce",
        )
        if verdict.policy_ok is not None:
            record_funnel(episode, "policy", verdict.policy_ok, group=self.name)
        if verdict.state_ok is not None:
            record_funnel(episode, "state", verdict.state_ok, group=self.name)
        if verdict.outputs_ok is not None:
            record_funnel(episode, "outputs", verdict.outputs_ok, group=self.name)
        episode.record(VERDICT, {"attempt": episode.attempt, **verdict.model_dump(mode="json")})
        episode.outcome.update(
            accepted=verdict.accepted, reasons=verdict.reasons, policy_ok=verdict.policy_ok
        )
        if not verdict.accepted:
            return StepOutcome.fail(*verdict.reasons)
        return StepOutcome.ok()


def keep_rule(phase: PhaseConfig) -> Keep:
    """The `keep` rule of a phase's verify step (`all` when it has none)."""
    for spec in phase.steps:
        if spec.kind == "verify":
            return VerifyParams.model_validate(spec.raw_params).keep
    return "all"


def register_trajectory_steps(extensions: Extensions) -> None:
    """Add the phase 2 step kinds and the hook that tells steps where the playbook is."""
    extensions.steps.register("load_task", LoadTaskStep)
    extensions.steps.register("converse", ConverseStep)
    extensions.steps.register("verify", VerifyStep)
