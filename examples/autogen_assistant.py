"""An autogen-agentchat `AssistantAgent` as our assistant role, verified like ours.

`AutogenAssistant` wraps an autogen `AssistantAgent` whose tools are the retail domain's,
bound to the episode's environment fork (arguments are validated by each tool's pydantic
model inside `Environment.call`). It plugs into our conversation protocol (`converse`)
against our simulated user, and the result is verified against the task's ground truth.

Here the agent's model client is `GatewayChatCompletionClient` on the simulated backend
(offline; the gateway also caches and records every call). Any autogen client works, e.g.

    from autogen_ext.models.openai import OpenAIChatCompletionClient
    client = OpenAIChatCompletionClient(model="Qwen/Qwen2.5-7B-Instruct",
                                        base_url="http://localhost:8000/v1", api_key="none",
                                        model_info={...})

    python -m examples.autogen_assistant [--task 3]     (from the repository root)
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import anyio
import anyio.to_thread

from agents.bridges.autogen_assistant import AutogenAssistant, GatewayChatCompletionClient
from agents.dialogue.conversation import ConversationLimits, converse
from agents.dialogue.verify import verify_trajectory
from agents.models.gateway import CallContext, ModelGateway
from agents.resources import Templates
from agents.simulated.dialogue_scripts import assistant_script
from domains.registry import resolve_domain
from examples.embed_in_autogen_team import MODELS, ROOT, STOP, build_human, load_task
from runtime.log import configure_logging
from runtime.store import Store


async def main(task_index: int = 3, store_dir: Path | None = None) -> bool:
    """Play one task with an autogen assistant, verify it, print the verdict."""
    domain = resolve_domain("retail")
    base = await anyio.to_thread.run_sync(domain.environment, {"data": {"seed": 0}})
    task = load_task(task_index)
    writes = set(domain.write_tools())
    templates = Templates(ROOT)
    directory = store_dir or Path(tempfile.mkdtemp(prefix="apigen-autogen-"))
    async with (
        Store.open(directory / "store.sqlite") as store,
        ModelGateway(MODELS, store, "autogen-assistant") as gateway,
    ):
        env = base.fork()
        client = GatewayChatCompletionClient(
            gateway,
            "default",
            scenario=assistant_script(task, writes, seed=2),
            call=CallContext(role="assistant"),
            timeout_s=30,
        )
        system = templates.render(None, "assistant.j2", domain=domain.name, policy=domain.policy)
        assistant = AutogenAssistant(client, env, system, max_tool_steps=10)
        human = build_human(gateway, templates, task, writes)
        transcript = await converse(
            human, assistant, ConversationLimits(max_turns=20, stop_token=STOP)
        )
    for message in transcript.messages:
        calls = ", ".join(f"{c.name}({c.arguments})" for c in message.tool_calls)
        print(f"{message.role:>9}: {calls or message.content}")
    verdict = verify_trajectory(
        base,
        task.actions,
        task.outputs,
        env,
        transcript.assistant_texts(),
        end=transcript.end,
        endings=("stop", "transfer"),
    )
    print(f"ended by {transcript.end} after {transcript.turns} user turns")
    print(
        f"verdict: {'accepted' if verdict.accepted else 'rejected'} "
        f"(state_ok={verdict.state_ok}, outputs_ok={verdict.outputs_ok})"
    )
    for reason in verdict.reasons:
        print(f"  reason: {reason}")
    return verdict.accepted


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="An autogen AssistantAgent as our assistant.")
    parser.add_argument("--task", type=int, default=3, help="index into retail_tasks.json")
    configure_logging(level="warning")
    raise SystemExit(0 if anyio.run(main, parser.parse_args().task) else 1)
