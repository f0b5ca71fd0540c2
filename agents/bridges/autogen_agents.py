"""Our human simulator and assistant as autogen-agentchat agents, for autogen teams.

Both adapters write one shared `TeamTranscript`, so a conversation run by an autogen team
(e.g. `RoundRobinGroupChat`) is recorded exactly as `converse` records it and can be
checked with `agents.dialogue.verify.verify_trajectory`. Messages from agents that are not
ours (a team task, another autogen agent) are added to the transcript as the other side's
text. Put
`shared.termination()` in the team's termination condition: it stops the team as soon as
the conversation has ended (stop token, transfer, refusal, tool loop, failed model call).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from autogen_agentchat.agents import BaseChatAgent
from autogen_agentchat.base import Response
from autogen_agentchat.conditions import FunctionalTermination
from autogen_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    TextMessage,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
)
from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import FunctionExecutionResult

from agents.bridges.autogen_assistant import AutogenAssistant
from agents.dialogue.assistant import TurnAssistant
from agents.dialogue.human import OPENING, HumanSimulator
from agents.dialogue.transcript import ChatMessage, EndReason, Transcript
from agents.simulated.scenario import STOP_TOKEN
from runtime.errors import ModelError

__all__ = ["AssistantChatAgent", "HumanChatAgent", "TeamTranscript"]


@dataclass
class TeamTranscript:
    """Our transcript of a team conversation, shared by the adapters that take part in it.

    `recorded` holds the ids of the autogen messages already in the transcript, so that an
    adapter adds only what came from agents that are not ours.
    """

    transcript: Transcript
    stop_token: str = STOP_TOKEN
    recorded: set[str] = field(default_factory=set)

    @classmethod
    def for_assistant(
        cls, assistant: TurnAssistant, stop_token: str = STOP_TOKEN
    ) -> TeamTranscript:
        """An empty transcript with the assistant's system prompt and tools."""
        transcript = Transcript(
            system=assistant.system_prompt, tools=[dict(tool) for tool in assistant.tools]
        )
        return cls(transcript, stop_token)

    @property
    def ended(self) -> bool:
        """Whether the conversation is over (the transcript has an ending)."""
        return self.transcript.end is not None

    def end(self, reason: EndReason, error: str = "") -> None:
        """Record how the conversation ended (the first ending wins)."""
        if self.transcript.end is None:
            self.transcript.end, self.transcript.error = reason, error

    def record(self, message: TextMessage) -> TextMessage:
        """Mark an adapter's own message as already in the transcript, and return it."""
        self.recorded.add(message.id)
        return message

    def absorb(
        self, messages: Sequence[BaseChatMessage], role: Literal["user", "assistant"]
    ) -> None:
        """Add messages from agents that are not ours as text said by `role`."""
        for message in messages:
            if message.id in self.recorded:
                continue
            self.recorded.add(message.id)
            text = message.content if isinstance(message, TextMessage) else message.to_text()
            self.transcript.messages.append(ChatMessage(role=role, content=text))
            if role == "user":
                self.transcript.turns += 1

    def termination(self) -> FunctionalTermination:
        """An autogen termination condition that fires once the conversation has ended."""
        return FunctionalTermination(lambda _messages: self.ended)

    def finish(self) -> Transcript:
        """The finished transcript (`max_turns` if nothing else ended it); judge it with
        `agents.dialogue.verify` and `agents.dialogue.trajectory_policy` like any other."""
        self.end("max_turns")
        return self.transcript

    def reset(self) -> None:
        """Forget the conversation (the environment fork is not reset: use a fresh one)."""
        self.transcript = Transcript(system=self.transcript.system, tools=self.transcript.tools)
        self.recorded.clear()


def _describe(exc: Exception) -> str:
    return "model call timed out" if isinstance(exc, TimeoutError) else str(exc)


