"""An episode's results: encoded as recorded, with the values a phase repeats kept once."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from runtime.steps import Episode
from runtime.store_types import SharedTexts


def _episode(phase: SimpleNamespace, key: str) -> Episode:
    return Episode(phase=phase, key=key, index=0, trial=0, seed=1)  # type: ignore[arg-type]


def test_the_episodes_of_a_phase_share_one_copy_of_a_repeated_value() -> None:
    phase = SimpleNamespace(shared_texts=SharedTexts())
    first, second = _episode(phase, "a"), _episode(phase, "b")
    tools = [{"name": "find_user", "parameters": {"type": "object"}}]
    first.record("trajectory", {"turns": 1}, shared={"tools": tools})
    second.record("trajectory", {"turns": 2}, shared={"tools": [dict(tools[0])]})
    one, two = first.results[0], second.results[0]
    assert json.loads(one.payload_json) == {"turns": 1}
    assert json.loads(one.shared["tools"]) == tools
    assert two.shared["tools"] is one.shared["tools"]


def test_a_value_given_twice_is_refused_by_name() -> None:
    episode = _episode(SimpleNamespace(shared_texts=SharedTexts()), "a")
    with pytest.raises(ValueError, match=r"\['tools'\] given both"):
        episode.record("trajectory", {"tools": [], "turns": 1}, shared={"tools": []})
    assert episode.results == []
