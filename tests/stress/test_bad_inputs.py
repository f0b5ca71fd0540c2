"""Bad inputs through the real CLI: one `error: ...` line naming the cause, exit code 2, and
the user's existing data (a run directory, a store file, a data directory) left as it was."""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from stress_support import (
    STORE_FILE,
    TASKS_FILE,
    closed_port,
    error_lines,
    openai_model,
    query,
    retail_playbook,
    run_cli,
    table_dump,
    write_playbook,
)

from domains.data import dump_tables
from domains.registry import resolve_domain

EXIT_USAGE = 2
MISSING_KEY_ENV = "APIGEN_STRESS_MISSING_KEY"
SIMULATED = {"provider": "simulated"}


@pytest.fixture(scope="module")
def completed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory holding one completed run (simulated models, so it is quick)."""
    root = tmp_path_factory.mktemp("existing")
    playbook = write_playbook(root, retail_playbook(SIMULATED, blueprints=0, tasks=3, trials=1))
    result = run_cli(playbook.as_posix(), "--store", str(root / "run"), "--no-progress")
    assert result.returncode == 0, result.stderr
    return root / "run"


@dataclass
class ExistingRun:
    """A private copy of a completed run directory and its store's content when copied."""

    path: Path
    content: dict[str, list[tuple[Any, ...]]]

    def assert_unchanged(self) -> None:
        """The store still holds exactly the rows it held (no new run, no status change)."""
        after = table_dump(self.path / STORE_FILE)
        runs = [(row[0], row[7]) for row in after["runs"]]
        assert after == self.content, f"a rejected input changed the existing run: runs={runs}"


@pytest.fixture
def run_dir(completed_run: Path, tmp_path: Path) -> ExistingRun:
    """A copy of the completed run, for a bad input to be pointed at."""
    copy = tmp_path / "run"
    shutil.copytree(completed_run, copy)
    return ExistingRun(copy, table_dump(copy / STORE_FILE))


