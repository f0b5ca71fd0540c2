"""Trajectory phases end to end on the simulated backend: the conversation protocol, its
verifier, trials and pass^k."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path
from typing import Any

import anyio
import pytest

from agents.passk import kept_from_store, passk_from_store
from agents.plugin import register
from agents.roles.verifier import keep_rule
from domains.airline import AirlineDomain
from domains.retail import RetailDomain
from runtime.api import LoadedPlaybook, run_playbook
from runtime.engine import RunSummary
from runtime.playbook import parse_playbook
from runtime.plugins import Extensions
from runtime.store import Store
from runtime.yaml_source import YamlSource

pytestmark = pytest.mark.anyio

PLAYBOOKS = Path(__file__).parents[2] / "playbooks"
TASKS = [
    {
        "user_id": "u1",
        "instruction": "You are reader1@example.com. You want to borrow book b2.",
        "actions": [
            {"name": "find_user", "kwargs": {"email": "reader1@example.com"}},
            {"name": "get_book", "kwargs": {"book_id": "b2"}},
            {"name": "borrow_book", "kwargs": {"user_id": "u1", "book_id": "b2"}},
        ],
        "outputs": ["Book 2"],
    },
    {
        "user_id": "u0",
        "instruction": "You are reader0@example.com. Return book b0.",
        "actions": [
            {"name": "find_user", "kwargs": {"email": "reader0@example.com"}},
            {"name": "return_book", "kwargs": {"user_id": "u0", "book_id": "b0"}},
        ],
        "outputs": [],
    },
]


def _extensions() -> Extensions:
    extensions = Extensions()
    register(extensions)
    return extensions


def _library(
    tmp_path: Path,
    *,
    faults: dict[str, dict[str, float]] | None = None,
    trials: int = 2,
    episodes: int = 2,
    human: str = "{}",
    verifier: str = "{keep: first}",
    seed: int = 5,
    run_dir: str = "run",
) -> LoadedPlaybook:
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps(TASKS))
    text = f"""
    name: library
    seed: {seed}
    domain: library_domain:LibraryDomain
    models:
      default: {{provider: simulated, faults: {json.dumps(faults or {})}}}
    phases:
      - {{name: tasks, episodes: {episodes}, steps: [{{kind: load_task, path: {tasks}}}]}}
      - name: talk
        input: {{phase: tasks}}
        trials: {trials}
        steps:
          - kind: protocol
            use: conversation
            roles: {{human: {human}, verifier: {verifier}}}
    """
    source = YamlSource("test.yaml", textwrap.dedent(text))
    assert isinstance(source.data, dict)
    source.data["store"] = str(tmp_path / run_dir)
    extensions = _extensions()
    playbook = parse_playbook(source, extensions.steps, extensions.protocol_catalog)
    return LoadedPlaybook(playbook, extensions, "test.yaml")


async def _results(summary: RunSummary, phase: str, kind: str) -> list[dict[str, Any]]:
    async with Store.open(summary.store_path) as store:
        return [r.payload for r in await store.results(summary.run_id, phase, kind=kind)]


async def _reasons(summary: RunSummary, phase: str) -> dict[str, str]:
    async with Store.open(summary.store_path) as store:
        return {i.item_key: i.reason for i in await store.items(summary.run_id, phase=phase)}


async def test_scripted_trials_are_all_accepted_and_recorded(tmp_path: Path) -> None:
    summary = await run_playbook(_library(tmp_path))
    assert summary.counts == {"tasks": {"accepted": 2}, "talk": {"accepted": 4}}
    trajectories = await _results(summary, "talk", "trajectory")
    assert [t["end"] for t in trajectories] == ["stop"] * 4
    assert all(t["simulated"] for t in trajectories)
    assert trajectories[0]["tools"][0]["name"] == "find_user"
    assert all(t["tools"] == trajectories[0]["tools"] and t["system"] for t in trajectories)
    with sqlite3.connect(summary.store_path) as db:  # the phase's prompt and tools, once
        assert db.execute("SELECT COUNT(*) FROM shared_values").fetchone() == (2,)
    verdicts = await _results(summary, "talk", "verdict")
    assert all(
        v["accepted"] and v["policy_ok"] and v["state_ok"] and v["outputs_ok"] for v in verdicts
    )
    async with Store.open(summary.store_path) as store:
        report = await passk_from_store(store, summary.run_id, "talk")
        kept = await kept_from_store(store, summary.run_id, "talk", "first")
        funnel = await store.funnel(summary.run_id)
    assert report.mean == {1: 1.0, 2: 1.0}
    assert kept == ["000000.t0", "000001.t0"]
    assert [stage for stage, _, _ in funnel["talk"]] == ["converse", "policy", "state", "outputs"]


async def test_a_wrong_argument_fault_is_a_state_mismatch(tmp_path: Path) -> None:
    summary = await run_playbook(
        _library(tmp_path, faults={"assistant": {"wrong_argument": 1.0}}, trials=1)
    )
    assert summary.counts["talk"] == {"rejected": 2}
    verdicts = await _results(summary, "talk", "verdict")
    mismatches = [[r for r in v["reasons"] if r.startswith("state_mismatch: ")] for v in verdicts]
    assert all(mismatches)
    assert "books/b2" in mismatches[0][0]
    # the agent listed b2 for the user's yes, then borrowed b3: not what was agreed to
    assert verdicts[0]["violations"][0].startswith("unconfirmed_write: borrow_book")


async def test_a_premature_stop_leaves_the_state_and_outputs_short(tmp_path: Path) -> None:
    summary = await run_playbook(
        _library(tmp_path, faults={"human": {"premature_stop": 1.0}}, trials=1)
    )
    assert summary.counts["talk"] == {"rejected": 2}
    verdicts = await _results(summary, "talk", "verdict")
    assert verdicts[0]["reasons"] == [
        "state_mismatch: books/b2 (missing), users/u1 (missing)",
        "missing_output: Book 2",
    ]
    trajectories = await _results(summary, "talk", "trajectory")
    assert [len(t["messages"]) for t in trajectories] == [1, 1]


async def test_a_skipped_confirmation_rejects_the_trajectory(tmp_path: Path) -> None:
    summary = await run_playbook(
        _library(tmp_path, faults={"assistant": {"skipped_confirmation": 1.0}}, trials=1)
    )
    assert summary.counts["talk"] == {"rejected": 2}
    verdicts = await _results(summary, "talk", "verdict")
    assert [v["state_ok"] for v in verdicts] == [True, True], "the state alone looks right"
    assert all(v["reasons"][0].startswith("unconfirmed_write: ") for v in verdicts)
    async with Store.open(summary.store_path) as store:
        items = await store.items(summary.run_id, phase="talk")
    assert [item.outcome["policy_ok"] for item in items] == [False, False]


async def test_a_reported_policy_informs_without_rejecting(tmp_path: Path) -> None:
    summary = await run_playbook(
        _library(
            tmp_path,
            faults={"assistant": {"skipped_confirmation": 1.0}},
            trials=1,
            verifier="{policy: report}",
        )
    )
    assert summary.counts["talk"] == {"accepted": 2}
    verdicts = await _results(summary, "talk", "verdict")
    assert [v["policy_ok"] for v in verdicts] == [False, False]
    assert all(v["violations"] and not v["reasons"] for v in verdicts)


async def test_the_same_seed_gives_identical_transcripts(tmp_path: Path) -> None:
    faults = {"assistant": {"wrong_argument": 0.2, "skipped_confirmation": 0.3}}

    async def transcripts(run_dir: str) -> list[dict[str, Any]]:
        loaded = _library(tmp_path, faults=faults, trials=3, run_dir=run_dir)
        return await _results(await run_playbook(loaded), "talk", "trajectory")

    first, second = await transcripts("a"), await transcripts("b")
    assert first == second
    assert len({json.dumps(t["messages"]) for t in first}) > 2


async def test_best_of_n_candidates_and_scores_reach_the_store(tmp_path: Path) -> None:
    summary = await run_playbook(_library(tmp_path, trials=1, episodes=1, human="{best_of: 4}"))
    (trajectory,) = await _results(summary, "talk", "trajectory")
    assert len(trajectory["best_of"]) == 3
    assert [len(turn["candidates"]) for turn in trajectory["best_of"]] == [4, 4, 4]
    assert all(c["score"] == 10 for t in trajectory["best_of"] for c in t["candidates"])


async def test_a_task_index_past_the_file_is_rejected(tmp_path: Path) -> None:
    summary = await run_playbook(_library(tmp_path, episodes=3, trials=1))
    assert summary.counts["tasks"] == {"accepted": 2, "rejected": 1}
    reasons = await _reasons(summary, "tasks")
    assert reasons["000002"] == "load_task: no_task: the file holds 2 tasks"


def test_keep_is_read_from_the_phase_verify_step(tmp_path: Path) -> None:
    playbook = _library(tmp_path).playbook
    assert keep_rule(playbook.phases[1]) == "first"
    assert keep_rule(playbook.phases[0]) == "all"


def _shipped(name: str, tmp_path: Path) -> LoadedPlaybook:
    path = PLAYBOOKS / name
    source = YamlSource.read(path)
    assert isinstance(source.data, dict)
    source.data["store"] = str(tmp_path)
    extensions = _extensions()
    return LoadedPlaybook(
        parse_playbook(source, extensions.steps, extensions.protocol_catalog), extensions, str(path)
    )


async def test_the_shipped_retail_trajectories_playbook_runs(tmp_path: Path) -> None:
    loaded = _shipped("trajectories.yaml", tmp_path)
    summary = await run_playbook(loaded)
    talk = summary.counts["trajectories"]
    assert summary.counts["tasks"] == {"accepted": 9}
    assert sum(talk.values()) == 27
    assert talk["accepted"] >= 18
    async with Store.open(summary.store_path) as store:
        report = await passk_from_store(store, summary.run_id, "trajectories")
    assert report.blueprints == 9
    assert 0.6 <= report.mean[1] <= 1.0
    assert report.mean[3] <= report.mean[1]


async def test_the_shipped_evaluate_playbook_reports_pass_hat_k(tmp_path: Path) -> None:
    summary = await run_playbook(_shipped("evaluate.yaml", tmp_path))
    assert sum(summary.counts["retail"].values()) == 36
    assert sum(summary.counts["airline"].values()) == 40
    async with Store.open(summary.store_path) as store:
        reports = [await passk_from_store(store, summary.run_id, d) for d in ("retail", "airline")]
    for report in reports:
        assert sorted(report.mean) == [1, 2, 3, 4]
        assert report.mean[1] >= report.mean[2] >= report.mean[3] >= report.mean[4]
    assert reports[0].mean[4] < 1.0


async def test_the_shipped_apigen_mt_playbook_runs_both_phases(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        summary = await run_playbook(_shipped("apigen_mt.yaml", tmp_path))
    async with Store.open(summary.store_path) as store:
        funnel = await store.funnel(summary.run_id)
        accepted = {
            (item.phase, item.item_key)
            for item in await store.items(summary.run_id)
            if item.status == "accepted"
        }
        faults = [json.loads(e["payload_json"]) for e in await store.events(summary.run_id)]
        faulted = [
            (fault["phase"], fault["item_key"])
            for fault in faults
            if "skipped_confirmation" in fault.get("faults", [])
        ]
    domains = {"retail": RetailDomain(), "airline": AirlineDomain()}
    for domain, tools in ((name, d.write_tools()) for name, d in domains.items()):
        phase = f"{domain}_blueprints"
        assert summary.counts[phase].get("accepted", 0) > 0
        assert summary.counts[f"{domain}_trajectories"].get("accepted", 0) > 0
        used = {
            action["name"]
            for blueprint in await _results(summary, phase, "blueprint")
            for action in blueprint["actions"]
        }
        assert set(tools) <= used, "the accepted tasks use every write tool"
        assert [stage for stage, _, _ in funnel[phase]][-2:] == ["review", "final_review"]
        assert [s for s, _, _ in funnel[f"{domain}_trajectories"]][:2] == ["converse", "policy"]
    assert faulted, "the playbook's simulated assistant skips confirmations now and then"
    assert not accepted & set(faulted), "no trajectory with a skipped confirmation is kept"


async def test_best_of_n_makes_trials_more_consistent(tmp_path: Path) -> None:
    faults = {"human": {"premature_stop": 0.5}}

    async def mean_passk(human: str, run_dir: str) -> dict[int, float]:
        loaded = _library(tmp_path, faults=faults, trials=4, human=human, run_dir=run_dir)
        summary = await run_playbook(loaded)
        async with Store.open(summary.store_path) as store:
            return (await passk_from_store(store, summary.run_id, "talk")).mean

    plain = await mean_passk("{}", "plain")
    best = await mean_passk("{best_of: 4}", "best")
    assert best[1] > plain[1]
    assert best[2] > plain[2]


async def test_a_refusal_leaves_the_trajectory_unfinished(tmp_path: Path) -> None:
    summary = await run_playbook(
        _library(tmp_path, faults={"assistant": {"refusal": 1.0}}, trials=1)
    )
    assert summary.counts["talk"] == {"rejected": 2}
    reasons = await _reasons(summary, "talk")
    assert set(reasons.values()) == {"protocol: unfinished: the conversation ended by refusal"}
