"""Phase 1 step kinds: propose, validate, review, reflect (on_fail) and recombine.

Steps share an episode's attempt through `episode.state`: `proposal` -> `blueprint`, `diff`
-> `reviews`; `feedback` accumulates across attempts. Every stage emits a `funnel` event so
the acceptance funnel can be counted from the store.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from agents.blueprint import Blueprint, Provenance
from agents.committee import VoteParams, default_rules
from agents.context import ContextParams, ContextSampler, ProposalContext
from agents.proposer import Proposal, Proposer
from agents.reflection import Reflector
from agents.reviewer import Committee
from agents.step_base import BLUEPRINT, AgentStep, record_funnel
from agents.validation import CheckResult, validate
from runtime.steps import Episode, StepOutcome, StepParams, StepRegistry


class _AgentStep(AgentStep):
    """Phase 1 steps: their attempts draw fresh seeds."""

    def attempt_seed(self, episode: Episode) -> int:
        return (episode.seed + 7919 * episode.attempt) % (2**63)


class ProposeParams(StepParams):
    role: str = Field(default="proposer", description="the agent role that proposes")
    context: ContextParams = Field(default_factory=ContextParams)


class ProposeStep(_AgentStep):
    """Samples a context and asks the proposer model for a blueprint."""

    params_model = ProposeParams

    async def setup(self) -> None:
        await super().setup()
        params = self.params
        assert isinstance(params, ProposeParams)
        agent = self.roster.role(params.role)
        self.model = agent.model
        self.sampler = ContextSampler(self.handle.domain, self.handle.base, params.context)
        self.proposer = Proposer(
            self.gateway,
            agent.model,
            self.templates,
            domain_name=self.handle.domain.name,
            prompt=agent.prompt,
        )

    async def run(self, episode: Episode) -> StepOutcome:
        """Propose for the episode's context: sampled on the first attempt and kept for the
        retries, which see the previous proposal next to the reasons it failed."""
        params = self.params
        assert isinstance(params, ProposeParams)
        context: ProposalContext | None = episode.state.get("context")
        if context is None:
            context = self.sampler.sample(episode.rng("context"), episode.index)
            episode.state["context"] = context
        previous: Proposal | None = episode.state.get("proposal")
        proposal = await self.proposer.propose(
            context,
            list(episode.state.get("feedback", [])),
            seed=self.attempt_seed(episode),
            call=self.call(episode, params.role),
            previous=previous.raw if previous is not None else None,
        )
        episode.state["proposal"] = proposal
        episode.state["subject"] = context.subject_id
        record_funnel(episode, "proposed", True)
        return StepOutcome.ok(subject=context.subject_id, chain=context.chain)


CheckName = Literal["format", "execution", "policy"]


def _all_checks() -> list[CheckName]:
    return ["format", "execution", "policy"]


class ValidateParams(StepParams):
    checks: list[CheckName] = Field(
        default_factory=_all_checks,
        description="which validators run, in order",
    )


class ValidateStep(_AgentStep):
    """Format, execution and policy checks on the attempt's proposal."""

    params_model = ValidateParams

    async def run(self, episode: Episode) -> StepOutcome:
        params = self.params
        assert isinstance(params, ValidateParams)
        proposal: Proposal = episode.state["proposal"]
        if proposal.data is None:
            results = [CheckResult("format", False, [proposal.error])]
            blueprint = None
            diff = ""
        else:
            validation = validate(self.handle.domain, self.handle.base, proposal.data)
            results = [r for r in validation.results if r.check in params.checks]
            blueprint = validation.blueprint
            diff = validation.execution.diff_text if validation.execution else ""
        for result in results:
            record_funnel(episode, result.check, result.passed)
        attempt = {
            "attempt": episode.attempt,
            "checks": [
                {"check": r.check, "passed": r.passed, "reasons": r.reasons} for r in results
            ],
            "raw": proposal.raw[:4000],
        }
        episode.record("attempt", attempt)
        failed = next((result for result in results if not result.passed), None)
        if failed is not None:
            return StepOutcome.fail(*failed.reasons, check=failed.check)
        assert blueprint is not None
        blueprint.ending = blueprint.resolved_ending(self.handle.domain.write_tools())
        blueprint.provenance = Provenance(
            model=self.roster.role("proposer").model,
            attempt=episode.attempt,
            feedback=list(episode.state.get("feedback", [])),
            simulated=self.gateway.is_simulated(self.roster.role("proposer").model),
        )
        episode.state["blueprint"] = blueprint
        episode.state["diff"] = diff
        return StepOutcome.ok()

    async def on_accepted(self, episode: Episode) -> None:
        """The validated blueprint, once every later step (reviews) accepted it too."""
        blueprint: Blueprint = episode.state["blueprint"]
        episode.record(BLUEPRINT, blueprint.model_dump(mode="json"))