def _fails_with_one_line(
    result_args: tuple[str, ...], *needles: str, timeout_s: float = 60, cwd: Path | None = None
) -> str:
    """Run the CLI; assert exit 2 and exactly one `error:` line holding every needle."""
    result = run_cli(*result_args, timeout_s=timeout_s, cwd=cwd)
    assert result.returncode == EXIT_USAGE, (result.stdout, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr[-2000:]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


MALFORMED = {
    "yaml_syntax": ("name: x\nphases: [\n  {name: a\n", ":4: invalid YAML"),
    "unknown_field": (
        "name: x\nconcurency: 4\nphases:\n  - {name: a, episodes: 1, steps: [{kind: echo}]}\n",
        ":2: concurency: Extra inputs are not permitted",
    ),
    "wrong_type": (
        "name: x\nconcurrency: many\nphases:\n  - {name: a, episodes: 1, steps: [{kind: echo}]}\n",
        ":2: concurrency: Input should be a valid integer",
    ),
    "unknown_step": (
        "name: x\nphases:\n  - name: a\n    episodes: 2\n    steps: [{kind: teleport}]\n",
        ":5: phases.0.steps.0.kind: unknown step kind 'teleport'",
    ),
    "not_a_mapping": ("- 1\n- 2\n", ":1: a playbook must be a mapping"),
    "empty_file": ("", "a playbook must be a mapping"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_playbook_is_rejected_with_its_location(
    case: str, tmp_path: Path, run_dir: ExistingRun
) -> None:
    text, expected = MALFORMED[case]
    playbook = write_playbook(tmp_path, text, name=f"{case}.yaml")
    _fails_with_one_line(
        ("run", str(playbook), "--store", str(run_dir.path)), str(playbook), expected
    )
    run_dir.assert_unchanged()


def test_a_missing_domain_data_directory_names_the_directory(
    tmp_path: Path, run_dir: ExistingRun
) -> None:
    missing = tmp_path / "nope"
    text = retail_playbook(
        SIMULATED, blueprints=0, tasks=3, trials=1, domain_options={"data": {"path": str(missing)}}
    )
    playbook = write_playbook(tmp_path, text)
    _fails_with_one_line(
        ("run", str(playbook), "--store", str(run_dir.path)),
        f"{playbook}:4: domain.options.data.path: {missing}: data directory not found",
    )
    run_dir.assert_unchanged()


def test_a_bad_data_record_names_the_file_and_the_record(
    tmp_path: Path, run_dir: ExistingRun
) -> None:
    data = tmp_path / "data"
    env = resolve_domain("retail").environment({"data": {"scale": 0.05}})
    dump_tables(env.snapshot(), data)
    users_file = data / "users.json"
    users = json.loads(users_file.read_text())
    bad_user = sorted(users)[3]
    del users[bad_user]["email"]
    users_file.write_text(json.dumps(users))
    files_before = {path.name: path.read_bytes() for path in data.iterdir()}
    text = retail_playbook(
        SIMULATED, blueprints=0, tasks=3, trials=1, domain_options={"data": {"path": str(data)}}
    )
    playbook = write_playbook(tmp_path, text)
    _fails_with_one_line(
        ("run", str(playbook), "--store", str(run_dir.path)),
        str(users_file),
        f"record {bad_user!r}",
        "email",
    )
    assert {path.name: path.read_bytes() for path in data.iterdir()} == files_before
    run_dir.assert_unchanged()


@pytest.mark.parametrize("command", ["run", "resume", "inspect", "export", "report"])
def test_a_corrupt_store_file_is_named_and_left_byte_for_byte(command: str, tmp_path: Path) -> None:
    store = tmp_path / "run" / STORE_FILE
    store.parent.mkdir()
    store.write_bytes(random.Random(7).randbytes(16384))
    before = store.read_bytes()
    playbook = write_playbook(tmp_path, retail_playbook(SIMULATED, blueprints=0, tasks=1))
    args = {
        "run": ("run", str(playbook), "--store", str(store.parent)),
        "resume": ("resume", str(store.parent)),
        "inspect": ("inspect", str(store.parent)),
        "export": ("export", str(store.parent), "--format", "sharegpt"),
        "report": ("report", str(store.parent)),
    }[command]
    _fails_with_one_line(args, STORE_FILE, "not a usable apigen-mt store")
    assert store.read_bytes() == before
    assert sorted(path.name for path in store.parent.iterdir()) == [STORE_FILE]


def test_an_unreachable_endpoint_fails_fast_naming_it(tmp_path: Path) -> None:
    """Every call failing to connect is a broken setup, not a dataset of rejected episodes:
    the run stops with exit 2 naming the endpoint, and commits no episode as rejected (so
    a rerun once the server is up does the work)."""
    base_url = f"http://127.0.0.1:{closed_port()}/v1"
    model = openai_model(base_url, max_retries=1, timeout_s=1.0)
    playbook = write_playbook(tmp_path, retail_playbook(model, blueprints=4, tasks=3, trials=1))
    store = tmp_path / "run" / STORE_FILE
    started = time.monotonic()
    _fails_with_one_line(("run", str(playbook), "--store", str(store.parent)), base_url)
    assert time.monotonic() - started < 30
    if not store.is_file():
        return  # nothing written at all is fine too
    lost = query(
        store,
        "SELECT phase, item_key, reason FROM work_items WHERE reason LIKE ?",
        ("%connection error%",),
    )
    assert lost == []


def test_a_missing_api_key_names_the_variable(tmp_path: Path, run_dir: ExistingRun) -> None:
    model = {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "base_url": "https://api.example.invalid/v1",
        "api_key_env": MISSING_KEY_ENV,
    }
    playbook = write_playbook(tmp_path, retail_playbook(model, blueprints=0, tasks=3, trials=1))
    env = {key: value for key, value in os.environ.items() if key != MISSING_KEY_ENV}
    result = run_cli("run", str(playbook), "--store", str(run_dir.path), env=env)
    assert result.returncode == EXIT_USAGE, result.stderr[-2000:]
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr[-2000:]
    assert f"environment variable {MISSING_KEY_ENV} (api_key_env) is not set" in lines[0]
    run_dir.assert_unchanged()


BASE = """\
name: bad
seed: 3
concurrency: 4
domain: retail
agents:
  human: {model: default}
phases:
  - name: tasks
    episodes: 2
    steps: [{kind: load_task, path: TASKS}]
  - name: blueprints
    episodes: 1
    steps: [{kind: protocol, use: blueprints}]
"""
"""A small valid retail playbook (TASKS: the shipped task file); each case below edits a line
or appends one (line 14)."""

LAUGHS = "".join(
    f"lol{level}: &l{level} [{', '.join([f'*l{level - 1}' if level else 'lol'] * 10)}]\n"
    for level in range(10)
)
"""Ten levels of ten aliases: 10^10 values once expanded (lol4 alone holds 111,111)."""

KEY = "sk-proj-Zx81bQ0pLm4T2vY7uWc9"

BAD_INPUTS: dict[str, tuple[tuple[str, str], str]] = {
    # case: ((line to replace, its replacement), the error after "file:")
    "missing_prompt_file": (
        ("  human: {model: default}", "  human: {model: default, prompt: missing.j2}"),
        "6: agents.human.prompt: prompt file {dir}/missing.j2 not found",
    ),
    "jinja_error_inline": (
        ("  human: {model: default}", '  human: {model: default, prompt: "Hi {{ name"}'),
        "6: agents.human.prompt: inline prompt line 1: Jinja syntax error: unexpected end of"
        " template, expected 'end of print statement'.",
    ),
    "jinja_error_in_file": (
        ("  human: {model: default}", "  human: {model: default, prompt: broken.j2}"),
        "6: agents.human.prompt: {dir}/broken.j2 line 2: Jinja syntax error: Unexpected end of"
        " template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The"
        " innermost block that needs to be closed is 'if'.",
    ),
    "prompt_path_not_j2": (
        ("  human: {model: default}", "  human: {model: default, prompt: x.jinja}"),
        "6: agents.human.prompt: 'x.jinja' looks like a file path but does not end in .j2"
        " (prompt files are Jinja2 templates named *.j2; inline prompts contain whitespace)",
    ),
    "missing_task_file": (
        ("path: TASKS", "path: missing.json"),
        "10: phases.0.steps.0.path: task file {dir}/missing.json not found",
    ),
    "no_domain_for_a_step_that_needs_one": (
        ("domain: retail", "description: no domain"),
        "13: phases.1.steps.0.kind: step 'protocol' needs a domain: set `domain:` for the"
        " playbook or for phase 'blueprints'",
    ),
    "unknown_export_format": (
        ("", "export: [{format: sharegtp, path: x.jsonl}]"),
        "14: export.0.format: unknown export format 'sharegtp'"
        " (known: apigen-mt-5k, hf, openai, report, sharegpt, tau)",
    ),
    "seed_past_63_bits": (
        ("seed: 3", "seed: 9223372036854775808"),
        "2: seed: Input should be less than or equal to 9223372036854775807",
    ),
    "duplicate_key": (("", "seed: 4"), "14: seed: duplicate key 'seed' (first on line 2)"),
    "concurrency_true": (
        ("concurrency: 4", "concurrency: true"),
        "3: concurrency: Input should be a valid integer",
    ),
    "concurrency_1e30": (
        ("concurrency: 4", "concurrency: 1.0e+30"),
        "3: concurrency: Input should be a valid integer",
    ),
    "a_trillion_episodes": (
        ("episodes: 2", "episodes: 1000000000000"),
        "9: phases.0.episodes: Input should be less than or equal to 1000000",
    ),
    "billion_laughs": (
        ("", LAUGHS),
        "18: lol4: expands to more than 100,000 values through YAML aliases",
    ),
    "ten_thousand_deep": (
        ("", "deep: " + "[" * 10_000 + "]" * 10_000),
        "14: deep.0.0: nested deeper than 50 levels",
    ),
    "unknown_domain": (
        ("domain: retail", "domain: retial"),
        "4: domain.name: unknown domain 'retial' (known: airline, compose, retail;"
        " or use 'pkg.module:Class')",
    ),
    "unknown_phase_domain": (
        ("    episodes: 2", "    episodes: 2\n    domain: retial"),
        "10: phases.0.domain.name: unknown domain 'retial' (known: airline, compose, retail;"
        " or use 'pkg.module:Class')",
    ),
    "unknown_provider": (
        ("", "models: {default: {provider: opena}}"),
        "14: models.default.provider: unknown provider 'opena' (known: simulated, openai, or an"
        " autogen component path such as 'autogen_ext.models.openai.OpenAIChatCompletionClient')",
    ),
    "missing_data_directory": (
        ("domain: retail", "domain: {name: retail, options: {data: {path: nodata}}}"),
        "4: domain.options.data.path: {dir}/nodata: data directory not found",
    ),
    "a_key_in_api_key_env": (
        ("", f"models: {{default: {{provider: openai, api_key_env: {KEY}}}}}"),
        "14: models.default.api_key_env: this looks like an API key itself (not shown): put the"
        " key in an environment variable and name the variable here",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_a_bad_input_is_refused_before_anything_is_written(
    case: str, tmp_path: Path, run_dir: ExistingRun
) -> None:
    """Exit 2, one `file:line: field: message` line, no store, no run record, no key shown."""
    (old, new), expected = BAD_INPUTS[case]
    text = BASE.replace(old, new, 1) if old else BASE + new + "\n"
    text = text.replace("TASKS", json.dumps(str(TASKS_FILE)))
    (tmp_path / "broken.j2").write_text("Hello\n{% if name %}{{ name }}\n")
    playbook = write_playbook(tmp_path, text, name=f"{case}.yaml")
    work = tmp_path / "cwd"
    work.mkdir()
    line = _fails_with_one_line(
        ("run", str(playbook), "--store", str(run_dir.path)), timeout_s=120, cwd=work
    )
    assert line == f"error: {playbook}:{expected.format(dir=tmp_path)}"
    assert KEY not in line
    run_dir.assert_unchanged()
    assert list(work.iterdir()) == []


def test_a_playbook_store_is_not_created_by_a_bad_input(tmp_path: Path) -> None:
    """The store a playbook names itself (relative to the playbook) is not created either."""
    text = BASE.replace("TASKS", json.dumps(str(TASKS_FILE))).replace(
        "concurrency: 4", "concurrency: 0"
    )
    playbook = write_playbook(tmp_path, "store: out\n" + text)
    _fails_with_one_line(
        ("run", str(playbook)),
        f"{playbook}:4: concurrency: Input should be greater than or equal to 1",
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == [playbook.name]
