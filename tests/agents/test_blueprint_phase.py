"""Blueprint phases end to end on the simulated backend: funnel, reflection, recombination."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from library_domain import LibraryDomain

from agents.plugin import register
from runtime.api import LoadedPlaybook, run_playbook
from runtime.engine import RunSummary
from runtime.playbook import parse_playbook
from runtime.plugins import Extensions
from runtime.store import Store
from runtime.yaml_source import YamlSource

pytestmark = pytest.mark.anyio


def _extensions() -> Extensions:
    extensions = Extensions()
    register(extensions)
    return extensions


def _playbook(
    tmp_path: Path,
    *,
    domain: str = "library_domain:LibraryDomain",
    faults: dict[str, dict[str, float]] | None = None,
    episodes: int = 6,
    attempts: int = 1,
    extra_phases: str = "",
    context: str = "{}",
    seed: int = 3,
    run_dir: str = "run",
) -> LoadedPlaybook:
    text = f"""
    name: bp
    seed: {seed}
    domain: {domain}
    models:
      default: {{provider: simulated, faults: {json.dumps(faults or {})}}}
    agents:
      reflector: {{model: default}}
    phases:
      - name: propose
        episodes: {episodes}
        steps:
          - kind: protocol
            use: blueprints
            roles: {{proposer: {{context: {context}}}}}
            limits: {{retries: {attempts - 1}}}
    """
    source = YamlSource("test.yaml", textwrap.dedent(text) + extra_phases)
    assert isinstance(source.data, dict)
    source.data["store"] = str(tmp_path / run_dir)
    extensions = _extensions()
    return LoadedPlaybook(
        parse_playbook(source, extensions.steps, extensions.protocol_catalog),
        extensions,
        "test.yaml",
    )


def _writes(proposal: dict[str, Any]) -> list[dict[str, Any]]:
    """The proposal's write actions."""
    writes = set(LibraryDomain().write_tools())
    return [a for a in proposal["actions"] if a["name"] in writes]


async def _results(summary: RunSummary, phase: str, kind: str) -> list[dict[str, Any]]:
    async with Store.open(summary.store_path) as store:
        return [r.payload for r in await store.results(summary.run_id, phase, kind=kind)]


async def test_clean_proposals_pass_every_stage(tmp_path: Path) -> None:
    summary = await run_playbook(_playbook(tmp_path))
    assert summary.counts == {"propose": {"accepted": 6}}
    async with Store.open(summary.store_path) as store:
        funnel = await store.funnel(summary.run_id)
    assert funnel["propose"] == [
        ("proposed", 6, 6),
        ("format", 6, 6),
        ("execution", 6, 6),
        ("policy", 6, 6),
        ("review", 6, 6),
        ("final_review", 6, 6),
    ]
    blueprints = await _results(summary, "propose", "blueprint")
    assert len(blueprints) == 6
    assert all(b["provenance"]["simulated"] for b in blueprints)


async def test_malformed_json_is_rejected_by_the_format_check(tmp_path: Path) -> None:
    summary = await run_playbook(
        _playbook(tmp_path, faults={"proposer": {"malformed_json": 1.0}}, episodes=3)
    )
    assert summary.counts == {"propose": {"rejected": 3}}
    attempts = await _results(summary, "propose", "attempt")
    assert [a["checks"][0]["check"] for a in attempts] == ["format"] * 3
    assert all(a["checks"][0]["reasons"][0].startswith("malformed_json") for a in attempts)


async def test_reflection_lets_a_later_attempt_succeed(tmp_path: Path) -> None:
    summary = await run_playbook(
        _playbook(tmp_path, faults={"proposer": {"malformed_json": 0.5}}, episodes=12, attempts=4)
    )
    async with Store.open(summary.store_path) as store:
        by_attempt = (await store.accepted_by_attempt(summary.run_id))["propose"]
    assert any(attempt > 1 for attempt in by_attempt)
    later = [b for b in await _results(summary, "propose", "blueprint")]
    retried = [b for b in later if b["provenance"]["attempt"] > 1]
    assert retried
    assert all(
        any("malformed_json" in note for note in b["provenance"]["feedback"]) for b in retried
    )
    reflections = await _results(summary, "propose", "reflection")
    assert len(reflections) >= len(retried)


