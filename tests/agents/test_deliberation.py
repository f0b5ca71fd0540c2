"""Protocols written in YAML alone from the deliberation role kinds: a reviewer debate in
phase 1 and a supervised chat in phase 2, simulated and against a scenario-free endpoint."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from agents.simulated.server import serving
from domains.registry import resolve_domain
from runtime.api import load_playbook, run_playbook
from runtime.engine import RunSummary

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
from scenario_free_endpoint import ScenarioFreeEndpoint

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "protocols"
TASK = json.loads((ROOT / "playbooks" / "data" / "retail_tasks.json").read_text())[0]
ORDER = TASK["actions"][-1]["kwargs"]["order_id"]


def _rows(summary: RunSummary, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(summary.store_path) as db:
        return db.execute(sql).fetchall()


def _results(summary: RunSummary, kind: str) -> list[dict[str, Any]]:
    rows = _rows(summary, f"SELECT payload_json FROM results WHERE kind='{kind}' ORDER BY rowid")
    return [json.loads(payload) for (payload,) in rows]


async def _run_example(name: str, tmp_path: Path) -> RunSummary:
    return await run_playbook(
        load_playbook(EXAMPLES / name, overrides={"store": str(tmp_path / "run")})
    )


async def test_a_debate_alternates_its_critics_and_the_judge_reads_all_of_it(
    tmp_path: Path,
) -> None:
    summary = await _run_example("reviewer_debate.yaml", tmp_path)
    debates = _results(summary, "debate")
    assert summary.counts["blueprints"].get("accepted", 0) == len(_results(summary, "blueprint"))
    assert debates
    for debate in debates:
        critics = [critique["critic"] for critique in debate["critiques"]]
        # two rounds: the skeptic's first answer goes back once, its second to the judge
        assert critics == ["advocate", "skeptic", "advocate", "skeptic"]
    traces = _results(summary, "trace")
    said = [(sender, receiver, kind) for sender, receiver, kind, _ in traces[0]["messages"]]
    assert said[2:] == [
        ("validator", "advocate", "valid"),
        ("advocate", "skeptic", "critique"),
        ("skeptic", "advocate", "critique"),
        ("advocate", "skeptic", "critique"),
        ("protocol", "judge", "limit.rebuttals"),  # carries the skeptic's last critique
        ("judge", "end:accepted", "approved"),
    ]


class DebateEndpoint(ScenarioFreeEndpoint):
    """Critics say prose; the judge rejects the first debate it reads and approves later."""

    def answer(self, request: dict[str, Any]) -> str:  # type: ignore[override]
        system = request["messages"][0]["content"]
        if "decide debates" in system:
            approve = len(self.of_role("decide debates")) > 1
            return json.dumps({"approve": approve, "reason": "the outputs are vague"})
        return super().answer(request)


def _over_http(example: str, endpoint: ScenarioFreeEndpoint, tmp_path: Path) -> Path:
    """The example playbook with its simulated model replaced by the endpoint, one episode."""
    text = (EXAMPLES / example).read_text()
    models = (
        "models:\n  remote: {provider: openai, model: recorder, "
        f'base_url: "{endpoint.base_url}", max_retries: 0}}\n'
    )
    text = text.split("models:")[0] + models + "agents:" + text.split("agents:")[1]
    text = text.replace("model: default", "model: remote").replace("episodes: 6", "episodes: 1")
    text = text.replace("trials: 2", "trials: 1")
    text = text.replace("../../playbooks/data", str(ROOT / "playbooks" / "data"))
    path = tmp_path / example
    path.write_text(text)
    return path


async def test_a_lost_debate_goes_to_the_reflector_and_the_next_debate_starts_afresh(
    tmp_path: Path,
) -> None:
    endpoint = DebateEndpoint([TASK])
    async with serving(endpoint):
        summary = await run_playbook(
            load_playbook(
                _over_http("reviewer_debate.yaml", endpoint, tmp_path),
                overrides={"store": str(tmp_path / "r")},
            )
        )
    assert summary.counts["blueprints"] == {"accepted": 1}
    assert len(endpoint.proposals()) == 2  # the judge's reason sent the proposer round again
    first, second = _results(summary, "debate")
    assert (first["approve"], second["approve"]) == (False, True)
    assert len(second["critiques"]) == 4  # a new blueprint, a new debate
    critics = endpoint.of_role("critique training tasks")
    assert len(critics) == 8
    # each critic answers the critiques before it: the third prompt holds the first two
    third = critics[2]["messages"][1]["content"]
    assert "advocate:" in third and "skeptic:" in third
    assert len({request.get("seed") for request in critics}) == 8  # independent samples
    # the judge's reason reaches the reflector, whose feedback reaches the next proposal
    assert any("the outputs are vague" in json.dumps(r["messages"]) for r in endpoint.requests)
    (reflection,) = _results(summary, "reflection")
    retry = json.dumps(endpoint.proposals()[1]["messages"])
    assert reflection["feedback"] and all(item in retry for item in reflection["feedback"])


async def test_the_supervisor_vetoes_unconfirmed_writes_before_they_change_the_data(
    tmp_path: Path,
) -> None:
    summary = await _run_example("supervised_chat.yaml", tmp_path)
    vetoes = _rows(summary, "SELECT item_key, payload_json FROM events WHERE event='veto'")
    assert vetoes, "the simulated assistant skips confirmations: some writes must be vetoed"
    trajectories = {
        key: json.loads(payload)
        for key, payload in _rows(
            summary, "SELECT item_key, payload_json FROM results WHERE kind='trajectory'"
        )
    }
    for key, payload in vetoes:
        messages = trajectories[key]["messages"]
        vetoed = [
            m for m in messages if m["role"] == "tool" and "supervisor vetoed" in m["content"]
        ]
        assert [m["name"] for m in vetoed] == json.loads(payload)["calls"]
    # the attempt itself teaches skipping a confirmation: the verifier still rejects it
    verdicts = {
        key: json.loads(payload)
        for key, payload in _rows(
            summary, "SELECT item_key, payload_json FROM results WHERE kind='verdict'"
        )
    }
    assert all(not verdicts[key]["accepted"] for key, _ in vetoes)
    # reads never reach the supervisor
    writes = set(resolve_domain("retail").write_tools())
    asked = [
        text.split("(")[0]
        for trace in _results(summary, "trace")
        for _, receiver, _, text in trace["messages"]
        if receiver == "supervisor"
    ]
    assert asked and set(asked) <= writes


class SupervisedEndpoint(ScenarioFreeEndpoint):
    """The assistant cancels the order at once, unconfirmed; the supervisor refuses it."""

    def __init__(self) -> None:
        super().__init__([], human_turns=1)

    async def chat(self, body: bytes) -> tuple[int, bytes]:
        request = json.loads(body)
        system = request["messages"][0]["content"]
        tools = request.get("tools")
        if not tools or any(m["role"] == "tool" for m in request["messages"]):
            if "supervise" in system:
                self.requests.append(request)
                decision = {"approve": False, "reason": "the user has not confirmed"}
                return 200, _completion({"role": "assistant", "content": json.dumps(decision)})
            return await super().chat(body)
        self.requests.append(request)
        call = {
            "id": "call_1",
            "type": "function",
            "function": {
                "name": "cancel_pending_order",
                "arguments": json.dumps({"order_id": ORDER, "reason": "ordered by mistake"}),
            },
        }
        return 200, _completion({"role": "assistant", "content": None, "tool_calls": [call]})


def _completion(message: dict[str, Any]) -> bytes:
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "recorder",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
    ).encode()


async def test_a_vetoed_write_over_http_never_runs_and_the_assistant_hears_why(
    tmp_path: Path,
) -> None:
    endpoint = SupervisedEndpoint()
    async with serving(endpoint):
        path = _over_http("supervised_chat.yaml", endpoint, tmp_path)
        summary = await run_playbook(load_playbook(path, overrides={"store": str(tmp_path / "r")}))
    assert summary.counts["trajectories"] == {"rejected": 1}
    assert len(endpoint.of_role("supervise")) == 1
    (trajectory,) = _results(summary, "trajectory")
    tool = next(m for m in trajectory["messages"] if m["role"] == "tool")
    assert "the user has not confirmed" in tool["content"]
    (verdict,) = _results(summary, "verdict")
    # the order was never cancelled: the state the data holds is the one before the write
    (order,) = [m for m in verdict["mismatches"] if m["key"] == ORDER]
    assert (order["actual"]["status"], order["expected"]["status"]) == ("pending", "cancelled")
