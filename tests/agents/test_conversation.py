"""The episode protocol: who speaks when, how a conversation ends, what the transcript holds."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest
from autogen_core.models import ChatCompletionClient, CreateResult, ModelInfo, RequestUsage
from library_domain import BORROW_TASK, LibraryDomain

from agents.blueprints.blueprint import Blueprint
from agents.dialogue.assistant import Assistant, tool_schemas
from agents.dialogue.conversation import ConversationLimits, converse
from agents.dialogue.human import OPENING, HumanSimulator, TurnJudge
from agents.dialogue.trajectory_policy import trajectory_violations
from agents.dialogue.transcript import ChatMessage, Transcript
from agents.dialogue.verify import verify_trajectory
from agents.models.gateway import CallContext, ModelGateway
from agents.models.openai_wire import wire_messages
from agents.resources import Templates
from agents.simulated import SimulatedChatCompletionClient
from agents.simulated.dialogue_scripts import assistant_script, first_person, human_script
from agents.simulated.scenario import SimReply, SimScenario, SimToolCall
from domains.environment import Environment
from runtime.model_config import ModelConfig
from runtime.store import Store

pytestmark = pytest.mark.anyio

DOMAIN = LibraryDomain()
WRITES = set(DOMAIN.write_tools())
STOP = "###STOP###"
BORROW = Blueprint.model_validate(BORROW_TASK)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Store.open(tmp_path / "store.sqlite") as opened:
        yield opened


def _gateway(store: Store, faults: Mapping[str, Mapping[str, float]] | None = None) -> ModelGateway:
    config = ModelConfig.model_validate({"faults": faults or {}})
    return ModelGateway({"sim": config}, store, "test")


class _Hanging(SimulatedChatCompletionClient):
    """A client that never answers (not the simulator as far as the gateway can tell)."""

    async def create(self, *args: Any, **kwargs: Any) -> CreateResult:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


class _Remote(ChatCompletionClient):
    """Wraps a client so that the gateway treats it as a remote one."""

    def __init__(self, inner: ChatCompletionClient) -> None:
        self._inner = inner

    async def create(self, *args: Any, **kwargs: Any) -> CreateResult:
        return await self._inner.create(*args, **kwargs)

    def create_stream(self, *args: Any, **kwargs: Any) -> Any:
        return self._inner.create_stream(*args, **kwargs)

    async def close(self) -> None:
        await self._inner.close()

    def actual_usage(self) -> RequestUsage:
        return self._inner.actual_usage()

    def total_usage(self) -> RequestUsage:
        return self._inner.total_usage()

    def count_tokens(self, *args: Any, **kwargs: Any) -> int:
        return self._inner.count_tokens(*args, **kwargs)

    def remaining_tokens(self, *args: Any, **kwargs: Any) -> int:
        return self._inner.remaining_tokens(*args, **kwargs)

    @property
    def capabilities(self) -> Any:
        return self._inner.model_info

    @property
    def model_info(self) -> ModelInfo:
        return self._inner.model_info


@pytest.fixture
def gateway(store: Store) -> ModelGateway:
    return _gateway(store)


def _human(
    gateway: ModelGateway,
    scenario: SimScenario | None = None,
    *,
    best_of: int = 1,
    judge: TurnJudge | None = None,
) -> HumanSimulator:
    return HumanSimulator(
        gateway=gateway,
        model="sim",
        system_prompt="You are a library user.",
        instruction=BORROW.instruction,
        scenario=scenario or human_script(BORROW, WRITES, 1, STOP),
        call=CallContext(role="human"),
        timeout_s=5,
        best_of=best_of,
        judge=judge,
    )


def _assistant(
    gateway: ModelGateway,
    env: Environment,
    scenario: SimScenario | None = None,
    **options: object,
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
        **options,  # type: ignore[arg-type]
    )


def _shape(transcript: Transcript) -> list[str]:
    return [
        m.role + (":" + ",".join(c.name for c in m.tool_calls) if m.tool_calls else "")
        for m in transcript.messages
    ]


async def test_the_stop_token_ends_a_completed_conversation(gateway: ModelGateway) -> None:
    base = DOMAIN.environment()
    env = base.fork()
    transcript = await converse(_human(gateway), _assistant(gateway, env), ConversationLimits())
    assert transcript.end == "stop"
    assert _shape(transcript) == [
        "user",
        "assistant:find_user",
        "tool",
        "assistant:get_book",
        "tool",
        "assistant",
        "user",
        "assistant:borrow_book",
        "tool",
        "assistant",
        "user",
    ]
    assert transcript.messages[-1].content == STOP
    assert transcript.turns == 3
    assert _violations(base, transcript) == []
    said = transcript.assistant_texts()
    assert verify_trajectory(base, BORROW.actions, BORROW.outputs, env, said).accepted


async def test_the_first_user_turn_carries_the_identifiers(gateway: ModelGateway) -> None:
    env = DOMAIN.environment().fork()
    transcript = await converse(_human(gateway), _assistant(gateway, env), ConversationLimits())
    first = transcript.messages[0].content
    assert "I am reader1@example.com" in first
    assert "b2" in first


async def test_max_turns_ends_a_conversation_that_never_stops(gateway: ModelGateway) -> None:
    chatty = SimScenario(role="human", seed=1, closing="Tell me more.")
    quiet = SimScenario(role="assistant", seed=1, closing="Sure.")
    transcript = await converse(
        _human(gateway, chatty),
        _assistant(gateway, DOMAIN.environment().fork(), quiet),
        ConversationLimits(max_turns=3),
    )
    assert transcript.end == "max_turns"
    assert transcript.turns == 3
    assert _shape(transcript) == ["user", "assistant"] * 3


async def test_a_tool_error_goes_back_to_the_assistant_and_the_talk_goes_on(
    gateway: ModelGateway,
) -> None:
    script = SimScenario(
        role="assistant",
        seed=1,
        replies=[
            SimReply(tool_calls=[SimToolCall(name="get_book", arguments={"book_id": "b99"})]),
            SimReply(text="That book does not exist. Which book do you mean?"),
            SimReply(text="Thanks, goodbye."),
        ],
    )
    human = SimScenario(
        role="human",
        seed=1,
        replies=[SimReply(text="I want book b99."), SimReply(text="Never mind.")],
    )
    transcript = await converse(
        _human(gateway, human),
        _assistant(gateway, DOMAIN.environment().fork(), script),
        ConversationLimits(),
    )
    error = transcript.messages[2]
    assert (error.role, error.is_error, error.name) == ("tool", True, "get_book")
    assert error.content == "Error: book not found"
    assert error.tool_call_id == transcript.messages[1].tool_calls[0].id
    assert transcript.messages[3].content.startswith("That book does not exist")
    assert transcript.messages[4] == ChatMessage(role="user", content="Never mind.")
    assert transcript.end == "stop"


async def test_unknown_tools_and_bad_arguments_are_error_results(gateway: ModelGateway) -> None:
    script = SimScenario(
        role="assistant",
        seed=1,
        replies=[
            SimReply(tool_calls=[SimToolCall(name="fly_away")]),
            SimReply(tool_calls=[SimToolCall(name="get_book", arguments={"title": "x"})]),
            SimReply(text="Sorry, something went wrong."),
        ],
    )
    transcript = await converse(
        _human(gateway),
        _assistant(gateway, DOMAIN.environment().fork(), script),
        ConversationLimits(max_turns=1),
    )
    results = [m for m in transcript.messages if m.role == "tool"]
    assert [r.is_error for r in results] == [True, True]
    assert results[0].content == "Error: unknown tool 'fly_away'"
    assert results[1].content.startswith("Error: invalid arguments for get_book")


async def test_a_tool_loop_without_an_answer_ends_at_max_tool_steps(
    gateway: ModelGateway,
) -> None:
    call = SimReply(tool_calls=[SimToolCall(name="get_book", arguments={"book_id": "b1"})])
    script = SimScenario(role="assistant", seed=1, replies=[call] * 10)
    transcript = await converse(
        _human(gateway),
        _assistant(gateway, DOMAIN.environment().fork(), script, max_tool_steps=3),
        ConversationLimits(),
    )
    assert transcript.end == "tool_steps"
    assert len(transcript.tool_calls()) == 4
    assert "3 tool steps" in transcript.error


async def test_a_transfer_ends_the_conversation(gateway: ModelGateway) -> None:
    script = SimScenario(
        role="assistant",
        seed=1,
        replies=[SimReply(tool_calls=[SimToolCall(name="get_user", arguments={"user_id": "u1"})])],
    )
    transcript = await converse(
        _human(gateway),
        _assistant(gateway, DOMAIN.environment().fork(), script, transfer_tools=("get_user",)),
        ConversationLimits(),
    )
    assert transcript.end == "transfer"
    assert _shape(transcript) == ["user", "assistant:get_user", "tool"]


async def test_an_assistant_refusal_ends_the_conversation(store: Store) -> None:
    gateway = _gateway(store, {"assistant": {"refusal": 1.0}})
    transcript = await converse(
        _human(gateway),
        _assistant(gateway, DOMAIN.environment().fork()),
        ConversationLimits(),
    )
    assert transcript.end == "refusal"
    assert _shape(transcript) == ["user", "assistant"]


async def test_a_skipped_confirmation_breaks_the_trajectory_policy(store: Store) -> None:
    gateway = _gateway(store, {"assistant": {"skipped_confirmation": 1.0}})
    base = DOMAIN.environment()
    transcript = await converse(
        _human(gateway), _assistant(gateway, base.fork()), ConversationLimits()
    )
    assert _violations(base, transcript) == [
        f"unconfirmed_write: borrow_book (call {_write_id(transcript)}) was not listed and "
        "agreed to by the user before it ran"
    ]


def _write_id(transcript: Transcript) -> str:
    return next(c.id for c in transcript.tool_calls() if c.name == "borrow_book")


def _violations(base: Environment, transcript: Transcript) -> list[str]:
    return trajectory_violations(
        DOMAIN, base, transcript.messages, subject=BORROW.user_id, expected="act"
    )


async def test_the_human_sees_its_own_turns_as_assistant_messages(gateway: ModelGateway) -> None:
    transcript = Transcript(
        system="s",
        messages=[
            ChatMessage(role="user", content="I want b2."),
            ChatMessage(role="assistant", tool_calls=[]),
            ChatMessage(role="tool", content="{}", tool_call_id="c1", name="get_book"),
            ChatMessage(role="assistant", content="Confirm?"),
        ],
    )
    view = _human(gateway).view(transcript)
    assert [(type(m).__name__, m.content) for m in view[1:]] == [
        ("UserMessage", OPENING),
        ("AssistantMessage", "I want b2."),
        ("UserMessage", "Confirm?"),
    ]


async def test_the_humans_wire_view_is_what_its_autogen_messages_make(
    gateway: ModelGateway,
) -> None:
    human = _human(gateway)
    transcript = Transcript(system="s", messages=[ChatMessage(role="user", content="I want b2.")])
    before = human.view(transcript)
    transcript.messages.append(ChatMessage(role="assistant", content="Confirm?"))
    after = human.view(transcript)
    assert len(before.wire) == len(before) == 3  # made with the lines it was made with
    assert after.wire[:3] == before.wire
    assert len(after) == len(after.wire) == len(before) + 1
    assert after.wire == wire_messages(list(after))
    assert [m["role"] for m in after.wire] == ["system", "user", "assistant", "user"]


async def test_best_of_n_records_every_candidate_and_its_score(gateway: ModelGateway) -> None:
    judge = TurnJudge(
        gateway=gateway,
        model="sim",
        templates=Templates(Path.cwd()),
        prompt=None,
        timeout_s=5,
        stop_token=STOP,
        call=CallContext(role="user_judge"),
    )
    transcript = await converse(
        _human(gateway, best_of=3, judge=judge),
        _assistant(gateway, DOMAIN.environment().fork()),
        ConversationLimits(),
    )
    assert transcript.end == "stop"
    assert [turn.turn for turn in transcript.best_of] == [0, 1, 2]
    first = transcript.best_of[0]
    assert len(first.candidates) == 3
    assert all(c.score == 10 for c in first.candidates)
    assert first.chosen == 0
    assert transcript.messages[0].content == first.candidates[0].text


async def test_a_model_call_past_its_timeout_ends_the_conversation(store: Store) -> None:
    clients = {"sim": _Remote(_Hanging())}
    gateway = ModelGateway({"sim": ModelConfig()}, store, "test", clients=clients)
    human = _human(gateway)
    human.timeout_s = 0.05
    with anyio.fail_after(5):
        transcript = await converse(
            human, _assistant(gateway, DOMAIN.environment().fork()), ConversationLimits()
        )
    assert (transcript.end, transcript.error) == ("error", "human: model call timed out")
    assert transcript.messages == []


def test_the_simulated_user_speaks_its_instruction_in_the_first_person() -> None:
    instruction = (
        "You are Ann Lee; you do not remember your email. If the agent asks you why, "
        "say your order #W1 was a mistake."
    )
    assert first_person(instruction) == (
        "I am Ann Lee; I do not remember my email. If the agent asks me why, "
        "say my order #W1 was a mistake."
    )


async def test_conversations_leave_no_cyclic_garbage(gateway: ModelGateway) -> None:
    """Runs keep the collector mostly idle; garbage in cycles would pile up per episode."""
    base = DOMAIN.environment()
    pairs = [(_human(gateway), _assistant(gateway, base.fork())) for _ in range(6)]
    human, assistant = pairs.pop()
    await converse(human, assistant, ConversationLimits())  # warm every cache
    gc.collect()
    gc.disable()
    try:
        for human, assistant in pairs:
            await converse(human, assistant, ConversationLimits())
        assert gc.collect() == 0
    finally:
        gc.enable()
