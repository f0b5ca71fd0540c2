"""Fuzzing every airline tool: calls never raise, failures change nothing, records stay valid."""

from __future__ import annotations

from typing import Any

from airline_fixtures import airline_env, airline_tables
from fuzz_support import check_arbitrary_call, check_call_sequence
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domains.airline import TOOLS
from domains.airline.records import SCHEMAS

BASE = airline_env()
_TABLES = airline_tables()
USER_IDS = sorted(_TABLES["users"])
FLIGHT_NUMBERS = sorted(_TABLES["flights"])
RESERVATION_IDS = sorted(_TABLES["reservations"])
METHOD_IDS = sorted(m for u in _TABLES["users"].values() for m in u["payment_methods"])
DATES = sorted({day for f in _TABLES["flights"].values() for day in f["dates"]})
AIRPORTS = ["JFK", "ORD", "LAX", "DEN", "SFO"]
PEOPLE = [p for r in _TABLES["reservations"].values() for p in r["passengers"]]

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
amounts = st.one_of(st.integers(-100, 2000), st.floats(-100, 2000, allow_nan=False))
flight_choices = st.lists(
    st.fixed_dictionaries(
        {
            "flight_number": st.sampled_from([*FLIGHT_NUMBERS, "HAT999"]),
            "date": st.sampled_from([*DATES, "2024-05-9", "x"]),
        }
    ),
    max_size=3,
)
BY_NAME: dict[str, st.SearchStrategy[Any]] = {
    "user_id": st.sampled_from([*USER_IDS, "nobody_1"]),
    "reservation_id": st.sampled_from([*RESERVATION_IDS, "HATHAT", "ZZZ999"]),
    "payment_id": st.sampled_from([*METHOD_IDS, "gift_card_0"]),
    "origin": st.sampled_from(AIRPORTS),
    "destination": st.sampled_from(AIRPORTS),
    "date": st.sampled_from([*DATES, "2024-05-9", "May"]),
    "cabin": st.sampled_from(["basic_economy", "economy", "business", "first"]),
    "flight_type": st.sampled_from(["one_way", "round_trip"]),
    "insurance": st.sampled_from(["yes", "no"]),
    "flights": flight_choices,
    "passengers": st.lists(st.sampled_from(PEOPLE), max_size=4),
    "payment_methods": st.lists(
        st.fixed_dictionaries(
            {"payment_id": st.sampled_from([*METHOD_IDS, "x"]), "amount": amounts}
        ),
        max_size=3,
    ),
    "total_baggages": st.integers(-2, 8),
    "nonfree_baggages": st.integers(-2, 8),
    "amount": amounts,
    "expression": st.text(alphabet="0123456789+-*/(). x", max_size=20),
}
ARG_NAMES = sorted({name for t in TOOLS for name in t.args_model.model_fields})


@st.composite
def arguments(draw: st.DrawFn, tool_name: str) -> dict[str, Any]:
    """Mostly well-typed arguments (existing and unknown ids), sometimes junk or extra keys."""
    fields = list(next(t for t in TOOLS if t.name == tool_name).args_model.model_fields)
    args: dict[str, Any] = {}
    for name in fields:
        roll = draw(st.integers(0, 29))
        if roll == 0:
            continue
        args[name] = draw(junk) if roll == 1 else draw(BY_NAME.get(name, st.text(max_size=10)))
    if draw(st.integers(0, 19)) == 0:
        args[draw(st.sampled_from([*ARG_NAMES, "extra"]))] = draw(junk)
    return args


calls = st.sampled_from([t.name for t in TOOLS]).flatmap(
    lambda name: st.tuples(st.just(name), arguments(name))
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(calls, min_size=1, max_size=5))
def test_any_call_sequence_returns_results_and_failed_calls_change_nothing(
    sequence: list[tuple[str, dict[str, Any]]],
) -> None:
    check_call_sequence(BASE, sequence, SCHEMAS)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([t.name for t in TOOLS]), st.dictionaries(st.text(max_size=8), junk, max_size=4)
)
def test_arbitrary_argument_dicts_never_raise(name: str, args: dict[str, Any]) -> None:
    check_arbitrary_call(BASE, name, args)


NESTED_FIELDS = {"flight_number", "date", "first_name", "last_name", "dob", "payment_id", "amount"}
extras = st.dictionaries(
    st.text(max_size=12).filter(lambda key: key not in NESTED_FIELDS), junk, min_size=1, max_size=3
)


def _with_extras(args: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """The same arguments, every object inside a list argument given some unknown keys."""
    return {
        name: [{**item, **draw(extras)} if isinstance(item, dict) else item for item in value]
        if isinstance(value, list)
        else value
        for name, value in args.items()
    }


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(calls, min_size=1, max_size=4), st.data())
def test_unknown_keys_in_nested_objects_change_no_output_and_no_state(
    sequence: list[tuple[str, dict[str, Any]]], data: st.DataObject
) -> None:
    plain, extended = BASE.fork(), BASE.fork()
    for name, args in sequence:
        expected = plain.call(name, args)
        result = extended.call(name, _with_extras(args, data.draw))
        assert (result.ok, result.output) == (expected.ok, expected.output)
        assert extended.fingerprint() == plain.fingerprint()
