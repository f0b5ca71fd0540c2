"""Phase 2's verifier as a role kind: it hears how the conversation ended, records the
trajectory, judges it (policy, final state, outputs, ending) and says accepted or rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from agents.dialogue.trajectory_policy import trajectory_violations
from agents.dialogue.transcript import EndReason, Transcript
from agents.dialogue.verify import replay, verify_trajectory
from agents.passk import Keep
from agents.roles.messages import Ended, Judged
from agents.roles.scope import EpisodeScope
from agents.steps.base import record_funnel
from agents.steps.load_task import TRAJECTORY, VERDICT
from runtime.playbook import PhaseConfig
from runtime.protocol import LIMIT, Emitted, Role, RoleKind
from runtime.protocol_run import LimitReached
from runtime.protocol_step import ProtocolParams

P = TypeVar("P", bound=BaseModel)

_PHASE_WIDE = {"system", "tools"}
"""Transcript fields every trajectory of a phase repeats: recorded as shared values."""

DEFAULT_LIMIT_ENDINGS: dict[str, EndReason] = {"turns": "max_turns", "tool_steps": "tool_steps"}
FINISHED: tuple[EndReason, ...] = ("stop", "transfer")
PolicyMode = Literal["enforce", "report", "off"]


class VerifierParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
    limit_endings: dict[str, EndReason] = Field(
        default_factory=lambda: dict(DEFAULT_LIMIT_ENDINGS),
        description="the transcript's ending when a counter runs out (others: max_turns)",
    )


class VerifierRole(Role):
    """Records and judges one conversation."""

    __slots__ = ("params", "role", "scope")

    def __init__(self, scope: EpisodeScope, params: VerifierParams, role: str):
        self.scope = scope
        self.params = params
        self.role = role

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        transcript = self.scope.transcript
        if isinstance(message, LimitReached):
            transcript.end = self.params.limit_endings.get(message.counter, "max_turns")
        else:
            assert isinstance(message, Ended)
            transcript.end, transcript.error = message.how, message.error  # type: ignore[assignment]
        self._record(transcript)
        if transcript.end == "error":
            return [Emitted("failed", Judged(False, (f"model_error: {transcript.error}",)))]
        return self._judge(transcript)

    def _record(self, transcript: Transcript) -> None:
        scope, episode = self.scope, self.scope.episode
        services = scope.services
        payload = {
            "attempt": episode.attempt,
            "trial": episode.trial,
            "domain": services.handle.domain.name,
            "ending": scope.blueprint.resolved_ending(services.writes),
            "models": scope.models,
            "simulated": any(services.gateway.is_simulated(m) for m in scope.models.values()),
            **transcript.model_dump(mode="json", exclude=_PHASE_WIDE),
        }
        # the system prompt and tool schemas are the phase's, the same in every trajectory
        shared = {"system": transcript.system, "tools": transcript.tools}
        episode.record(TRAJECTORY, payload, shared=shared)
        episode.outcome.update(
            end=transcript.end, turns=transcript.turns, tool_calls=len(transcript.tool_calls())
        )
        record_funnel(episode, "converse", transcript.end != "error")

    def _judge(self, transcript: Transcript) -> list[Emitted]:
        scope, params = self.scope, self.params
        services, blueprint, episode = scope.services, scope.blueprint, scope.episode
        base = services.handle.base
        expected = blueprint.resolved_ending(services.writes)
        violations = None
        if params.policy != "off":
            violations = trajectory_violations(
                base.domain,
                base,
                transcript.messages,
                subject=blueprint.user_id,
                expected=expected,
                executed=scope.executed,
            )
        verdict = verify_trajectory(
            base,
            blueprint.actions,
            blueprint.outputs,
            scope.env,
            transcript.assistant_texts(),
            check_state=params.state,
            check_outputs=params.outputs,
            end=transcript.end,
            endings=params.endings,
            expected=expected,
            violations=violations,
            enforce_policy=params.policy == "enforce",
            replayed=services.per_blueprint("ground-truth", lambda b: replay(base, b.actions)).of(
                blueprint
            ),
        )
        for stage, passed in (
            ("policy", verdict.policy_ok),
            ("state", verdict.state_ok),
            ("outputs", verdict.outputs_ok),
        ):
            if passed is not None:
                record_funnel(episode, stage, passed, group=self.role)
        episode.record(VERDICT, {"attempt": episode.attempt, **verdict.model_dump(mode="json")})
        episode.outcome.update(
            accepted=verdict.accepted, reasons=verdict.reasons, policy_ok=verdict.policy_ok
        )
        judged = Judged(verdict.accepted, tuple(verdict.reasons))
        return [Emitted("accepted" if verdict.accepted else "rejected", judged)]


class VerifierKind(RoleKind):
    """Judges a finished conversation against its blueprint."""

    name = "verifier"
    accepts: ClassVar[dict[str, type[Any]]] = {"ended": Ended, LIMIT: LimitReached}
    emits: ClassVar[dict[str, type[Any]]] = {
        "accepted": Judged,
        "rejected": Judged,
        "failed": Judged,
    }
    needs = frozenset({"blueprint"})  # the ground truth it replays
    params_model = VerifierParams
    can_see = frozenset({"blueprint", "transcript", "state"})
    sees = ("blueprint", "transcript", "state")

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        assert isinstance(params, VerifierParams) and isinstance(context, EpisodeScope)
        return VerifierRole(context, params, role)


def role_params(phase: PhaseConfig, agent: str, model: type[P]) -> P | None:
    """The parameters of the phase's protocol role of kind `agent` (None: it has none)."""
    for spec in phase.steps:
        if spec.kind != "protocol":
            continue
        protocol = ProtocolParams.model_validate(spec.raw_params)
        for role in protocol.roles.values():
            if role.agent == agent:
                return model.model_validate(role.params)
    return None


def verifier_params(phase: PhaseConfig) -> VerifierParams | None:
    """The parameters of the phase's verifier role (None: the phase verifies nothing)."""
    return role_params(phase, VerifierKind.name, VerifierParams)


def keep_rule(phase: PhaseConfig) -> Keep:
    """The `keep` rule of a phase's verifier (`all` when it has none)."""
    params = verifier_params(phase)
    return params.keep if params is not None else "all"
