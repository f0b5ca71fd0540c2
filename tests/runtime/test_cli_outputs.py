"""What `export`, `inspect` and `report` print and where they write, as users run them."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

TWO_DOMAINS = (Path(__file__).parents[1] / "two_domains.yaml").read_text()


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.run", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        check=False,
    )


@pytest.fixture(scope="module")
def two_domains(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run with blueprints of two domains (3 retail, 2 airline, all accepted)."""
    root = tmp_path_factory.mktemp("cli")
    playbook = root / "two.yaml"
    playbook.write_text(TWO_DOMAINS)
    done = _cli(str(playbook), "--store", str(root / "run"), "--no-progress")
    assert done.returncode == 0, done.stderr
    return root / "run"


def test_tau_writes_a_directory_with_one_task_file_per_domain(two_domains: Path) -> None:
    result = _cli("export", str(two_domains), "--format", "tau")
    assert result.returncode == 0, result.stderr
    out = two_domains / "export" / "tau"
    assert result.stdout == (
        f"wrote 5 records as tau -> {out}/ (tasks_airline.json, tasks_retail.json)\n"
    )
    assert len(json.loads((out / "tasks_retail.json").read_text())) == 3
    assert len(json.loads((out / "tasks_airline.json").read_text())) == 2


def test_tau_out_names_the_directory(two_domains: Path, tmp_path: Path) -> None:
    result = _cli("export", str(two_domains), "--format", "tau", "--out", str(tmp_path / "t"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == [
        "tasks_airline.json",
        "tasks_retail.json",
    ]


def test_export_help_says_what_out_is_for_each_format() -> None:
    text = " ".join(_cli("export", "--help").stdout.split())
    assert "apigen-mt-5k" in text
    assert "a directory for tau (tasks_<domain>.json per domain)" in text
    assert "<out>.meta.json" in text


PLAYBOOKS = Path(__file__).parents[2] / "playbooks"


@pytest.fixture(scope="module")
def trajectories(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped phase-2 playbook run once: 27 trials of 9 tasks, some rejected."""
    store = tmp_path_factory.mktemp("cli") / "run"
    done = _cli(str(PLAYBOOKS / "trajectories.yaml"), "--store", str(store), "--no-progress")
    assert done.returncode == 0, done.stderr
    return store


def test_inspect_shows_the_verifiers_checks_as_one_stage_with_parts(trajectories: Path) -> None:
    report = json.loads(_cli("inspect", str(trajectories), "--json").stdout)
    phase = report["phases"]["trajectories"]
    converse, verify = phase["funnel"]
    assert converse == {"stage": "converse", "reached": 27, "passed": 27}
    assert verify["stage"] == "verifier"  # the role that runs the checks
    parts = {part["stage"]: part for part in verify["parts"]}
    assert list(parts) == ["policy", "state", "outputs"]
    assert all(part["reached"] == 27 for part in parts.values())  # each check sees every trial
    shown = ", ".join(f"{name} {part['passed']}" for name, part in parts.items())
    accepted = phase["counts"]["accepted"]
    line = f"funnel: converse 27 -> verifier [{shown}] -> accepted {accepted}"
    assert line in _cli("inspect", str(trajectories)).stdout


def test_inspect_groups_failures_by_kind_with_one_example_each(trajectories: Path) -> None:
    report = json.loads(_cli("inspect", str(trajectories), "--json").stdout)
    phase = report["phases"]["trajectories"]
    failures = phase["failures"]
    assert failures["attempts"] == phase["counts"]["rejected"]  # one attempt per trial
    kinds = failures["kinds"]
    assert kinds and all(k["example"].startswith(f"conversation: {k['kind']}: ") for k in kinds)
    assert [k["count"] for k in kinds] == sorted((k["count"] for k in kinds), reverse=True)
    text = _cli("inspect", str(trajectories)).stdout
    assert f"    failed attempts: {failures['attempts']}, by kind:\n" in text
    width = max(len(k["kind"]) for k in kinds)
    for kind in kinds:
        example = f"e.g. conversation: {kind['kind']}: "
        assert f"{kind['count']:6d}  {kind['kind']:<{width}}  {example}" in text


def test_a_resumed_run_counts_cache_hits_apart_from_calls_made(
    two_domains: Path, tmp_path: Path
) -> None:
    store = tmp_path / "run"
    shutil.copytree(two_domains, store)
    before = json.loads(_cli("inspect", str(store), "--json").stdout)["models"]
    # the airline items never committed (a kill after their calls): resuming redoes them,
    # and every call they make was answered before
    with sqlite3.connect(store / "store.sqlite") as db:
        (airline_calls,) = db.execute(
            "SELECT COUNT(*) FROM model_calls WHERE phase='airline_tasks' AND status='ok'"
        ).fetchone()
        for table in ("results", "events", "work_items"):
            db.execute(f"DELETE FROM {table} WHERE phase='airline_tasks'")
    resumed = _cli("resume", str(store), "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert "2 episodes" in resumed.stdout
    (after,) = json.loads(_cli("inspect", str(store), "--json").stdout)["models"]
    (first,) = before
    assert airline_calls > 0 and first["cache_hits"] == 0
    assert after["calls_made"] == first["calls_made"]
    assert after["requests"] == first["requests"]
    assert after["cache_hits"] == airline_calls
    line = (
        f"  model default: {first['calls_made']} calls made ({first['requests']} requests sent,"
        f" retries included), {airline_calls} cache hits, 0 errors;"
    )
    assert line in _cli("inspect", str(store)).stdout


def test_inspect_trace_prints_who_said_what_to_whom_in_order(two_domains: Path) -> None:
    run = two_domains
    shown = _cli("inspect", str(run), "--trace", "1", "--phase", "airline_tasks")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "airline_tasks/000001 attempt 1: 3 messages"
    routes = [line.split()[1:5] for line in lines[1:]]
    assert routes == [
        ["protocol", "->", "proposer", "start"],
        ["proposer", "->", "validator", "proposal"],
        ["validator", "->", "end:accepted", "valid"],
    ]
    as_json = json.loads(
        _cli("inspect", str(run), "--trace", "000001", "--phase", "airline_tasks", "--json").stdout
    )
    with sqlite3.connect(run / "store.sqlite") as db:
        (stored,) = db.execute(
            "SELECT payload_json FROM results WHERE kind='trace' AND phase='airline_tasks'"
            " AND item_key='000001'"
        ).fetchone()
    assert as_json["attempts"] == [json.loads(stored)]


def test_inspect_trace_names_what_it_cannot_tell_apart_or_find(two_domains: Path) -> None:
    run = two_domains
    both = _cli("inspect", str(run), "--trace", "1")
    assert both.returncode == 2 and both.stdout == ""
    assert "retail_tasks/000001, airline_tasks/000001): add --phase" in both.stderr
    missing = _cli("inspect", str(run), "--trace", "7")
    assert missing.returncode == 2
    assert "no trace of item '7' in any phase" in missing.stderr
    wrong = _cli("inspect", str(run), "--trace", "1", "--phase", "tasks")
    assert "--phase: no phase 'tasks' in this run (phases: retail_tasks, airline_tasks)" in (
        wrong.stderr
    )
