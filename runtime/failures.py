"""Why attempts failed, grouped by kind: the reason's code, with a count and one example.

Steps fail with reasons `code: detail` (`state_mismatch: orders/#W1 (missing)`, `policy: R4
(action 3): ...`, `tool_error: ...`); the run records them per failed attempt beside the
step's name, and a work item's reason is `step: code: detail`. Grouping by code instead of
by full text turns a list of one-off strings into a few counts that say what goes wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_CODE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(?::|$)")


@dataclass(frozen=True)
class FailedAttempt:
    """One failed attempt: the step that failed it and its reasons, as recorded."""

    step: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class FailureKind:
    """How many failed attempts had a reason of this kind, and the first such reason."""

    kind: str
    count: int
    example: str


def reason_kind(reason: str, step: str = "") -> str:
    """The code before the first colon (`state_mismatch`), or a bare code (`timeout`); for
    text without one (a reviewer's sentence), the step that gave it, else `other`."""
    found = _CODE.match(reason)
    if found:
        return found.group(1)
    return step or "other"


def failure_kinds(attempts: Iterable[FailedAttempt]) -> list[FailureKind]:
    """Kinds by how many attempts failed with one (an attempt counts once per kind it has),
    most frequent first, ties in order of appearance; each with its first reason."""
    counts: dict[str, int] = {}
    examples: dict[str, str] = {}
    for attempt in attempts:
        seen: set[str] = set()
        for reason in attempt.reasons or ("",):
            kind = reason_kind(reason, attempt.step)
            if kind in seen:
                continue
            seen.add(kind)
            counts[kind] = counts.get(kind, 0) + 1
            example = ": ".join(part for part in (attempt.step, reason) if part)
            examples.setdefault(kind, example)
    order = sorted(counts, key=lambda kind: -counts[kind])  # stable: ties keep first appearance
    return [FailureKind(kind, counts[kind], examples[kind]) for kind in order]


def failures_json(attempts: int, kinds: list[FailureKind]) -> dict[str, Any]:
    """`{attempts, kinds: [{kind, count, example}]}` for `inspect --json`."""
    return {
        "attempts": attempts,
        "kinds": [{"kind": k.kind, "count": k.count, "example": k.example} for k in kinds],
    }
