"""Relative paths in a playbook are relative to the playbook's folder, wherever the command
runs; the default store and `--store` are relative to the working directory."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from domains.data import dump_tables
from domains.registry import resolve_domain

ROOT = Path(__file__).resolve().parents[2]

PROJECT_PLAYBOOK = """\
name: located
seed: 2
store: out
domain: {name: retail, options: {data: {path: data}}}
agents:
  human: {model: default, prompt: prompts/human.j2}
phases:
  - name: tasks
    episodes: 2
    steps: [{kind: load_task, path: tasks/retail.json}]
  - name: blueprints
    episodes: 2
    steps: [{kind: protocol, use: blueprints}]
export: [{format: sharegpt, path: export/train.jsonl}]
"""


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.run", *args, "--no-progress"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A playbook folder holding its prompt, task file and domain data, all named relatively."""
    folder = tmp_path / "project"
    (folder / "prompts").mkdir(parents=True)
    (folder / "prompts" / "human.j2").write_text("You are the customer. Say what you need.\n")
    (folder / "tasks").mkdir()
    shutil.copy(ROOT / "playbooks" / "data" / "retail_tasks.json", folder / "tasks" / "retail.json")
    env = resolve_domain("retail").environment({"data": {"seed": 0}})
    dump_tables(env.snapshot(), folder / "data")
    (folder / "playbook.yaml").write_text(PROJECT_PLAYBOOK)
    return folder


def test_every_relative_path_in_a_playbook_is_under_its_folder(
    project: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _cli(elsewhere, "run", str(project / "playbook.yaml"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"-> {project / 'out' / 'store.sqlite'}" in result.stdout
    assert (project / "out" / "export" / "train.jsonl").is_file()
    assert list(elsewhere.iterdir()) == []


def test_store_on_the_command_line_is_relative_to_the_working_directory(
    project: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    playbook = project / "playbook.yaml"
    playbook.write_text(PROJECT_PLAYBOOK.replace("    episodes: 2\n", "    episodes: 1\n"))
    result = _cli(elsewhere, "run", str(playbook), "--store", "mine")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (elsewhere / "mine" / "store.sqlite").is_file()
    assert (elsewhere / "mine" / "export" / "train.jsonl").is_file()
    assert not (project / "out").exists()


def test_without_a_store_the_run_lands_in_runs_name_of_the_working_directory(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "echo.yaml").write_text(
        textwrap.dedent(
            """\
            name: nostore
            phases:
              - {name: echo, episodes: 2, steps: [{kind: echo, rounds: 1}]}
            """
        )
    )
    result = _cli(tmp_path, "run", "playbooks/echo.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "runs" / "nostore" / "store.sqlite").is_file()
    assert sorted(path.name for path in folder.iterdir()) == ["echo.yaml"]
