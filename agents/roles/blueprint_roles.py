"""Phase 1's participants as role kinds: the proposer, the validator, the reviewer committee,
the final reviewer and the reflector (APIGen-MT's blueprint generation as a protocol).

A blueprint goes proposer -> validator -> committee -> final reviewer; any failure goes to
the reflector, whose feedback sends the proposer round again (a counted loop). The proposer
keeps its context (user, chain, persona, examples) across attempts and sees its previous
answer next to the reasons it failed. Every stage records its funnel event and results as
the step kinds did; the accepted blueprint is recorded when the episode is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from autogen_core.models import LLMMessage, SystemMessage, UserMessage
from pydantic import BaseModel, ConfigDict, Field

from agents.blueprints.blueprint import Blueprint, Provenance
from agents.blueprints.committee import CRITERIA, Review, VoteParams, default_rules, disagreements
from agents.blueprints.context import ContextParams, ContextSampler, ProposalContext
from agents.blueprints.final_review import FinalReview, FinalReviewer
from agents.blueprints.proposer import Proposal, Proposer
from agents.blueprints.reflection import Reflector
from agents.blueprints.validation import CheckResult, validate
from agents.models.structured import StructuredOutputError, create_structured
from agents.roles.scope import EpisodeScope
from agents.simulated.blueprint_scripts import reviewer_script
from agents.steps.base import record_funnel
from runtime.errors import ModelError
from runtime.protocol import START, Emitted, Role, RoleKind

REVIEW_SYSTEM = (
    "You are a strict reviewer of training tasks. Answer with the JSON object asked for."
)
CheckName = Literal["format", "execution", "policy"]


@dataclass(frozen=True, slots=True)
class Proposed:
    """The proposer's answer: a parsed JSON object, or why none came back."""

    proposal: Proposal

    def summary(self) -> str:
        return self.proposal.error or self.proposal.raw


@dataclass(frozen=True, slots=True)
class Validated:
    """A blueprint that passed the checks so far, with the change its calls make."""

    blueprint: Blueprint
    diff: str

    def summary(self) -> str:
        return self.blueprint.instruction


@dataclass(frozen=True, slots=True)
class Failed:
    """A stage's rejection and its reasons (what the reflector turns into feedback)."""

    stage: str
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return self.reasons[0] if self.reasons else self.stage

    def summary(self) -> str:
        return f"{self.stage}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Vote:
    """One reviewer's review of a blueprint, or why it could not give one."""

    reviewed: Validated
    review: Review | None
    error: str = ""

    def summary(self) -> str:
        return self.error if self.review is None else str(self.review.total)


@dataclass(frozen=True, slots=True)
class Feedback:
    """What the proposer should change in its next attempt."""

    lines: tuple[str, ...]
    reason: str

    def summary(self) -> str:
        return "; ".join(self.lines)


def _seed(scope: EpisodeScope) -> int:
    """The attempt's seed (simulated scripts draw their faults from it)."""
    return (scope.episode.seed + 7919 * scope.episode.attempt) % (2**63)


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, description="model name (default: the agents entry)")
    prompt: str | None = Field(default=None, description="Jinja2 file (.j2) or inline text")


# -- proposer ------------------------------------------------------------------------------


class ProposerParams(_Params):
    context: ContextParams = Field(default_factory=ContextParams)


class ProposerRole(Role):
    """Proposes for the episode's context; a retry sees its previous answer and feedback."""

    def __init__(self, scope: EpisodeScope, role: str, proposer: Proposer, sampler: ContextSampler):
        self.scope = scope
        self.role = role
        self.proposer = proposer
        self.context: ProposalContext = sampler.sample(
            scope.episode.rng("context"), scope.episode.index
        )
        self.previous: Proposal | None = None
        self.feedback: list[str] = []

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        episode = self.scope.episode
        if isinstance(message, Feedback):
            episode.attempt += 1
            self.feedback = list(self.scope.feedback)
        proposal = await self.proposer.propose(
            self.context,
            self.feedback,
            seed=_seed(self.scope),
            call=self.scope.call(self.role),
            previous=self.previous.raw if self.previous is not None else None,
        )
        self.previous = proposal
        record_funnel(episode, "proposed", True)
        return [Emitted("proposal", Proposed(proposal))]


