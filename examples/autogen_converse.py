"""A role kind whose assistant is an autogen-agentchat `AssistantAgent`.

`AutogenAssistantKind` plays a protocol's assistant role with `AutogenAssistant` (the
domain's tools bound to the episode's fork, the role's model reached through our gateway,
so simulated scripts, caching and call records all still apply). The agent runs its own
tool calls, so a protocol with it needs no environment role: see
examples/autogen_assistant.yaml, which names this kind by import path, no change to the
codebase needed (`python -m runtime.run examples/autogen_assistant.yaml` from the
repository root).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from agents.bridges.autogen_assistant import AutogenAssistant, GatewayChatCompletionClient
from agents.roles import EpisodeScope
from agents.roles.messages import Ended, Said
from agents.roles.turns import WholeTurnAssistant
from agents.simulated.dialogue_scripts import assistant_script
from agents.simulated.scenario import scenario_json
from domains.base import TRANSFER_TOOLS
from runtime.protocol import Role, RoleKind


class AutogenAssistantParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_tool_steps: int = Field(default=10, ge=1, le=100, description="tool rounds per turn")
    transfer_tools: list[str] = Field(default_factory=lambda: list(TRANSFER_TOOLS))


class AutogenAssistantKind(RoleKind):
    """An autogen `AssistantAgent` taking whole turns (its tool calls included)."""

    name = "autogen_assistant"
    accepts: ClassVar[dict[str, type[Any]]] = {"said": Said}
    emits: ClassVar[dict[str, type[Any]]] = {"said": Said, "ended": Ended}
    params_model = AutogenAssistantParams

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        assert isinstance(params, AutogenAssistantParams) and isinstance(context, EpisodeScope)
        services, blueprint = context.services, context.blueprint
        domain = services.handle.domain
        system = services.templates.render(
            services.roster.role(role).prompt,
            "assistant.j2",
            domain=domain.name,
            policy=domain.policy,
        )
        model = context.models["assistant"] = services.roster.role(role).model
        script = scenario_json(assistant_script(blueprint, services.writes, context.seed))
        client = GatewayChatCompletionClient(
            services.gateway,
            model,
            scenario=script,
            call=context.call(role),
            timeout_s=context.timeout_s,
        )
        assistant = AutogenAssistant(
            client,
            context.env,
            system,
            max_tool_steps=params.max_tool_steps,
            transfer_tools=params.transfer_tools,
        )
        context.transcript.system = system
        context.transcript.tools = [dict(tool) for tool in assistant.tools]
        return WholeTurnAssistant(assistant, context.transcript)
