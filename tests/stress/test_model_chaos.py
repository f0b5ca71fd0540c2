"""A run against a model server that fails about a third of its requests still completes:
every failure is a recorded reason, retries stay bounded, and nothing crashes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from stress_support import (
    STORE_FILE,
    SimServerProcess,
    openai_model,
    query,
    retail_playbook,
    run_cli,
    write_playbook,
)

MAX_RETRIES = 2
TIMEOUT_S = 0.4
# Transport faults on ~28% of requests (429, 500, slower than the timeout, truncated bodies),
# plus simulated-model faults in otherwise good answers (malformed JSON, unknown tools, ...).
SERVER_FLAGS = (
    "--seed",
    "7",
    "--latency-ms",
    "5",
    "--error-rate-429",
    "0.08",
    "--error-rate-500",
    "0.08",
    "--slow-rate",
    "0.06",
    "--slow-s",
    "1.0",
    "--truncate-rate",
    "0.08",
    "--sim-fault",
    "proposer:malformed_json=0.15",
    "--sim-fault",
    "proposer:unknown_tool=0.1",
    "--sim-fault",
    "reviewer:malformed_json=0.1",
    "--sim-fault",
    "assistant:unknown_tool=0.1",
    "--sim-fault",
    "assistant:wrong_argument=0.05",
    "--sim-fault",
    "human:premature_stop=0.03",
)


def test_a_run_against_a_faulty_server_completes_with_every_failure_explained(
    tmp_path: Path, simserver: Callable[..., SimServerProcess]
) -> None:
    server = simserver(*SERVER_FLAGS)
    model = openai_model(
        server.base_url, timeout_s=TIMEOUT_S, max_retries=MAX_RETRIES, retry_max_s=0.02
    )
    playbook = write_playbook(tmp_path, retail_playbook(model, seed=5, blueprints=10))
    store = tmp_path / "run" / STORE_FILE

    result = run_cli(playbook.as_posix(), "--store", str(store.parent), "--no-progress")

    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    unexplained = query(
        store,
        "SELECT phase, item_key, status FROM work_items WHERE status != 'accepted'"
        " AND trim(reason) = ''",
    )
    assert unexplained == []
    per_phase = dict(query(store, "SELECT phase, COUNT(*) FROM work_items GROUP BY phase"))
    accepted_blueprints = query(
        store, "SELECT COUNT(*) FROM work_items WHERE phase='blueprints' AND status='accepted'"
    )[0][0]
    assert per_phase == {
        "tasks": 9,
        "trajectories": 9 * 2,
        "blueprints": 10,
        "blueprint_talks": accepted_blueprints * 2,
    }
    assert query(store, "SELECT status FROM runs") == [("completed",)]

    calls = query(
        store,
        "SELECT COUNT(*), COALESCE(SUM(attempt), 0), COALESCE(MAX(attempt), 0)"
        " FROM model_calls WHERE status != 'cached'",
    )[0]
    logical_calls, attempts, most_attempts = calls
    served = server.chat_requests()
    assert most_attempts <= MAX_RETRIES + 1
    assert served <= attempts <= logical_calls * (MAX_RETRIES + 1)
    assert served > logical_calls  # the faults did force retries
    for status in (429, 500):
        assert server.chat_requests(status) > 0
    failed_calls = query(store, "SELECT error FROM model_calls WHERE status = 'error'")
    assert all(error and error.strip() for (error,) in failed_calls)