class ProposerKind(RoleKind):
    name = "proposer"
    accepts: ClassVar[dict[str, type[Any]]] = {START: object, "feedback": Feedback}
    emits: ClassVar[dict[str, type[Any]]] = {"proposal": Proposed}
    params_model = ProposerParams
    can_see = frozenset({"policy", "tools", "records", "examples", "feedback"})

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        assert isinstance(params, ProposerParams) and isinstance(context, EpisodeScope)
        services = context.services
        handle = services.handle
        sampler = services.per_phase(
            f"sampler:{role}", lambda: ContextSampler(handle.domain, handle.base, params.context)
        )
        model = context.role_model(role, params.model)
        context.models["proposer"] = model
        proposer = Proposer(
            services.gateway,
            model,
            services.templates,
            domain_name=handle.domain.name,
            prompt=context.role_prompt(role, params.prompt),
        )
        return ProposerRole(context, role, proposer, sampler)


# -- validator ------------------------------------------------------------------------------


def _all_checks() -> list[CheckName]:
    return ["format", "execution", "policy"]


class ValidatorParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checks: list[CheckName] = Field(
        default_factory=_all_checks, description="which validators run, in order"
    )


class ValidatorRole(Role):
    """Format, execution and policy checks on the proposal."""

    def __init__(self, scope: EpisodeScope, params: ValidatorParams):
        self.scope = scope
        self.params = params

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        assert isinstance(message, Proposed)
        scope, episode = self.scope, self.scope.episode
        services = scope.services
        proposal = message.proposal
        blueprint, diff = None, ""
        if proposal.data is None:
            results = [CheckResult("format", False, [proposal.error])]
        else:
            validation = validate(services.handle.domain, services.handle.base, proposal.data)
            results = [r for r in validation.results if r.check in self.params.checks]
            blueprint = validation.blueprint
            diff = validation.execution.diff_text if validation.execution else ""
        for result in results:
            record_funnel(episode, result.check, result.passed)
        checks = [{"check": r.check, "passed": r.passed, "reasons": r.reasons} for r in results]
        episode.record(
            "attempt", {"attempt": episode.attempt, "checks": checks, "raw": proposal.raw[:4000]}
        )
        failed = next((result for result in results if not result.passed), None)
        if failed is not None:
            return [Emitted("invalid", Failed(failed.check, tuple(failed.reasons)))]
        assert blueprint is not None
        model = scope.models.get("proposer", "")
        blueprint.ending = blueprint.resolved_ending(services.writes)
        blueprint.provenance = Provenance(
            model=model,
            attempt=episode.attempt,
            feedback=list(scope.feedback),
            simulated=bool(model) and services.gateway.is_simulated(model),
        )
        scope.accepted_blueprint = blueprint
        return [Emitted("valid", Validated(blueprint, diff))]


class ValidatorKind(RoleKind):
    name = "validator"
    accepts: ClassVar[dict[str, type[Any]]] = {"proposal": Proposed}
    emits: ClassVar[dict[str, type[Any]]] = {"valid": Validated, "invalid": Failed}
    produces = frozenset({"blueprint"})
    params_model = ValidatorParams

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        assert isinstance(params, ValidatorParams) and isinstance(context, EpisodeScope)
        return ValidatorRole(context, params)


# -- the reviewer committee -----------------------------------------------------------------


class ReviewerParams(_Params):
    models: list[str] = Field(
        default_factory=list, description="one model per member (cycled); default the role's"
    )
    vote: str = Field(default="majority", description="majority | unanimous | mean_score | a:b")
    threshold: float = Field(default=4, ge=0)