async def test_a_committee_without_enough_valid_reviews_rejects(tmp_path: Path) -> None:
    summary = await run_playbook(
        _playbook(tmp_path, faults={"reviewer": {"malformed_json": 1.0}}, episodes=2)
    )
    assert summary.counts == {"propose": {"rejected": 2}}
    reviews = await _results(summary, "propose", "review")
    assert all("too few valid reviews for a decision" in r["errors"] for r in reviews)


async def test_the_same_seed_gives_identical_blueprints(tmp_path: Path) -> None:
    faults = {"proposer": {"malformed_json": 0.3}}
    first = await run_playbook(_playbook(tmp_path, faults=faults, run_dir="a"))
    second = await run_playbook(_playbook(tmp_path, faults=faults, run_dir="b"))
    other = await run_playbook(_playbook(tmp_path, faults=faults, run_dir="c", seed=4))
    one = await _results(first, "propose", "blueprint")
    two = await _results(second, "propose", "blueprint")
    assert one == two
    assert one != await _results(other, "propose", "blueprint")


RECOMBINE = """
  - name: combined
    episodes: 3
    steps:
      - {kind: recombine, source: propose}
      - {kind: protocol, use: review}
"""


async def test_recombination_merges_blueprints_of_one_user(tmp_path: Path) -> None:
    summary = await run_playbook(
        _playbook(
            tmp_path,
            domain="retail",
            episodes=12,
            context="{subject_pool: 3, max_chain: 1}",
            extra_phases=RECOMBINE,
        )
    )
    async with Store.open(summary.store_path) as store:
        records = await store.results(summary.run_id, "propose", kind="blueprint")
    by_key = {record.item_key: record.payload for record in records}
    combined = await _results(summary, "combined", "blueprint")
    assert combined, summary.counts
    merged = combined[0]
    parents = [by_key[key] for key in merged["provenance"]["parents"]]
    assert len(parents) >= 2
    assert {p["user_id"] for p in parents} == {merged["user_id"]}
    assert "Also, " in merged["instruction"]
    parent_actions = [a for p in parents for a in p["actions"]]
    assert all(action in parent_actions for action in merged["actions"])
    assert len(merged["actions"]) > max(len(p["actions"]) for p in parents)


async def test_an_unknown_tool_is_rejected_by_the_format_check(tmp_path: Path) -> None:
    summary = await run_playbook(
        _playbook(tmp_path, faults={"proposer": {"unknown_tool": 1.0}}, episodes=3)
    )
    assert summary.counts == {"propose": {"rejected": 3}}
    attempts = await _results(summary, "propose", "attempt")
    reasons = [a["checks"][0]["reasons"][0] for a in attempts]
    assert all(r.startswith("unknown_tool: action ") for r in reasons), reasons


async def test_a_wrong_argument_is_caught_by_execution_or_policy(tmp_path: Path) -> None:
    """A perturbed id in a write names nothing (execution) or someone not looked up (policy);
    a perturbed read that still names a real record is harmless, and passes."""
    summary = await run_playbook(
        _playbook(tmp_path, faults={"proposer": {"wrong_argument": 1.0}}, episodes=4)
    )
    clean = await run_playbook(_playbook(tmp_path, episodes=4, run_dir="clean"))
    intended = [_writes(json.loads(a["raw"])) for a in await _results(clean, "propose", "attempt")]
    attempts = await _results(summary, "propose", "attempt")
    stopped_at = [a["checks"][-1] for a in attempts]
    for attempt, check, writes in zip(attempts, stopped_at, intended, strict=True):
        if check["passed"]:
            assert _writes(json.loads(attempt["raw"])) == writes
    assert {check["check"] for check in stopped_at if not check["passed"]} <= {
        "execution",
        "policy",
    }
    assert any(
        check["check"] == "execution" and check["reasons"][0].startswith("tool_error: ")
        for check in stopped_at
    )
