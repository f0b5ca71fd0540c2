"""Roles that take whole turns, for protocols whose participants are the caller's objects.

`WholeTurnUser` speaks for a `HumanSimulator` and `WholeTurnAssistant` for any assistant
that runs its own tool calls (`TurnAssistant`: ours, or an autogen `AssistantAgent`), both
into a transcript they share. Each answers a turn with `said`, or `ended` when the
conversation is over.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents.dialogue.assistant import TurnAssistant
from agents.dialogue.human import HumanSimulator
from agents.dialogue.transcript import ChatMessage, Transcript
from agents.roles.messages import Ended, Said
from runtime.errors import ModelError
from runtime.protocol import Emitted, Role


class WholeTurnUser(Role):
    """The human simulator speaking into a transcript."""

    def __init__(self, human: HumanSimulator, transcript: Transcript, stop_token: str) -> None:
        self.human = human
        self.transcript = transcript
        self.stop_token = stop_token

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        try:
            said = await self.human.speak(self.transcript)
        except (ModelError, TimeoutError) as exc:
            return [Emitted("ended", Ended("error", f"human: {_describe(exc)}"))]
        self.transcript.messages.append(ChatMessage(role="user", content=said.text))
        if said.best_of is not None:
            self.transcript.best_of.append(said.best_of)
        self.transcript.turns += 1
        if self.stop_token in said.text:
            return [Emitted("ended", Ended("stop"))]
        return [Emitted("said", Said(said.text))]


class WholeTurnAssistant(Role):
    """A whole-turn assistant answering in the transcript."""

    def __init__(self, assistant: TurnAssistant, transcript: Transcript) -> None:
        self.assistant = assistant
        self.transcript = transcript

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        try:
            reply = await self.assistant.respond(self.transcript)
        except (ModelError, TimeoutError) as exc:
            return [Emitted("ended", Ended("error", f"assistant: {_describe(exc)}"))]
        if reply.end is not None:
            return [Emitted("ended", Ended(reply.end, reply.error))]
        return [Emitted("said", Said(self.transcript.messages[-1].content))]


def _describe(exc: Exception) -> str:
    return "model call timed out" if isinstance(exc, TimeoutError) else str(exc)
