"""The invariants every domain's fuzz tests check, shared by the per-domain fuzzers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from domains.environment import Environment


def check_call_sequence(
    base: Environment,
    sequence: Sequence[tuple[str, dict[str, Any]]],
    schemas: Mapping[str, type[BaseModel]],
) -> None:
    """Calls return results; failed calls and reads change nothing; written records stay
    valid; the base environment is never touched."""
    env = base.fork()
    for name, args in sequence:
        before = env.fingerprint()
        result = env.call(name, args)
        assert "internal error" not in result.output
        if not result.ok:
            assert result.output.startswith("Error: ")
            assert env.fingerprint() == before
        elif not env.domain.tools[name].writes:
            assert env.fingerprint() == before
    for change in env.diff():
        if change.after is not None:
            schemas[change.table].model_validate(change.after)
    assert base.diff() == []


def check_arbitrary_call(base: Environment, name: str, args: dict[str, Any]) -> None:
    """Any argument dict gives a result, never an exception; an error changes nothing."""
    env = base.fork()
    before = env.fingerprint()
    result = env.call(name, args)
    assert "internal error" not in result.output
    if not result.ok:
        assert env.fingerprint() == before
