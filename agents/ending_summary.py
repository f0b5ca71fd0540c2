"""Run summaries by expected ending: how many accepted tasks act, refuse, transfer or answer.

Data that only ever ends in a write teaches an agent to act when it must refuse, so a run
shows how its accepted blueprints and kept trajectories split by ending.
"""

from __future__ import annotations

from collections import Counter

from agents.steps.base import BLUEPRINT
from agents.steps.load_task import TRAJECTORY
from domains.base import ENDINGS
from runtime.playbook import Playbook
from runtime.store import Store


async def ending_summary(store: Store, run_id: str, playbook: Playbook) -> list[str]:
    """`phase accepted by ending: act 21, refuse 4, ...` for phases that made blueprints or
    trajectories (endings of accepted items only)."""
    lines = []
    for phase in playbook.phases:
        items = await store.items(run_id, phase=phase.name, status="accepted")
        accepted = {item.item_key for item in items}
        endings: Counter[str] = Counter()
        for result in await store.results(run_id, phase.name):
            if result.item_key in accepted and result.kind in (BLUEPRINT, TRAJECTORY):
                endings[str(result.payload.get("ending") or "act")] += 1
        if endings:
            counts = ", ".join(f"{end} {endings[end]}" for end in ENDINGS if endings[end])
            lines.append(f"{phase.name} accepted by ending: {counts}")
    return lines
