"""Secrets written into a playbook never reach the disk or the logs: not the store, not its
WAL (read after a SIGKILL, before any checkpoint), not an export, a report or a log line."""

from __future__ import annotations

import signal
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from stress_support import (
    STORE_FILE,
    TASKS_FILE,
    SimServerProcess,
    committed_items,
    kill,
    query,
    run_cli,
    start_cli,
    write_playbook,
)

PASSWORD = "hunter2-Pw-7781"
KEY = "sk-test-0123456789abcdefXYZ"
HEADER = "hdr-5ecret-0042"
SECRETS = (PASSWORD, KEY, HEADER)


def _playbook(base_url: str) -> str:
    host = base_url.removeprefix("http://")
    return textwrap.dedent(
        f"""\
        name: secretive
        seed: 3
        concurrency: 2
        domain: {{name: retail, options: {{data: {{seed: 0}}}}}}
        models:
          default: {{provider: simulated}}
          remote:
            provider: openai
            model: sim-remote
            base_url: "http://alice:{PASSWORD}@{host}"
          component:
            provider: autogen_ext.models.openai.OpenAIChatCompletionClient
            config:
              model: gpt-4o-mini
              api_key: {KEY}
              base_url: {base_url}
              default_headers: {{X-Api-Key: {HEADER}}}
        agents:
          proposer: {{model: default}}
        phases:
          - name: slow
            episodes: 40
            steps: [{{kind: echo, rounds: 1, delay_s: 0.05}}]
          - name: tasks
            episodes: 3
            steps: [{{kind: load_task, path: "{TASKS_FILE}"}}]
          - name: blueprints
            episodes: 2
            steps: [{{kind: protocol, use: blueprints}}]
        export: [{{format: openai, path: export/openai.jsonl}}]
        """
    )


def _leaks(path: Path) -> list[str]:
    """Which secrets a file (or every file under a folder) holds."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    data = b"".join(file.read_bytes() for file in files)
    return [secret for secret in SECRETS if secret.encode() in data]


def test_secrets_in_a_playbook_are_masked_everywhere_the_run_writes(
    tmp_path: Path, simserver: Callable[..., SimServerProcess]
) -> None:
    server = simserver()
    playbook = write_playbook(tmp_path, _playbook(server.base_url))
    run_dir = tmp_path / "run"
    store = run_dir / STORE_FILE
    args = ("run", str(playbook), "--store", str(run_dir), "--no-progress")

    killed = start_cli(*args)
    try:
        deadline = time.monotonic() + 60
        while committed_items(store) < 3:
            assert killed.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
    finally:
        kill(killed)
    wal = store.with_name(STORE_FILE + "-wal")
    assert wal.is_file() and wal.stat().st_size > 0
    assert _leaks(wal) == [] and _leaks(store) == []

    logged = run_cli(*args, "--log-level", "debug", "--log-json", timeout_s=120)
    assert logged.returncode == 0, logged.stderr[-2000:]
    assert [s for s in SECRETS if s in logged.stdout + logged.stderr] == []
    stored = query(store, "SELECT playbook_json FROM runs")[0][0]
    assert f"http://alice:<redacted>@{server.base_url.removeprefix('http://')}" in stored
    assert '"api_key": "<redacted>"' in stored and '"X-Api-Key": "<redacted>"' in stored

    for command in (
        ("export", str(run_dir), "--format", "sharegpt"),
        ("report", str(run_dir)),
        ("inspect", str(run_dir), "--json"),
    ):
        result = run_cli(*command, timeout_s=120)
        assert result.returncode == 0, result.stderr[-2000:]
        assert [s for s in SECRETS if s in result.stdout + result.stderr] == []
    assert (run_dir / "export" / "openai.jsonl").is_file()
    assert (run_dir / "report" / "report.html").is_file()
    assert _leaks(run_dir) == []

    resumed = run_cli("resume", str(run_dir))
    assert resumed.returncode == 2
    assert resumed.stderr.strip().endswith(
        ": models.remote.base_url held a secret, which the store does not keep:"
        " resume with the playbook file instead"
    )
