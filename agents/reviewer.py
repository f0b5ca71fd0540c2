"""The reviewer committee: N judges review a blueprint concurrently, then a rule decides."""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio
from autogen_core.models import LLMMessage, SystemMessage, UserMessage

from agents.blueprint import Blueprint
from agents.committee import AggregationRule, Review, Verdict, VoteParams, disagreements
from agents.gateway import CallContext, ModelGateway
from agents.resources import Templates
from agents.sim_roles import reviewer_script, text_script
from agents.structured import StructuredOutputError, create_structured
from runtime.errors import ModelError
from runtime.log import get_logger

_log = get_logger("agents.reviewer")

SYSTEM = "You are a strict reviewer of training tasks. Answer with the JSON object asked for."


@dataclass
class CommitteeResult:
    """Each reviewer's review (None when it failed), the verdict and condensed feedback."""

    reviews: list[Review | None]
    verdict: Verdict
    feedback: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Committee:
    """Reviewers (one model each, repeated as needed), an aggregation rule, a summariser."""

    def __init__(
        self,
        gateway: ModelGateway,
        models: list[str],
        templates: Templates,
        rule: AggregationRule,
        vote: VoteParams,
        *,
        domain_name: str,
        prompt: str | None = None,
        summary_model: str | None = None,
    ) -> None:
        self.gateway = gateway
        self.models = models
        self.templates = templates
        self.rule = rule
        self.vote = vote
        self.domain_name = domain_name
        self.prompt = prompt
        self.summary_model = summary_model

    async def review(
        self, blueprint: Blueprint, diff: str, *, seed: int, call: CallContext
    ) -> CommitteeResult:
        text = self.templates.render(
            self.prompt, "reviewer.j2", domain=self.domain_name, blueprint=blueprint, diff=diff
        )
        messages: list[LLMMessage] = [
            SystemMessage(content=SYSTEM),
            UserMessage(content=text, source="user"),
        ]
        reviews: list[Review | None] = [None] * len(self.models)
        errors: list[str] = []

        async def one(index: int, model: str) -> None:
            try:
                parsed = await create_structured(
                    self.gateway,
                    model,
                    messages,
                    Review,
                    scenario=reviewer_script(blueprint, seed + index),
                    call=call.sample(index),
                )
                reviews[index] = parsed.value
            except (StructuredOutputError, ModelError) as exc:
                errors.append(f"reviewer {index + 1} ({model}): {exc}")
                _log.warning("review.failed", reviewer=index + 1, error=str(exc))

        async with anyio.create_task_group() as group:
            for index, model in enumerate(self.models):
                group.start_soon(one, index, model)
        valid = [review for review in reviews if review is not None]
        verdict = self.rule(valid, self.vote)
        if len(valid) * 2 <= len(self.models):
            verdict = Verdict(False, verdict.votes, verdict.score, verdict.rule)
            errors.append("too few valid reviews for a decision")
        feedback = [] if verdict.accepted else await self._summarise(valid, seed=seed, call=call)
        return CommitteeResult(reviews, verdict, feedback, errors)

    async def _summarise(self, reviews: list[Review], *, seed: int, call: CallContext) -> list[str]:
        """Condense agreement and disagreement into feedback (semantic review)."""
        verbatim = _verbatim_feedback(reviews)
        if self.summary_model is None or not reviews:
            return verbatim
        text = self.templates.render(None, "review_summary.j2", reviews=reviews)
        messages = [UserMessage(content=text, source="user")]
        scenario = text_script("review_summary", "\n".join(f"- {f}" for f in verbatim), seed)
        try:
            result = await self.gateway.create(
                self.summary_model, messages, scenario=scenario, call=call.sample(len(self.models))
            )
        except ModelError as exc:
            _log.warning("review.summary_failed", error=str(exc))
            return verbatim
        content = result.content if isinstance(result.content, str) else ""
        lines = [line.strip(" -*\t") for line in content.splitlines() if line.strip(" -*\t")]
        return lines or verbatim


def _verbatim_feedback(reviews: list[Review]) -> list[str]:
    """Failing criteria with the reviewers' rationales and corrections, and any split votes."""
    feedback: list[str] = []
    for review in reviews:
        failed = [
            c
            for c in ("correctness", "completeness", "satisfaction", "creativity")
            if not getattr(review, c)
        ]
        if failed:
            note = f"{', '.join(failed)}: {review.rationale}"
            if review.correction:
                note += f" (suggested: {review.correction})"
            feedback.append(note)
    for criterion, scores in disagreements(reviews).items():
        feedback.append(f"reviewers disagree on {criterion}: {scores}")
    return list(dict.fromkeys(feedback))
