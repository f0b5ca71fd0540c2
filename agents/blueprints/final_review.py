"""The final semantic review: after the committee's rubric votes, a last check that the
instruction asks for exactly the ground-truth writes and outputs (APIGen-MT's alignment
check): no write the user never asked for, no request left without a call or an output.
"""

from __future__ import annotations

from autogen_core.models import LLMMessage, SystemMessage, UserMessage
from pydantic import BaseModel, ConfigDict, Field

from agents.blueprints.blueprint import Blueprint
from agents.models.gateway import CallContext, ModelGateway
from agents.models.structured import create_structured
from agents.resources import Templates
from agents.simulated.blueprint_scripts import final_review_script
from agents.simulated.scenario import SimScenario
from domains.base import Domain

SYSTEM = "You check that a training task's instruction matches its calls. Answer in JSON."


class FinalReview(BaseModel):
    """The final reviewer's answer."""

    model_config = ConfigDict(extra="ignore")

    aligned: bool
    unrequested_actions: list[str] = Field(default_factory=list)
    unaddressed_requests: list[str] = Field(default_factory=list)
    rationale: str = ""

    def reasons(self) -> list[str]:
        """Why the blueprint is not aligned (empty when it is)."""
        reasons = [f"unrequested_action: {item}" for item in self.unrequested_actions]
        reasons += [f"unaddressed_request: {item}" for item in self.unaddressed_requests]
        if not self.aligned and not reasons:
            reasons.append(f"misaligned: {self.rationale or 'no reason given'}")
        return reasons


class FinalReviewer:
    """Asks one model whether a blueprint's instruction and ground truth match."""

    def __init__(
        self,
        gateway: ModelGateway,
        model: str,
        templates: Templates,
        domain: Domain,
        prompt: str | None = None,
    ) -> None:
        self.gateway = gateway
        self.model = model
        self.templates = templates
        self.domain = domain
        self.prompt = prompt
        self.writes = frozenset(domain.write_tools())

    async def review(self, blueprint: Blueprint, *, seed: int, call: CallContext) -> FinalReview:
        """The review; raises StructuredOutputError or ModelError when none comes back."""
        ending = blueprint.resolved_ending(self.writes)
        text = self.templates.render(
            self.prompt,
            "final_review.j2",
            domain=self.domain.name,
            blueprint=blueprint,
            writes=self.writes,
            ending=ending,
        )
        messages: list[LLMMessage] = [
            SystemMessage(content=SYSTEM),
            UserMessage(content=text, source="user"),
        ]

        def scenario() -> SimScenario:
            return final_review_script(blueprint, self._words, seed)

        parsed = await create_structured(
            self.gateway, self.model, messages, FinalReview, scenario=scenario, call=call
        )
        return parsed.value

    def _words(self, tool: str) -> tuple[str, ...] | None:
        return self.domain.write_words(tool) if tool in self.writes else None
