"""Scripts for the simulated backend in phase 1: what a model *would* answer, built from data.

Only `provider: simulated` models play these scripts (the gateway drops them for real
models). The proposer's script is a task instantiated from a domain pattern; the reviewer's
applies two mechanical checks a careful reviewer would; condensing roles answer verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from agents.blueprints.blueprint import Blueprint
from agents.blueprints.committee import Review
from agents.dialogue.trajectory_policy import targets
from agents.simulated.scenario import SimReply, SimScenario
from domains.base import Task

_STATED_KEYS = {"order_id", "reservation_id", "email"}
"""Arguments only the user can supply; everything else the agent looks up."""
_QUESTION = re.compile(
    r"\?|\b(how much|how many|what is|what was|what are|(want|like) to know|find out)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z]+")
_CHANGE_WORDS = ("chang", "modif", "updat", "switch", "replac", "swap", "correct", "fix")


NO_TASK = "no_task"
"""How a proposer that could not build a task says so (with the missing ingredient)."""


def proposer_script(anchor: Task | None, seed: int, missing: str = "") -> SimScenario:
    """The proposer answers the anchor task as JSON, or gives up naming what was missing."""
    if anchor is None:
        reason = missing or "I could not find suitable data for this task"
        replies = [SimReply(text=f"{NO_TASK}: {reason}")]
    else:
        replies = [SimReply(json_value=anchor.model_dump(mode="json"))]
    return SimScenario(role="proposer", seed=seed, replies=replies)


def simulated_review(blueprint: Blueprint) -> Review:
    """Completeness: every identifier only the user can know is in the instruction;
    satisfaction: a question in the instruction comes with outputs (unless the right answer
    is a refusal or a transfer)."""
    missing = [
        str(value)
        for action in blueprint.actions
        for key, value in action.kwargs.items()
        if key in _STATED_KEYS and isinstance(value, str) and value not in blueprint.instruction
    ]
    unanswered = (
        blueprint.ending not in ("refuse", "transfer")
        and bool(_QUESTION.search(blueprint.instruction))
        and not blueprint.outputs
    )
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


def simulated_final_review(
    blueprint: Blueprint, words_of: Callable[[str], Sequence[str] | None]
) -> dict[str, Any]:
    """A mechanical alignment check: the instruction asks for every write (one of its action
    words, or a change verb next to one of its record ids, appears), and a question comes
    with outputs."""
    text = blueprint.instruction.lower()
    said = set(_WORD.findall(text))
    unrequested = []
    for action in blueprint.actions:
        words = words_of(action.name)
        if words is None:
            continue
        named = any(w.startswith(stem) for stem in words for w in said)
        changed = any(w.startswith(stem) for stem in _CHANGE_WORDS for w in said) and any(
            target.lower() in text for target in targets(action.kwargs)
        )
        if not (named or changed):
            unrequested.append(f"{action.name}: the instruction never asks for it")
    unaddressed = []
    answers = blueprint.ending not in ("refuse", "transfer")  # those answer with no facts
    if answers and _QUESTION.search(blueprint.instruction) and not blueprint.outputs:
        unaddressed.append("the user asks for information that no output gives")
    return {
        "aligned": not unrequested and not unaddressed,
        "unrequested_actions": unrequested,
        "unaddressed_requests": unaddressed,
        "rationale": "checked every write and question against the instruction",
    }


def final_review_script(
    blueprint: Blueprint, words_of: Callable[[str], Sequence[str] | None], seed: int
) -> SimScenario:
    review = simulated_final_review(blueprint, words_of)
    return SimScenario(role="final_reviewer", seed=seed, replies=[SimReply(json_value=review)])


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
