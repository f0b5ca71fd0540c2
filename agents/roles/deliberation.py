"""Role kinds for protocols beyond the shipped two: a reviewer debate and a supervised chat.

`critic`: reviews a blueprint and answers the other critic's critique (a debate is two
critics routed to each other, a counted loop); `debate_judge`: reads the whole debate and
approves or not; `supervisor`: sees the assistant's writes before they run and lets them
through to the environment, or vetoes them (the assistant gets an error result instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from autogen_core.models import LLMMessage, SystemMessage, UserMessage
from pydantic import BaseModel, ConfigDict, Field

from agents.dialogue.trajectory_policy import unconfirmed_writes
from agents.dialogue.transcript import ChatMessage
from agents.models.structured import StructuredOutputError, create_structured
from agents.roles.blueprint_roles import Failed, Validated
from agents.roles.messages import ToolCalls, ToolResults
from agents.roles.scope import EpisodeScope
from agents.simulated.blueprint_scripts import simulated_review
from agents.simulated.scenario import SimReply, SimScenario
from agents.steps.base import record_funnel
from domains.environment import ERROR_PREFIX
from runtime.errors import ModelError
from runtime.protocol import LIMIT, Emitted, Role, RoleKind
from runtime.protocol_run import LimitReached


class Decision(BaseModel):
    """A yes-or-no judgement with its reason (a judge's or a supervisor's)."""

    model_config = ConfigDict(extra="ignore")

    approve: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Critique:
    """One critic's turn in a debate about a blueprint."""

    reviewed: Validated
    critic: str
    text: str

    def summary(self) -> str:
        return f"{self.critic}: {self.text}"


class _ModelParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, description="model name (default: the agents entry)")
    prompt: str | None = Field(default=None, description="Jinja2 file (.j2) or inline text")


def _debate(scope: EpisodeScope) -> list[Critique]:
    """The critiques said so far in this episode (shared by its critics and judge)."""
    found = scope.episode.state.setdefault("debate", [])
    assert isinstance(found, list)
    return found


class _ModelRole(Role):
    """A deliberation role: one model, one prompt, in one episode."""

    def __init__(self, scope: EpisodeScope, role: str, model: str, prompt: str | None):
        self.scope = scope
        self.role = role
        self.model = model
        self.prompt = prompt


class _ModelRoleKind(RoleKind):
    """Builds its `role_class` with the role's model and prompt."""

    params_model = _ModelParams
    role_class: ClassVar[type[_ModelRole]]

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        assert isinstance(params, _ModelParams) and isinstance(context, EpisodeScope)
        model = context.role_model(role, params.model)
        return self.role_class(context, role, model, context.role_prompt(role, params.prompt))


# -- critic ---------------------------------------------------------------------------------


class CriticRole(_ModelRole):
    """Writes a critique of the blueprint, answering the critiques said before."""

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        debate = _debate(self.scope)
        if isinstance(message, Validated):  # a new blueprint opens a new debate
            debate.clear()
        reviewed = message if isinstance(message, Validated) else message.reviewed
        services = self.scope.services
        text = services.templates.render(
            self.prompt,
            "critic.j2",
            domain=services.handle.domain.name,
            blueprint=reviewed.blueprint,
            diff=reviewed.diff,
            debate=debate,
        )
        seed = self.scope.seed

        def scenario() -> SimScenario:
            review = simulated_review(reviewed.blueprint)
            return SimScenario(role="critic", seed=seed, replies=[SimReply(text=_critique(review))])

        try:
            result = await services.gateway.create(
                self.model,
                [
                    SystemMessage(content="You critique training tasks in a debate, briefly."),
                    UserMessage(content=text, source="user"),
                ],
                scenario=scenario,
                call=self.scope.call(self.role).sample(len(debate)),
            )
        except (ModelError, TimeoutError) as exc:
            return [Emitted("failed", Failed(self.role, (f"model_error: {exc}",)))]
        said = result.content.strip() if isinstance(result.content, str) else ""
        critique = Critique(reviewed, self.role, said)
        debate.append(critique)
        return [Emitted("critique", critique)]


def _critique(review: Any) -> str:
    """The simulated critic's words: its rubric review as prose and a verdict."""
    verdict = "approve" if review.total == 4 else "reject"
    return f"{review.rationale}. Verdict: {verdict}."


class CriticKind(_ModelRoleKind):
    name = "critic"
    accepts: ClassVar[dict[str, type[Any]]] = {"valid": Validated, "critique": Critique}
    emits: ClassVar[dict[str, type[Any]]] = {"critique": Critique, "failed": Failed}
    role_class = CriticRole


