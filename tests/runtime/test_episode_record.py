"""An episode's results: encoded as recorded, with the values a phase repeats kept once."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from runtime.steps import Episode


def _episode(key: str) -> Episode:
    return Episode(phase=SimpleNamespace(), key=key, index=0, trial=0, seed=1)  # type: ignore[arg-type]


def test_episodes_share_one_copy_of_a_repeated_value() -> None:
    first, second = _episode("a"), _episode("b")
    tools = [{"name": "find_user", "parameters": {"type": "object"}}]
    first.record("trajectory", {"turns": 1}, shared={"tools": tools})
    second.record("trajectory", {"turns": 2}, shared={"tools": [dict(tools[0])]})
    one, two = first.results[0], second.results[0]
    assert json.loads(one.payload_json) == {"turns": 1}
    assert json.loads(one.shared["tools"]) == tools
    assert two.shared["tools"] is one.shared["tools"]


def test_a_value_given_twice_is_refused_by_name() -> None:
    episode = _episode("a")
    with pytest.raises(ValueError, match=r"\['tools'\] given both"):
        episode.record("trajectory", {"tools": [], "turns": 1}, shared={"tools": []})
    assert episode.results == []
