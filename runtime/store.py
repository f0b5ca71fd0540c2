"""The run store: one SQLite file (WAL) written by a single batching writer task.

Every unit of work commits in one transaction together with its results, keyed by
(run, phase, item key), so a killed run resumes with nothing lost and nothing duplicated.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from runtime.errors import StoreError
from runtime.log import get_logger
from runtime.store_schema import MIGRATIONS, SCHEMA_VERSION
from runtime.store_types import (
    ItemCommit,
    ItemRecord,
    ModelCallRecord,
    ModelUsage,
    ResultRecord,
    RunRecord,
    SharedText,
    canonical_json,
    shared_text,
)

Statement = tuple[str, Sequence[Any]]

_log = get_logger("runtime.store")

_WRITER_QUEUE = 4096
_MAX_BATCH = 256
_MAX_VALUES = 32766  # SQLite's default limit on values bound to one statement
_PRAGMAS = (
    "PRAGMA busy_timeout=30000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)


@dataclass(frozen=True)
class _Insert:
    """A multi-row INSERT: `head` up to VALUES, `width` values per row, `tail` after them.

    The writer thread re-takes the GIL after every statement, which under a busy event loop
    can cost a switch interval each; one statement for many rows pays that once.
    """

    head: str
    width: int
    tail: str = ""

    def statements(self, rows: Sequence[Sequence[Any]]) -> list[Statement]:
        """The rows as few statements as SQLite's limit on bound values allows."""
        group = "(" + ", ".join("?" * self.width) + ")"
        per = _MAX_VALUES // self.width
        return [
            (
                f"{self.head} {', '.join([group] * len(chunk))}{self.tail}",
                [value for row in chunk for value in row],
            )
            for chunk in (rows[i : i + per] for i in range(0, len(rows), per))
        ]


_RESULTS = _Insert(
    "INSERT INTO results (run_id, phase, item_key, seq, kind, payload_json, shared_json) VALUES",
    7,
)
_SHARED = _Insert(
    "INSERT INTO shared_values (digest, value_json) VALUES", 2, " ON CONFLICT DO NOTHING"
)
_EVENTS = _Insert(
    "INSERT INTO events (run_id, phase, item_key, level, event, payload_json, ts) VALUES", 7
)
_ITEMS = _Insert(
    "INSERT INTO work_items (run_id, phase, item_key, idx, trial, status, reason,"
    " outcome_json, attempts, duration_s, committed_at) VALUES",
    11,
    " ON CONFLICT DO NOTHING",
)
_CALLS = _Insert(
    "INSERT INTO model_calls (run_id, phase, item_key, model, provider, endpoint, request_key,"
    " status, error, attempt, prompt_tokens, completion_tokens, cost_usd, latency_s, simulated,"
    " created_at) VALUES",
    16,
)
_CACHE = _Insert(
    "INSERT INTO model_cache (request_key, response_json, created_at, run_id) VALUES",
    4,
    " ON CONFLICT DO NOTHING",
)


@dataclass(frozen=True)
class _ItemRows:
    """A work item's commit as rows: its `work_items` row (the guard), results and events."""

    item: Sequence[Any]  # starts with the key: run_id, phase, item_key
    results: list[Sequence[Any]]
    events: list[Sequence[Any]]
    shared: list[SharedText]  # the texts its results refer to by digest

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.item[0], self.item[1], self.item[2])

    def statements(self) -> list[Statement]:
        """The rows as statements of their own (for a unit applied alone)."""
        return [
            *(_SHARED.statements(self.shared) if self.shared else []),
            *_RESULTS.statements(self.results),
            *_EVENTS.statements(self.events),
        ]


@dataclass(eq=False)
class _Unit:
    """Statements that commit together, plus what the submitter waits on.

    `error` and `applied` are filled in by the writer's thread; `done` is set on the event
    loop once the thread is finished with the unit (None: queued, nobody waits). A unit of
    `rows` only, or of a work `item`, has no statements: its rows go into the batch's
    multi-row INSERTs.
    """

    statements: list[Statement]
    guard: Statement | None = None
    done: anyio.Event | None = None
    rows: Sequence[tuple[_Insert, Sequence[Any]]] = ()  # merged with the batch's other rows
    item: _ItemRows | None = None  # merged with the batch's other work items
    error: BaseException | None = None
    applied: bool = False


