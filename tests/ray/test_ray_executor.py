"""The Ray executor gives the same data as the local one and survives losing a worker."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from runtime.api import load_playbook, run_playbook
from runtime.engine import RunSummary

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("ray_cluster")]

PLAYBOOK = Path(__file__).parents[2] / "playbooks" / "trajectories.yaml"
RAY = {"kind": "ray", "workers": 2, "episodes_per_worker": 4}


def _rows(summary: RunSummary) -> dict[str, Any]:
    """Everything a run committed, keyed by item, as comparable JSON."""
    db = sqlite3.connect(summary.store_path)
    items = db.execute(
        "SELECT phase, item_key, status, reason FROM work_items ORDER BY phase, item_key"
    ).fetchall()
    results = db.execute(
        "SELECT phase, item_key, seq, kind, payload_json FROM results ORDER BY phase, item_key, seq"
    ).fetchall()
    calls = db.execute("SELECT COUNT(*) FROM model_calls").fetchone()[0]
    db.close()
    return {
        "items": items,
        "results": [(p, k, s, kind, json.loads(body)) for p, k, s, kind, body in results],
        "model_calls": calls,
    }


async def test_ray_and_local_runs_commit_identical_data(tmp_path: Path) -> None:
    local = await run_playbook(load_playbook(PLAYBOOK, {"store": str(tmp_path / "local")}))
    ray = await run_playbook(
        load_playbook(PLAYBOOK, {"store": str(tmp_path / "ray"), "executor": RAY})
    )
    assert ray.run_id == local.run_id  # the executor is not part of the run's identity
    assert ray.counts == local.counts
    local_rows, ray_rows = _rows(local), _rows(ray)
    assert ray_rows["items"] == local_rows["items"]
    assert ray_rows["results"] == local_rows["results"]
    assert ray_rows["model_calls"] == local_rows["model_calls"] > 0


async def test_a_dead_worker_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "crashed"
    loaded = load_playbook(PLAYBOOK, {"store": str(tmp_path / "run"), "executor": RAY})
    trajectories = loaded.playbook.phases[1]
    crash = {"kind": "crash_once", "key": "000004.t1", "marker": str(marker)}
    raw = loaded.playbook.model_dump(mode="json")
    raw["phases"][1]["steps"].insert(0, crash)
    raw["phases"][0]["steps"][0]["path"] = str(PLAYBOOK.parent / "data" / "retail_tasks.json")
    raw["plugins"] = ["crash_plugin"]
    raw["store"] = str(tmp_path / "run")
    path = tmp_path / "crash.yaml"
    path.write_text(json.dumps(raw))
    summary = await run_playbook(load_playbook(path))
    assert marker.exists()  # a worker really died mid-batch
    rows = _rows(summary)
    keys = [key for phase, key, _, _ in rows["items"] if phase == trajectories.name]
    assert len(keys) == len(set(keys)) == 27
    per_item: dict[str, int] = {}
    for phase, key, _, kind, _ in rows["results"]:
        if phase == trajectories.name and kind == "trajectory":
            per_item[key] = per_item.get(key, 0) + 1
    assert set(per_item.values()) == {1}
    uninterrupted = await run_playbook(load_playbook(PLAYBOOK, {"store": str(tmp_path / "local")}))
    assert summary.counts["trajectories"] == uninterrupted.counts["trajectories"]
