"""Specification of playbook validation: each malformed playbook names its file, line, field."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from runtime.api import load_playbook
from runtime.errors import PlaybookError
from runtime.playbook import playbook_json_schema
from runtime.steps import default_step_registry

VALID = """\
name: demo
seed: 1
phases:
  - name: first
    episodes: 4
    steps:
      - kind: echo
        rounds: 2
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "playbook.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_valid_playbook_loads_with_defaults(tmp_path: Path) -> None:
    loaded = load_playbook(_write(tmp_path, VALID))
    playbook = loaded.playbook
    assert playbook.name == "demo"
    assert playbook.phases[0].steps[0].raw_params == {"rounds": 2}
    assert playbook.models["default"].provider == "simulated"
    assert playbook.store_path == Path("runs/demo/store.sqlite")


def test_the_run_id_depends_on_content_but_not_on_the_store_location(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID)
    base = load_playbook(path).playbook.run_id
    assert load_playbook(path, {"store": "elsewhere"}).playbook.run_id == base
    assert load_playbook(path, {"seed": 2}).playbook.run_id != base


MALFORMED = [
    pytest.param("name: demo\nseed: 1\n  oops: 2\n", 3, "", "invalid YAML", id="yaml-syntax"),
    pytest.param("- just\n- a list\n", 1, "", "must be a mapping", id="not-a-mapping"),
    pytest.param(
        VALID.replace("name: demo", "name: 'bad name!'"), 1, "name", "pattern", id="bad-name"
    ),
    pytest.param(VALID + "colour: blue\n", 9, "colour", "Extra inputs", id="unknown-key"),
    pytest.param(VALID.replace("seed: 1", "seed: lots"), 2, "seed", "integer", id="seed-type"),
    pytest.param(
        VALID.replace("episodes: 4", "episodes: -1"),
        5,
        "phases.0.episodes",
        "greater than or equal",
        id="negative-episodes",
    ),
    pytest.param(
        VALID.replace("      - kind: echo\n        rounds: 2\n", "      []\n").replace(
            "steps:\n      []", "steps: []"
        ),
        6,
        "phases.0.steps",
        "at least 1",
        id="no-steps",
    ),
    pytest.param(
        VALID.replace("kind: echo", "kind: teleport"),
        7,
        "phases.0.steps.0.kind",
        "unknown step kind 'teleport'",
        id="unknown-step-kind",
    ),
    pytest.param(
        VALID.replace("rounds: 2", "rounds: 0"),
        8,
        "phases.0.steps.0.rounds",
        "greater than or equal to 1",
        id="bad-step-param",
    ),
    pytest.param(
        VALID.replace("rounds: 2", "roundz: 2"),
        8,
        "phases.0.steps.0.roundz",
        "Extra inputs",
        id="unknown-step-param",
    ),
    pytest.param(
        VALID + "agents:\n  proposer:\n    model: gpt-9\n",
        11,
        "agents.proposer.model",
        "unknown model 'gpt-9'",
        id="unknown-model",
    ),
    pytest.param(
        VALID + "  - name: first\n    episodes: 1\n    steps: [{kind: echo}]\n",
        9,
        "phases.1.name",
        "duplicate phase name",
        id="duplicate-phase",
    ),
    pytest.param(
        VALID.replace("episodes: 4", "input: {phase: later}"),
        5,
        "phases.0.input.phase",
        "must be an earlier phase",
        id="input-forward-ref",
    ),
    pytest.param(
        VALID.replace("    episodes: 4\n", ""),
        4,
        "phases.0",
        "exactly one of `episodes` or `input`",
        id="no-episodes",
    ),
    pytest.param(
        VALID + "models:\n  default:\n    provider: openai\n    temperature: hot\n",
        12,
        "models.default.temperature",
        "number",
        id="model-field-type",
    ),
    pytest.param(
        VALID + "timeouts:\n  ask_s: 0\n", 10, "timeouts.ask_s", "greater than 0", id="zero-timeout"
    ),
    pytest.param(
        VALID + "plugins: [no_such_module_xyz]\n",
        9,
        "plugins",
        "cannot import plugin module",
        id="missing-plugin",
    ),
    pytest.param(
        VALID.replace("kind: echo", "kind: 'os:path'"),
        7,
        "phases.0.steps.0.kind",
        "is not a step kind",
        id="import-path-not-a-step",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "message"), MALFORMED)
def test_malformed_playbooks_are_rejected_with_location(
    tmp_path: Path, text: str, line: int, field: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(PlaybookError) as error:
        load_playbook(path)
    assert error.value.file == str(path)
    assert error.value.field == field
    assert error.value.line == line
    assert message in error.value.message
    expected_prefix = f"{path}:{line}: {field}: " if field else f"{path}:{line}: "
    assert str(error.value).startswith(expected_prefix)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match=r"nope\.yaml: file not found"):
        load_playbook(tmp_path / "nope.yaml")


def test_the_json_schema_is_valid_and_accepts_the_shipped_playbook() -> None:
    schema = playbook_json_schema(default_step_registry())
    jsonschema.Draft202012Validator.check_schema(schema)
    json.dumps(schema)
    shipped = yaml.safe_load(Path("playbooks/echo.yaml").read_text())
    jsonschema.validate(shipped, schema)


def test_the_json_schema_spells_out_step_params() -> None:
    schema = playbook_json_schema(default_step_registry())
    bad = yaml.safe_load(VALID.replace("rounds: 2", "roundz: 2"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
