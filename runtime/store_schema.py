"""The store's versioned schema: an ordered list of migrations, never edited once shipped."""

from __future__ import annotations

_V1 = """
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    playbook_path TEXT NOT NULL,
    playbook_hash TEXT NOT NULL,
    playbook_json TEXT NOT NULL,
    seed INTEGER NOT NULL,
    simulated INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE work_items (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    phase TEXT NOT NULL,
    item_key TEXT NOT NULL,
    idx INTEGER NOT NULL,
    trial INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    outcome_json TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    duration_s REAL NOT NULL,
    committed_at REAL NOT NULL,
    PRIMARY KEY (run_id, phase, item_key)
);
CREATE TABLE results (
    run_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    item_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    PRIMARY KEY (run_id, phase, item_key, seq),
    FOREIGN KEY (run_id, phase, item_key) REFERENCES work_items(run_id, phase, item_key)
);
CREATE INDEX results_by_kind ON results (run_id, phase, kind);
CREATE TABLE model_cache (
    request_key TEXT PRIMARY KEY,
    response_json TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE model_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    item_key TEXT NOT NULL,
    model TEXT NOT NULL,
    provider TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    request_key TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    attempt INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    latency_s REAL NOT NULL,
    simulated INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX model_calls_by_run ON model_calls (run_id, model);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    item_key TEXT NOT NULL,
    level TEXT NOT NULL,
    event TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    ts REAL NOT NULL
);
CREATE INDEX events_by_run ON events (run_id, event)
"""

_V2 = """
ALTER TABLE model_cache ADD COLUMN run_id TEXT NOT NULL DEFAULT ''
"""

_V3 = """
CREATE TABLE shared_values (
    digest TEXT PRIMARY KEY,
    value_json TEXT NOT NULL
);
ALTER TABLE results ADD COLUMN shared_json TEXT NOT NULL DEFAULT '{}'
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "runs, work items, results, model calls and cache, events", _V1),
    (2, "cached answers say which run wrote them", _V2),
    (3, "values many results repeat are kept once, by digest", _V3),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
