"""Scripts for the simulated backend in phase 2: a human and an assistant playing a blueprint.

The simulated client picks reply i when its request already holds i assistant messages, so
each script is a flat list in the order that role speaks: the assistant's tool calls, its
confirmation questions and its final answer; the human's request, its yeses, then the stop
token. Real models ignore these scripts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection

from agents.blueprints.blueprint import Blueprint
from agents.simulated.scenario import SimReply, SimScenario, SimToolCall
from domains.base import Action, Ending

_PRONOUNS = [
    (re.compile(r"\byou are\b", re.IGNORECASE), "I am"),
    (re.compile(r"\byou were\b", re.IGNORECASE), "I was"),
    (re.compile(r"\byou're\b", re.IGNORECASE), "I'm"),
    (re.compile(r"\byou've\b", re.IGNORECASE), "I've"),
    (re.compile(r"\byou'd\b", re.IGNORECASE), "I'd"),
    (re.compile(r"\byou'll\b", re.IGNORECASE), "I'll"),
    (re.compile(r"\byourself\b", re.IGNORECASE), "myself"),
    (re.compile(r"\byours\b", re.IGNORECASE), "mine"),
    (re.compile(r"\byour\b", re.IGNORECASE), "my"),
    (
        re.compile(
            r"\b(to|for|with|from|about|at|by|help|tell|give|send|ask|asks|call|show|let|"
            r"contact|email|remind|charge|refund|pay|offer)\s+you\b",
            re.IGNORECASE,
        ),
        r"\1 me",
    ),
    (re.compile(r"\byou\b", re.IGNORECASE), "I"),
]
_SENTENCE_START = re.compile(r"(^|[.!?]\s+)([a-z])")
_IDENTIFIER = re.compile(r"#?[A-Za-z_]*\d[\w#-]*")
_AWAITING = re.compile(
    r"\b(confirm|proceed|shall i|should i|how can i help)\b[^?]*\?\s*$", re.IGNORECASE
)


def first_person(instruction: str) -> str:
    """The second-person instruction as the user would say it ("You want" -> "I want")."""
    text = instruction.strip()
    for pattern, replacement in _PRONOUNS:
        text = pattern.sub(replacement, text)
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def describe_action(action: Action) -> str:
    """`name` with its arguments spelled out, as an assistant would list them to confirm."""
    details = ", ".join(f"{key}: {json.dumps(value)}" for key, value in action.kwargs.items())
    return f"{action.name.replace('_', ' ')} ({details})" if details else action.name


def final_answer(outputs: list[str], ending: Ending = "act") -> str:
    """The assistant's closing message, naming every required output (a refusal first says
    that the policy does not allow the request)."""
    opening = {
        "act": "All done.",
        "answer": "Here is what I found.",
        "refuse": "I'm sorry, but our policy does not allow that request, so I will not make "
        "this change.",
        "transfer": "I am transferring you to a human agent.",
    }[ending]
    if not outputs:
        return f"{opening} Is there anything else I can help you with?"
    return f"{opening} Here are the details you asked for: {'; '.join(outputs)}."


def assistant_script(blueprint: Blueprint, write_tools: Collection[str], seed: int) -> SimScenario:
    """The ground-truth calls one at a time, a confirmation before each write, then outputs
    (or, for a task the policy forbids, a refusal)."""
    replies: list[SimReply] = []
    for action in blueprint.actions:
        if action.name in write_tools:
            question = f"To confirm, I will {describe_action(action)}. Shall I proceed (yes/no)?"
            replies.append(SimReply(text=question, confirmation=True))
        call = SimToolCall(name=action.name, arguments=dict(action.kwargs))
        replies.append(SimReply(tool_calls=[call]))
    ending = blueprint.resolved_ending(write_tools)
    replies.append(SimReply(text=final_answer(blueprint.outputs, ending), final=True))
    return SimScenario(role="assistant", seed=seed, replies=replies)


def human_script(
    blueprint: Blueprint, write_tools: Collection[str], seed: int, stop_token: str
) -> SimScenario:
    """The request (with every identifier), a yes per confirmation, then the stop token."""
    writes = sum(action.name in write_tools for action in blueprint.actions)
    replies = [SimReply(text=f"Hi. {first_person(blueprint.instruction)}")]
    replies.extend(SimReply(text="Yes, please go ahead.") for _ in range(writes))
    replies.append(SimReply(text=stop_token, final=True))
    return SimScenario(role="human", seed=seed, replies=replies, stop_token=stop_token)


def simulated_judgement(
    instruction: str, candidate: str, stop_token: str, last_agent_message: str
) -> tuple[int, str]:
    """A mechanical judge: invented identifiers, empty turns and stopping while the agent
    waits for a request or a confirmation cost points."""
    text = candidate.replace(stop_token, "").strip()
    invented = sorted({m for m in _IDENTIFIER.findall(text) if m not in instruction})
    if invented:
        return 2, f"mentions identifiers not in the instruction: {', '.join(invented)}"
    if stop_token in candidate and _AWAITING.search(last_agent_message):
        return 1, "stops while the agent is waiting for an answer"
    if not text and stop_token not in candidate:
        return 0, "the turn says nothing"
    return 10, "faithful to the instruction"


def judge_script(
    instruction: str, candidate: str, stop_token: str, last_agent_message: str, seed: int
) -> SimScenario:
    score, reason = simulated_judgement(instruction, candidate, stop_token, last_agent_message)
    reply = SimReply(json_value={"score": score, "reason": reason})
    return SimScenario(role="user_judge", seed=seed, replies=[reply])
