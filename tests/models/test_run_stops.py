"""A failure no retry gets past stops the run: a rejected API key, an untrusted certificate.

The first such failure cancels the episodes in flight (their calls are never answered here:
only a cancellation ends them), commits none of them, marks the run `stopped` and names the
endpoint and the cause in one line (exit code 3 on the command line); once the cause is
fixed, `resume` finishes the run without `--retry-failed`.
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import sys
from pathlib import Path

import anyio
import pytest
from local_http import certificates, listening

from agents.simulated.server import ServerFaults, SimServer, _Request
from runtime.api import load_playbook, run_playbook
from runtime.engine import Engine, _stopped_by
from runtime.errors import ModelError, RunStopped

pytestmark = pytest.mark.anyio

TASKS = Path(__file__).parents[2] / "playbooks" / "data" / "retail_tasks.json"
EPISODES = 9  # one per task in TASKS
KEY_ENV = "APIGEN_STOP_TEST_KEY"
KEY = "sk-test-stop-0123456789abcdefghij"
REJECTION = b'{"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}'


class Gatekeeper(SimServer):
    """The simulated OpenAI-compatible server behind a key check: until `accepting`, the
    first chat request gets a 401 and every later one waits for good (its caller must
    give up on it)."""

    def __init__(self, *, accepting: bool = False) -> None:
        super().__init__("127.0.0.1", ServerFaults())
        self.accepting = accepting
        self.rejected = 0

    async def _respond(self, request: _Request) -> tuple[int, bytes]:
        if request.path.endswith("/chat/completions") and not self.accepting:
            if self.rejected == 0:
                self.rejected += 1
                return 401, REJECTION
            await anyio.sleep_forever()
        return await super()._respond(request)


def _playbook(tmp_path: Path, base_url: str, client: str = "native") -> Path:
    path = tmp_path / "stops.yaml"
    path.write_text(
        f"""
name: stops
seed: 1
concurrency: {EPISODES}
store: {tmp_path / "run"}
domain: {{name: retail, options: {{data: {{seed: 0}}}}}}
models:
  default: {{provider: openai, model: sim-remote, base_url: "{base_url}", client: {client},
             api_key_env: {KEY_ENV}, send_scenario: true, max_retries: 3,
             retry_base_s: 0.01, timeout_s: 600}}
agents:
  human: {{model: default}}
  assistant: {{model: default}}
phases:
  - name: tasks
    episodes: {EPISODES}
    steps: [{{kind: load_task, path: {TASKS}}}]
  - name: trajectories
    input: {{phase: tasks}}
    steps:
      - {{kind: protocol, use: conversation}}
