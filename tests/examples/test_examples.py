"""Every example runs, offline, and prints the results it promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from examples import autogen_assistant, embed_api, embed_in_autogen_team, local_openai_server

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # autogen-agentchat runs on asyncio


def _cli(playbook: Path, store: Path) -> str:
    """`python -m runtime.run PLAYBOOK --store DIR` from the repository root; its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "runtime.run", str(playbook), "--store", str(store)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _accepted(stdout: str, phase: str) -> int:
    line = next(line for line in stdout.splitlines() if line.strip().startswith(f"{phase}:"))
    return int(line.split("accepted ")[1].split(",")[0].rstrip(")"))


def test_the_custom_playbook_runs_with_its_committee_and_exports_sharegpt(
    tmp_path: Path,
) -> None:
    stdout = _cli(EXAMPLES / "custom_playbook.yaml", tmp_path)
    assert _accepted(stdout, "blueprints") > 0
    assert _accepted(stdout, "trajectories") > 0
    assert "blueprints funnel: proposed" in stdout
    lines = (tmp_path / "export" / "train_sharegpt.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    assert record["conversations"][0]["from"] == "human"


def test_the_custom_proposer_prompt_renders_from_a_sampled_context() -> None:
    import random

    from agents.blueprints.context import ContextParams, ContextSampler
    from agents.blueprints.proposer import Proposer
    from agents.resources import Templates
    from domains.registry import resolve_domain

    domain = resolve_domain("retail")
    base = domain.environment({"data": {"seed": 0}})
    context = ContextSampler(domain, base, ContextParams()).sample(random.Random(1))
    proposer = Proposer(
        None,  # type: ignore[arg-type]
        "m",
        Templates(EXAMPLES),
        domain_name="retail",
        prompt="prompts/proposer.j2",
    )
    text = proposer.render(context, ["an earlier failure"])
    assert "support ticket" in text
    assert context.subject_id in text
    assert "an earlier failure" in text


def test_the_custom_domain_playbook_verifies_todo_conversations(tmp_path: Path) -> None:
    stdout = _cli(EXAMPLES / "custom_domain.yaml", tmp_path)
    assert _accepted(stdout, "tasks") == 4
    assert _accepted(stdout, "conversations") > 0
    exported = (tmp_path / "export" / "todo_openai.jsonl").read_text().splitlines()
    tools = {tool["function"]["name"] for tool in json.loads(exported[0])["tools"]}
    assert {"add_todo", "complete_todo", "rename_todo", "delete_todo"} <= tools


def test_the_workspace_playbook_runs_both_phases_on_composed_classes_without_patterns(
    tmp_path: Path,
) -> None:
    stdout = _cli(EXAMPLES / "workspace.yaml", tmp_path)
    assert _accepted(stdout, "blueprints") > 0
    assert _accepted(stdout, "trajectories") > 0
    funnel = next(line for line in stdout.splitlines() if "blueprints funnel:" in line)
    assert funnel.strip().startswith("blueprints funnel: proposed")
    assert "accepted 0" not in funnel
    exported = (tmp_path / "export" / "workspace_openai.jsonl").read_text().splitlines()
    tools = {tool["function"]["name"] for tool in json.loads(exported[0])["tools"]}
    assert {"cd", "send_message", "close_ticket"} <= tools


async def test_the_autogen_team_example_is_verified_and_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await embed_in_autogen_team.main(7, tmp_path)
    out = capsys.readouterr().out
    assert "verdict: accepted (policy_ok=True, state_ok=True, outputs_ok=True)" in out
    assert "tool call: modify_pending_order_address" in out
    assert "ended by stop" in out


async def test_the_autogen_assistant_example_is_verified_and_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await autogen_assistant.main(3, tmp_path)
    out = capsys.readouterr().out
    assert "verdict: accepted" in out
    assert "modify_pending_order_payment" in out


async def test_the_local_openai_server_example_runs_a_playbook_over_http(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = await local_openai_server.main(False, tmp_path)
    assert summary.counts["trajectories"].get("accepted", 0) > 0
    out = capsys.readouterr().out
    assert "simulated OpenAI-compatible server on http://127.0.0.1:" in out
    assert "trajectories: accepted" in out


def test_the_local_openai_server_example_runs_the_server_as_a_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "examples.local_openai_server", "--subprocess"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trajectories: accepted" in done.stdout


async def test_the_embedding_example_runs_a_playbook_and_proposes_a_valid_blueprint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary, blueprint = await embed_api.main(tmp_path)
    assert summary.counts["trajectories"].get("accepted", 0) > 0
    assert blueprint is not None
    out = capsys.readouterr().out
    assert "attempt 1: rejected" in out
    assert "proposed blueprint: valid" in out


def test_a_playbook_plugs_in_the_autogen_assistant_by_import_path(tmp_path: Path) -> None:
    stdout = _cli(EXAMPLES / "autogen_assistant.yaml", tmp_path)
    assert _accepted(stdout, "tasks") == 9
    assert _accepted(stdout, "trajectories") > 0
    assert "trajectories funnel: converse 18" in stdout