class _Writer:
    """The write connection: plain sqlite3, only ever used in a worker thread, one call at a time.

    A whole batch goes to the thread in one hop instead of one aiosqlite round trip per
    statement; the private limiter of one keeps uses of the connection sequential.
    """

    def __init__(self, conn: sqlite3.Connection, limiter: anyio.CapacityLimiter) -> None:
        self._conn = conn
        self._limiter = limiter

    @classmethod
    async def open(cls, path: Path) -> _Writer:
        limiter = anyio.CapacityLimiter(1)
        with anyio.CancelScope(shield=True):  # a connection opened must not be dropped
            conn = await anyio.to_thread.run_sync(_connect_sync, path, limiter=limiter)
        return cls(conn, limiter)

    async def commit(self, batch: list[_Unit]) -> None:
        await anyio.to_thread.run_sync(_commit_batch, self._conn, batch, limiter=self._limiter)

    async def close(self) -> None:
        await anyio.to_thread.run_sync(self._conn.close, limiter=self._limiter)


class Store:
    """Async facade over the run's SQLite file; open it with `Store.open(path)`."""

    def __init__(
        self,
        path: Path,
        reader: aiosqlite.Connection,
        queue: MemoryObjectSendStream[_Unit],
    ) -> None:
        self.path = path
        self._reader = reader
        self._queue = queue

    @classmethod
    @asynccontextmanager
    async def open(cls, path: str | Path) -> AsyncIterator[Store]:
        """Open (creating and migrating if needed) the store and run its writer task."""
        db_path = Path(path)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        reader = await _connect(db_path)
        try:
            await _migrate(reader, db_path)
            writer = await _Writer.open(db_path)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await reader.close()
            raise
        send, receive = anyio.create_memory_object_stream[_Unit](_WRITER_QUEUE)
        try:
            async with anyio.create_task_group() as tg:
                await _start_writer(tg, writer, receive)
                store = cls(db_path, reader, send)
                try:
                    yield store
                finally:
                    await send.aclose()
        except BaseException as exc:
            sole = _sole_exception(exc)
            if sole is exc:
                raise
            raise sole from None  # the caller's own error, not wrapped by our writer's group
        finally:
            with anyio.CancelScope(shield=True):
                await reader.close()
                await writer.close()

    # -- writes -------------------------------------------------------------------------

    async def _submit(self, unit: _Unit) -> _Unit:
        unit.done = done = anyio.Event()
        await self._enqueue(unit)
        await done.wait()
        if unit.error is not None:
            raise StoreError(f"{self.path}: commit failed: {unit.error}") from unit.error
        return unit

    async def _enqueue(self, unit: _Unit) -> None:
        """Queue `unit` behind every earlier one; the queue's bound pushes back on writers.

        With room in the queue the caller goes on without yielding to the event loop: a
        model call's record is queued with every call, and a yield costs the calling
        episode a pass through every task ready at that moment (a thousand, in a big run).
        """
        try:
            try:
                self._queue.send_nowait(unit)
            except anyio.WouldBlock:
                await self._queue.send(unit)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            raise StoreError(f"{self.path}: store is closed") from exc

    async def flush(self) -> None:
        """Wait until everything queued so far is committed (reads after queued writes)."""
        await self._submit(_Unit([]))

    async def ensure_run(self, run: RunRecord) -> RunRecord:
        """Create the run row if it is new; return the stored row (existing runs win)."""
        now = time.time()
        await self._submit(
            _Unit(
                [
                    (
                        "INSERT INTO runs (run_id, name, playbook_path, playbook_hash,"
                        " playbook_json, seed, simulated, status, created_at, updated_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)"
                        " ON CONFLICT(run_id) DO UPDATE SET status='running', updated_at=?",
                        (
                            run.run_id,
                            run.name,
                            run.playbook_path,
                            run.playbook_hash,
                            run.playbook_json,
                            run.seed,
                            int(run.simulated),
                            now,
                            now,
                            now,
                        ),
                    )
                ]
            )
        )
        stored = await self.get_run(run.run_id)
        assert stored is not None
        return stored

    async def set_run_status(self, run_id: str, status: str) -> None:
        """Mark a run `running`, `completed`, `failed` or `interrupted`."""
        await self._submit(
            _Unit(
                [
                    (
                        "UPDATE runs SET status=?, updated_at=? WHERE run_id=?",
                        (status, time.time(), run_id),
                    )
                ]
            )
        )

    async def forget_failed(self, run_id: str) -> int:
        """Drop the run's failed items (with their results and events) so a resume redoes them.

        Failed means the work could not be done (an endpoint was down, a step crashed), not
        that it was judged and rejected; rejected items stay.
        """
        failed = "SELECT phase, item_key FROM work_items WHERE run_id=? AND status='failed'"
        rows = await self._fetchall(failed, (run_id,))
        if not rows:
            return 0
        statements: list[Statement] = [
            (
                f"DELETE FROM {table} WHERE run_id=? AND (phase, item_key) IN ({failed})",
                (run_id, run_id),
            )
            for table in ("results", "events")
        ]
        statements.append(("DELETE FROM work_items WHERE run_id=? AND status='failed'", (run_id,)))
        await self._submit(_Unit(statements))
        return len(rows)

    async def commit_item(self, item: ItemCommit) -> bool:
        """Commit one work item with its results and events atomically.

        Returns False (and writes nothing) when the key was already committed, which is
        what makes a repeated or resumed run idempotent.
        """
        key = (item.run_id, item.phase, item.item_key)
        shared: list[SharedText] = []
        results: list[Sequence[Any]] = []
        for seq, result in enumerate(item.results):
            refs = {}
            for name, text in result.shared.items():
                found = shared_text(text)
                refs[name] = found.digest
                shared.append(found)
            results.append((*key, seq, result.kind, result.payload_json, canonical_json(refs)))
        rows = _ItemRows(
            item=(
                *key,
                item.index,
                item.trial,
                item.status,
                item.reason,
                canonical_json(item.outcome),
                item.attempts,
                item.duration_s,
                time.time(),
            ),
            results=results,
            events=[
                (*key, event.level, event.event, canonical_json(event.payload), event.ts)
                for event in item.events
            ],
            shared=shared,
        )
        unit = await self._submit(_Unit([], item=rows))
        return unit.applied

    async def record_model_call(self, call: ModelCallRecord) -> None:
        """Log one model call and, when it succeeded uncached, cache its response.

        Queued, not awaited: the calling episode goes on while the writer commits it in
        order before anything queued later (its work item among them). Reads of calls and
        cached answers flush first; a failed commit is logged. A crash can lose only calls
        whose episodes had not committed yet, and those episodes run again.
        """
        rows: list[tuple[_Insert, Sequence[Any]]] = [
            (
                _CALLS,
                (
                    call.run_id,
                    call.phase,
                    call.item_key,
                    call.model,
                    call.provider,
                    call.endpoint,
                    call.request_key,
                    call.status,
                    call.error,
                    call.attempt,
                    call.prompt_tokens,
                    call.completion_tokens,
                    call.cost_usd,
                    call.latency_s,
                    int(call.simulated),
                    time.time(),
                ),
            )
        ]
        if call.status == "ok" and call.response_json is not None:
            rows.append((_CACHE, (call.request_key, call.response_json, time.time(), call.run_id)))
        await self._enqueue(_Unit([], rows=rows))

    async def add_event(
        self, run_id: str, event: str, payload: dict[str, Any], level: str = "info"
    ) -> None:
        """Record a run-level event (phase started, run finished, ...)."""
        await self._submit(
            _Unit(
                [
                    (
                        "INSERT INTO events (run_id, phase, item_key, level, event,"
                        " payload_json, ts) VALUES (?, '', '', ?, ?, ?, ?)",
                        (run_id, level, event, canonical_json(payload), time.time()),
                    )
                ]
            )
        )

    # -- reads --------------------------------------------------------------------------

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            async with self._reader.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: read failed: {exc}") from exc

    async def get_run(self, run_id: str) -> RunRecord | None:
        rows = await self._fetchall("SELECT * FROM runs WHERE run_id=?", (run_id,))
        return RunRecord.from_row(rows[0]) if rows else None

    async def list_runs(self) -> list[RunRecord]:
        rows = await self._fetchall("SELECT * FROM runs ORDER BY created_at")
        return [RunRecord.from_row(row) for row in rows]

    async def committed_keys(self, run_id: str, phase: str) -> set[str]:
        rows = await self._fetchall(
            "SELECT item_key FROM work_items WHERE run_id=? AND phase=?", (run_id, phase)
        )
        return {row["item_key"] for row in rows}

    async def items(
        self, run_id: str, phase: str | None = None, status: str | None = None
    ) -> list[ItemRecord]:
        """Committed work items of a run, in (phase, index, trial) order."""
        sql = "SELECT * FROM work_items WHERE run_id=?"
        params: list[Any] = [run_id]
        if phase is not None:
            sql += " AND phase=?"
            params.append(phase)
        if status is not None:
            sql += " AND status=?"
            params.append(status)
        rows = await self._fetchall(sql + " ORDER BY phase, idx, trial, item_key", params)
        return [ItemRecord.from_row(row) for row in rows]

    async def results(
        self, run_id: str, phase: str, item_key: str | None = None, kind: str | None = None
    ) -> list[ResultRecord]:
        """Result records of a phase (optionally one item / one kind), in commit order."""
        sql = "SELECT * FROM results WHERE run_id=? AND phase=?"
        params: list[Any] = [run_id, phase]
        if item_key is not None:
            sql += " AND item_key=?"
            params.append(item_key)
        if kind is not None:
            sql += " AND kind=?"
            params.append(kind)
        rows = await self._fetchall(sql + " ORDER BY item_key, seq", params)
        refs: list[dict[str, str]] = [json.loads(row["shared_json"]) for row in rows]
        shared = await self._shared_texts({digest for named in refs for digest in named.values()})
        return [
            ResultRecord.from_row(row, named, shared) for row, named in zip(rows, refs, strict=True)
        ]

    async def _shared_texts(self, digests: set[str]) -> dict[str, str]:
        """The JSON texts kept under `digests`; a missing one is a damaged store."""
        found: dict[str, str] = {}
        wanted = sorted(digests)
        for start in range(0, len(wanted), _MAX_VALUES):
            chunk = wanted[start : start + _MAX_VALUES]
            rows = await self._fetchall(
                "SELECT digest, value_json FROM shared_values"
                f" WHERE digest IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            found.update((row["digest"], row["value_json"]) for row in rows)
        missing = digests - found.keys()
        if missing:
            raise StoreError(
                f"{self.path}: results refer to missing shared values: {sorted(missing)}"
            )
        return found

    async def status_counts(self, run_id: str) -> dict[str, dict[str, int]]:
        """Per phase, how many items ended in each status."""
        rows = await self._fetchall(
            "SELECT phase, status, COUNT(*) AS n FROM work_items WHERE run_id=?"
            " GROUP BY phase, status ORDER BY phase, status",
            (run_id,),
        )
        counts: dict[str, dict[str, int]] = {}
        for row in rows:
            counts.setdefault(row["phase"], {})[row["status"]] = row["n"]
        return counts

    async def reason_counts(self, run_id: str) -> dict[str, dict[str, int]]:
        """Per phase, how often each non-empty failure reason occurred."""
        rows = await self._fetchall(
            "SELECT phase, reason, COUNT(*) AS n FROM work_items WHERE run_id=?"
            " AND reason != '' GROUP BY phase, reason ORDER BY phase, n DESC",
            (run_id,),
        )
        counts: dict[str, dict[str, int]] = {}
        for row in rows:
            counts.setdefault(row["phase"], {})[row["reason"]] = row["n"]
        return counts

    async def funnel(self, run_id: str) -> dict[str, list[tuple[str, int, int]]]:
        """Per phase, `(stage, attempts that reached it, attempts that passed it)` in stage order.

        Steps emit `funnel` events (`stage`, `passed`); stages are ordered by first appearance.
        """
        rows = await self._fetchall(
            "SELECT phase, json_extract(payload_json, '$.stage') AS stage, MIN(id) AS first,"
            " COUNT(*) AS reached,"
            " SUM(CASE WHEN json_extract(payload_json, '$.passed') THEN 1 ELSE 0 END) AS passed"
            " FROM events WHERE run_id=? AND event='funnel' GROUP BY phase, stage ORDER BY first",
            (run_id,),
        )
        stages: dict[str, list[tuple[str, int, int]]] = {}
        for row in rows:
            stages.setdefault(row["phase"], []).append(
                (row["stage"], row["reached"], row["passed"])
            )
        return stages

    async def funnel_with_groups(self, run_id: str) -> dict[str, list[tuple[str, str, int, int]]]:
        """Per phase, `(stage, group, reached, passed)` in stage order, as `funnel` counts them.

        `group` is the `group` of the stage's events ('' for none): checks that run side by
        side on every attempt (see `runtime.funnel`).
        """
        rows = await self._fetchall(
            "SELECT phase, json_extract(payload_json, '$.stage') AS stage,"
            " COALESCE(MAX(json_extract(payload_json, '$.group')), '') AS grp,"
            " MIN(id) AS first, COUNT(*) AS reached,"
            " SUM(CASE WHEN json_extract(payload_json, '$.passed') THEN 1 ELSE 0 END) AS passed"
            " FROM events WHERE run_id=? AND event='funnel' GROUP BY phase, stage ORDER BY first",
            (run_id,),
        )
        stages: dict[str, list[tuple[str, str, int, int]]] = {}
        for row in rows:
            stages.setdefault(row["phase"], []).append(
                (row["stage"], row["grp"], row["reached"], row["passed"])
            )
        return stages

    async def failed_steps(self, run_id: str) -> dict[str, list[tuple[str, list[str]]]]:
        """Per phase, `(step, reasons)` of every failed attempt, by item key, then attempt.

        Not in commit order: concurrent items commit in any order, and what is read first
        (e.g. the example shown for a kind) must not change from one run to the next.
        """
        rows = await self._fetchall(
            "SELECT phase, json_extract(payload_json, '$.step') AS step,"
            " json_extract(payload_json, '$.reasons') AS reasons FROM events"
            " WHERE run_id=? AND event='step' AND NOT json_extract(payload_json, '$.passed')"
            " ORDER BY item_key, id",
            (run_id,),
        )
        failed: dict[str, list[tuple[str, list[str]]]] = {}
        for row in rows:
            reasons = [str(reason) for reason in json.loads(row["reasons"] or "[]")]
            failed.setdefault(row["phase"], []).append((str(row["step"]), reasons))
        return failed

    async def accepted_by_attempt(self, run_id: str) -> dict[str, dict[int, int]]:
        """Per phase, how many items were accepted at each attempt number."""
        rows = await self._fetchall(
            "SELECT phase, attempts, COUNT(*) AS n FROM work_items WHERE run_id=?"
            " AND status='accepted' GROUP BY phase, attempts ORDER BY phase, attempts",
            (run_id,),
        )
        counts: dict[str, dict[int, int]] = {}
        for row in rows:
            counts.setdefault(row["phase"], {})[row["attempts"]] = row["n"]
        return counts

    async def cached_keys(self) -> set[str]:
        """Every request key with a cached response (lets a caller skip lookups that miss)."""
        await self.flush()
        rows = await self._fetchall("SELECT request_key FROM model_cache")
        return {str(row[0]) for row in rows}

    async def cached_response(self, request_key: str) -> str | None:
        """The cached response for a model request key, if one was ever stored."""
        await self.flush()
        rows = await self._fetchall(
            "SELECT response_json FROM model_cache WHERE request_key=?", (request_key,)
        )
        return str(rows[0]["response_json"]) if rows else None

    async def model_usage(self, run_id: str) -> list[ModelUsage]:
        """Calls, tokens, cost and failures per model for a run."""
        await self.flush()
        rows = await self._fetchall(
            "SELECT model, COUNT(*) AS calls,"
            " SUM(status='cached') AS cached, SUM(status='error') AS errors,"
            " COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,"
            " COALESCE(SUM(completion_tokens), 0) AS completion_tokens,"
            " COALESCE(SUM(cost_usd), 0.0) AS cost_usd"
            " FROM model_calls WHERE run_id=? GROUP BY model ORDER BY model",
            (run_id,),
        )
        return [ModelUsage.from_row(row) for row in rows]

    async def requests_sent(self, run_id: str) -> dict[str, int]:
        """Per model, the requests its endpoint received: every attempt of every call made,
        retries included (a cached answer sends none)."""
        await self.flush()
        rows = await self._fetchall(
            "SELECT model, COALESCE(SUM(attempt), 0) AS requests FROM model_calls"
            " WHERE run_id=? AND status != 'cached' GROUP BY model ORDER BY model",
            (run_id,),
        )
        return {row["model"]: row["requests"] for row in rows}

    async def model_calls(self, run_id: str) -> list[sqlite3.Row]:
        """Every model call logged for a run, oldest first (for inspection and tests)."""
        await self.flush()
        return await self._fetchall(
            "SELECT * FROM model_calls WHERE run_id=? ORDER BY id", (run_id,)
        )

    async def events(self, run_id: str, event: str | None = None) -> list[sqlite3.Row]:
        sql = "SELECT * FROM events WHERE run_id=?"
        params: list[Any] = [run_id]
        if event is not None:
            sql += " AND event=?"
            params.append(event)
        return await self._fetchall(sql + " ORDER BY id", params)


def _sole_exception(exc: BaseException) -> BaseException:
    """Unwrap exception groups holding exactly one exception."""
    inner = getattr(exc, "exceptions", None)
    while inner is not None and len(inner) == 1:
        exc = inner[0]
        inner = getattr(exc, "exceptions", None)
    return exc


async def _connect(path: Path) -> aiosqlite.Connection:
    try:
        conn = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the store ({exc})") from exc
    try:
        conn.row_factory = sqlite3.Row
        for pragma in _PRAGMAS:
            await conn.execute(pragma)
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await conn.close()
        if isinstance(exc, sqlite3.DatabaseError):
            raise StoreError(f"{path}: not a usable apigen-mt store ({exc})") from exc
        raise
    return conn


def _connect_sync(path: Path) -> sqlite3.Connection:
    """Open the writer's connection (in a worker thread) with the same settings as `_connect`.

    No statement cache: the writer's multi-row INSERTs differ in their row counts, and a
    cache of 128 kept ~12 MB of large prepared statements that were rarely used again.
    """
    try:
        conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, cached_statements=0
        )
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the store ({exc})") from exc
    try:
        for pragma in _PRAGMAS:
            conn.execute(pragma)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: not a usable apigen-mt store ({exc})") from exc
    return conn


