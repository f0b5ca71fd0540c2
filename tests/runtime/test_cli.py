"""The command line as users run it: real subprocesses, real files, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SMALL = """\
name: small
seed: 3
phases:
  - name: echo
    episodes: 12
    steps:
      - kind: echo
        rounds: 2
        fail_rate: 0.3
"""


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.run", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def _playbook(tmp_path: Path, text: str = SMALL) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(text)
    return path


def test_run_then_run_again_does_nothing_new(tmp_path: Path) -> None:
    playbook, store = _playbook(tmp_path), tmp_path / "run"
    first = _cli(str(playbook), "--store", str(store))
    second = _cli("run", str(playbook), "--store", str(store))
    assert first.returncode == 0, first.stderr
    assert "ran small-" in first.stdout and ": 12 episodes" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "resumed small-" in second.stdout and ": 0 episodes" in second.stdout
    assert (store / "store.sqlite").is_file()


def test_inspect_summarises_the_store(tmp_path: Path) -> None:
    store = tmp_path / "run"
    assert _cli(str(_playbook(tmp_path)), "--store", str(store)).returncode == 0
    result = _cli("inspect", str(store), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "completed"
    assert sum(report["phases"]["echo"]["counts"].values()) == 12
    text = _cli("inspect", str(store))
    assert "run small-" in text.stdout and "[completed]" in text.stdout


def test_resume_accepts_a_run_directory(tmp_path: Path) -> None:
    store = tmp_path / "run"
    assert _cli(str(_playbook(tmp_path)), "--store", str(store)).returncode == 0
    result = _cli("resume", str(store))
    assert result.returncode == 0, result.stderr
    assert ": 0 episodes" in result.stdout


def test_a_bad_playbook_exits_2_with_one_located_line_and_writes_nothing(tmp_path: Path) -> None:
    playbook = _playbook(tmp_path, SMALL.replace("rounds: 2", "rounds: many"))
    store = tmp_path / "run"
    result = _cli(str(playbook), "--store", str(store))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {playbook}:8: phases.0.steps.0.rounds: Input should be a valid integer"
    ]
    assert not store.exists()


def test_resume_without_a_store_exits_2(tmp_path: Path) -> None:
    result = _cli("resume", str(tmp_path / "nothing-here"))
    assert result.returncode == 2
    assert "no run store here" in result.stderr


def test_a_corrupt_store_exits_2_and_is_left_untouched(tmp_path: Path) -> None:
    store = tmp_path / "run"
    store.mkdir()
    corrupt = store / "store.sqlite"
    corrupt.write_bytes(b"garbage" * 1000)
    result = _cli(str(_playbook(tmp_path)), "--store", str(store))
    assert result.returncode == 2
    assert "not a usable apigen-mt store" in result.stderr
    assert corrupt.read_bytes() == b"garbage" * 1000


def test_schema_prints_json_schema() -> None:
    result = _cli("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "Playbook"
    assert "phases" in schema["required"]


def test_log_json_emits_json_lines_bound_to_the_run(tmp_path: Path) -> None:
    result = _cli(str(_playbook(tmp_path)), "--store", str(tmp_path / "run"), "--log-json")
    assert result.returncode == 0
    events = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    started = [event for event in events if event["event"] == "run.started"]
    assert len(started) == 1 and started[0]["run_id"].startswith("small-")
    phase_events = [event for event in events if event["event"] == "phase.started"]
    assert phase_events[0]["phase"] == "echo"


def test_the_console_script_has_the_same_interface(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "apigen-mt"
    result = subprocess.run(
        [str(script), str(_playbook(tmp_path)), "--store", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ran small-" in result.stdout


FLAKY_PLUGIN = '''
from pathlib import Path

from runtime.steps import Step, StepOutcome


class Flaky(Step):
    """Errors (as an unreachable endpoint would) until the file `up` exists."""

    async def run(self, episode):
        if Path("up").exists():
            return StepOutcome.ok()
        return StepOutcome.error("endpoint down")


def register(extensions):
    extensions.steps.register("flaky", Flaky)
'''

FLAKY = """\
name: flaky
plugins: [flakyplug]
phases:
  - name: p
    episodes: 4
    steps: [{kind: flaky}]
"""


def test_resume_retry_failed_redoes_only_failed_items(tmp_path: Path) -> None:
    (tmp_path / "flakyplug.py").write_text(FLAKY_PLUGIN)
    playbook = _playbook(tmp_path, FLAKY)
    first = _cli("run", str(playbook), "--no-progress", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "failed 4" in first.stdout
    (tmp_path / "up").write_text("")
    plain = _cli("resume", str(playbook), "--no-progress", cwd=tmp_path)
    assert "0 episodes" in plain.stdout and "failed 4" in plain.stdout
    retried = _cli("resume", str(playbook), "--no-progress", "--retry-failed", cwd=tmp_path)
    assert retried.returncode == 0, retried.stderr
    assert "retrying 4 failed items" in retried.stderr
    assert "accepted 4" in retried.stdout
