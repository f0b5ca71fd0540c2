"""Specification of the run store: idempotent commits, resume keys, schema versioning."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest
import structlog

import runtime.store as store_module
from runtime.errors import StoreError
from runtime.store import Store, _commit_batch, _Insert, _ItemRows, _Unit
from runtime.store_schema import MIGRATIONS, SCHEMA_VERSION
from runtime.store_types import (
    ItemCommit,
    ItemEvent,
    ModelCallRecord,
    ResultJSON,
    RunRecord,
    SharedText,
    canonical_json,
    shared_text,
)

pytestmark = pytest.mark.anyio


def _run(run_id: str = "r1") -> RunRecord:
    return RunRecord(
        run_id=run_id,
        name="demo",
        playbook_path="demo.yaml",
        playbook_hash="h",
        playbook_json="{}",
        seed=3,
        simulated=True,
    )


def _item(key: str, value: int, status: str = "accepted") -> ItemCommit:
    return ItemCommit(
        run_id="r1",
        phase="p",
        item_key=key,
        index=value,
        status=status,  # type: ignore[arg-type]
        reason="" if status == "accepted" else "check: bad",
        results=[ResultJSON(kind="answer", payload_json=canonical_json({"value": value}))],
        events=[ItemEvent(event="step", payload={"value": value})],
    )


async def test_an_item_commits_once_with_its_results(tmp_path: Path) -> None:
    async with Store.open(tmp_path / "s.sqlite") as store:
        await store.ensure_run(_run())
        assert await store.commit_item(_item("k1", 1)) is True
        assert await store.commit_item(_item("k1", 2)) is False
        results = await store.results("r1", "p")
        events = await store.events("r1", event="step")
    assert [(r.item_key, r.payload) for r in results] == [("k1", {"value": 1})]
    assert len(events) == 1


async def test_committed_keys_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    async with Store.open(path) as store:
        await store.ensure_run(_run())
        for n in range(3):
            await store.commit_item(_item(f"k{n}", n))
    async with Store.open(path) as store:
        assert await store.committed_keys("r1", "p") == {"k0", "k1", "k2"}
        assert await store.committed_keys("r1", "other") == set()
        run = await store.get_run("r1")
    assert run is not None and run.seed == 3


async def test_concurrent_commits_are_all_applied_exactly_once(tmp_path: Path) -> None:
    applied: list[bool] = []

    async with Store.open(tmp_path / "s.sqlite") as store:
        await store.ensure_run(_run())

        async def commit(item: ItemCommit) -> None:
            applied.append(await store.commit_item(item))

        async with anyio.create_task_group() as tg:
            for n in range(500):  # duplicates share batches with their first commit
                tg.start_soon(commit, _item(f"k{n % 250}", n))
        counts = await store.status_counts("r1")
        results = await store.results("r1", "p")
        events = await store.events("r1", event="step")
    assert applied.count(True) == 250 and applied.count(False) == 250
    assert counts == {"p": {"accepted": 250}}
    assert len(results) == len(events) == 250


async def test_many_concurrent_submitters_are_all_committed(tmp_path: Path) -> None:
    call = ModelCallRecord(
        run_id="r1", model="m", provider="simulated", request_key="k", status="error"
    )
    path = tmp_path / "s.sqlite"
    async with Store.open(path) as store:

        async def submit(worker: int) -> None:
            for n in range(20):
                key = f"k{worker}-{n}"
                await store.record_model_call(call.model_copy(update={"request_key": key}))

        async with anyio.create_task_group() as tg:
            for worker in range(200):
                tg.start_soon(submit, worker)
    async with Store.open(path) as store:
        calls = await store.model_calls("r1")
    assert len({row["request_key"] for row in calls}) == len(calls) == 4000


async def test_a_call_record_is_queued_without_letting_other_tasks_run(tmp_path: Path) -> None:
    """An episode's next request goes out in the same step as its last call's record."""
    call = ModelCallRecord(
        run_id="r1", model="m", provider="simulated", request_key="k", status="ok"
    )
    path = tmp_path / "s.sqlite"
    others_ran: list[str] = []

    async def other() -> None:
        others_ran.append("other")

    async with Store.open(path) as store, anyio.create_task_group() as tg:
        tg.start_soon(other)
        for n in range(50):
            await store.record_model_call(call.model_copy(update={"request_key": f"k{n}"}))
        assert others_ran == []
    async with Store.open(path) as store:
        assert len(await store.model_calls("r1")) == 50


async def test_a_failing_unit_is_isolated_from_the_rest_of_its_batch(tmp_path: Path) -> None:
    orphan = _item("orphan", 0).model_copy(update={"run_id": "no-such-run"})
    async with Store.open(tmp_path / "s.sqlite") as store:
        await store.ensure_run(_run())
        outcomes: dict[str, bool | StoreError] = {}

        async def commit(label: str, item: ItemCommit) -> None:
            try:
                outcomes[label] = await store.commit_item(item)
            except StoreError as exc:
                outcomes[label] = exc

        async with anyio.create_task_group() as tg:  # submitted together: one batch
            for n in range(5):
                tg.start_soon(commit, f"k{n}", _item(f"k{n}", n))
            tg.start_soon(commit, "orphan", orphan)
            tg.start_soon(commit, "again", _item("k0", 99))  # guarded: k0 is already in
            for n in range(5, 10):
                tg.start_soon(commit, f"k{n}", _item(f"k{n}", n))
        keys = await store.committed_keys("r1", "p")
        values = {r.item_key: r.payload["value"] for r in await store.results("r1", "p")}
        orphan_keys = await store.committed_keys("no-such-run", "p")
    failure = outcomes.pop("orphan")
    assert isinstance(failure, StoreError) and "FOREIGN KEY" in str(failure)
    assert outcomes == {"again": False} | {f"k{n}": True for n in range(10)}
    assert keys == {f"k{n}" for n in range(10)}
    assert values == {f"k{n}": n for n in range(10)}
    assert orphan_keys == set()


_TOOLS = SharedText("d1", '["a tool"]')


def _trajectory(key: str, turns: int, tools: list[dict[str, Any]]) -> ItemCommit:
    shared = {"system": canonical_json("the policy"), "tools": canonical_json(tools)}
    return _item(key, turns).model_copy(
        update={
            "results": [
                ResultJSON(kind="t", payload_json=canonical_json({"turns": turns}), shared=shared)
            ]
        }
    )


async def test_values_many_results_repeat_are_stored_once_and_read_back_in_place(
    tmp_path: Path,
) -> None:
    tools = [{"name": "find_user", "parameters": {"type": "object"}}]
    path = tmp_path / "s.sqlite"
    async with Store.open(path) as store:
        await store.ensure_run(_run())
        for turns in range(3):
            assert await store.commit_item(_trajectory(f"k{turns}", turns, tools))
        read = [r.payload for r in await store.results("r1", "p", kind="t")]
    assert read == [{"system": "the policy", "tools": tools, "turns": n} for n in range(3)]
    assert [list(payload) for payload in read] == [["system", "tools", "turns"]] * 3
    conn = sqlite3.connect(path)
    kept = conn.execute("SELECT value_json FROM shared_values ORDER BY value_json").fetchall()
    stored = conn.execute("SELECT payload_json FROM results WHERE kind='t'").fetchall()
    assert kept == [('"the policy"',), (canonical_json(tools),)]
    assert all("find_user" not in row[0] for row in stored)
    conn.execute("DELETE FROM shared_values")
    conn.commit()
    conn.close()
    async with Store.open(path) as store:
        with pytest.raises(StoreError, match="missing shared values"):
            await store.results("r1", "p", kind="t")


def test_one_copy_is_kept_per_shared_text_for_the_last_ones_asked_for() -> None:
    first = shared_text("".join(["[", "1", "]"]))
    again = shared_text("".join(["[", "1", "]"]))
    assert again.text is first.text
    assert first.digest == hashlib.sha256(b"[1]").hexdigest()
    for n in range(2, 300):  # more distinct texts than are kept: the oldest are let go
        shared_text(f"[{n}]")
    assert shared_text("".join(["[", "1", "]"])).text is not first.text


def _item_unit(run_id: str, key: str, value: int) -> _Unit:
    ids = (run_id, "p", key)
    rows = _ItemRows(
        item=(*ids, value, 0, "accepted", "", "{}", 1, 0.0, 0.0),
        results=[
            (*ids, seq, "answer", f'{{"value":{value},"seq":{seq}}}', '{"tools":"d1"}')
            for seq in range(2)
        ],
        events=[(*ids, "info", "step", "{}", 0.0)],
        shared=[_TOOLS],
    )
    return _Unit([], item=rows)


async def test_items_of_one_batch_commit_together_and_a_bad_one_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    async with Store.open(path) as store:
        await store.ensure_run(_run())
        await store.commit_item(_item("old", 7))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    good = [_item_unit("r1", f"k{n}", n) for n in range(3)]
    again, old = _item_unit("r1", "k0", 99), _item_unit("r1", "old", 99)
    orphan = _item_unit("no-such-run", "k9", 9)
    _commit_batch(conn, [good[0], again, old, good[1], good[2]])
    assert [u.applied for u in [*good, again, old]] == [True, True, True, False, False]
    _commit_batch(conn, [_item_unit("r1", "k3", 3), orphan, _item_unit("r1", "k4", 4)])
    assert orphan.error is not None and not orphan.applied
    stored = conn.execute(
        "SELECT item_key, seq, payload_json FROM results WHERE run_id='r1' ORDER BY rowid"
    ).fetchall()
    shared = conn.execute("SELECT digest, value_json FROM shared_values").fetchall()
    conn.close()
    assert shared == [("d1", '["a tool"]')]  # once, though every unit carried it
    values = {(key, seq): payload for key, seq, payload in stored}
    assert sorted({key for key, _ in values}) == ["k0", "k1", "k2", "k3", "k4", "old"]
    assert values["k0", 1] == '{"value":0,"seq":1}'  # the first of the duplicates won
    assert values["old", 0] == '{"value":7}'  # committed before: untouched


def _bare_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
    return conn


def test_row_units_share_multi_row_inserts_in_queue_order(tmp_path: Path) -> None:
    conn = _bare_connection(tmp_path / "t.sqlite")
    insert = _Insert("INSERT INTO t (k) VALUES", 1)
    keys = [f"k{n:05d}" for n in range(40_000)]  # more rows than one statement may bind
    assert len(insert.statements([(k,) for k in keys])) == 2
    units = [_Unit([], rows=[(insert, (k,))]) for k in keys]
    plain = _Unit([("INSERT INTO t VALUES ('plain')", ())])
    _commit_batch(conn, [*units[:10], plain, *units[10:]])
    assert all(unit.applied and unit.error is None for unit in [*units, plain])
    stored = [row[0] for row in conn.execute("SELECT k FROM t ORDER BY rowid")]
    assert stored == [*keys, "plain"]


def test_a_failing_row_insert_fails_only_the_row_units(tmp_path: Path) -> None:
    conn = _bare_connection(tmp_path / "t.sqlite")
    insert = _Insert("INSERT INTO t (k) VALUES", 1)
    rows = [_Unit([], rows=[(insert, ("same",))]) for _ in range(2)]  # a duplicate key
    plain = _Unit([("INSERT INTO t VALUES ('plain')", ())])
    _commit_batch(conn, [*rows, plain])
    assert all(not unit.applied and isinstance(unit.error, sqlite3.IntegrityError) for unit in rows)
    assert plain.applied
    assert [row[0] for row in conn.execute("SELECT k FROM t")] == ["plain"]


async def test_a_queued_model_call_is_seen_by_the_next_read(tmp_path: Path) -> None:
    call = ModelCallRecord(
        run_id="r1", model="m", provider="simulated", request_key="k1", status="ok",
        response_json="{}",
    )  # fmt: skip
    async with Store.open(tmp_path / "s.sqlite") as store:
        await store.record_model_call(call)  # returns once queued, before the commit
        assert await store.cached_response("k1") == "{}"
        assert [row["request_key"] for row in await store.model_calls("r1")] == ["k1"]


async def test_a_failed_queued_write_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    call = ModelCallRecord(
        run_id="r1", model="m", provider="simulated", request_key="k", status="ok"
    )
    logger = structlog.testing.CapturingLogger()
    monkeypatch.setattr(store_module, "_log", logger)
    async with Store.open(path) as store:
        with sqlite3.connect(path) as other:
            other.execute("DROP TABLE model_calls")
        other.close()
        await store.record_model_call(call)
        await store.flush()
    [logged] = logger.calls
    assert (logged.method_name, logged.args) == ("error", ("store.write_failed",))
    assert "model_calls" in logged.kwargs["error"]


def test_a_batch_applies_units_under_their_own_savepoints(tmp_path: Path) -> None:
    conn = _bare_connection(tmp_path / "t.sqlite")
    insert = "INSERT INTO t VALUES (?) ON CONFLICT DO NOTHING"
    ok = _Unit([(insert, ("a",))], done=anyio.Event())
    bad = _Unit([(insert, ("b",)), ("INSERT INTO missing VALUES (1)", ())])
    guarded = _Unit([(insert, ("c",))], guard=(insert, ("a",)))
    _commit_batch(conn, [ok, bad, guarded])
    assert (ok.applied, ok.error) == (True, None)
    assert not bad.applied and isinstance(bad.error, sqlite3.OperationalError)
    assert (guarded.applied, guarded.error) == (False, None)
    assert ok.done is not None and not ok.done.is_set()  # set on the loop, not the thread
    assert [row[0] for row in conn.execute("SELECT k FROM t ORDER BY k")] == ["a"]


def test_a_failure_outside_the_units_rolls_back_the_whole_batch(tmp_path: Path) -> None:
    conn = _bare_connection(tmp_path / "t.sqlite")
    ok = _Unit([("INSERT INTO t VALUES ('a')", ())])
    broken = _Unit([("INSERT INTO t VALUES ('b')",)])  # type: ignore[list-item]
    _commit_batch(conn, [ok, broken])
    assert not ok.applied and not broken.applied
    assert ok.error is broken.error and ok.error is not None
    assert not conn.in_transaction
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0


async def test_status_and_reason_counts(tmp_path: Path) -> None:
    async with Store.open(tmp_path / "s.sqlite") as store:
        await store.ensure_run(_run())
        await store.commit_item(_item("a", 1))
        await store.commit_item(_item("b", 2, status="rejected"))
        await store.commit_item(_item("c", 3, status="rejected"))
        assert await store.status_counts("r1") == {"p": {"accepted": 1, "rejected": 2}}
        assert await store.reason_counts("r1") == {"p": {"check: bad": 2}}
        items = await store.items("r1", status="rejected")
    assert [item.item_key for item in items] == ["b", "c"]


async def test_ensure_run_keeps_the_first_snapshot(tmp_path: Path) -> None:
    async with Store.open(tmp_path / "s.sqlite") as store:
        await store.ensure_run(_run())
        await store.set_run_status("r1", "interrupted")
        again = await store.ensure_run(_run().model_copy(update={"seed": 99}))
    assert again.seed == 3
    assert again.status == "running"


async def test_model_calls_are_logged_and_successes_cached(tmp_path: Path) -> None:
    async with Store.open(tmp_path / "s.sqlite") as store:
        call = ModelCallRecord(
            run_id="r1",
            model="m",
            provider="simulated",
            request_key="key-1",
            status="ok",
            prompt_tokens=10,
            completion_tokens=5,
            cost_usd=0.25,
            response_json='{"content": "hi"}',
        )
        await store.record_model_call(call)
        await store.record_model_call(call.model_copy(update={"status": "cached"}))
        failed = call.model_copy(
            update={"request_key": "key-2", "status": "error", "error": "HTTP 500"}
        )
        await store.record_model_call(failed)
        assert await store.cached_response("key-1") == '{"content": "hi"}'
        assert await store.cached_response("key-2") is None
        (usage,) = await store.model_usage("r1")
    assert (usage.calls, usage.cached, usage.errors) == (3, 1, 1)
    assert (usage.prompt_tokens, usage.completion_tokens) == (30, 15)
    assert usage.cost_usd == pytest.approx(0.75)


async def test_schema_version_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    async with Store.open(path):
        pass
    with sqlite3.connect(path) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations")]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert mode == "wal"


async def test_a_store_written_before_shared_values_reads_as_it_did(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with sqlite3.connect(path) as conn:  # the schema and rows of a v2 store
        conn.execute(
            "CREATE TABLE schema_migrations"
            " (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        for version, description, script in MIGRATIONS[:2]:
            for statement in script.split(";"):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, description))
        run = _run()
        conn.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, 'done', 0, 0)",
            (run.run_id, run.name, run.playbook_path, run.playbook_hash, run.playbook_json,
             run.seed, run.simulated),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO work_items VALUES ('r1', 'p', 'k1', 0, 0, 'accepted', '', '{}', 1, 0, 0)"
        )
        whole = {"system": "the policy", "tools": [{"name": "t"}], "turns": 2}
        conn.execute(
            "INSERT INTO results VALUES ('r1', 'p', 'k1', 0, 't', ?)", (canonical_json(whole),)
        )
    async with Store.open(path) as store:
        assert [r.payload for r in await store.results("r1", "p")] == [whole]
        assert await store.commit_item(_trajectory("k2", 3, [{"name": "t"}]))
        read = {r.item_key: r.payload for r in await store.results("r1", "p")}
    assert read["k2"] == {"system": "the policy", "tools": [{"name": "t"}], "turns": 3}


async def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    async with Store.open(path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 0)")
    with pytest.raises(StoreError, match="newer than this apigen-mt"):
        async with Store.open(path):
            pass


async def test_a_corrupt_file_is_a_store_error_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    with pytest.raises(StoreError, match="not a usable apigen-mt store"):
        async with Store.open(path):
            pass
    assert path.read_bytes() == garbage


async def test_writes_after_close_are_refused(tmp_path: Path) -> None:
    async with Store.open(tmp_path / "s.sqlite") as store:
        await store.ensure_run(_run())
    with pytest.raises(StoreError, match="closed"):
        await store.commit_item(_item("late", 1))


def _funnel_item(key: str, stages: list[tuple[str, bool]], attempts: int) -> ItemCommit:
    accepted = stages[-1][1]  # the last attempt's last stage decides
    return ItemCommit(
        run_id="r1",
        phase="p",
        item_key=key,
        index=0,
        status="accepted" if accepted else "rejected",
        attempts=attempts,
        events=[ItemEvent(event="funnel", payload={"stage": s, "passed": p}) for s, p in stages],
    )


async def test_the_funnel_counts_attempts_per_stage_in_stage_order(tmp_path: Path) -> None:
    async with Store.open(tmp_path / "s.sqlite") as store:
        await store.ensure_run(_run())
        await store.commit_item(_funnel_item("a", [("format", True), ("review", True)], 1))
        await store.commit_item(
            _funnel_item("b", [("format", False), ("format", True), ("review", True)], attempts=2)
        )
        await store.commit_item(_funnel_item("c", [("format", True), ("review", False)], 1))
        funnel = await store.funnel("r1")
        by_attempt = await store.accepted_by_attempt("r1")
    assert funnel == {"p": [("format", 4, 3), ("review", 3, 2)]}
    assert by_attempt == {"p": {1: 1, 2: 1}}


async def test_forgetting_failed_items_keeps_accepted_and_rejected_ones(tmp_path: Path) -> None:
    async with Store.open(tmp_path / "s.sqlite") as store:
        await store.ensure_run(_run())
        await store.commit_item(_item("ok", 1))
        await store.commit_item(_item("judged", 2, status="rejected"))
        await store.commit_item(_item("crashed", 3, status="failed"))
        assert await store.forget_failed("r1") == 1
        assert await store.forget_failed("r1") == 0
        keys = await store.committed_keys("r1", "p")
        results = {r.item_key for r in await store.results("r1", "p")}
        events = {row["item_key"] for row in await store.events("r1", event="step")}
    assert keys == {"ok", "judged"}
    assert results == events == {"ok", "judged"}


def test_canonical_json_sorts_keys_and_keeps_what_orjson_refuses() -> None:
    assert canonical_json({"b": [1.5, None, "é"], "a": {"y": True, "x": "q"}}) == (
        '{"a":{"x":"q","y":true},"b":[1.5,null,"é"]}'
    )
    big = canonical_json({"n": 10**30, "when": Path("/x")})  # beyond 64 bits; not JSON
    assert json.loads(big) == {"n": 10**30, "when": "/x"}
