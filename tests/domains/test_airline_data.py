"""Airline data: the seeded generator, loading and dumping files, fork isolation, fingerprints."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from airline_fixtures import ANN, ANN_CARD, airline_env, airline_tables, record

from domains.airline import AirlineDomain
from domains.airline.generator import generate
from domains.airline.reads import AIRPORTS
from domains.airline.records import CABINS, CLOCK_TEXT, FREE_BAGS, SCHEMAS
from domains.data import DataError, dump_tables, load_tables
from domains.state import Tables, full_hash

DOMAIN = AirlineDomain()


@pytest.fixture(scope="module")
def tables() -> Tables:
    return generate(seed=7)


def test_scale_one_has_the_spec_counts(tables: Tables) -> None:
    counts = {name: len(records) for name, records in tables.items()}
    assert counts == {"users": 500, "flights": 300, "reservations": 2000}


def test_a_smaller_scale_shrinks_every_count() -> None:
    small = generate(seed=1, scale=0.1)
    assert {name: len(records) for name, records in small.items()} == {
        "users": 50,
        "flights": 30,
        "reservations": 200,
    }


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    first = full_hash(generate(seed=3, scale=0.2))
    assert first == full_hash(generate(seed=3, scale=0.2))
    assert first != full_hash(generate(seed=4, scale=0.2))


def test_generating_the_full_scale_is_fast() -> None:
    started = time.perf_counter()
    generate(seed=11)
    assert time.perf_counter() - started < 2.0


def test_every_generated_record_is_valid(tables: Tables) -> None:
    for table, records in tables.items():
        for row in records.values():
            SCHEMAS[table].model_validate(row)


def test_ids_have_the_tau_bench_shapes(tables: Tables) -> None:
    assert all(re.fullmatch(r"[a-z]+_[a-z]+_\d{4}", key) for key in tables["users"])
    assert all(re.fullmatch(r"HAT\d{3}", key) for key in tables["flights"])
    assert all(re.fullmatch(r"[A-Z0-9]{6}", key) for key in tables["reservations"])
    assert not {"HATHAT", "HATHAU", "HATHAV"} & set(tables["reservations"])
    for user in tables["users"].values():
        for method_id, method in user["payment_methods"].items():
            assert re.fullmatch(rf"{method['source']}_\d{{7}}", method_id)
            assert ("amount" in method) == (method["source"] != "credit_card")
            assert not method_id.startswith("certificate_322132")


def test_flights_connect_the_twenty_airports_with_clock_times(tables: Tables) -> None:
    airports = set(AIRPORTS)
    for flight in tables["flights"].values():
        assert {flight["origin"], flight["destination"]} <= airports
        assert re.fullmatch(r"\d\d:\d\d:00", flight["scheduled_departure_time_est"])
        assert re.fullmatch(r"\d\d:\d\d:00(\+1)?", flight["scheduled_arrival_time_est"])
    arrivals = [f["scheduled_arrival_time_est"] for f in tables["flights"].values()]
    assert any(arrival.endswith("+1") for arrival in arrivals)


def test_date_statuses_follow_the_clock(tables: Tables) -> None:
    by_period: dict[str, Counter[str]] = {
        "past": Counter(),
        "today": Counter(),
        "future": Counter(),
    }
    for flight in tables["flights"].values():
        for day, entry in flight["dates"].items():
            period = "past" if day < "2024-05-15" else "today" if day == "2024-05-15" else "future"
            by_period[period][entry["status"]] += 1
            if entry["status"] == "available":
                prices = entry["prices"]
                assert prices["business"] > prices["economy"] > prices["basic_economy"]
    assert set(by_period["past"]) == {"landed", "cancelled"}
    assert set(by_period["today"]) == {"landed", "flying", "on time", "delayed", "cancelled"}
    assert set(by_period["future"]) == {"available"}


def test_reservations_are_consistent_with_users_and_flights(tables: Tables) -> None:
    for key, reservation in tables["reservations"].items():
        user = tables["users"][reservation["user_id"]]
        assert key in user["reservations"]
        assert reservation["created_at"] < CLOCK_TEXT
        count = len(reservation["passengers"])
        for segment in reservation["flights"]:
            flight = tables["flights"][segment["flight_number"]]
            assert (segment["origin"], segment["destination"]) == (
                flight["origin"],
                flight["destination"],
            )
            entry = flight["dates"][segment["date"]]
            if entry["status"] == "available":
                assert segment["price"] == entry["prices"][reservation["cabin"]]
        cost = sum(s["price"] for s in reservation["flights"]) * count
        cost += 30 * count if reservation["insurance"] == "yes" else 0
        cost += 50 * reservation["nonfree_baggages"]
        allowance = FREE_BAGS[user["membership"]][reservation["cabin"]] * count
        assert reservation["nonfree_baggages"] == max(0, reservation["total_baggages"] - allowance)
        paid = [p["amount"] for p in reservation["payment_history"] if p["amount"] > 0]
        assert sum(paid) == cost
        assert all(
            p["payment_id"] in user["payment_methods"] for p in reservation["payment_history"]
        )


def test_reservations_cover_every_cabin_and_trip_type(tables: Tables) -> None:
    reservations = list(tables["reservations"].values())
    assert {r["cabin"] for r in reservations} == set(CABINS)
    assert {r["flight_type"] for r in reservations} == {"one_way", "round_trip"}
    assert any(r.get("status") == "cancelled" for r in reservations)


def test_generated_data_round_trips_through_files(tmp_path: Path) -> None:
    tables = generate(seed=2, scale=0.2)
    dump_tables(tables, tmp_path)
    env = DOMAIN.environment({"data": {"path": str(tmp_path)}})
    assert env.fingerprint() == full_hash(tables)
    assert (
        env.fingerprint() == DOMAIN.environment({"data": {"seed": 2, "scale": 0.2}}).fingerprint()
    )


def test_a_bad_record_names_the_file_the_record_and_the_field(tmp_path: Path) -> None:
    tables = airline_tables()
    tables["reservations"]["AAA111"]["flights"][0]["price"] = "150"
    dump_tables(tables, tmp_path)
    with pytest.raises(DataError) as caught:
        DOMAIN.environment({"data": {"path": str(tmp_path)}})
    message = str(caught.value)
    assert "reservations.json" in message and "'AAA111'" in message
    assert "flights.0.price" in message


def test_a_tau_bench_address_with_province_loads(tmp_path: Path) -> None:
    tables = airline_tables()
    address = tables["users"][ANN]["address"]
    address["province"] = address.pop("state")
    dump_tables(tables, tmp_path)
    loaded = load_tables(tmp_path, SCHEMAS)
    assert loaded["users"][ANN]["address"]["province"] == "NY"


def test_a_payment_method_id_must_match_its_source(tmp_path: Path) -> None:
    tables = airline_tables()
    tables["users"][ANN]["payment_methods"][ANN_CARD]["id"] = "gift_card_1"
    (tmp_path / "users.json").write_text(json.dumps(tables["users"]))
    with pytest.raises(DataError, match=r"users\.json: record 'ann_lee_1001'"):
        load_tables(tmp_path, {"users": SCHEMAS["users"]})


def test_a_fork_does_not_see_or_leak_another_fork_s_writes() -> None:
    base = airline_env()
    first, second = base.fork(), base.fork()
    first.call("cancel_reservation", {"reservation_id": "AAA111"})
    assert "status" in record(first, "reservations", "AAA111")
    assert "status" not in record(second, "reservations", "AAA111")
    assert base.diff() == [] and second.fingerprint() == base.fingerprint()


def test_independent_writes_in_either_order_give_the_same_fingerprint() -> None:
    base = airline_env()
    one, two = base.fork(), base.fork()
    cancel = {"reservation_id": "AAA111"}
    certificate = {"user_id": "bob_ng_2002", "amount": 100}
    one.call("cancel_reservation", cancel)
    one.call("send_certificate", certificate)
    two.call("send_certificate", certificate)
    two.call("cancel_reservation", cancel)
    assert one.fingerprint() == two.fingerprint() == full_hash(one.snapshot())
    assert one.fingerprint() != base.fingerprint()


def test_different_states_have_different_fingerprints() -> None:
    base = airline_env()
    one, two = base.fork(), base.fork()
    one.call("send_certificate", {"user_id": "bob_ng_2002", "amount": 100})
    two.call("send_certificate", {"user_id": "bob_ng_2002", "amount": 100.0})
    assert one.fingerprint() != two.fingerprint()
