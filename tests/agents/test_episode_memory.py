"""A finished episode's objects are freed by reference counting: none waits for the cyclic
collector (at thousands of live episodes, cyclic garbage is most of the memory)."""

from __future__ import annotations

import gc
from collections import Counter
from pathlib import Path

import pytest

from runtime.api import load_playbook, run_playbook

pytestmark = pytest.mark.anyio

PLAYBOOK = Path(__file__).parents[2] / "playbooks" / "trajectories.yaml"
PER_EPISODE = ("Episode", "EpisodeScope", "Transcript", "ChatMessage", "ProtocolRun")


async def test_finished_episodes_leave_no_cyclic_garbage(tmp_path: Path) -> None:
    loaded = load_playbook(PLAYBOOK, overrides={"store": str(tmp_path)})
    gc.collect()
    gc.disable()
    try:
        summary = await run_playbook(loaded)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        garbage = Counter(type(thing).__name__ for thing in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert sum(summary.counts["trajectories"].values()) == 27
    assert {name: garbage[name] for name in PER_EPISODE} == dict.fromkeys(PER_EPISODE, 0)
