"""Retail data: the seeded generator, loading and dumping files, fork isolation, fingerprints."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from retail_fixtures import ANN, NEW_ADDRESS, retail_env, retail_tables

from domains.data import DataError, dump_tables, load_tables
from domains.environment import Environment
from domains.retail import RetailDomain
from domains.retail.generator import generate
from domains.retail.records import SCHEMAS
from domains.state import State, Tables, full_hash


@pytest.fixture(scope="module")
def tables() -> Tables:
    return generate(seed=7)


def test_scale_one_has_the_spec_counts(tables: Tables) -> None:
    assert {name: len(records) for name, records in tables.items()} == {
        "users": 500,
        "orders": 1000,
        "products": 50,
    }
    statuses = Counter(order["status"] for order in tables["orders"].values())
    assert statuses == {"pending": 423, "delivered": 373, "processed": 102, "cancelled": 102}


def test_a_smaller_scale_shrinks_every_count_proportionally() -> None:
    small = generate(seed=1, scale=0.1)
    statuses = Counter(order["status"] for order in small["orders"].values())
    assert statuses == {"pending": 42, "delivered": 37, "processed": 10, "cancelled": 10}
    assert (len(small["users"]), len(small["products"])) == (50, 5)


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    first = full_hash(generate(seed=3, scale=0.2))
    assert first == full_hash(generate(seed=3, scale=0.2))
    assert first != full_hash(generate(seed=4, scale=0.2))


def test_generating_the_full_scale_is_fast() -> None:
    started = time.perf_counter()
    generate(seed=11)
    assert time.perf_counter() - started < 1.0


def test_ids_have_the_tau_bench_shapes(tables: Tables) -> None:
    assert all(re.fullmatch(r"[a-z]+_[a-z]+_\d{4}", key) for key in tables["users"])
    assert all(re.fullmatch(r"#W\d{7}", key) for key in tables["orders"])
    assert all(re.fullmatch(r"\d{10}", key) for key in tables["products"])
    item_ids = {i for p in tables["products"].values() for i in p["variants"]}
    assert all(re.fullmatch(r"\d{10}", item_id) for item_id in item_ids)
    assert not item_ids & set(tables["products"])
    for user in tables["users"].values():
        for method_id, method in user["payment_methods"].items():
            assert re.fullmatch(rf"{method['source']}_\d{{7}}", method_id)
            assert method["id"] == method_id
            assert ("balance" in method) == (method["source"] == "gift_card")


def test_orders_reference_real_variants_and_consistent_payments(tables: Tables) -> None:
    for order_id, order in tables["orders"].items():
        assert order_id in tables["users"][order["user_id"]]["orders"]
        for item in order["items"]:
            variant = tables["products"][item["product_id"]]["variants"][item["item_id"]]
            assert (item["price"], item["options"]) == (variant["price"], variant["options"])
        paid = order["payment_history"][0]
        assert paid["transaction_type"] == "payment"
        assert paid["amount"] == round(sum(item["price"] for item in order["items"]), 2)
        assert paid["payment_method_id"] in tables["users"][order["user_id"]]["payment_methods"]
        shipped = order["status"] in ("processed", "delivered")
        assert bool(order["fulfillments"]) == shipped
        for fulfillment in order["fulfillments"]:
            assert all(re.fullmatch(r"\d{12}", t) for t in fulfillment["tracking_id"])


def test_every_product_has_at_least_two_available_variants(tables: Tables) -> None:
    for product in tables["products"].values():
        assert sum(variant["available"] for variant in product["variants"].values()) >= 2


def test_dumped_data_loads_back_to_the_same_fingerprint(tables: Tables, tmp_path: Path) -> None:
    dump_tables(tables, tmp_path)
    loaded = load_tables(tmp_path, SCHEMAS)
    assert State.from_tables(loaded).fingerprint() == State.from_tables(tables).fingerprint()


def test_the_domain_loads_files_from_the_data_path(tmp_path: Path) -> None:
    dump_tables(retail_tables(), tmp_path)
    env = RetailDomain().environment({"data": {"path": str(tmp_path)}})
    assert env.fingerprint() == retail_env().fingerprint()


def test_a_bad_record_names_the_file_the_record_and_the_field(tmp_path: Path) -> None:
    broken = retail_tables()
    broken["orders"]["#W0000002"]["items"][1]["price"] = "10.3"
    dump_tables(broken, tmp_path)
    with pytest.raises(DataError) as caught:
        load_tables(tmp_path, SCHEMAS)
    assert caught.value.record == "#W0000002"
    assert caught.value.file.name == "orders.json"
    assert "items.1.price" in str(caught.value)


def test_an_unknown_payment_source_is_a_data_error(tmp_path: Path) -> None:
    broken = retail_tables()
    broken["users"][ANN]["payment_methods"]["credit_card_1000001"]["source"] = "cash"
    dump_tables(broken, tmp_path)
    with pytest.raises(DataError, match="payment_methods"):
        load_tables(tmp_path, SCHEMAS)


def test_a_payment_method_id_must_name_its_source(tmp_path: Path) -> None:
    broken = retail_tables()
    methods = broken["users"][ANN]["payment_methods"]
    methods["gift_card_1000009"] = {**methods.pop("paypal_1000003"), "id": "gift_card_1000009"}
    dump_tables(broken, tmp_path)
    with pytest.raises(DataError, match="gift_card_1000009"):
        load_tables(tmp_path, SCHEMAS)


def test_loading_keeps_number_types(tmp_path: Path) -> None:
    dump_tables(retail_tables(), tmp_path)
    loaded = load_tables(tmp_path, SCHEMAS)
    prices = {
        v["item_id"]: v["price"]
        for p in loaded["products"].values()
        for v in p["variants"].values()
    }
    assert type(prices["4000000003"]) is int and type(prices["4000000001"]) is float


def _cancel(env: Environment, order_id: str) -> None:
    assert env.call("cancel_pending_order", {"order_id": order_id, "reason": "no longer needed"}).ok


def _statuses(env: Environment, *order_ids: str) -> tuple[str, ...]:
    return tuple(str((env.state.get("orders", key) or {}).get("status")) for key in order_ids)


def test_forks_cancelling_different_orders_do_not_see_each_other() -> None:
    base = retail_env()
    before = base.fingerprint()
    left, right = base.fork(), base.fork()
    _cancel(left, "#W0000001")
    _cancel(right, "#W0000003")
    status = {
        name: _statuses(env, "#W0000001", "#W0000003")
        for name, env in (("left", left), ("right", right), ("base", base))
    }
    assert status == {
        "left": ("cancelled", "pending"),
        "right": ("pending", "cancelled"),
        "base": ("pending", "pending"),
    }
    assert base.fingerprint() == before
    assert len({left.fingerprint(), right.fingerprint(), before}) == 3


def test_independent_writes_in_either_order_reach_the_same_fingerprint() -> None:
    address_first, cancel_first = retail_env().fork(), retail_env().fork()
    move = {"user_id": ANN, **NEW_ADDRESS}
    assert address_first.call("modify_user_address", move).ok
    _cancel(address_first, "#W0000001")
    _cancel(cancel_first, "#W0000001")
    assert cancel_first.call("modify_user_address", move).ok
    assert address_first.fingerprint() == cancel_first.fingerprint()
    assert address_first.fingerprint() == full_hash(address_first.snapshot())


def test_different_states_have_different_fingerprints() -> None:
    one, other = retail_env().fork(), retail_env().fork()
    assert one.call(
        "cancel_pending_order", {"order_id": "#W0000003", "reason": "no longer needed"}
    ).ok
    assert other.call(
        "cancel_pending_order", {"order_id": "#W0000003", "reason": "ordered by mistake"}
    ).ok
    assert one.fingerprint() != other.fingerprint()


def test_replaying_the_same_actions_gives_the_same_state() -> None:
    actions = [
        {
            "name": "cancel_pending_order",
            "kwargs": {"order_id": "#W0000001", "reason": "no longer needed"},
        },
        {
            "name": "modify_pending_order_address",
            "kwargs": {"order_id": "#W0000003", **NEW_ADDRESS},
        },
    ]
    first, second = retail_env().fork(), retail_env().fork()
    assert all(result.ok for result in first.run(actions))
    second.run(actions)
    assert first.fingerprint() == second.fingerprint()
    assert json.dumps(first.snapshot()) == json.dumps(second.snapshot())
