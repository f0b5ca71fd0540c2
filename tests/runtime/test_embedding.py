"""An embedded run prints nothing of its own: logging is the host program's to configure."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_snippet() -> str:
    """The Python block of the README's Embedding section, verbatim."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Embedding", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def _counts(stdout: str) -> dict[str, dict[str, int]]:
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout[-3000:]
    counts: dict[str, dict[str, int]] = ast.literal_eval(lines[0])
    return counts


def test_the_readme_snippet_prints_only_what_it_prints(tmp_path: Path) -> None:
    (tmp_path / "playbooks").symlink_to(ROOT / "playbooks")
    result = _run(_readme_snippet(), tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
    counts = _counts(result.stdout)
    assert sorted(counts) == ["airline", "retail", "retail_combined"]
    assert (tmp_path / "runs" / "blueprints" / "store.sqlite").is_file()


ECHO_EMBEDDED = """\
import anyio
from runtime import load_playbook, run_playbook


async def main() -> None:
    summary = await run_playbook(load_playbook("echo.yaml"))
    print(summary.counts)


anyio.run(main)
"""

ECHO = """\
name: echo
phases:
  - name: echo
    episodes: 50
    steps: [{kind: echo, rounds: 2, fail_rate: 0.2}]
    on_fail: {kind: note}
    max_attempts: 2
"""


def test_an_embedded_run_writes_nothing_to_stdout_or_stderr(tmp_path: Path) -> None:
    (tmp_path / "echo.yaml").write_text(ECHO)
    result = _run(ECHO_EMBEDDED, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
    counts = _counts(result.stdout)
    assert sum(counts["echo"].values()) == 50


def test_a_host_that_configures_stdlib_logging_gets_the_run_events(tmp_path: Path) -> None:
    (tmp_path / "echo.yaml").write_text(ECHO)
    host = textwrap.dedent(
        """\
        import logging, sys
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(message)s")
        """
    )
    result = _run(host + ECHO_EMBEDDED, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    _counts(result.stdout)
    events = result.stderr.splitlines()
    assert any(line.startswith("runtime.engine run.started resumed=False") for line in events)
    assert any(line.startswith("runtime.engine run.finished executed=50") for line in events)
    assert not any("episode.committed" in line for line in events)  # DEBUG stays filtered
