"""A run killed with SIGKILL at random points and resumed each time ends exactly as an
uninterrupted run: every work item committed once, nothing orphaned, identical data."""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stress_support import (
    STORE_FILE,
    SimServerProcess,
    committed_items,
    kill,
    openai_model,
    query,
    retail_playbook,
    run_cli,
    start_cli,
    write_playbook,
)

SEED = 20240611
KILLS = 4
TRIALS = 2
# tasks 9 + trajectories 9x2 + blueprints 8 + blueprint_talks 8x2
EXPECTED_ITEMS = 9 + 9 * TRIALS + 8 + 8 * TRIALS
SERVER_FLAGS = (
    "--latency-ms",
    "40",
    "--sim-fault",
    "proposer:malformed_json=0.2",
    "--sim-fault",
    "proposer:wrong_argument=0.2",
    "--sim-fault",
    "assistant:wrong_argument=0.1",
)


def _wait_for_items(
    store: Path, target: int, process: subprocess.Popen[bytes], limit: float
) -> None:
    """Poll (bounded) until the store holds `target` items or the process has exited."""
    deadline = time.monotonic() + limit
    while committed_items(store) < target and process.poll() is None:
        assert time.monotonic() < deadline, f"no progress to {target} items within {limit}s"
        time.sleep(0.01)


def _accepted_data(store: Path) -> dict[str, Any]:
    """Results (blueprints, transcripts, verdicts) and item outcomes, without timings."""
    return {
        "results": query(
            store,
            "SELECT phase, item_key, seq, kind, payload_json FROM results ORDER BY 1, 2, 3",
        ),
        "items": query(
            store,
            "SELECT phase, item_key, idx, trial, status, reason, outcome_json, attempts"
            " FROM work_items ORDER BY 1, 2",
        ),
    }


def _assert_exactly_once_and_nothing_orphaned(store: Path) -> None:
    per_key = query(
        store, "SELECT phase, item_key, COUNT(*) FROM work_items GROUP BY run_id, phase, item_key"
    )
    assert len(per_key) == EXPECTED_ITEMS
    assert {count for _, _, count in per_key} == {1}
    for table in ("results", "events"):
        orphans = query(
            store,
            f"SELECT t.phase, t.item_key FROM {table} t LEFT JOIN work_items w"
            " ON w.run_id = t.run_id AND w.phase = t.phase AND w.item_key = t.item_key"
            " WHERE t.item_key != '' AND w.item_key IS NULL",
        )
        assert orphans == [], f"orphaned {table} rows: {orphans[:5]}"
    assert query(store, "SELECT status FROM runs") == [("completed",)]


def test_a_run_killed_at_random_points_resumes_to_the_uninterrupted_result(
    tmp_path: Path, simserver: Callable[..., SimServerProcess]
) -> None:
    server = simserver(*SERVER_FLAGS)
    playbook = write_playbook(tmp_path, retail_playbook(openai_model(server.base_url)))
    crashed, reference = tmp_path / "crashed", tmp_path / "reference"
    rng = random.Random(SEED)
    targets = sorted(rng.sample(range(1, EXPECTED_ITEMS - 1), KILLS))

    uninterrupted = start_cli(playbook.as_posix(), "--store", str(reference), "--no-progress")
    children = [uninterrupted]
    try:
        args: tuple[str, ...] = ("run", playbook.as_posix(), "--store", str(crashed))
        for target in targets:
            process = start_cli(*args, "--no-progress")
            children.append(process)
            _wait_for_items(crashed / STORE_FILE, target, process, limit=30)
            assert process.poll() is None, "the run finished before it could be killed"
            kill(process)
            assert target <= committed_items(crashed / STORE_FILE) < EXPECTED_ITEMS
            assert query(crashed / STORE_FILE, "SELECT status FROM runs") == [("running",)]
            args = ("resume", str(crashed))
        final = run_cli(*args, "--no-progress")
        assert final.returncode == 0, final.stderr[-2000:]
        assert uninterrupted.wait(timeout=60) == 0
    finally:
        for child in children:
            kill(child)

    _assert_exactly_once_and_nothing_orphaned(crashed / STORE_FILE)
    _assert_exactly_once_and_nothing_orphaned(reference / STORE_FILE)
    assert _accepted_data(crashed / STORE_FILE) == _accepted_data(reference / STORE_FILE)
    accepted = query(
        crashed / STORE_FILE, "SELECT COUNT(*) FROM work_items WHERE status='accepted'"
    )
    assert accepted[0][0] > EXPECTED_ITEMS // 2
