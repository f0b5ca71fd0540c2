"""Helpers for the stress suite: CLI subprocesses, a loopback simulator process, playbooks, SQL.

Everything here is synchronous: the stress tests drive the product the way a user does,
as separate processes, and read the SQLite store directly.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TASKS_FILE = ROOT / "playbooks" / "data" / "retail_tasks.json"
CHAT = "/v1/chat/completions"
STORE_FILE = "store.sqlite"
TABLES = ("runs", "work_items", "results", "events", "model_calls", "model_cache")


@dataclass
class SimServerProcess:
    """A `python -m agents.simulated.server` child process serving on a free loopback port."""

    process: subprocess.Popen[bytes]
    base_url: str

    def stats(self) -> dict[str, Any]:
        """The server's request counters (GET /stats)."""
        url = self.base_url.removesuffix("/v1") + "/stats"
        with urllib.request.urlopen(url, timeout=5) as response:  # loopback only
            stats: dict[str, Any] = json.load(response)
        return stats

    def chat_requests(self, status: int | None = None) -> int:
        """Chat requests answered so far (optionally only those with `status`)."""
        by_status: dict[str, int] = self.stats()["by_path"].get(CHAT, {})
        if status is None:
            return sum(by_status.values())
        return by_status.get(str(status), 0)

    def stop(self) -> None:
        """Kill the server (it holds no state worth a graceful exit) and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_simserver(*flags: str, timeout_s: float = 20.0) -> SimServerProcess:
    """Start the loopback simulator on a free port and wait (bounded) for its address line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "agents.simulated.server", "--port", "0", *flags],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        line = _read_line(process, timeout_s)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise
    return SimServerProcess(process, line.rsplit(" ", 1)[-1])


def _read_line(process: subprocess.Popen[bytes], timeout_s: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0 or process.poll() is not None:
                raise RuntimeError(f"simserver did not start (exit {process.poll()})")
            if selector.select(left):
                chunk = os.read(process.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError("simserver closed its output before starting")
                buffer += chunk
    return buffer.split(b"\n", 1)[0].decode().strip()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def cli_command(*args: str) -> list[str]:
    """The argv of `python -m runtime.run ARGS`."""
    return [sys.executable, "-m", "runtime.run", *args]


def run_cli(
    *args: str,
    cwd: Path | None = None,
    timeout_s: float = 60.0,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the CLI to completion (bounded) and capture its output."""
    return subprocess.run(
        cli_command(*args),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=cwd or ROOT,
        env=dict(env) if env is not None else None,
        check=False,
    )


def start_cli(*args: str, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start the CLI without waiting; output is discarded (the store is what we check)."""
    return subprocess.Popen(
        cli_command(*args),
        cwd=cwd or ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill(process: subprocess.Popen[Any]) -> None:
    """SIGKILL a child (no cleanup handlers run) and reap it."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def error_lines(stderr: str) -> list[str]:
    """The `error: ...` lines of a CLI's stderr (log lines are timestamped, so never match)."""
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def openai_model(base_url: str, **overrides: Any) -> dict[str, Any]:
    """A `provider: openai` model config aimed at the loopback simulator."""
    config: dict[str, Any] = {
        "provider": "openai",
        "model": "sim-remote",
        "base_url": base_url,
        "send_scenario": True,
        "timeout_s": 5.0,
        "max_retries": 2,
        "retry_base_s": 0.01,
        "retry_max_s": 0.05,
        "max_concurrency": 32,
    }
    config.update(overrides)
    return config


def retail_playbook(
    model: Mapping[str, Any],
    *,
    name: str = "stress",
    seed: int = 3,
    blueprints: int = 8,
    tasks: int = 9,
    trials: int = 2,
    concurrency: int = 16,
    domain_options: Mapping[str, Any] | None = None,
    tasks_file: Path = TASKS_FILE,
) -> str:
    """A small retail playbook: phase 1 (the blueprints protocol) and phase 2 over both
    a task file and the blueprints phase 1 accepted. JSON is YAML, so the model config and
    options are written as JSON flow mappings."""
    options = json.dumps(domain_options or {"data": {"seed": 0}})
    phase1 = f"""
      - name: blueprints
        episodes: {blueprints}
        steps:
          - kind: protocol
            use: blueprints
            roles:
              proposer: {{context: {{max_chain: 2, few_shot: 1}}}}
              reviewer: {{vote: majority, threshold: 4}}
      - name: blueprint_talks
        input: {{phase: blueprints}}
        trials: {trials}
        steps:
          - {{kind: protocol, use: conversation, roles: {{verifier: {{keep: first}}}}}}"""
    text = f"""
    name: {name}
    seed: {seed}
    concurrency: {concurrency}
    domain: {{name: retail, options: {options}}}
    models:
      default: {json.dumps(dict(model))}
    agents:
      proposer: {{model: default}}
      reviewer: {{model: default}}
      reflector: {{model: default}}
      human: {{model: default}}
      assistant: {{model: default}}
      user_judge: {{model: default}}
    phases:
      - name: tasks
        episodes: {tasks}
        steps: [{{kind: load_task, path: {json.dumps(str(tasks_file))}}}]
      - name: trajectories
        input: {{phase: tasks}}
        trials: {trials}
        steps:
          - {{kind: protocol, use: conversation, roles: {{verifier: {{keep: first}}}}}}"""
    return textwrap.dedent(text + (phase1 if blueprints else "")).lstrip() + "\n"


def write_playbook(directory: Path, text: str, name: str = "playbook.yaml") -> Path:
    """Write a playbook file and return its absolute path."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path.resolve()


def query(store_file: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of one query against a run store (opened and closed here)."""
    with sqlite3.connect(store_file, timeout=30) as conn:
        rows = conn.execute(sql, params).fetchall()
    conn.close()
    return rows


def committed_items(store_file: Path) -> int:
    """How many work items the store holds, 0 while it (or its schema) does not exist yet."""
    if not store_file.is_file():
        return 0
    try:
        return int(query(store_file, "SELECT COUNT(*) FROM work_items")[0][0])
    except sqlite3.OperationalError:
        return 0


def table_dump(
    store_file: Path, tables: Sequence[str] = TABLES
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each table, in a stable order: a store's logical content."""
    return {
        table: sorted(query(store_file, f"SELECT * FROM {table}"), key=repr) for table in tables
    }
