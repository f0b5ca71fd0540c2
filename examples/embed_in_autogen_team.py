"""Our human simulator and assistant as autogen-agentchat agents in a RoundRobinGroupChat.

One retail task from `playbooks/data/retail_tasks.json` is played offline (the simulated
backend plays both roles from scripts built from the task). The assistant's tool calls run
on a fork of the retail environment; the adapters keep our transcript, so after the team
stops the fork's final state and the assistant's messages are verified against the task's
ground truth exactly as the `verify` step does.

    python -m examples.embed_in_autogen_team [--task 7]     (from the repository root)

To use real models, give the gateway `provider: openai` configs (see local_openai_server.py).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import anyio
import anyio.to_thread
from autogen_agentchat.conditions import MaxMessageTermination, TextMentionTermination
from autogen_agentchat.messages import TextMessage, ToolCallRequestEvent
from autogen_agentchat.teams import RoundRobinGroupChat

from agents.blueprints.blueprint import Blueprint
from agents.bridges.autogen_agents import AssistantChatAgent, HumanChatAgent, TeamTranscript
from agents.dialogue.assistant import Assistant, tool_schemas
from agents.dialogue.human import HumanSimulator
from agents.dialogue.trajectory_policy import trajectory_violations
from agents.dialogue.verify import verify_trajectory
from agents.models.gateway import CallContext, ModelGateway
from agents.resources import Templates
from agents.simulated.dialogue_scripts import assistant_script, human_script
from domains.environment import Environment
from domains.registry import resolve_domain
from runtime.log import configure_logging
from runtime.model_config import ModelConfig
from runtime.store import Store

ROOT = Path(__file__).resolve().parent.parent
TASKS = ROOT / "playbooks" / "data" / "retail_tasks.json"
STOP = "###STOP###"
MODELS = {"default": ModelConfig(provider="simulated")}


def load_task(index: int) -> Blueprint:
    """Task `index` of the shipped retail task file, as a blueprint."""
    tasks = json.loads(TASKS.read_text(encoding="utf-8"))
    return Blueprint.model_validate(tasks[index])


def build_human(
    gateway: ModelGateway, templates: Templates, task: Blueprint, writes: set[str]
) -> HumanSimulator:
    """The simulated user: sees only the task's instruction."""
    return HumanSimulator(
        gateway=gateway,
        model="default",
        system_prompt=templates.render(
            None, "human.j2", instruction=task.instruction, persona=None, stop_token=STOP
        ),
        instruction=task.instruction,
        scenario=human_script(task, writes, seed=1, stop_token=STOP),
        call=CallContext(role="human"),
        timeout_s=30,
    )


def build_assistant(
    gateway: ModelGateway, templates: Templates, task: Blueprint, env: Environment
) -> Assistant:
    """Our assistant: the retail policy as system prompt, its tools running on `env`."""
    domain = env.domain
    return Assistant(
        gateway=gateway,
        model="default",
        system_prompt=templates.render(
            None, "assistant.j2", domain=domain.name, policy=domain.policy
        ),
        tools=tool_schemas(domain),
        env=env,
        scenario=assistant_script(task, set(domain.write_tools()), seed=2),
        call=CallContext(role="assistant"),
        timeout_s=30,
    )


async def main(task_index: int = 7, store_dir: Path | None = None) -> bool:
    """Play one task in an autogen team, verify it, print the verdict; True if accepted."""
    domain = resolve_domain("retail")
    base = await anyio.to_thread.run_sync(domain.environment, {"data": {"seed": 0}})
    task = load_task(task_index)
    writes = set(domain.write_tools())
    templates = Templates(ROOT)
    directory = store_dir or Path(tempfile.mkdtemp(prefix="apigen-team-"))
    async with (
        Store.open(directory / "store.sqlite") as store,
        ModelGateway(MODELS, store, "autogen-team") as gateway,
    ):
        env = base.fork()
        assistant = build_assistant(gateway, templates, task, env)
        shared = TeamTranscript.for_assistant(assistant, stop_token=STOP)
        team = RoundRobinGroupChat(
            [
                AssistantChatAgent(assistant, shared, name="assistant"),
                HumanChatAgent(build_human(gateway, templates, task, writes), shared, name="human"),
            ],
            termination_condition=shared.termination()
            | TextMentionTermination(STOP)
            | MaxMessageTermination(41),
        )
        result = await team.run()
    for message in result.messages:
        if isinstance(message, TextMessage):
            print(f"{message.source:>9}: {message.content}")
        elif isinstance(message, ToolCallRequestEvent):
            for call in message.content:
                print(f"{'tool call':>9}: {call.name}({call.arguments})")
    transcript = shared.finish()
    violations = trajectory_violations(
        domain,
        base,
        transcript.messages,
        subject=task.user_id,
        expected=task.resolved_ending(writes),
    )
    verdict = verify_trajectory(
        base,
        task.actions,
        task.outputs,
        env,
        transcript.assistant_texts(),
        end=transcript.end,
        endings=("stop", "transfer"),
        expected=task.resolved_ending(writes),
        violations=violations,
    )
    print(f"team stopped: {result.stop_reason}")
    print(
        f"transcript: {len(transcript.messages)} messages, {transcript.turns} user turns, "
        f"ended by {transcript.end}, follows the policy: {verdict.policy_ok}"
    )
    print(
        f"verdict: {'accepted' if verdict.accepted else 'rejected'} "
        f"(policy_ok={verdict.policy_ok}, state_ok={verdict.state_ok}, "
        f"outputs_ok={verdict.outputs_ok})"
    )
    for reason in verdict.reasons:
        print(f"  reason: {reason}")
    return verdict.accepted


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", type=int, default=7, help="index into retail_tasks.json")
    configure_logging(level="warning")
    accepted = anyio.run(main, parser.parse_args().task)
    raise SystemExit(0 if accepted else 1)