async def _migrate(conn: aiosqlite.Connection, path: Path) -> None:
    """Bring the schema to SCHEMA_VERSION, one transaction per migration."""
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        async with conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") as c:
            row = await c.fetchone()
        current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: store schema v{current} is newer than this apigen-mt (v{SCHEMA_VERSION})"
            )
        for version, description, script in MIGRATIONS:
            if version <= current:
                continue
            await conn.execute("BEGIN IMMEDIATE")
            try:
                for sql in _split_script(script):
                    await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    (version, description, time.time()),
                )
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a usable apigen-mt store ({exc})") from exc


def _split_script(script: str) -> Iterable[str]:
    return (stmt.strip() for stmt in script.split(";") if stmt.strip())


async def _start_writer(
    tg: TaskGroup, writer: _Writer, receive: MemoryObjectReceiveStream[_Unit]
) -> None:
    tg.start_soon(_writer_loop, writer, receive, name="store-writer")


async def _writer_loop(writer: _Writer, receive: MemoryObjectReceiveStream[_Unit]) -> None:
    """Drain queued units and commit them in batches, each batch in one worker-thread hop.

    Shielded: a cancelled run still gets its last commits (and its `interrupted` status)
    written; the loop ends when `Store.open` closes the queue on the way out.
    """
    with anyio.CancelScope(shield=True):
        async with receive:
            async for first in receive:
                batch = [first]
                while len(batch) < _MAX_BATCH:
                    try:
                        batch.append(receive.receive_nowait())
                    except (anyio.WouldBlock, anyio.EndOfStream):
                        break
                try:
                    await writer.commit(batch)
                finally:
                    for unit in batch:
                        if unit.done is not None:
                            unit.done.set()
                        elif unit.error is not None:
                            _log.error("store.write_failed", error=str(unit.error))


