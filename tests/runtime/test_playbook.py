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
    pytest.param(
        VALID.replace("rounds: 2", "rounds: true"),
        8,
        "phases.0.steps.0.rounds",
        "Input should be a valid integer",
        id="bool-is-not-an-int",
    ),
    pytest.param(
        VALID.replace("episodes: 4", "episodes: 4.0"),
        5,
        "phases.0.episodes",
        "Input should be a valid integer",
        id="float-is-not-an-int",
    ),
    pytest.param(
        VALID + "timeouts: {ask_s: '12'}\n",
        9,
        "timeouts.ask_s",
        "Input should be a valid number",
        id="string-is-not-a-number",
    ),
    pytest.param(
        VALID + "concurrency: 100001\n",
        9,
        "concurrency",
        "less than or equal to 100000",
        id="concurrency-bound",
    ),
    pytest.param(
        VALID.replace("seed: 1", "seed: -9223372036854775809"),
        2,
        "seed",
        "greater than or equal to -9223372036854775808",
        id="seed-below-64-bits",
    ),
    pytest.param(
        VALID + "timeouts: {shutdown_s: .inf}\n",
        9,
        "timeouts.shutdown_s",
        "less than or equal to 3600",
        id="infinite-shutdown",
    ),
    pytest.param(
        VALID + "models: {default: {provider: simulated, max_retries: 1000}}\n",
        9,
        "models.default.max_retries",
        "less than or equal to 100",
        id="retry-bound",
    ),
    pytest.param(
        VALID + "models: {default: {provider: openai, api_key_env: 'my key'}}\n",
        9,
        "models.default.api_key_env",
        "must be the name of an environment variable",
        id="api-key-env-not-a-name",
    ),
    pytest.param(
        VALID + "export: [{format: csv, path: x.csv}]\n",
        9,
        "export.0.format",
        "unknown export format 'csv'",
        id="unknown-export-format",
    ),
    pytest.param(
        VALID.replace("name: demo", "name: demo\nphases: []"),
        4,
        "phases",
        "duplicate key 'phases' (first on line 2)",
        id="duplicate-key",
    ),
    pytest.param(
        VALID + "description: " + "[" * 51 + "]" * 51 + "\n",
        9,
        "description.0.0",
        "nested deeper than 50 levels",
        id="too-deep",
    ),
    pytest.param(
        VALID + "description: &d [*d]\n",
        9,
        "description.0",
        "a YAML alias refers to a node containing it",
        id="recursive-alias",
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


def test_fifty_levels_of_nesting_are_fine(tmp_path: Path) -> None:
    text = VALID + "x-note: " + "[" * 49 + "]" * 49 + "\n"
    with pytest.raises(PlaybookError) as error:
        load_playbook(_write(tmp_path, text))
    assert error.value.field == "x-note"  # refused by the schema, not by the YAML bounds
    assert error.value.message == "Extra inputs are not permitted"


def test_a_yaml_merge_key_may_be_overridden(tmp_path: Path) -> None:
    text = VALID.replace(
        "      - kind: echo\n        rounds: 2\n",
        "      - &echo {kind: echo, rounds: 2}\n      - {<<: *echo, name: again, rounds: 3}\n",
    )
    playbook = load_playbook(_write(tmp_path, text)).playbook
    assert [step.raw_params for step in playbook.phases[0].steps] == [{"rounds": 2}, {"rounds": 3}]


def test_a_playbook_store_is_relative_to_the_playbook_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, VALID + "store: out/run\n")
    monkeypatch.chdir(tmp_path.parent)
    playbook = load_playbook(path).playbook
    assert playbook.run_dir == tmp_path / "out" / "run"
    assert playbook.resolve("/abs/x") == Path("/abs/x")
    assert playbook.resolve("data") == tmp_path / "data"


def test_an_overriding_store_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, VALID + "store: out\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert load_playbook(path, {"store": "mine"}).playbook.run_dir == work / "mine"


def test_an_overridden_value_is_blamed_on_no_line_of_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID)
    with pytest.raises(PlaybookError) as error:
        load_playbook(path, {"seed": 2**63})
    assert str(error.value) == (
        f"{path}: seed: Input should be less than or equal to 9223372036854775807"
    )


def test_the_run_id_ignores_secrets_and_the_stored_form_masks_them(tmp_path: Path) -> None:
    model = (
        "models:\n  default:\n    provider: openai\n"
        "    base_url: 'https://u:{pw}@h.example/v1'\n    config: {{api_key: '{pw}'}}\n"
    )
    first = load_playbook(_write(tmp_path, VALID + model.format(pw="one"))).playbook
    second = load_playbook(_write(tmp_path, VALID + model.format(pw="two"))).playbook
    assert first.run_id == second.run_id
    stored = first.stored_form()["models"]["default"]
    assert stored["base_url"] == "https://u:<redacted>@h.example/v1"
    assert stored["config"] == {"api_key": "<redacted>"}
    assert first.models["default"].config == {"api_key": "one"}


def test_the_schema_states_the_bounds() -> None:
    schema = playbook_json_schema(default_step_registry())
    top = schema["properties"]
    assert (top["concurrency"]["minimum"], top["concurrency"]["maximum"]) == (1, 100_000)
    assert top["seed"]["maximum"] == 2**63 - 1
    phase = schema["$defs"]["PhaseConfig"]["properties"]
    assert phase["episodes"]["anyOf"][0]["maximum"] == 1_000_000
    assert "1 to 1,000" in phase["trials"]["description"]
