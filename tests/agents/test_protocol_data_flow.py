"""A playbook whose roles or steps need data nothing provides is refused when it loads: a
conversation without blueprints, a review of blueprints nobody made."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime import load_playbook
from runtime.errors import PlaybookError

TASKS = Path(__file__).parents[2] / "playbooks" / "data" / "retail_tasks.json"
HEAD = """\
name: flow
models: {default: {provider: simulated}}
domain: {name: retail, options: {data: {seed: 0}}}
phases:
"""


def _load(tmp_path: Path, phases: str) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(HEAD + phases)
    load_playbook(path, overrides={"store": str(tmp_path / "run")})


def test_a_conversation_without_blueprints_is_refused_at_its_user_role(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError) as caught:
        _load(
            tmp_path,
            """\
  - name: chats
    episodes: 3
    steps:
      - {kind: protocol, use: conversation}
""",
        )
    error = caught.value
    assert (error.line, error.field) == (8, "phases.0.steps.0.roles.human")  # the step's line
    assert error.message.startswith(
        "a human role needs a blueprint, but the phase has no `input` and no earlier step"
    )
    assert not (tmp_path / "run").exists()


def test_an_input_phase_that_makes_no_blueprints_is_named(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError) as caught:
        _load(
            tmp_path,
            """\
  - name: warmup
    episodes: 2
    steps: [{kind: echo}]
  - name: review
    input: {phase: warmup}
    steps:
      - {kind: protocol, use: review}
""",
        )
    assert caught.value.field == "phases.1.steps.0.roles.given"
    assert "a given_blueprint role needs a blueprint, but its input phase 'warmup' makes none" in (
        caught.value.message
    )


def test_blueprints_from_an_earlier_step_or_the_input_phase_satisfy_the_roles(
    tmp_path: Path,
) -> None:
    _load(
        tmp_path,
        f"""\
  - name: tasks
    episodes: 2
    steps:
      - {{kind: load_task, path: {TASKS}}}
      - {{kind: protocol, use: conversation}}
  - name: proposed
    episodes: 2
    steps: [{{kind: protocol, use: blueprints}}]
  - name: chats
    input: {{phase: proposed}}
    steps: [{{kind: protocol, use: conversation}}]
""",
    )
