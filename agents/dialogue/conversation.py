"""A conversation between your own user and assistant objects, run as a protocol.

For applications that embed our agents without a playbook: `converse` attaches a
`HumanSimulator` and any whole-turn assistant (`TurnAssistant`: ours, or an autogen
`AssistantAgent` through `AutogenAssistant`) to a two-party protocol and returns the
transcript. The user speaks first; turns alternate until the user's stop token, a transfer,
a refusal, a tool loop that never answers, a failed model call, or the turn limit.
Playbook phases use the shipped conversation protocol instead, with the assistant's tool
calls routed to an environment role message by message.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel

from agents.dialogue.assistant import TurnAssistant
from agents.dialogue.human import HumanSimulator
from agents.dialogue.transcript import Transcript
from agents.roles.messages import Ended, Said
from agents.roles.turns import WholeTurnAssistant, WholeTurnUser
from runtime.protocol import (
    START,
    CheckedProtocol,
    ProtocolSpec,
    Role,
    RoleKind,
    RoleKinds,
    check_protocol,
)
from runtime.protocol_run import LimitReached, ProtocolRun


@dataclass(frozen=True)
class ConversationLimits:
    """When a conversation stops on its own: the turn limit and the human's stop token."""

    max_turns: int = 20
    stop_token: str = "###STOP###"


class _NoParams(BaseModel):
    pass


class _Attached(RoleKind):
    """A kind for roles the caller attaches (never built from a playbook)."""

    params_model = _NoParams

    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        raise TypeError(f"role {role!r} must be attached")


class _UserKind(_Attached):
    name = "embedded_user"
    accepts: ClassVar[dict[str, type[Any]]] = {START: object, "said": Said}
    emits: ClassVar[dict[str, type[Any]]] = {"said": Said, "ended": Ended}


class _AssistantKind(_Attached):
    name = "embedded_assistant"
    accepts: ClassVar[dict[str, type[Any]]] = {"said": Said}
    emits: ClassVar[dict[str, type[Any]]] = {"said": Said, "ended": Ended}


@functools.lru_cache(maxsize=16)
def _two_party(max_turns: int) -> CheckedProtocol:
    kinds = RoleKinds()
    kinds.register(_UserKind.name, _UserKind())
    kinds.register(_AssistantKind.name, _AssistantKind())
    spec = ProtocolSpec.model_validate(
        {
            "roles": {
                "user": {"agent": _UserKind.name},
                "assistant": {"agent": _AssistantKind.name},
            },
            "start": {"to": "user", "count": "turns"},
            "routes": [
                {"from": "user", "kind": "said", "to": "assistant"},
                {"from": "assistant", "kind": "said", "to": "user", "count": "turns"},
                {"from": "user", "kind": "ended", "end": "accepted"},
                {"from": "assistant", "kind": "ended", "end": "accepted"},
                {"from": "protocol", "kind": "limit.turns", "end": "unfinished"},
            ],
            "limits": {"turns": max_turns},
        }
    )
    checked = check_protocol(spec, kinds)
    assert isinstance(checked, CheckedProtocol), checked
    return checked


async def converse(
    human: HumanSimulator, assistant: TurnAssistant, limits: ConversationLimits
) -> Transcript:
    """Run one conversation between `human` and `assistant`; return its transcript."""
    # Built unvalidated: the prompt and tool schemas are the assistant's own (already
    # well-formed, read-only), shared with every episode instead of copied into each one.
    transcript = Transcript.model_construct(
        system=assistant.system_prompt, tools=list(assistant.tools), messages=[], best_of=[]
    )
    attached: dict[str, Role] = {
        "user": WholeTurnUser(human, transcript, limits.stop_token),
        "assistant": WholeTurnAssistant(assistant, transcript),
    }
    run = ProtocolRun(_two_party(limits.max_turns), None, None, attached=attached)
    result = await run.run(start=None)
    if isinstance(result.last, LimitReached):
        transcript.end = "max_turns"
    else:
        assert isinstance(result.last, Ended)
        transcript.end, transcript.error = result.last.how, result.last.error  # type: ignore[assignment]
    return transcript