class HumanChatAgent(BaseChatAgent):
    """Our `HumanSimulator` as an autogen chat agent: one user turn per call.

    Its turns (and Best-of-N records) go to the shared transcript; once the conversation has
    ended it answers with the stop token without calling a model.
    """

    def __init__(
        self,
        human: HumanSimulator,
        shared: TeamTranscript,
        *,
        name: str = "human",
        description: str = "A simulated customer who knows only their task instruction.",
    ) -> None:
        super().__init__(name, description)
        self.human = human
        self.shared = shared

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        """Say the next user turn, given the assistant's new messages."""
        shared = self.shared
        if shared.ended:
            return self._say(shared.stop_token)
        shared.absorb(messages, role="assistant")
        said = await self._speak(shared)
        return self._say(shared.stop_token if said is None else said)

    async def _speak(self, shared: TeamTranscript) -> str | None:
        """The next turn, recorded in the transcript; None when the model call failed."""
        transcript = shared.transcript
        try:
            said = await self.human.speak(transcript)
        except (ModelError, TimeoutError) as exc:
            shared.end("error", f"human: {_describe(exc)}")
            return None
        transcript.messages.append(ChatMessage(role="user", content=said.text))
        if said.best_of is not None:
            transcript.best_of.append(said.best_of)
        transcript.turns += 1
        if shared.stop_token in said.text:
            shared.end("stop")
        return said.text

    def _say(self, text: str) -> Response:
        message = self.shared.record(TextMessage(content=text, source=self.name))
        return Response(chat_message=message)

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget the conversation."""
        self.shared.reset()


class AssistantChatAgent(BaseChatAgent):
    """Our assistant (or any `TurnAssistant`) as an autogen chat agent: one turn per call.

    Its tool calls run on the assistant's environment fork and appear in the team's stream as
    `ToolCallRequestEvent`/`ToolCallExecutionEvent`; asked to speak before any user turn, it
    greets (as our protocol's opening line) without calling a model.
    """

    def __init__(
        self,
        assistant: TurnAssistant,
        shared: TeamTranscript,
        *,
        name: str = "assistant",
        description: str = "A customer service agent that follows the domain policy.",
    ) -> None:
        super().__init__(name, description)
        self.assistant = assistant
        self.shared = shared

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        """Answer the user's new messages, calling tools as the model asks."""
        shared = self.shared
        if shared.ended:
            return self._say(shared.stop_token, [])
        shared.absorb(messages, role="user")
        transcript = shared.transcript
        if not any(m.role == "user" for m in transcript.messages):
            return self._say(OPENING, [])
        before = len(transcript.messages)
        try:
            reply = await self.assistant.respond(transcript)
        except (ModelError, TimeoutError) as exc:
            shared.end("error", f"assistant: {_describe(exc)}")
            return self._say(shared.stop_token, [])
        if reply.end is not None:
            shared.end(reply.end, reply.error)
        produced = transcript.messages[before:]
        return self._say(_last_text(produced), _events(produced, self.name))

    def _say(self, text: str, events: list[BaseAgentEvent | BaseChatMessage]) -> Response:
        message = self.shared.record(TextMessage(content=text, source=self.name))
        return Response(chat_message=message, inner_messages=events)

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget the conversation (an `AutogenAssistant` forgets its model context too)."""
        self.shared.reset()
        if isinstance(self.assistant, AutogenAssistant):
            await self.assistant.reset()


def _last_text(messages: Sequence[ChatMessage]) -> str:
    """The assistant's last words of a turn, else the last tool output (e.g. a transfer)."""
    for message in reversed(messages):
        if message.role == "assistant" and message.content:
            return message.content
    for message in reversed(messages):
        if message.role == "tool":
            return message.content
    return ""


def _events(messages: Sequence[ChatMessage], source: str) -> list[BaseAgentEvent | BaseChatMessage]:
    """A turn's tool calls and results as autogen events, for the team's message stream."""
    events: list[BaseAgentEvent | BaseChatMessage] = []
    for message in messages:
        if message.tool_calls:
            calls = [
                FunctionCall(
                    id=c.id, name=c.name, arguments=c.invalid_arguments or _json(c.arguments)
                )
                for c in message.tool_calls
            ]
            events.append(ToolCallRequestEvent(content=calls, source=source))
        elif message.role == "tool":
            result = FunctionExecutionResult(
                content=message.content,
                call_id=message.tool_call_id or "",
                name=message.name or "",
                is_error=message.is_error,
            )
            last = events[-1] if events else None
            if isinstance(last, ToolCallExecutionEvent):
                last.content.append(result)
            else:
                events.append(ToolCallExecutionEvent(content=[result], source=source))
    return events


def _json(arguments: dict[str, Any]) -> str:
    return json.dumps(arguments, ensure_ascii=False)
