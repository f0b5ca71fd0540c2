"""Playing a scenario: which reply a request gets, with which faults, rendered as a result.

The position in the script is the number of assistant turns in the request, so a tool loop
and a multi-turn conversation both advance through it. Earlier turns are replayed (cheaply,
without rendering) because a skipped confirmation or an early stop moves later replies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from autogen_core import FunctionCall
from autogen_core.models import FinishReasons

from agents.simulated import _faults
from agents.simulated.scenario import SimReply, SimScenario, SimToolCall
from runtime.model_config import FaultName


@dataclass(frozen=True)
class Played:
    """What the simulated model answers for one request, and which faults it injected."""

    content: str | list[FunctionCall]
    finish_reason: FinishReasons
    faults: tuple[FaultName, ...]


@dataclass(frozen=True)
class _Pick:
    """The reply chosen for one turn (None: a fixed text) and where the script goes next."""

    reply: SimReply | None
    text: str
    faults: tuple[FaultName, ...]
    next_cursor: int


def play(
    scenario: SimScenario,
    index: int,
    rates: Mapping[FaultName, float],
    tool_names: Collection[str],
) -> Played:
    """The scripted answer at turn `index`, with the role's faults applied."""
    cursor = 0
    for turn in range(index + 1):
        pick = _pick(scenario, turn, cursor, rates)
        cursor = pick.next_cursor
    if pick.reply is None:
        return Played(pick.text, "stop", pick.faults)
    return _render(scenario, index, pick.reply, pick.faults, rates, tool_names)


def _pick(scenario: SimScenario, turn: int, cursor: int, rates: Mapping[FaultName, float]) -> _Pick:
    replies = scenario.replies
    end = len(replies)
    if cursor >= end:
        return _Pick(None, scenario.closing_text(), (), cursor)

    def strikes(fault: FaultName) -> bool:
        return _faults.fires(scenario.seed, scenario.role, turn, fault, rates)

    if scenario.human_like and strikes("premature_stop"):
        return _Pick(None, scenario.stop_token, ("premature_stop",), end)
    if strikes("refusal"):
        return _Pick(None, _faults.REFUSAL, ("refusal",), end)
    faults: tuple[FaultName, ...] = ()
    if replies[cursor].confirmation and cursor + 1 < end and strikes("skipped_confirmation"):
        cursor += 1
        faults = ("skipped_confirmation",)
    reply = replies[cursor]
    return _Pick(reply, "", faults, end if reply.final else cursor + 1)


def _render(
    scenario: SimScenario,
    index: int,
    reply: SimReply,
    faults: tuple[FaultName, ...],
    rates: Mapping[FaultName, float],
    tool_names: Collection[str],
) -> Played:
    seed, role = scenario.seed, scenario.role

    def strikes(fault: FaultName) -> bool:
        return _faults.fires(seed, role, index, fault, rates)

    if reply.tool_calls is not None:
        calls = list(reply.tool_calls)
        if calls and strikes("unknown_tool"):
            calls = _faults.rename_tool(
                calls, tool_names, _faults.fault_rng(seed, role, index, "unknown_tool")
            )
            faults += ("unknown_tool",)
        if strikes("wrong_argument"):
            changed = _faults.perturb_argument(
                calls, _faults.fault_rng(seed, role, index, "wrong_argument")
            )
            if changed is not None:
                calls = changed
                faults += ("wrong_argument",)
        return Played(_function_calls(seed, role, index, calls), "function_calls", faults)
    if reply.text is not None:
        return Played(reply.text, "stop", faults)
    value, embedded = _embedded_call_faults(
        reply.json_value, strikes, seed, role, index, tool_names
    )
    faults += embedded
    text = json.dumps(value, ensure_ascii=False)
    if strikes("malformed_json"):
        text = _faults.corrupt_json(text, _faults.fault_rng(seed, role, index, "malformed_json"))
        faults += ("malformed_json",)
    if reply.reasoning:
        text = f"Reasoning: {reply.reasoning}\n{text}"
    return Played(text, "stop", faults)


def _embedded_call_faults(
    value: Any,
    strikes: Callable[[FaultName], bool],
    seed: int,
    role: str,
    index: int,
    tool_names: Collection[str],
) -> tuple[Any, tuple[FaultName, ...]]:
    """Call faults inside JSON that plans calls (`{"actions": [{name, kwargs}]}`, a blueprint).

    A proposer writes tool calls as data, so unknown-tool and wrong-argument faults reach
    them there, just as they reach an assistant's real tool calls.
    """
    actions = value.get("actions") if isinstance(value, dict) else None
    if not isinstance(actions, list) or not all(
        isinstance(a, dict) and isinstance(a.get("kwargs", {}), dict) for a in actions
    ):
        return value, ()
    calls = [SimToolCall(name=str(a.get("name")), arguments=a.get("kwargs", {})) for a in actions]
    faults: tuple[FaultName, ...] = ()
    if calls and strikes("unknown_tool"):
        rng = _faults.fault_rng(seed, role, index, "unknown_tool")
        calls = _faults.rename_tool(calls, tool_names, rng)
        faults += ("unknown_tool",)
    if strikes("wrong_argument"):
        changed = _faults.perturb_argument(
            calls, _faults.fault_rng(seed, role, index, "wrong_argument")
        )
        if changed is not None:
            calls = changed
            faults += ("wrong_argument",)
    if not faults:
        return value, ()
    planned = [{"name": call.name, "kwargs": call.arguments} for call in calls]
    return {**value, "actions": planned}, faults


def _function_calls(
    seed: int, role: str, index: int, calls: list[SimToolCall]
) -> list[FunctionCall]:
    """Autogen function calls with stable ids, arguments as JSON text."""
    rendered = []
    for position, call in enumerate(calls):
        digest = hashlib.sha256(f"{seed}:{role}:{index}:{position}".encode()).hexdigest()
        arguments = json.dumps(call.arguments, ensure_ascii=False, sort_keys=True)
        rendered.append(FunctionCall(id=f"call_{digest[:16]}", name=call.name, arguments=arguments))
    return rendered
