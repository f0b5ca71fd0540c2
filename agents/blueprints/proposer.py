"""The proposer agent: renders its prompt from a context and asks a model for a blueprint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autogen_core.models import LLMMessage, SystemMessage, UserMessage
from pydantic import BaseModel, ConfigDict

from agents.blueprints.context import ProposalContext
from agents.models.gateway import CallContext, ModelGateway
from agents.models.structured import StructuredOutputError, create_structured
from agents.resources import Templates
from agents.simulated.blueprint_scripts import proposer_script

SYSTEM = "You write task blueprints as JSON exactly in the format you are asked for."


class RawProposal(BaseModel):
    """Any JSON object: the format validator, not the parser, judges its fields."""

    model_config = ConfigDict(extra="allow")


@dataclass
class Proposal:
    """What came back: the parsed JSON object, or the parse error with the raw text."""

    data: dict[str, Any] | None
    raw: str
    error: str = ""


class Proposer:
    """Asks `model` for one blueprint per call; usable on its own, outside any playbook."""

    def __init__(
        self,
        gateway: ModelGateway,
        model: str,
        templates: Templates,
        *,
        domain_name: str,
        prompt: str | None = None,
    ) -> None:
        self.gateway = gateway
        self.model = model
        self.templates = templates
        self.domain_name = domain_name
        self.prompt = prompt

    def render(
        self, context: ProposalContext, feedback: list[str], previous: str | None = None
    ) -> str:
        """The prompt; on a retry `previous` is the failed answer, shown with `feedback`."""
        return self.templates.render(
            self.prompt,
            "proposer.j2",
            domain=self.domain_name,
            policy=context.policy,
            tools=context.tools,
            subject_id=context.subject_id,
            records=context.records_json(),
            persona=context.persona,
            chain=context.chain,
            rules=context.rules,
            examples=context.examples,
            feedback=feedback,
            previous=previous,
            ending=context.ending,
            generic=context.style == "generic",
        )

    async def propose(
        self,
        context: ProposalContext,
        feedback: list[str],
        *,
        seed: int,
        call: CallContext,
        previous: str | None = None,
    ) -> Proposal:
        """One proposal; a retry passes its previous answer (`previous`) and why it failed."""
        messages: list[LLMMessage] = [
            SystemMessage(content=SYSTEM),
            UserMessage(content=self.render(context, feedback, previous), source="user"),
        ]
        try:
            parsed = await create_structured(
                self.gateway,
                self.model,
                messages,
                RawProposal,
                scenario=lambda: proposer_script(context.anchor, seed, context.missing),
                call=call,
            )
        except StructuredOutputError as exc:
            if context.missing:
                return Proposal(None, exc.raw, f"no_task: {context.missing}")
            return Proposal(None, exc.raw, f"malformed_json: {exc}")
        return Proposal(parsed.value.model_dump(), parsed.raw)