def _commit_batch(conn: sqlite3.Connection, batch: list[_Unit]) -> None:
    """Apply every unit of the batch in one transaction (runs in the writer's thread).

    A unit's own SQLite error is confined to its savepoint; any other failure rolls the
    whole batch back and every unit in it reports that error.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
        _insert_rows(conn, [unit for unit in batch if unit.rows])
        _insert_items(conn, [unit for unit in batch if unit.item is not None])
        for unit in batch:
            if not unit.rows and unit.item is None:
                _apply_unit(conn, unit)
        conn.execute("COMMIT")
    except BaseException as exc:  # the whole batch failed: every waiter hears why
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        for unit in batch:
            unit.applied = False
            unit.error = unit.error or exc


def _insert_rows(conn: sqlite3.Connection, units: list[_Unit]) -> None:
    """All the row units of a batch as one multi-row INSERT per table, under one savepoint.

    Rows keep their queue order; if the inserts fail, every row unit reports the error.
    """
    if not units:
        return
    by_insert: dict[_Insert, list[Sequence[Any]]] = {}
    for unit in units:
        for insert, row in unit.rows:
            by_insert.setdefault(insert, []).append(row)
    conn.execute("SAVEPOINT rows")
    try:
        for insert, rows in by_insert.items():
            for sql, params in insert.statements(rows):
                conn.execute(sql, params)
    except sqlite3.Error as exc:
        conn.execute("ROLLBACK TO rows")
        conn.execute("RELEASE rows")
        for unit in units:
            unit.error = exc
        return
    conn.execute("RELEASE rows")
    for unit in units:
        unit.applied = True


def _insert_items(conn: sqlite3.Connection, units: list[_Unit]) -> None:
    """The batch's work items in a few statements: the keys already committed are looked
    up once, the others go in with their results and events as multi-row INSERTs.

    Five statements per item, each re-taking the GIL, made the writer the bottleneck when
    many episodes finish at once. If the merged inserts fail, each unit is applied on its
    own, so one bad item cannot fail the others.
    """
    if not units:
        return
    conn.execute("SAVEPOINT items")
    try:
        seen = _committed(conn, [unit.item.key for unit in units if unit.item is not None])
        fresh: list[_ItemRows] = []
        for unit in units:
            assert unit.item is not None
            unit.applied = unit.item.key not in seen
            if unit.applied:
                seen.add(unit.item.key)
                fresh.append(unit.item)
        shared = {text.digest: text for item in fresh for text in item.shared}
        for insert, rows in (
            (_SHARED, list(shared.values())),
            (_ITEMS, [item.item for item in fresh]),
            (_RESULTS, [row for item in fresh for row in item.results]),
            (_EVENTS, [row for item in fresh for row in item.events]),
        ):
            for sql, params in insert.statements(rows) if rows else []:
                conn.execute(sql, params)
    except sqlite3.Error:
        conn.execute("ROLLBACK TO items")
        conn.execute("RELEASE items")
        for unit in units:
            _apply_unit(conn, unit)
        return
    conn.execute("RELEASE items")


def _committed(
    conn: sqlite3.Connection, keys: list[tuple[str, str, str]]
) -> set[tuple[str, str, str]]:
    """Which of `keys` (run_id, phase, item_key) already have a work_items row."""
    by_phase: dict[tuple[str, str], list[str]] = {}
    for run_id, phase, item_key in keys:
        by_phase.setdefault((run_id, phase), []).append(item_key)
    found: set[tuple[str, str, str]] = set()
    per = _MAX_VALUES - 2
    for (run_id, phase), names in by_phase.items():
        for start in range(0, len(names), per):
            chunk = names[start : start + per]
            sql = (
                "SELECT item_key FROM work_items WHERE run_id=? AND phase=?"
                f" AND item_key IN ({', '.join('?' * len(chunk))})"
            )
            found.update(
                (run_id, phase, key) for (key,) in conn.execute(sql, (run_id, phase, *chunk))
            )
    return found


def _apply_unit(conn: sqlite3.Connection, unit: _Unit) -> None:
    """Apply one unit under its own savepoint; a guard that changes no row skips the unit."""
    guard, statements = unit.guard, unit.statements
    if unit.item is not None:
        guard, statements = _ITEMS.statements([unit.item.item])[0], unit.item.statements()
    unit.applied = False
    conn.execute("SAVEPOINT unit")
    try:
        if guard is not None and conn.execute(*guard).rowcount == 0:
            conn.execute("RELEASE unit")
            return
        for sql, params in statements:
            conn.execute(sql, params)
        conn.execute("RELEASE unit")
        unit.applied = True
    except sqlite3.Error as exc:
        conn.execute("ROLLBACK TO unit")
        conn.execute("RELEASE unit")
        unit.error = exc
