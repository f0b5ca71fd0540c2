"""What `export`, `inspect` and `report` print and where they write, as users run them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TWO_DOMAINS = """\
name: two-domains
seed: 5
models: {default: {provider: simulated}}
agents: {proposer: {model: default}}
phases:
  - name: retail_tasks
    domain: {name: retail, options: {data: {seed: 0}}}
    episodes: 3
    steps: [{kind: propose}, {kind: validate}]
  - name: airline_tasks
    domain: {name: airline, options: {data: {seed: 0}}}
    episodes: 2
    steps: [{kind: propose}, {kind: validate}]
"""


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.run", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        check=False,
    )


@pytest.fixture(scope="module")
def two_domains(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run with blueprints of two domains (3 retail, 2 airline, all accepted)."""
    root = tmp_path_factory.mktemp("cli")
    playbook = root / "two.yaml"
    playbook.write_text(TWO_DOMAINS)
    done = _cli(str(playbook), "--store", str(root / "run"), "--no-progress")
    assert done.returncode == 0, done.stderr
    return root / "run"


def test_tau_writes_a_directory_with_one_task_file_per_domain(two_domains: Path) -> None:
    result = _cli("export", str(two_domains), "--format", "tau")
    assert result.returncode == 0, result.stderr
    out = two_domains / "export" / "tau"
    assert result.stdout == (
        f"wrote 5 records as tau -> {out}/ (tasks_airline.json, tasks_retail.json)\n"
    )
    assert len(json.loads((out / "tasks_retail.json").read_text())) == 3
    assert len(json.loads((out / "tasks_airline.json").read_text())) == 2


def test_tau_out_names_the_directory(two_domains: Path, tmp_path: Path) -> None:
    result = _cli("export", str(two_domains), "--format", "tau", "--out", str(tmp_path / "t"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == [
        "tasks_airline.json",
        "tasks_retail.json",
    ]


def test_export_help_says_what_out_is_for_each_format() -> None:
    text = " ".join(_cli("export", "--help").stdout.split())
    assert "apigen-mt-5k" in text
    assert "a directory for tau (tasks_<domain>.json per domain)" in text
    assert "<out>.meta.json" in text
