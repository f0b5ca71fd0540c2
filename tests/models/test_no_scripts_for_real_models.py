"""The simulator's scripts are built only for models that play them: a run against a real
(OpenAI-compatible) endpoint never builds one, in any role of either phase."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

import pytest
from scenario_free_endpoint import ScenarioFreeEndpoint

from agents.simulated.scenario import SCENARIO_ARG
from agents.simulated.server import serving
from runtime.api import load_playbook, run_playbook

pytestmark = pytest.mark.anyio

TASKS = Path(__file__).parents[2] / "playbooks" / "data" / "retail_tasks.json"
SCRIPT_BUILDERS = [
    ("agents.roles.dialogue", "human_script"),
    ("agents.roles.dialogue", "assistant_script"),
    ("agents.blueprints.proposer", "proposer_script"),
    ("agents.roles.blueprint_roles", "reviewer_script"),
    ("agents.blueprints.final_review", "final_review_script"),
    ("agents.blueprints.reflection", "text_script"),
    ("agents.dialogue.human", "judge_script"),
]


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("a simulator script was built for a real model")


async def test_a_run_on_a_real_endpoint_builds_no_simulator_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module, name in SCRIPT_BUILDERS:
        monkeypatch.setattr(f"{module}.{name}", _refuse)
    task: dict[str, Any] = json.loads(TASKS.read_text())[0]
    wrong = json.loads(json.dumps(task))
    wrong["actions"][-1]["kwargs"]["order_id"] = "#W0000000"  # fails: the reflector runs
    endpoint = ScenarioFreeEndpoint([wrong, task], human_turns=2)
    async with serving(endpoint):
        path = tmp_path / "real.yaml"
        path.write_text(
            f"""
name: real
seed: 3
store: {tmp_path / "run"}
domain: {{name: retail, options: {{data: {{seed: 0}}}}}}
models:
  remote: {{provider: openai, model: recorder, base_url: "{endpoint.base_url}", max_retries: 0}}
agents:
  proposer: {{model: remote}}
  reflector: {{model: remote}}
  reviewer: {{model: remote}}
  final_reviewer: {{model: remote}}
  human: {{model: remote}}
  user_judge: {{model: remote}}
  assistant: {{model: remote}}
phases:
  - name: tasks
    episodes: 1
    steps: [{{kind: protocol, use: blueprints, roles: {{reviewer: {{count: 2}}}}}}]
  - name: talk
    input: {{phase: tasks}}
    steps:
      - kind: protocol
        use: conversation
        roles: {{human: {{best_of: 2}}}}
        limits: {{turns: 3}}
"""
        )
        summary = await run_playbook(load_playbook(path))
    assert summary.counts["tasks"] == {"accepted": 1}
    assert len(endpoint.proposals()) == 2  # a reflection round ran
    assert len(endpoint.of_role("reviewer")) == 2
    assert endpoint.of_role("judge")  # Best-of-N candidates were judged
    assert sum(summary.counts["talk"].values()) == 1
    assert not [request for request in endpoint.requests if SCENARIO_ARG in request]
