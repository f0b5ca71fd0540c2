"""The user of phase 2 played from outside the run: by an embedding program's own function,
or by a person at the terminal (`run --role user=console`). What they say is recorded and
verified like a simulated user's turns; they see only their task and the assistant's words.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from agents.roles.dialogue import STOP_TOKEN, say_as_user
from agents.roles.messages import Said
from agents.roles.scope import EpisodeScope
from runtime.errors import RunStopped
from runtime.protocol import Emitted, Role
from runtime.protocol_step import RoleFactory
from runtime.stop import StopSwitch


class PlayerLeft(Exception):
    """The user's player is gone (the console's input ended): the run stops, resumable."""


@dataclass(frozen=True)
class UserTurn:
    """What the user's player is told before each of its turns."""

    episode: str
    instruction: str
    heard: str  # what the assistant just said ("" before the first turn)
    turn: int  # the user's turns so far


Speak = Callable[[UserTurn], Awaitable[str]]
"""The player: the user's next words (with the stop token, or empty, to end the dialogue)."""


class PlayedUser(Role):
    """The user role, its words coming from `speak`."""

    def __init__(self, scope: EpisodeScope, speak: Speak, stop_token: str = STOP_TOKEN):
        self.scope = scope
        self.speak = speak
        self.stop_token = stop_token

    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        scope = self.scope
        turn = UserTurn(
            episode=scope.episode.key,
            instruction=scope.blueprint.instruction,
            heard=message.text if isinstance(message, Said) else "",
            turn=scope.transcript.turns,
        )
        try:
            text = (await self.speak(turn)).strip()
        except PlayerLeft as exc:
            stopped = RunStopped("player", f"the user's player left ({exc}): nothing recorded")
            StopSwitch.of(scope.services.phase.resources).trip(stopped)
            raise stopped from exc
        return say_as_user(scope, text or self.stop_token, self.stop_token)


def played_user(speak: Speak, stop_token: str = STOP_TOKEN) -> RoleFactory:
    """A factory for `run_playbook(..., attach={"human": played_user(speak)})`."""

    def build(scope: Any) -> Role:
        assert isinstance(scope, EpisodeScope)
        return PlayedUser(scope, speak, stop_token)

    return build


async def console_speak(turn: UserTurn) -> str:
    """A person at the terminal: shown the task and the assistant's words, types the user's
    turns; an empty line ends the conversation, the end of input stops the run."""
    if turn.turn == 0:
        print(f"\n== episode {turn.episode}: you are the user. Your task:\n{turn.instruction}")
        print("(an empty line ends the conversation)")
    if turn.heard:
        print(f"assistant: {turn.heard}")
    line = await anyio.to_thread.run_sync(_read_line, abandon_on_cancel=True)
    if line is None:
        raise PlayerLeft("end of input")
    return line


def _read_line() -> str | None:
    """A line typed at the terminal; None at the end of input."""
    sys.stdout.write("you> ")
    sys.stdout.flush()
    line = sys.stdin.readline()
    return line or None


PLAYERS: dict[str, Speak] = {"console": console_speak}
"""Players a command line can name: `run --role user=console`."""