class ReviewerRole(Role):
    """One member of the committee: scores the blueprint on the rubric."""

    def __init__(self, scope: EpisodeScope, role: str, model: str, prompt: str | None, index: int):
        self.scope = scope
        self.role = role
        self.model = model
        self.prompt = prompt
        self.index = index

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        assert isinstance(message, Validated)
        services = self.scope.services
        blueprint = message.blueprint
        text = services.templates.render(
            self.prompt,
            "reviewer.j2",
            domain=services.handle.domain.name,
            blueprint=message.blueprint,
            diff=message.diff,
        )
        messages: list[LLMMessage] = [
            SystemMessage(content=REVIEW_SYSTEM),
            UserMessage(content=text, source="user"),
        ]
        try:
            parsed = await create_structured(
                services.gateway,
                self.model,
                messages,
                Review,
                scenario=lambda: reviewer_script(blueprint, _seed(self.scope) + self.index),
                call=self.scope.call(self.role).sample(self.index),
            )
        except (StructuredOutputError, ModelError) as exc:
            error = f"reviewer {self.index + 1} ({self.model}): {exc}"
            return [Emitted("review", Vote(message, None, error))]
        return [Emitted("review", Vote(message, parsed.value))]


class ReviewerKind(RoleKind):
    """A reviewer; as a committee (`count: N`) its members' reviews are put to the vote."""

    name = "reviewer"
    accepts: ClassVar[dict[str, type[Any]]] = {"valid": Validated}
    emits: ClassVar[dict[str, type[Any]]] = {
        "review": Vote,
        "approved": Validated,
        "disapproved": Failed,
    }
    params_model = ReviewerParams

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        assert isinstance(params, ReviewerParams) and isinstance(context, EpisodeScope)
        pool = params.models or [context.role_model(role, params.model)]
        prompt = context.role_prompt(role, params.prompt)
        return ReviewerRole(context, role, pool[index % len(pool)], prompt, index)

    def emitted(self, params: BaseModel) -> frozenset[str]:
        """A committee's members' votes are gathered: it says approved or disapproved."""
        return frozenset({"approved", "disapproved"})

    def gather(
        self, params: BaseModel, emitted: Sequence[Sequence[Emitted]], context: Any
    ) -> list[Emitted]:
        """The vote rule decides; a committee with half its reviews missing disapproves."""
        assert isinstance(params, ReviewerParams) and isinstance(context, EpisodeScope)
        votes = [e.message for answers in emitted for e in answers if isinstance(e.message, Vote)]
        reviews = [vote.review for vote in votes]
        valid = [review for review in reviews if review is not None]
        errors = [vote.error for vote in votes if vote.review is None]
        verdict = default_rules().get(params.vote)(valid, VoteParams(threshold=params.threshold))
        accepted = verdict.accepted
        if len(valid) * 2 <= len(votes):
            accepted = False
            errors.append("too few valid reviews for a decision")
        feedback = [] if accepted else _verbatim_feedback(valid)
        episode = context.episode
        record_funnel(episode, "review", accepted)
        episode.record(
            "review",
            {
                "attempt": episode.attempt,
                "accepted": accepted,
                "rule": verdict.rule,
                "votes": verdict.votes,
                "score": verdict.score,
                "reviews": [r.model_dump() if r else None for r in reviews],
                "errors": errors,
                "feedback": feedback,
            },
        )
        if not accepted:
            return [
                Emitted("disapproved", Failed("review", tuple(feedback or errors or ["rejected"])))
            ]
        return [Emitted("approved", votes[0].reviewed)]


def _verbatim_feedback(reviews: Sequence[Review]) -> list[str]:
    """Failing criteria with the reviewers' rationales and corrections, and any split votes."""
    feedback: list[str] = []
    for review in reviews:
        failed = [c for c in CRITERIA if not getattr(review, c)]
        if failed:
            note = f"{', '.join(failed)}: {review.rationale}"
            if review.correction:
                note += f" (suggested: {review.correction})"
            feedback.append(note)
    for criterion, scores in disagreements(reviews).items():
        feedback.append(f"reviewers disagree on {criterion}: {scores}")
    return list(dict.fromkeys(feedback))


# -- final review ---------------------------------------------------------------------------


class FinalReviewerRole(Role):
    """Checks that the instruction asks for exactly the ground-truth writes and outputs."""

    def __init__(self, scope: EpisodeScope, role: str, reviewer: FinalReviewer):
        self.scope = scope
        self.role = role
        self.reviewer = reviewer

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        assert isinstance(message, Validated)
        episode = self.scope.episode
        try:
            review = await self.reviewer.review(
                message.blueprint, seed=_seed(self.scope), call=self.scope.call(self.role)
            )
        except StructuredOutputError as exc:
            review = FinalReview(aligned=False, rationale=f"unreadable review: {exc.reason}")
        except ModelError as exc:
            record_funnel(episode, "final_review", False)
            return [Emitted("failed", Failed("final_review", (f"model_error: {exc}",)))]
        reasons = review.reasons()
        record_funnel(episode, "final_review", not reasons)
        episode.record("final_review", {"attempt": episode.attempt, **review.model_dump()})
        if reasons:
            return [Emitted("misaligned", Failed("final_review", tuple(reasons)))]
        return [Emitted("aligned", message)]


