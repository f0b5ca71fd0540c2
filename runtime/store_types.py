"""Typed records that go into and come out of the run store."""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
import time
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

import orjson
from pydantic import BaseModel, ConfigDict, Field

ItemStatus = Literal["accepted", "rejected", "failed"]
ModelCallStatus = Literal["ok", "error", "cached"]

_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def canonical_json(value: Any) -> str:
    """JSON as the store keeps it: sorted keys, no spaces, other types as their `str`.

    orjson for speed (every finished episode encodes its transcript); the standard
    encoder for what orjson refuses, such as integers beyond 64 bits from model output.
    """
    try:
        return orjson.dumps(value, default=str, option=_CANONICAL).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class RunRecord(BaseModel):
    """One run: a playbook snapshot plus its identity and status."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    name: str
    playbook_path: str
    playbook_hash: str
    playbook_json: str
    seed: int
    simulated: bool
    status: str = "running"
    created_at: float = 0.0
    updated_at: float = 0.0

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> RunRecord:
        return cls(**{key: row[key] for key in row.keys()})  # noqa: SIM118


class ResultPayload(BaseModel):
    """One result an episode produced (a blueprint, a review, a trajectory, ...)."""

    kind: str
    payload: dict[str, Any]


class SharedText(NamedTuple):
    """The JSON text of a value many results repeat, and its digest (the store's key)."""

    digest: str
    text: str


@functools.lru_cache(maxsize=256)
def shared_text(text: str) -> SharedText:
    """`text` with its digest, one copy per distinct text among the last 256 asked for.

    A phase's trajectories all repeat its tool schemas and system prompt (two thirds of
    each trajectory's JSON): through this, the commits waiting for the writer refer to one
    copy, and the store keeps it once. Bounded, so texts that do vary cost no memory.
    """
    return SharedText(hashlib.sha256(text.encode()).hexdigest(), text)


class ResultJSON(BaseModel):
    """A result as a work item commits it: kind and payload, the payload already encoded.

    `shared` holds the payload's top-level values that many results repeat, each encoded
    on its own (key -> JSON text): the store keeps each distinct text once, and reading
    the result puts them back in its payload.
    """

    kind: str
    payload_json: str
    shared: dict[str, str] = Field(default_factory=dict)


class ItemEvent(BaseModel):
    """An event that belongs to a work item and commits with it."""

    event: str
    payload: dict[str, Any] = Field(default_factory=dict)
    level: str = "info"
    ts: float = Field(default_factory=time.time)


class ItemCommit(BaseModel):
    """Everything one finished work item writes, committed in one transaction."""

    run_id: str
    phase: str
    item_key: str
    index: int
    trial: int = 0
    status: ItemStatus
    reason: str = ""
    outcome: dict[str, Any] = Field(default_factory=dict)
    attempts: int = 1
    duration_s: float = 0.0
    results: list[ResultJSON] = Field(default_factory=list)
    events: list[ItemEvent] = Field(default_factory=list)


class ItemRecord(BaseModel):
    """A committed work item as read back from the store."""

    run_id: str
    phase: str
    item_key: str
    index: int
    trial: int
    status: ItemStatus
    reason: str
    outcome: dict[str, Any]
    attempts: int
    duration_s: float
    committed_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ItemRecord:
        return cls(
            run_id=row["run_id"],
            phase=row["phase"],
            item_key=row["item_key"],
            index=row["idx"],
            trial=row["trial"],
            status=row["status"],
            reason=row["reason"],
            outcome=json.loads(row["outcome_json"]),
            attempts=row["attempts"],
            duration_s=row["duration_s"],
            committed_at=row["committed_at"],
        )


class ResultRecord(BaseModel):
    """A stored result row."""

    item_key: str
    seq: int
    kind: str
    payload: dict[str, Any]

    @classmethod
    def from_row(
        cls, row: sqlite3.Row, refs: Mapping[str, str], shared: Mapping[str, str]
    ) -> ResultRecord:
        """The row's result with the shared values it names (`refs`: key -> digest) put
        back from `shared` (digest -> JSON text)."""
        payload = json.loads(row["payload_json"])
        if refs:
            payload.update((key, json.loads(shared[digest])) for key, digest in refs.items())
            payload = dict(sorted(payload.items()))  # the key order of a payload kept whole
        return cls(item_key=row["item_key"], seq=row["seq"], kind=row["kind"], payload=payload)


class ModelCallRecord(BaseModel):
    """One model call (or cache hit, or final failure) as the gateway logs it.

    `request_json`-level detail is deliberately absent: the request key is a hash, and
    secrets such as API keys never reach this record.
    """

    run_id: str
    phase: str = ""
    item_key: str = ""
    model: str
    provider: str
    endpoint: str = ""
    request_key: str
    status: ModelCallStatus
    error: str | None = None
    attempt: int = 1
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    simulated: bool = False
    response_json: str | None = None


class ModelUsage(BaseModel):
    """Summed usage of one model within a run."""

    model: str
    calls: int
    cached: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ModelUsage:
        return cls(**{key: row[key] for key in row.keys()})  # noqa: SIM118
