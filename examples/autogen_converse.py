"""A playbook step kind whose assistant is an autogen-agentchat `AssistantAgent`.

`AutogenConverseStep` is the shipped `converse` step with our assistant swapped for
`AutogenAssistant` (the domain's tools bound to the episode's fork, the role's model reached
through our gateway, so simulated scripts, caching and call records all still apply). A
playbook names it by import path, no change to the codebase needed:

    steps:
      - {kind: "examples.autogen_converse:AutogenConverseStep", max_turns: 20}
      - {kind: verify}

See examples/autogen_assistant.yaml (`python -m runtime.run examples/autogen_assistant.yaml`
from the repository root).
"""

from __future__ import annotations

from agents.autogen_adapters import AutogenAssistant, GatewayChatCompletionClient
from agents.blueprint import Blueprint
from agents.conversation import AssistantRole
from agents.trajectory_steps import ConverseParams, ConverseStep
from domains.environment import Environment
from runtime.steps import Episode


class AutogenConverseStep(ConverseStep):
    """`converse` with an autogen `AssistantAgent` as the assistant; same params, same records."""

    def build_assistant(
        self, episode: Episode, blueprint: Blueprint, env: Environment, seed: int, timeout: float
    ) -> AssistantRole:
        """An autogen `AssistantAgent` whose model calls go through our gateway."""
        params = self.params
        assert isinstance(params, ConverseParams)
        client = GatewayChatCompletionClient(
            self.gateway,
            self.roster.role(params.assistant).model,
            scenario=self.scenario(blueprint, "assistant", seed),
            call=self.call(episode, params.assistant),
            timeout_s=timeout,
        )
        return AutogenAssistant(
            client,
            env,
            self.system_prompt,
            max_tool_steps=params.max_tool_steps,
            transfer_tools=params.transfer_tools,
        )
