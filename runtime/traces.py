"""An episode's protocol message trace, as `inspect RUN --trace ITEM` shows it: who said which
kind of message to whom, in order, per attempt (recorded by `protocol` steps)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runtime.errors import UsageError
from runtime.playbook import Playbook
from runtime.protocol_step import TRACE
from runtime.store import Store

TEXT_WIDTH = 90
"""Characters of a message's text shown per line (JSON has it whole)."""


@dataclass(frozen=True)
class EpisodeTrace:
    """The traces of one episode: one per attempt, each a list of [sender, receiver, kind, text]."""

    phase: str
    item_key: str
    attempts: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"phase": self.phase, "item": self.item_key, "attempts": self.attempts}


def matches(item_key: str, wanted: str) -> bool:
    """Whether an item key is the one asked for: exactly, or by number (`7` is `000007` and
    each of its trials, `7.t2` is `000007.t2`)."""
    if item_key == wanted:
        return True
    base, _, trial = wanted.partition(".")
    key_base, _, key_trial = item_key.partition(".")
    same_item = base.isdigit() and key_base.isdigit() and int(base) == int(key_base)
    return same_item and (not trial or trial == key_trial)


async def read_trace(
    store: Store, run_id: str, playbook: Playbook, item: str, phase: str | None
) -> EpisodeTrace:
    """The trace of `item` (in `phase`, or in the one phase whose protocol traced it)."""
    phases = [p.name for p in playbook.phases]
    if phase is not None and phase not in phases:
        raise UsageError(f"--phase: no phase {phase!r} in this run (phases: {', '.join(phases)})")
    found: list[EpisodeTrace] = []
    for name in [phase] if phase is not None else phases:
        records = await store.results(run_id, name, kind=TRACE)
        keys = sorted({r.item_key for r in records if matches(r.item_key, item)})
        for key in keys:
            attempts = [r.payload for r in records if r.item_key == key]
            found.append(EpisodeTrace(name, key, attempts))
    if not found:
        where = f"phase {phase!r}" if phase is not None else "any phase"
        raise UsageError(
            f"--trace: no trace of item {item!r} in {where} (traces are kept for items that "
            "ran a protocol step; item keys look like 000000 or 000000.t1)"
        )
    if len(found) > 1:
        options = ", ".join(f"{t.phase}/{t.item_key}" for t in found)
        narrow = "add --phase" if len({t.phase for t in found}) > 1 else "name one"
        raise UsageError(f"--trace: {item!r} names several traced items ({options}): {narrow}")
    return found[0]


def trace_lines(trace: EpisodeTrace) -> list[str]:
    """The trace as text: one numbered line per message, a heading per attempt."""
    lines: list[str] = []
    for attempt in trace.attempts:
        messages = attempt.get("messages", [])
        heading = f"{trace.phase}/{trace.item_key} attempt {attempt.get('attempt', '?')}"
        lines.append(f"{heading}: {len(messages)} messages")
        width = max((len(f"{s} -> {r}") for s, r, _, _ in messages), default=0)
        for number, (sender, receiver, kind, text) in enumerate(messages, start=1):
            route = f"{sender} -> {receiver}".ljust(width)
            shown = " ".join(str(text).split())
            if len(shown) > TEXT_WIDTH:
                shown = shown[: TEXT_WIDTH - 1] + "…"
            lines.append(f"  {number:3d}  {route}  {kind:<14} {shown}".rstrip())
    return lines
