"""Samples meant to be independent are independent, through the real HTTP path.

A committee of three reviewers and three trials of a blueprint run against a loopback
OpenAI-compatible endpoint that receives no scenario (as vLLM or OpenAI would): every
request carries its own seed, no cached answer crosses samples, a resume answers the same
requests from the cache, and another run seed never gets the old answers.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scenario_free_endpoint import ScenarioFreeEndpoint

from agents.simulated.server import serving
from runtime.api import load_playbook, run_playbook

pytestmark = pytest.mark.anyio

TASKS = Path(__file__).parents[2] / "playbooks" / "data" / "retail_tasks.json"
TRIALS = 3
COMMITTEE = 3


@pytest.fixture(params=["native", "autogen"])
def client(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _playbook(tmp_path: Path, base_url: str, client: str, seed: int = 5) -> Path:
    path = tmp_path / f"independence-{seed}.yaml"
    path.write_text(
        f"""
name: independence
seed: {seed}
store: {tmp_path / "run"}
domain: {{name: retail, options: {{data: {{seed: 0}}}}}}
models:
  remote: {{provider: openai, model: recorder, base_url: "{base_url}", client: {client},
            max_retries: 0, temperature: 1.0}}
agents:
  proposer: {{model: remote}}
  reviewer: {{model: remote}}
  human: {{model: remote}}
  assistant: {{model: remote}}
phases:
  - name: tasks
    episodes: 1
    steps:
      - kind: protocol
        roles:
          proposer: {{agent: proposer}}
          validator: {{agent: validator}}
          reviewer: {{agent: reviewer, count: {COMMITTEE}}}
        start: {{to: proposer}}
        routes:
          - {{from: proposer, kind: proposal, to: validator}}
          - {{from: validator, kind: valid, to: reviewer}}
          - {{from: validator, kind: invalid, end: rejected}}
          - {{from: reviewer, kind: approved, end: accepted}}
          - {{from: reviewer, kind: disapproved, end: rejected}}
  - name: talk
    input: {{phase: tasks}}
    trials: {TRIALS}
    steps: [{{kind: protocol, use: conversation, limits: {{turns: 3}}}}]
"""
    )
    return path


def _first_task() -> dict[str, Any]:
    task: dict[str, Any] = json.loads(TASKS.read_text())[0]
    return task


def _body(request: dict[str, Any]) -> str:
    return json.dumps(request, sort_keys=True)


def _forget_phase(store: Path, phase: str) -> None:
    """As if the phase's episodes had not committed when the run was killed."""
    with sqlite3.connect(store) as db:
        for table in ("results", "events", "work_items"):
            db.execute(f"DELETE FROM {table} WHERE phase=?", (phase,))


def _statuses(store: Path, run_id: str) -> Counter[str]:
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT status FROM model_calls WHERE run_id=?", (run_id,)).fetchall()
    return Counter(status for (status,) in rows)


async def test_trials_and_reviewers_are_independent_samples(tmp_path: Path, client: str) -> None:
    endpoint = ScenarioFreeEndpoint([_first_task()], human_turns=2)
    async with serving(endpoint):
        summary = await run_playbook(load_playbook(_playbook(tmp_path, endpoint.base_url, client)))
    assert summary.counts["tasks"].get("accepted") == 1

    reviews = endpoint.of_role("reviewer")
    assert len(reviews) == COMMITTEE
    assert len({_body(r) for r in reviews}) == COMMITTEE
    assert len({r["seed"] for r in reviews}) == COMMITTEE

    humans = endpoint.of_role("You are a customer talking")
    openings = [r for r in humans if len(r["messages"]) == 2]  # system + the agent's greeting
    assert len(openings) == TRIALS
    assert len({r["seed"] for r in openings}) == TRIALS

    bodies = [_body(r) for r in endpoint.requests]
    assert len(set(bodies)) == len(bodies), "no two requests are the same sample"
    assert all(isinstance(r.get("seed"), int) for r in endpoint.requests)
    assert _statuses(Path(summary.store_path), summary.run_id) == {"ok": len(bodies)}

    with sqlite3.connect(summary.store_path) as db:
        transcripts = {
            json.dumps(json.loads(payload)["messages"])
            for (payload,) in db.execute(
                "SELECT payload_json FROM results WHERE phase='talk' AND kind='trajectory'"
            )
        }
    assert len(transcripts) == TRIALS, "each trial is a conversation of its own"


async def test_a_resume_answers_the_same_requests_from_the_cache(
    tmp_path: Path, client: str
) -> None:
    endpoint = ScenarioFreeEndpoint([_first_task()], human_turns=2)
    async with serving(endpoint):
        playbook = _playbook(tmp_path, endpoint.base_url, client)
        first = await run_playbook(load_playbook(playbook))
        store = Path(first.store_path)
        sent = len(endpoint.requests)
        talk = sum(1 for r in endpoint.requests if r.get("tools"))
        _forget_phase(store, "talk")
        again = await run_playbook(load_playbook(playbook))
    assert again.run_id == first.run_id and again.counts["talk"] == first.counts["talk"]
    assert len(endpoint.requests) == sent, "the resumed episodes made no repeated call"
    statuses = _statuses(store, first.run_id)
    assert statuses["ok"] == sent and statuses["cached"] >= talk > 0


async def test_another_run_seed_never_gets_the_old_answers(tmp_path: Path, client: str) -> None:
    endpoint = ScenarioFreeEndpoint([_first_task()], human_turns=2)
    async with serving(endpoint):
        first = await run_playbook(load_playbook(_playbook(tmp_path, endpoint.base_url, client)))
        sent = len(endpoint.requests)
        second = await run_playbook(
            load_playbook(_playbook(tmp_path, endpoint.base_url, client, seed=6))
        )
    assert second.run_id != first.run_id and second.store_path == first.store_path
    assert len(endpoint.requests) == 2 * sent
    assert _statuses(Path(second.store_path), second.run_id) == {"ok": sent}
    old = {_body(r) for r in endpoint.requests[:sent]}
    assert not old & {_body(r) for r in endpoint.requests[sent:]}
    with sqlite3.connect(first.store_path) as db:
        writers = dict(db.execute("SELECT run_id, COUNT(*) FROM model_cache GROUP BY run_id"))
    assert writers == {first.run_id: sent, second.run_id: sent}
