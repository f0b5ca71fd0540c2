"""Fuzzing every retail tool: calls never raise, failures change nothing, records stay valid."""

from __future__ import annotations

from typing import Any

from fuzz_support import check_arbitrary_call, check_call_sequence
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from retail_fixtures import retail_env, retail_tables

from domains.retail import TOOLS
from domains.retail.records import SCHEMAS

BASE = retail_env()
_TABLES = retail_tables()
ORDER_IDS = sorted(_TABLES["orders"])
USER_IDS = sorted(_TABLES["users"])
PRODUCT_IDS = sorted(_TABLES["products"])
ITEM_IDS = sorted(i for p in _TABLES["products"].values() for i in p["variants"])
METHOD_IDS = sorted(m for u in _TABLES["users"].values() for m in u["payment_methods"])
EMAILS = [user["email"] for user in _TABLES["users"].values()]

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
id_lists = st.lists(st.sampled_from([*ITEM_IDS, "0", ""]), max_size=4)
BY_NAME: dict[str, st.SearchStrategy[Any]] = {
    "order_id": st.sampled_from([*ORDER_IDS, "#W9999999"]),
    "user_id": st.sampled_from([*USER_IDS, "nobody_1"]),
    "product_id": st.sampled_from(PRODUCT_IDS + ITEM_IDS[:2]),
    "payment_method_id": st.sampled_from([*METHOD_IDS, "gift_card_0"]),
    "item_ids": id_lists,
    "new_item_ids": id_lists,
    "reason": st.sampled_from(["no longer needed", "ordered by mistake", "bored"]),
    "email": st.sampled_from([*EMAILS, "ANN.LEE@EXAMPLE.COM"]),
    "first_name": st.sampled_from(["Ann", "bob", "Zed"]),
    "last_name": st.sampled_from(["Lee", "NG"]),
    "zip": st.sampled_from(["10001", "94110", "00000"]),
    "expression": st.text(alphabet="0123456789+-*/(). x", max_size=20),
}
ARG_NAMES = sorted({name for t in TOOLS for name in t.args_model.model_fields})


@st.composite
def arguments(draw: st.DrawFn, tool_name: str) -> dict[str, Any]:
    """Mostly well-typed arguments (existing and unknown ids), sometimes junk or extra keys.

    Item and payment ids are often drawn from the chosen order so writes can succeed.
    """
    fields = list(next(t for t in TOOLS if t.name == tool_name).args_model.model_fields)
    args: dict[str, Any] = {}
    for name in fields:
        roll = draw(st.sampled_from(range(40)))
        if roll == 0:
            continue
        if roll == 1:
            args[name] = draw(junk)
        elif roll == 2:
            args[name] = draw(st.text(max_size=10))
        else:
            args[name] = draw(BY_NAME.get(name, st.text(max_size=10)))
    order_id = args.get("order_id")
    order = _TABLES["orders"].get(order_id) if isinstance(order_id, str) else None
    if "item_ids" in args and order and draw(st.sampled_from(range(3))):
        lines = draw(st.lists(st.sampled_from(order["items"]), max_size=3))
        args["item_ids"] = [line["item_id"] for line in lines]
        if "new_item_ids" in args:
            variants = [_TABLES["products"][line["product_id"]]["variants"] for line in lines]
            args["new_item_ids"] = [draw(st.sampled_from(sorted(v))) for v in variants]
    if "payment_method_id" in args and order and draw(st.sampled_from(range(3))):
        owned = _TABLES["users"][order["user_id"]]["payment_methods"]
        args["payment_method_id"] = draw(st.sampled_from(sorted(owned)))
    if draw(st.sampled_from(range(20))) == 0:
        args[draw(st.sampled_from([*ARG_NAMES, "extra"]))] = draw(junk)
    return args


calls = st.sampled_from([t.name for t in TOOLS]).flatmap(
    lambda name: st.tuples(st.just(name), arguments(name))
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(calls, min_size=1, max_size=6))
def test_any_call_sequence_returns_results_and_failed_calls_change_nothing(
    sequence: list[tuple[str, dict[str, Any]]],
) -> None:
    check_call_sequence(BASE, sequence, SCHEMAS)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([t.name for t in TOOLS]), st.dictionaries(st.text(max_size=8), junk, max_size=4)
)
def test_arbitrary_argument_dicts_never_raise(name: str, args: dict[str, Any]) -> None:
    check_arbitrary_call(BASE, name, args)