"""
    )
    return path


def _store(tmp_path: Path) -> Path:
    return tmp_path / "run" / "store.sqlite"


def _run_status(tmp_path: Path) -> str:
    with sqlite3.connect(_store(tmp_path)) as db:
        (status,) = db.execute("SELECT status FROM runs").fetchone()
    return str(status)


def _items(tmp_path: Path, phase: str) -> dict[str, int]:
    with sqlite3.connect(_store(tmp_path)) as db:
        rows = db.execute(
            "SELECT status, COUNT(*) FROM work_items WHERE phase=? GROUP BY status", (phase,)
        ).fetchall()
    return {status: count for status, count in rows}


def _model_errors(tmp_path: Path) -> list[str]:
    with sqlite3.connect(_store(tmp_path)) as db:
        rows = db.execute("SELECT error FROM model_calls WHERE status='error'").fetchall()
    return [error for (error,) in rows]


@pytest.mark.parametrize("client", ["native", "autogen"])
async def test_a_rejected_key_stops_the_run_and_resume_finishes_it_once_accepted(
    client: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    server = Gatekeeper()
    async with listening(server.handle) as port:
        base_url = f"http://127.0.0.1:{port}/v1"
        path = _playbook(tmp_path, base_url, client)
        with pytest.raises(RunStopped) as stopped:
            await run_playbook(load_playbook(path))
        assert _run_status(tmp_path) == "stopped"
        assert _items(tmp_path, "tasks") == {"accepted": EPISODES}
        assert _items(tmp_path, "trajectories") == {}, "episodes in flight commit nothing"
        assert server.rejected == 1

        server.accepting = True
        summary = await run_playbook(load_playbook(path))
    assert str(stopped.value) == (
        f"{base_url}: model 'default': API key rejected (HTTP 401: Incorrect API key provided)"
    )
    assert stopped.value.endpoint == base_url
    assert _model_errors(tmp_path) == ["API key rejected (HTTP 401: Incorrect API key provided)"]
    assert summary.resumed and summary.executed == EPISODES
    assert summary.counts == {"tasks": {"accepted": EPISODES}, "trajectories": {"accepted": 9}}
    assert _run_status(tmp_path) == "completed"


async def test_an_untrusted_certificate_stops_the_run_and_trusting_its_ca_lets_it_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    certs = certificates(tmp_path)
    server = Gatekeeper(accepting=True)
    async with listening(server.handle, tls=certs.server) as port:
        base_url = f"https://127.0.0.1:{port}/v1"
        path = _playbook(tmp_path, base_url)
        loaded = load_playbook(path)
        with pytest.raises(ModelError, match="endpoint unreachable: TLS certificate not trusted"):
            await run_playbook(loaded)  # the preflight's probe already fails ...
        assert not _store(tmp_path).exists()

        # ... and a run past it (say the certificate changed since) stops at its first call.
        engine = Engine(loaded.playbook, loaded.extensions.steps, hooks=loaded.extensions.run_hooks)
        with pytest.raises(RunStopped) as stopped:
            await engine.run()
        assert str(stopped.value).startswith(
            f"{base_url}: model 'default': TLS certificate not trusted: "
        )
        assert str(stopped.value).count("not trusted") == 1
        assert _run_status(tmp_path) == "stopped"
        assert _items(tmp_path, "trajectories") == {}
        assert server.stats.requests() == 0  # no request got past the handshake
        assert len(_model_errors(tmp_path)) == 1

        monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca_file))
        summary = await run_playbook(load_playbook(path))
    assert summary.counts["trajectories"] == {"accepted": EPISODES}
    assert _run_status(tmp_path) == "completed"


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    result = await anyio.run_process(
        [sys.executable, "-m", "runtime.run", *args], check=False, env=env
    )
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, KEY_ENV: KEY, **extra}


async def test_the_command_line_exits_3_with_one_line_and_resume_finishes(
    tmp_path: Path,
) -> None:
    server = Gatekeeper()
    async with listening(server.handle) as port:
        base_url = f"http://127.0.0.1:{port}/v1"
        path = _playbook(tmp_path, base_url)
        code, out, err = await _cli("run", str(path), "--no-progress", env=_env())
        inspected = await _cli("inspect", str(tmp_path / "run"), "--json", env=_env())
        server.accepting = True
        resumed = await _cli("resume", str(tmp_path / "run"), "--no-progress", env=_env())
    assert code == 3, err[-2000:]
    assert "Traceback" not in err and KEY not in err + out
    naming = [line for line in err.splitlines() if "401" in line or "rejected" in line]
    assert naming == [
        f"stopped: {base_url}: model 'default': API key rejected (HTTP 401: Incorrect API key"
        " provided); fix it, then `resume` to continue"
    ]
    assert json.loads(inspected[1])["status"] == "stopped"
    assert resumed[0] == 0, resumed[2][-2000:]
    assert "resumed stops-" in resumed[1] and f": {EPISODES} episodes" in resumed[1]
    assert f"trajectories: {EPISODES} items (accepted {EPISODES})" in resumed[1]


async def test_the_command_line_names_an_untrusted_certificate_and_runs_once_it_is_trusted(
    tmp_path: Path,
) -> None:
    certs = certificates(tmp_path)
    server = Gatekeeper(accepting=True)
    async with listening(server.handle, tls=certs.server) as port:
        base_url = f"https://127.0.0.1:{port}/v1"
        path = _playbook(tmp_path, base_url)
        code, _, err = await _cli("run", str(path), "--no-progress", env=_env())
        trusted = await _cli(
            "run", str(path), "--no-progress", env=_env(SSL_CERT_FILE=str(certs.ca_file))
        )
    assert code == 2, err[-2000:]
    (line,) = [line for line in err.splitlines() if "certificate" in line]
    assert line.startswith(
        f"error: {base_url}: endpoint unreachable: TLS certificate not trusted: "
    )
    assert line.count(base_url) == 1 and line.count("not trusted") == 1
    assert line.endswith("(trust its CA with SSL_CERT_FILE)")
    assert trusted[0] == 0, trusted[2][-2000:]
    assert f"trajectories: {EPISODES} items (accepted {EPISODES})" in trusted[1]


def test_the_stop_error_crosses_processes_and_wrappers_as_one_plain_line() -> None:
    """What a Ray worker raises reaches the driver pickled, then wrapped by Ray (a subclass
    whose text is a traceback) inside a task group's exception group."""
    error = RunStopped("http://h/v1", "model 'm': API key rejected")
    copied = pickle.loads(pickle.dumps(error))
    assert (type(copied), str(copied), copied.endpoint, copied.detail) == (
        RunStopped,
        "http://h/v1: model 'm': API key rejected",
        "http://h/v1",
        "model 'm': API key rejected",
    )

    class Wrapped(RunStopped):
        def __str__(self) -> str:
            return "Traceback (most recent call last): ..."

    class Group(Exception):
        def __init__(self, *inner: BaseException) -> None:
            self.exceptions = inner

    unwrapped = _stopped_by(Group(Wrapped("http://h/v1", "model 'm': API key rejected")))
    assert type(unwrapped) is RunStopped
    assert str(unwrapped) == "http://h/v1: model 'm': API key rejected"
    assert _stopped_by(Group(error, ValueError())) is None
    assert _stopped_by(error) is error