class FinalReviewerKind(RoleKind):
    name = "final_reviewer"
    accepts: ClassVar[dict[str, type[Any]]] = {"approved": Validated, "valid": Validated}
    emits: ClassVar[dict[str, type[Any]]] = {
        "aligned": Validated,
        "misaligned": Failed,
        "failed": Failed,
    }
    params_model = _Params

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        assert isinstance(params, _Params) and isinstance(context, EpisodeScope)
        services = context.services
        reviewer = FinalReviewer(
            services.gateway,
            context.role_model(role, params.model),
            services.templates,
            services.handle.domain,
            context.role_prompt(role, params.prompt),
        )
        return FinalReviewerRole(context, role, reviewer)


# -- reflector ------------------------------------------------------------------------------


class ReflectorParams(_Params):
    keep: int = Field(default=8, ge=1, description="most feedback items carried forward")
    condense: bool = Field(
        default=True, description="condense the reasons with the role's model (else verbatim)"
    )


class ReflectorRole(Role):
    """Turns a failure's reasons into feedback for the proposer's next attempt."""

    def __init__(self, scope: EpisodeScope, role: str, reflector: Reflector, keep: int):
        self.scope = scope
        self.role = role
        self.reflector = reflector
        self.keep = keep

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        assert isinstance(message, Failed)
        scope, episode = self.scope, self.scope.episode
        # the attempt failed: recorded as a failed step, as the episode's last one will be
        episode.event(
            "step",
            step=message.stage,
            attempt=episode.attempt,
            passed=False,
            reasons=list(message.reasons),
        )
        feedback = await self.reflector.reflect(
            message.stage, list(message.reasons), seed=_seed(scope), call=scope.call(self.role)
        )
        scope.feedback = [*scope.feedback, *feedback][-self.keep :]
        episode.record("reflection", {"attempt": episode.attempt, "feedback": feedback})
        return [Emitted("feedback", Feedback(tuple(feedback), message.reason))]


class ReflectorKind(RoleKind):
    name = "reflector"
    accepts: ClassVar[dict[str, type[Any]]] = {
        "invalid": Failed,
        "disapproved": Failed,
        "misaligned": Failed,
    }
    emits: ClassVar[dict[str, type[Any]]] = {"feedback": Feedback}
    params_model = ReflectorParams

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        assert isinstance(params, ReflectorParams) and isinstance(context, EpisodeScope)
        services = context.services
        agent = services.roster.agents.get(role)
        model = params.model or (agent.model if agent is not None else None)
        reflector = Reflector(
            services.gateway if params.condense else None,
            model if params.condense else None,
            services.templates,
            context.role_prompt(role, params.prompt),
        )
        return ReflectorRole(context, role, reflector, params.keep)


# -- a blueprint an earlier step produced ---------------------------------------------------


class GivenRole(Role):
    """Hands the blueprint an earlier step of the phase validated (a recombination) to the
    protocol, as the validator would."""

    def __init__(self, scope: EpisodeScope):
        self.scope = scope

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        state = self.scope.episode.state
        blueprint = state.get("blueprint")
        if not isinstance(blueprint, Blueprint):
            raise ValueError("no earlier step of this phase produced a blueprint")
        return [Emitted("valid", Validated(blueprint, str(state.get("diff", ""))))]


class GivenKind(RoleKind):
    """The blueprint an earlier step of the phase produced, to be reviewed."""

    name = "given_blueprint"
    accepts: ClassVar[dict[str, type[Any]]] = {START: object}
    emits: ClassVar[dict[str, type[Any]]] = {"valid": Validated}
    needs = frozenset({"blueprint"})
    params_model = ValidatorParams

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        assert isinstance(context, EpisodeScope)
        return GivenRole(context)
