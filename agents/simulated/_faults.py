"""Fault injection for the simulated backend: seeded draws and the reply transforms.

Every draw hashes (seed, role, turn index, fault), so the same request always gets the
same faults, independent of call order or concurrency.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Collection, Mapping
from typing import Any

from agents.simulated.scenario import SimToolCall
from runtime.model_config import FaultName

REFUSAL = "I'm sorry, but I can't help with that request."


def fires(
    seed: int, role: str, index: int, fault: FaultName, rates: Mapping[FaultName, float]
) -> bool:
    """Whether `fault` strikes this turn, at the configured rate."""
    rate = rates.get(fault, 0.0)
    if rate <= 0.0:
        return False
    digest = hashlib.sha256(f"{seed}:{role}:{index}:{fault}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def fault_rng(seed: int, role: str, index: int, fault: FaultName) -> random.Random:
    """The generator that decides *how* a fault that struck reshapes the reply."""
    return random.Random(f"{seed}:{role}:{index}:{fault}:shape")


def corrupt_json(text: str, rng: random.Random) -> str:
    """Truncate JSON text so it no longer parses (as a model cut off mid-answer would)."""
    cut = rng.randint(max(1, len(text) // 3), max(1, len(text) - 1))
    broken = text[:cut]
    try:
        json.loads(broken)
    except ValueError:
        return broken
    return text + "}"


def rename_tool(
    calls: list[SimToolCall], tool_names: Collection[str], rng: random.Random
) -> list[SimToolCall]:
    """Rename one call to a tool that the request does not offer."""
    index = rng.randrange(len(calls))
    name = calls[index].name + "_v2"
    while name in tool_names:
        name += "_v2"
    renamed = list(calls)
    renamed[index] = calls[index].model_copy(update={"name": name})
    return renamed


def perturb_argument(calls: list[SimToolCall], rng: random.Random) -> list[SimToolCall] | None:
    """Change one argument value, keeping its shape; None when no argument can change."""
    candidates = [
        (index, key)
        for index, call in enumerate(calls)
        for key in sorted(call.arguments)
        if _can_perturb(call.arguments[key])
    ]
    if not candidates:
        return None
    index, key = rng.choice(candidates)
    changed = list(calls)
    arguments = dict(calls[index].arguments)
    arguments[key] = _perturb(arguments[key], rng)
    changed[index] = calls[index].model_copy(update={"arguments": arguments})
    return changed


def _perturb(value: Any, rng: random.Random) -> Any:
    """A near-miss of a `_can_perturb` value: last digit or letter moved on, number +1, ..."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return _perturb_text(value)
    if isinstance(value, list):
        positions = [i for i, item in enumerate(value) if _can_perturb(item)]
        position = rng.choice(positions)
        return [*value[:position], _perturb(value[position], rng), *value[position + 1 :]]
    if isinstance(value, dict):
        keys = [key for key in sorted(value) if _can_perturb(value[key])]
        key = rng.choice(keys)
        return {**value, key: _perturb(value[key], rng)}
    raise TypeError(f"cannot perturb {type(value).__name__}")


def _can_perturb(value: Any) -> bool:
    if isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list):
        return any(_can_perturb(item) for item in value)
    if isinstance(value, dict):
        return any(_can_perturb(item) for item in value.values())
    return False


def _perturb_text(text: str) -> str:
    for position in range(len(text) - 1, -1, -1):
        char = text[position]
        if char.isdigit():
            return text[:position] + str((int(char) + 1) % 10) + text[position + 1 :]
    for position in range(len(text) - 1, -1, -1):
        char = text[position]
        if char.isascii() and char.isalpha():
            base = ord("a") if char.islower() else ord("A")
            shifted = chr(base + (ord(char) - base + 1) % 26)
            return text[:position] + shifted + text[position + 1 :]
    return text + "x"
