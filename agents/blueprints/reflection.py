"""Reflection: turn a failed attempt's reasons into feedback for the proposer's next attempt."""

from __future__ import annotations

from autogen_core.models import UserMessage

from agents.models.gateway import CallContext, ModelGateway
from agents.resources import Templates
from agents.simulated.blueprint_scripts import text_script
from agents.simulated.scenario import SimScenario
from runtime.errors import ModelError


class Reflector:
    """Condenses reasons with a model when one is configured, else passes them on verbatim."""

    def __init__(
        self,
        gateway: ModelGateway | None,
        model: str | None,
        templates: Templates,
        prompt: str | None,
    ) -> None:
        self.gateway = gateway
        self.model = model
        self.templates = templates
        self.prompt = prompt

    async def reflect(
        self, stage: str, reasons: list[str], *, seed: int, call: CallContext
    ) -> list[str]:
        verbatim = [f"{stage}: {reason}" for reason in reasons] or [f"{stage} failed"]
        if self.gateway is None or self.model is None:
            return verbatim
        text = self.templates.render(self.prompt, "reflector.j2", stage=stage, reasons=reasons)

        def scenario() -> SimScenario:
            return text_script("reflector", "\n".join(f"- {line}" for line in verbatim), seed)

        try:
            result = await self.gateway.create(
                self.model, [UserMessage(content=text, source="user")], scenario=scenario, call=call
            )
        except ModelError:
            return verbatim
        content = result.content if isinstance(result.content, str) else ""
        lines = [line.strip(" -*\t") for line in content.splitlines() if line.strip(" -*\t")]
        return lines or verbatim
