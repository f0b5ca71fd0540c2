"""Every tool of every registered domain, fuzzed with arbitrary argument dicts: a call never
raises, a failed call changes nothing, and no call reports an internal error (a tool bug)."""

from __future__ import annotations

from typing import Any, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from domains.environment import ERROR_PREFIX, Environment
from domains.registry import default_domain_registry, resolve_domain

DOMAINS = default_domain_registry().names()
SHIPPED = {"retail", "airline"}
OPTIONS: dict[str, dict[str, Any]] = {
    "compose": {
        "classes": [
            {"class": f"examples.workspace_domain:{name}", "as": alias}
            for name, alias in (("FileSystem", "fs"), ("Messenger", "chat"), ("TicketDesk", "desk"))
        ]
    }
}
"""Options of the registered domains that cannot build without any (which classes to compose)."""
EXAMPLES_PER_TOOL = 30
POOL_RECORDS = 40

FUZZ = settings(
    max_examples=EXAMPLES_PER_TOOL,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

junk: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _collect(value: Any, key: str, into: dict[str, set[Any]]) -> None:
    """Record every scalar under its field name (list members under the list's name too)."""
    if isinstance(value, dict):
        for name, item in value.items():
            _collect(item, str(name), into)
    elif isinstance(value, list):
        for item in value:
            _collect(item, key, into)
    elif isinstance(value, str | int | float | bool) and key:
        into.setdefault(key, set()).add(value)


def _values_by_field(env: Environment) -> dict[str, list[Any]]:
    """Values the state holds, by field name (`orders` keys also as `order_id`), so drawn
    arguments often name real records and calls reach past the lookups into the writes."""
    found: dict[str, set[Any]] = {}
    for table, records in env.snapshot().items():
        for key in sorted(records)[:POOL_RECORDS]:
            found.setdefault(f"{table.removesuffix('s')}_id", set()).add(key)
            _collect(records[key], "", found)
    return {name: sorted(values, key=repr) for name, values in found.items()}


def _candidates(field: str, values: dict[str, list[Any]]) -> list[Any]:
    for name in (field, field.removesuffix("s"), field.removeprefix("new_").removesuffix("s")):
        if name in values:
            return values[name]
    return []


def _field_value(field: str, annotation: Any, values: dict[str, list[Any]]) -> Any:
    """A value of the field's shape taken from the state (any state value if none fits)."""
    single = st.sampled_from(_candidates(field, values) or values["__all__"])
    return st.lists(single, max_size=4) if get_origin(annotation) is list else single


def _well_formed(model: type[BaseModel], values: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    """Every field filled with a state value of its name: calls reach the tools' own checks."""
    return st.fixed_dictionaries(
        {
            name: _field_value(name, info.annotation, values)
            for name, info in sorted(model.model_fields.items())
        }
    )


def _arbitrary(model: type[BaseModel], values: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    """Any keys (the tool's fields and strangers) with junk or state values."""
    fields = sorted(model.model_fields) or ["x"]
    return st.dictionaries(
        st.one_of(st.sampled_from(fields), st.text(max_size=8)),
        st.one_of(junk, st.sampled_from(values["__all__"])),
        max_size=len(fields) + 2,
    )


def _fuzz_tool(base: Environment, tool_name: str, arguments: st.SearchStrategy[Any]) -> None:
    """Call `tool_name` on fresh forks of `base` with drawn arguments, checking each result."""
    writes = base.domain.tools[tool_name].writes

    @FUZZ
    @given(args=arguments)
    def call_once(args: dict[str, Any]) -> None:
        env = base.fork()
        before = env.fingerprint()
        result = env.call(tool_name, args)
        assert "internal error" not in result.output, (tool_name, args, result.output)
        if not result.ok:
            assert result.output.startswith(ERROR_PREFIX), (tool_name, args, result.output)
            assert env.fingerprint() == before, (tool_name, args, result.output)
        elif not writes:
            assert env.fingerprint() == before, (tool_name, args)

    call_once()


def test_every_shipped_domain_is_registered() -> None:
    assert set(DOMAINS) >= SHIPPED


@pytest.mark.parametrize("domain_name", DOMAINS)
def test_no_tool_raises_or_changes_state_on_error(domain_name: str) -> None:
    domain = resolve_domain(domain_name)  # an import or build failure fails this test
    base = domain.environment(OPTIONS.get(domain_name))
    values = _values_by_field(base)
    values["__all__"] = sorted({v for vs in values.values() for v in vs}, key=repr)
    base_fingerprint = base.fingerprint()
    assert domain.tools, f"domain {domain_name!r} has no tools"
    for tool_name, tool in domain.tools.items():
        _fuzz_tool(base, tool_name, _well_formed(tool.args_model, values))
        _fuzz_tool(base, tool_name, _arbitrary(tool.args_model, values))
    assert base.fingerprint() == base_fingerprint
    assert base.diff() == []
