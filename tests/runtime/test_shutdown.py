"""SIGINT and SIGTERM stop a real CLI run the same way: the run is marked `interrupted`, the
exit code is 128 + the signal number, and `resume` finishes the work exactly once."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SLOW = """\
name: slow
seed: 5
concurrency: 4
timeouts: {shutdown_s: 20}
phases:
  - name: echo
    episodes: 60
    steps: [{kind: echo, rounds: 2, delay_s: 0.1}]
"""

STUCK_PLUGIN = """
import time

import anyio.to_thread

from runtime.steps import Step, StepOutcome


class Stuck(Step):
    '''Blocks in a thread that cancellation cannot stop.'''

    async def run(self, episode):
        await anyio.to_thread.run_sync(time.sleep, 60)
        return StepOutcome.ok()


def register(extensions):
    extensions.steps.register("stuck", Stuck)
"""

STUCK = """\
name: stuck
plugins: [stuckplug]
timeouts: {shutdown_s: 1}
phases:
  - name: p
    episodes: 2
    steps: [{kind: stuck}]
"""


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "runtime.run", *args, "--no-progress"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _query(store: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(store, timeout=30) as conn:
        rows = conn.execute(sql).fetchall()
    conn.close()
    return rows


def _wait_for(
    condition: Callable[[], bool], process: subprocess.Popen[str], limit_s: float = 60
) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.02)


def _count(store: Path, table: str) -> int:
    """Rows in `table`, 0 while the store (or its schema) does not exist yet."""
    if not store.is_file():
        return 0
    try:
        return int(_query(store, f"SELECT COUNT(*) FROM {table}")[0][0])
    except sqlite3.Error:
        return 0


def _items(store: Path) -> int:
    return _count(store, "work_items")


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_a_signal_mid_run_marks_it_interrupted_and_resume_finishes_it(
    signum: signal.Signals, code: int, tmp_path: Path
) -> None:
    playbook = tmp_path / "slow.yaml"
    playbook.write_text(SLOW)
    store = tmp_path / "runs" / "slow" / "store.sqlite"
    process = _start(tmp_path, "run", str(playbook))
    try:
        _wait_for(lambda: _items(store) >= 4, process)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == code, stderr[-2000:]
    assert stderr.rstrip().endswith(
        f"interrupted by {signum.name}: run `resume` to continue where it stopped"
    )
    assert _query(store, "SELECT status FROM runs") == [("interrupted",)]
    assert 4 <= _items(store) < 60

    resumed = subprocess.run(
        [sys.executable, "-m", "runtime.run", "resume", str(playbook), "--no-progress"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert _query(store, "SELECT status FROM runs") == [("completed",)]
    assert _query(store, "SELECT COUNT(*), COUNT(DISTINCT item_key) FROM work_items") == [(60, 60)]


def test_a_wind_down_longer_than_shutdown_s_still_exits_with_the_signal_code(
    tmp_path: Path,
) -> None:
    (tmp_path / "stuckplug.py").write_text(STUCK_PLUGIN)
    playbook = tmp_path / "stuck.yaml"
    playbook.write_text(STUCK)
    process = _start(tmp_path, "run", str(playbook))
    try:
        store = tmp_path / "runs" / "stuck" / "store.sqlite"
        _wait_for(lambda: _count(store, "runs") == 1, process)
        time.sleep(0.5)  # the episodes are inside their blocking threads by now
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        waited = time.monotonic() - sent
    finally:
        process.kill()
    assert process.returncode == 143
    assert "shutdown took longer than timeouts.shutdown_s (1s)" in stderr
    assert 1 <= waited < 15