class ReviewParams(StepParams):
    role: str = Field(default="reviewer", description="role whose model reviews by default")
    committee: int = Field(default=3, ge=1, le=15, description="number of reviewers")
    models: list[str] = Field(
        default_factory=list, description="one model per reviewer (cycled); default the role's"
    )
    vote: str = Field(default="majority", description="majority | unanimous | mean_score | a:b")
    threshold: float = Field(default=4, ge=0)
    summarize: bool = Field(default=True, description="condense failed reviews with a model")


class ReviewStep(_AgentStep):
    """The reviewer committee votes on the attempt's blueprint."""

    params_model = ReviewParams

    async def setup(self) -> None:
        await super().setup()
        params = self.params
        assert isinstance(params, ReviewParams)
        agent = self.roster.role(params.role)
        pool = params.models or [agent.model]
        models = [pool[i % len(pool)] for i in range(params.committee)]
        self.committee = Committee(
            self.gateway,
            models,
            self.templates,
            default_rules().get(params.vote),
            VoteParams(threshold=params.threshold),
            domain_name=self.handle.domain.name,
            prompt=agent.prompt,
            summary_model=agent.model if params.summarize else None,
        )

    async def run(self, episode: Episode) -> StepOutcome:
        params = self.params
        assert isinstance(params, ReviewParams)
        blueprint: Blueprint = episode.state["blueprint"]
        result = await self.committee.review(
            blueprint,
            episode.state.get("diff", ""),
            seed=self.attempt_seed(episode),
            call=self.call(episode, params.role),
        )
        verdict = result.verdict
        record_funnel(episode, "review", verdict.accepted)
        episode.record(
            "review",
            {
                "attempt": episode.attempt,
                "accepted": verdict.accepted,
                "rule": verdict.rule,
                "votes": verdict.votes,
                "score": verdict.score,
                "reviews": [r.model_dump() if r else None for r in result.reviews],
                "errors": result.errors,
                "feedback": result.feedback,
            },
        )
        episode.state["review_feedback"] = result.feedback
        if not verdict.accepted:
            reasons = result.feedback or result.errors or ["rejected"]
            return StepOutcome.fail(*reasons)
        return StepOutcome.ok(score=verdict.score)


class ReflectParams(StepParams):
    role: str = Field(default="reflector", description="a role with a model condenses reasons")
    keep: int = Field(default=8, ge=1, description="most feedback items carried forward")


class ReflectStep(_AgentStep):
    """`on_fail`: feed the failure back to the proposer (condensed by a model if configured)."""

    params_model = ReflectParams

    async def setup(self) -> None:
        await super().setup()
        params = self.params
        assert isinstance(params, ReflectParams)
        agent = self.roster.agents.get(params.role)
        model = agent.model if agent is not None else None
        self.reflector = Reflector(
            self.gateway, model, self.templates, agent.prompt if agent else None
        )

    async def run(self, episode: Episode) -> StepOutcome:
        params = self.params
        assert isinstance(params, ReflectParams)
        failure: dict[str, Any] = episode.state.get("last_failure", {})
        stage = str(failure.get("detail", {}).get("check") or failure.get("step", "attempt"))
        reasons = [str(reason) for reason in failure.get("reasons", [])]
        feedback = await self.reflector.reflect(
            stage, reasons, seed=self.attempt_seed(episode), call=self.call(episode, params.role)
        )
        history = [*episode.state.get("feedback", []), *feedback]
        episode.state["feedback"] = history[-params.keep :]
        episode.record("reflection", {"attempt": episode.attempt, "feedback": feedback})
        return StepOutcome.ok()


def register_blueprint_steps(steps: StepRegistry) -> None:
    steps.register("propose", ProposeStep)
    steps.register("validate", ValidateStep)
    steps.register("review", ReviewStep)
    steps.register("reflect", ReflectStep)
