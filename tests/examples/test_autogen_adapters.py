"""The autogen adapters record conversations exactly as our own protocol does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from autogen_agentchat.conditions import MaxMessageTermination, TextMentionTermination
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core import CancellationToken

from agents.blueprints.blueprint import Blueprint
from agents.bridges.autogen_agents import AssistantChatAgent, HumanChatAgent, TeamTranscript
from agents.bridges.autogen_assistant import (
    AutogenAssistant,
    EnvironmentTool,
    GatewayChatCompletionClient,
    ToolCallFailed,
)
from agents.dialogue.assistant import Assistant, tool_schemas
from agents.dialogue.conversation import ConversationLimits, converse
from agents.dialogue.human import HumanSimulator
from agents.dialogue.transcript import Transcript
from agents.dialogue.verify import verify_trajectory
from agents.models.gateway import CallContext, ModelGateway
from agents.simulated.dialogue_scripts import assistant_script, human_script
from agents.simulated.scenario import SimReply, SimScenario, SimToolCall
from domains.environment import Environment
from runtime.model_config import ModelConfig
from runtime.store import Store
from tests.agents.library_domain import BORROW_TASK, LibraryDomain

pytestmark = pytest.mark.anyio

DOMAIN = LibraryDomain()
WRITES = set(DOMAIN.write_tools())
STOP = "###STOP###"
BORROW = Blueprint.model_validate(BORROW_TASK)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # autogen-agentchat runs on asyncio


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[ModelGateway]:
    async with Store.open(tmp_path / "store.sqlite") as store:
        yield ModelGateway({"sim": ModelConfig()}, store, "test")


def _human(gateway: ModelGateway, scenario: SimScenario | None = None) -> HumanSimulator:
    return HumanSimulator(
        gateway=gateway,
        model="sim",
        system_prompt="You are a library user.",
        instruction=BORROW.instruction,
        scenario=scenario or human_script(BORROW, WRITES, 1, STOP),
        call=CallContext(role="human"),
        timeout_s=5,
    )


def _ours(
    gateway: ModelGateway, env: Environment, scenario: SimScenario | None = None
) -> Assistant:
    return Assistant(
        gateway=gateway,
        model="sim",
        system_prompt=DOMAIN.policy,
        tools=tool_schemas(DOMAIN),
        env=env,
        scenario=scenario or assistant_script(BORROW, WRITES, 2),
        call=CallContext(role="assistant"),
        timeout_s=5,
    )


def _autogen(
    gateway: ModelGateway,
    env: Environment,
    scenario: SimScenario | None = None,
    **options: object,
) -> AutogenAssistant:
    client = GatewayChatCompletionClient(
        gateway, "sim", scenario=scenario or assistant_script(BORROW, WRITES, 2)
    )
    return AutogenAssistant(client, env, DOMAIN.policy, **options)  # type: ignore[arg-type]


def _shape(transcript: Transcript) -> list[str]:
    return [
        m.role + (":" + ",".join(c.name for c in m.tool_calls) if m.tool_calls else "")
        for m in transcript.messages
    ]


async def test_an_autogen_assistant_records_the_same_transcript_as_ours(
    gateway: ModelGateway,
) -> None:
    ours_env, theirs_env = DOMAIN.environment().fork(), DOMAIN.environment().fork()
    limits = ConversationLimits()
    ours = await converse(_human(gateway), _ours(gateway, ours_env), limits)
    theirs = await converse(_human(gateway), _autogen(gateway, theirs_env), limits)
    assert theirs.model_dump() == ours.model_dump()
    assert theirs_env.fingerprint() == ours_env.fingerprint()


async def test_an_autogen_assistants_conversation_verifies(gateway: ModelGateway) -> None:
    base = DOMAIN.environment()
    env = base.fork()
    transcript = await converse(_human(gateway), _autogen(gateway, env), ConversationLimits())
    assert transcript.end == "stop"
    verdict = verify_trajectory(
        base, BORROW.actions, BORROW.outputs, env, transcript.assistant_texts()
    )
    assert verdict.accepted


async def test_environment_tools_validate_through_the_environment() -> None:
    env = DOMAIN.environment().fork()
    tool = EnvironmentTool(env, "get_book")
    token = CancellationToken()
    assert '"Book 2"' in await tool.run_json({"book_id": "b2"}, token)
    with pytest.raises(ToolCallFailed, match=r"^Error: invalid arguments for get_book"):
        await tool.run_json({"title": "__import__('os')"}, token)
    with pytest.raises(ToolCallFailed, match=r"^Error: book not found$"):
        await tool.run_json({"book_id": "b99"}, token)
    assert tool.schema["parameters"] == DOMAIN.tools["get_book"].schema()["function"]["parameters"]


async def test_tool_errors_reach_an_autogen_assistant_as_error_results(
    gateway: ModelGateway,
) -> None:
    script = SimScenario(
        role="assistant",
        seed=1,
        replies=[
            SimReply(tool_calls=[SimToolCall(name="fly_away")]),
            SimReply(tool_calls=[SimToolCall(name="get_book", arguments={"book_id": "b99"})]),
            SimReply(text="Sorry, something went wrong."),
        ],
    )
    transcript = await converse(
        _human(gateway),
        _autogen(gateway, DOMAIN.environment().fork(), script),
        ConversationLimits(max_turns=1),
    )
    results = [m for m in transcript.messages if m.role == "tool"]
    assert [r.is_error for r in results] == [True, True]
    assert "fly_away" in results[0].content
    assert results[1].content == "Error: book not found"


async def test_an_autogen_assistants_tool_loop_ends_at_max_tool_steps(
    gateway: ModelGateway,
) -> None:
    call = SimReply(tool_calls=[SimToolCall(name="get_book", arguments={"book_id": "b1"})])
    script = SimScenario(role="assistant", seed=1, replies=[call] * 10)
    transcript = await converse(
        _human(gateway),
        _autogen(gateway, DOMAIN.environment().fork(), script, max_tool_steps=3),
        ConversationLimits(),
    )
    assert transcript.end == "tool_steps"
    assert len(transcript.tool_calls()) == 4


async def test_a_successful_transfer_ends_an_autogen_assistants_turn(
    gateway: ModelGateway,
) -> None:
    get_user = SimToolCall(name="get_user", arguments={"user_id": "u1"})
    script = SimScenario(role="assistant", seed=1, replies=[SimReply(tool_calls=[get_user])] * 3)
    transcript = await converse(
        _human(gateway),
        _autogen(gateway, DOMAIN.environment().fork(), script, transfer_tools=("get_user",)),
        ConversationLimits(),
    )
    assert transcript.end == "transfer"
    assert _shape(transcript) == ["user", "assistant:get_user", "tool"]


def _team(shared: TeamTranscript, *agents: object) -> RoundRobinGroupChat:
    return RoundRobinGroupChat(
        list(agents),  # type: ignore[arg-type]
        termination_condition=shared.termination()
        | TextMentionTermination(STOP)
        | MaxMessageTermination(40),
    )


@pytest.mark.parametrize("human_first", [True, False])
async def test_a_team_of_our_agents_records_what_converse_records(
    gateway: ModelGateway, human_first: bool
) -> None:
    expected = await converse(
        _human(gateway), _ours(gateway, DOMAIN.environment().fork()), ConversationLimits()
    )
    base = DOMAIN.environment()
    env = base.fork()
    assistant = _ours(gateway, env)
    shared = TeamTranscript.for_assistant(assistant)
    agents = [HumanChatAgent(_human(gateway), shared), AssistantChatAgent(assistant, shared)]
    result = await _team(shared, *(agents if human_first else agents[::-1])).run()
    transcript = shared.finish()
    assert transcript.model_dump() == expected.model_dump()
    said = transcript.assistant_texts()
    assert verify_trajectory(base, BORROW.actions, BORROW.outputs, env, said).accepted
    assert result.stop_reason is not None


async def test_a_team_with_an_autogen_assistant_inside_our_adapter_verifies(
    gateway: ModelGateway,
) -> None:
    base = DOMAIN.environment()
    env = base.fork()
    assistant = _autogen(gateway, env)
    shared = TeamTranscript.for_assistant(assistant)
    team = _team(
        shared, AssistantChatAgent(assistant, shared), HumanChatAgent(_human(gateway), shared)
    )
    await team.run()
    transcript = shared.finish()
    assert transcript.end == "stop"
    said = transcript.assistant_texts()
    assert verify_trajectory(base, BORROW.actions, BORROW.outputs, env, said).accepted


async def test_a_transfer_stops_the_team_with_the_transcript_ended(
    gateway: ModelGateway,
) -> None:
    get_user = SimToolCall(name="get_user", arguments={"user_id": "u1"})
    script = SimScenario(role="assistant", seed=1, replies=[SimReply(tool_calls=[get_user])])
    assistant = _ours(gateway, DOMAIN.environment().fork(), script)
    assistant.transfer_tools = ("get_user",)
    shared = TeamTranscript.for_assistant(assistant)
    team = _team(
        shared, HumanChatAgent(_human(gateway), shared), AssistantChatAgent(assistant, shared)
    )
    result = await team.run()
    assert shared.transcript.end == "transfer"
    assert _shape(shared.transcript) == ["user", "assistant:get_user", "tool"]
    assert len([m for m in result.messages if m.source == "human"]) == 1


async def test_a_failed_human_model_call_ends_the_team_as_an_error(
    gateway: ModelGateway,
) -> None:
    human = _human(gateway)
    human.model = "missing"
    assistant = _ours(gateway, DOMAIN.environment().fork())
    shared = TeamTranscript.for_assistant(assistant)
    await _team(shared, HumanChatAgent(human, shared), AssistantChatAgent(assistant, shared)).run()
    transcript = shared.finish()
    assert transcript.end == "error"
    assert transcript.error.startswith("human: ")
    assert transcript.messages == []


async def test_a_team_task_reaches_our_assistant_as_the_first_user_turn(
    gateway: ModelGateway,
) -> None:
    quiet = SimScenario(role="assistant", seed=1, closing="Sure.")
    assistant = _ours(gateway, DOMAIN.environment().fork(), quiet)
    shared = TeamTranscript.for_assistant(assistant)
    team = _team(
        shared, AssistantChatAgent(assistant, shared), HumanChatAgent(_human(gateway), shared)
    )
    await team.run(task="I would like to borrow a book.")
    first, second = shared.transcript.messages[:2]
    assert (first.role, first.content) == ("user", "I would like to borrow a book.")
    assert (second.role, second.content) == ("assistant", "Sure.")


async def test_resetting_the_team_forgets_the_conversation(gateway: ModelGateway) -> None:
    assistant = _autogen(gateway, DOMAIN.environment().fork())
    shared = TeamTranscript.for_assistant(assistant)
    team = _team(
        shared, HumanChatAgent(_human(gateway), shared), AssistantChatAgent(assistant, shared)
    )
    await team.run()
    assert shared.transcript.messages
    await team.reset()
    assert shared.transcript.messages == [] and shared.transcript.end is None
    assert await assistant.agent.model_context.get_messages() == []


async def test_an_autogen_assistants_refusal_ends_the_conversation(tmp_path: Path) -> None:
    faults = {"assistant": {"refusal": 1.0}}
    async with Store.open(tmp_path / "faulty.sqlite") as store:
        gateway = ModelGateway({"sim": ModelConfig.model_validate({"faults": faults})}, store, "t")
        transcript = await converse(
            _human(gateway),
            _autogen(gateway, DOMAIN.environment().fork()),
            ConversationLimits(),
        )
    assert transcript.end == "refusal"
    assert _shape(transcript) == ["user", "assistant"]
