"""Phase 1 against an OpenAI-compatible endpoint that gets no scenario: the paper's
reflection (a retry keeps its context and sees what failed) and the final semantic review."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from scenario_free_endpoint import ScenarioFreeEndpoint

from agents.simulated.server import serving
from runtime.api import load_playbook, run_playbook
from runtime.engine import RunSummary

pytestmark = pytest.mark.anyio

TASKS = Path(__file__).parents[2] / "playbooks" / "data" / "retail_tasks.json"
PROPOSER = "task blueprints"


def _good() -> dict[str, Any]:
    task: dict[str, Any] = json.loads(TASKS.read_text())[0]
    return task


def _wrong_order(task: dict[str, Any]) -> dict[str, Any]:
    """The task with its write aimed at an order that does not exist."""
    broken = json.loads(json.dumps(task))
    broken["actions"][-1]["kwargs"]["order_id"] = "#W0000000"
    return broken


async def _run(tmp_path: Path, endpoint: ScenarioFreeEndpoint) -> RunSummary:
    async with serving(endpoint):
        path = tmp_path / "phase1.yaml"
        path.write_text(
            f"""
name: phase1
seed: 3
store: {tmp_path / "run"}
domain: {{name: retail, options: {{data: {{seed: 0}}}}}}
models:
  remote: {{provider: openai, model: recorder, base_url: "{endpoint.base_url}", max_retries: 0}}
agents:
  proposer: {{model: remote}}
  reviewer: {{model: remote}}
  final_reviewer: {{model: remote}}
phases:
  - name: tasks
    episodes: 1
    steps:
      - {{kind: protocol, use: blueprints, roles: {{reviewer: {{count: 1}}}}}}
"""
        )
        return await run_playbook(load_playbook(path))


def _prompt(request: dict[str, Any]) -> str:
    return str(request["messages"][1]["content"])


def _funnel(summary: RunSummary) -> dict[str, tuple[int, int]]:
    with sqlite3.connect(summary.store_path) as db:
        rows = db.execute(
            "SELECT json_extract(payload_json, '$.stage'), COUNT(*),"
            " SUM(json_extract(payload_json, '$.passed')) FROM events"
            " WHERE event='funnel' GROUP BY 1"
        ).fetchall()
    return {stage: (reached, passed) for stage, reached, passed in rows}


async def test_a_retry_keeps_its_context_and_sees_its_failed_blueprint(tmp_path: Path) -> None:
    endpoint = ScenarioFreeEndpoint([_wrong_order(_good()), _good()])
    summary = await _run(tmp_path, endpoint)
    assert summary.counts["tasks"] == {"accepted": 1}
    first, second = (_prompt(r) for r in endpoint.of_role(PROPOSER))
    context = first.split("First explain your plan")[0].rstrip()
    assert second.startswith(context), "same user, records, chain, persona and examples"
    retry = second[len(context) :]
    assert "## Your previous attempt" in retry
    assert "#W0000000" in retry, "the failed blueprint is shown"
    assert "execution" in retry and "order not found" in retry, "with the reasons it failed"
    assert _funnel(summary)["execution"] == (2, 1)


async def test_the_final_review_rejects_an_instruction_that_asks_for_other_actions(
    tmp_path: Path,
) -> None:
    misaligned = {
        "aligned": False,
        "unrequested_actions": ["cancel_pending_order: the user never asks to cancel"],
        "unaddressed_requests": [],
        "rationale": "the instruction asks for something else",
    }
    endpoint = ScenarioFreeEndpoint([_good()], final_reviews=[misaligned, {"aligned": True}])
    summary = await _run(tmp_path, endpoint)
    assert summary.counts["tasks"] == {"accepted": 1}
    funnel = _funnel(summary)
    assert funnel["review"] == (2, 2) and funnel["final_review"] == (2, 1)
    reviews = endpoint.of_role("matches its calls")
    assert len({r["seed"] for r in reviews}) == 2, "each attempt's review is its own sample"
    assert "cancel_pending_order" in _prompt(reviews[0])
    second_proposal = _prompt(endpoint.of_role(PROPOSER)[1])
    assert "unrequested_action: cancel_pending_order" in second_proposal