# -- the debate's judge ---------------------------------------------------------------------


class DebateJudgeRole(_ModelRole):
    """Reads the whole debate and decides whether the blueprint is good training data."""

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        last = message.message if isinstance(message, LimitReached) else message
        assert isinstance(last, Critique)
        debate = _debate(self.scope)
        services, episode = self.scope.services, self.scope.episode
        text = services.templates.render(
            self.prompt,
            "debate_judge.j2",
            domain=services.handle.domain.name,
            blueprint=last.reviewed.blueprint,
            debate=debate,
        )
        messages: list[LLMMessage] = [
            SystemMessage(content="You decide debates about training tasks. Answer in JSON."),
            UserMessage(content=text, source="user"),
        ]
        seed = self.scope.seed

        def scenario() -> SimScenario:
            review = simulated_review(last.reviewed.blueprint)
            sim = {"approve": review.total == 4, "reason": review.rationale}
            return SimScenario(role="judge", seed=seed, replies=[SimReply(json_value=sim)])

        try:
            parsed = await create_structured(
                services.gateway,
                self.model,
                messages,
                Decision,
                scenario=scenario,
                call=self.scope.call(self.role),
            )
        except (StructuredOutputError, ModelError) as exc:
            return [Emitted("disapproved", Failed("debate", (f"no decision: {exc}",)))]
        decision = parsed.value
        record_funnel(episode, "debate", decision.approve)
        episode.record(
            "debate",
            {
                "attempt": episode.attempt,
                "critiques": [{"critic": c.critic, "text": c.text} for c in debate],
                "approve": decision.approve,
                "reason": decision.reason,
            },
        )
        if decision.approve:
            return [Emitted("approved", last.reviewed)]
        return [Emitted("disapproved", Failed("debate", (decision.reason or "not approved",)))]


class DebateJudgeKind(_ModelRoleKind):
    name = "debate_judge"
    accepts: ClassVar[dict[str, type[Any]]] = {"critique": Critique, LIMIT: LimitReached}
    emits: ClassVar[dict[str, type[Any]]] = {"approved": Validated, "disapproved": Failed}
    role_class = DebateJudgeRole


# -- supervisor -----------------------------------------------------------------------------


class SupervisorRole(_ModelRole):
    """Lets the assistant's writes through, or vetoes them with a reason it is told."""

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        assert isinstance(message, ToolCalls)
        scope = self.scope
        services, transcript = scope.services, scope.transcript
        text = services.templates.render(
            self.prompt,
            "supervisor.j2",
            domain=services.handle.domain.name,
            policy=services.handle.domain.policy,
            dialogue=transcript.messages,
            calls=message.calls,
        )
        messages: list[LLMMessage] = [
            SystemMessage(content="You supervise a customer-service agent. Answer in JSON."),
            UserMessage(content=text, source="user"),
        ]
        writes = services.writes
        domain = services.handle.domain

        def scenario() -> SimScenario:
            unconfirmed = unconfirmed_writes(
                transcript.messages, lambda t: domain.write_words(t) if t in writes else None
            )
            sim = {"approve": not unconfirmed, "reason": "; ".join(unconfirmed) or "confirmed"}
            return SimScenario(
                role="supervisor", seed=scope.seed, replies=[SimReply(json_value=sim)]
            )

        try:
            parsed = await create_structured(
                services.gateway,
                self.model,
                messages,
                Decision,
                scenario=scenario,
                call=scope.call(self.role).sample(len(transcript.messages)),
            )
            decision = parsed.value
        except (StructuredOutputError, ModelError) as exc:
            decision = Decision(approve=False, reason=f"no decision: {exc}")
        if decision.approve:
            return [Emitted("tool_calls", message)]
        scope.episode.event("veto", calls=[c.name for c in message.calls], reason=decision.reason)
        vetoed = tuple(
            ChatMessage(
                role="tool",
                content=f"{ERROR_PREFIX}the supervisor vetoed this call: {decision.reason}",
                tool_call_id=call.id,
                name=call.name,
                is_error=True,
            )
            for call in message.calls
        )
        transcript.messages.extend(vetoed)
        return [Emitted("tool_results", ToolResults(vetoed))]


class SupervisorKind(_ModelRoleKind):
    name = "supervisor"
    accepts: ClassVar[dict[str, type[Any]]] = {"tool_calls": ToolCalls}
    emits: ClassVar[dict[str, type[Any]]] = {"tool_calls": ToolCalls, "tool_results": ToolResults}
    role_class = SupervisorRole
    can_see = frozenset({"policy", "dialogue"})
