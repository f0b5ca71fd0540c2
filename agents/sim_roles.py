"""Scripts for the simulated backend in phase 1: what a model *would* answer, built from data.

Only `provider: simulated` models play these scripts (the gateway drops them for real
models). The proposer's script is a task instantiated from a domain pattern; the reviewer's
applies two mechanical checks a careful reviewer would; condensing roles answer verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agents.blueprint import Blueprint
from agents.committee import Review
from agents.scenario import SimReply, SimScenario
from domains.base import Task

_STATED_KEYS = {"order_id", "reservation_id", "email"}
"""Arguments only the user can supply; everything else the agent looks up."""
_QUESTION = re.compile(r"\?|\bhow much\b|\bwhat is\b|\btotal\b|\bhow many\b", re.IGNORECASE)


def proposer_script(anchor: Task | None, seed: int) -> SimScenario:
    """The proposer 'thinks', then answers the anchor task as JSON (or gives up without one)."""
    if anchor is None:
        replies = [SimReply(text="I could not find suitable data for this task.")]
    else:
        replies = [SimReply(json_value=anchor.model_dump(mode="json"))]
    return SimScenario(role="proposer", seed=seed, replies=replies)


def simulated_review(blueprint: Blueprint) -> Review:
    """Completeness: every identifier only the user can know is in the instruction;
    satisfaction: a question in the instruction comes with outputs."""
    missing = [
        str(value)
        for action in blueprint.actions
        for key, value in action.kwargs.items()
        if key in _STATED_KEYS and isinstance(value, str) and value not in blueprint.instruction
    ]
    unanswered = bool(_QUESTION.search(blueprint.instruction)) and not blueprint.outputs
    rationale = []
    if missing:
        rationale.append(f"the instruction never mentions {', '.join(sorted(set(missing)))}")
    if unanswered:
        rationale.append("the user asks for information but there are no outputs")
    return Review(
        correctness=1,
        completeness=int(not missing),
        satisfaction=int(not unanswered),
        creativity=1,
        rationale="; ".join(rationale) or "the calls match the instruction",
        correction="state every identifier and list the requested facts as outputs"
        if rationale
        else "",
    )


def reviewer_script(blueprint: Blueprint, seed: int) -> SimScenario:
    review = simulated_review(blueprint)
    return SimScenario(
        role="reviewer", seed=seed, replies=[SimReply(json_value=review.model_dump(mode="json"))]
    )


def text_script(role: str, text: str, seed: int) -> SimScenario:
    """A role whose simulated answer is the given text (summaries, reflections, merges)."""
    return SimScenario(role=role, seed=seed, replies=[SimReply(text=text)])


def merged_instruction(instructions: Sequence[str]) -> str:
    """A mechanical merge: the first instruction, then each further one joined by 'Also'."""
    parts = [instructions[0].strip()]
    for text in instructions[1:]:
        body = text.strip()
        parts.append("Also, " + body[0].lower() + body[1:] if body else "")
    return " ".join(part for part in parts if part)
