"""Run a playbook against an OpenAI-compatible HTTP server: the loopback simulator here.

This starts `agents.simulated.server` (the simulated backend behind a real
OpenAI-compatible HTTP API) on a free loopback port, in this process or, with
`--subprocess`, as `python -m agents.simulated.server --port N`, then runs
`playbooks/trajectories.yaml` with its models replaced by `provider: openai` configs whose
`base_url` points at the server. Every request goes through the openai SDK, the gateway's
limits, retries (the server answers a few requests with HTTP 429 on purpose) and response
cache, exactly as with a real server.

    python -m examples.local_openai_server [--subprocess]    (from the repository root)

For a real server, write the same `models` section in your playbook, e.g. for vLLM
(`vllm serve Qwen/Qwen2.5-7B-Instruct --port 8000 --enable-auto-tool-choice
--tool-call-parser hermes`):

    models:
      default:
        provider: openai
        model: Qwen/Qwen2.5-7B-Instruct
        base_url: http://localhost:8000/v1
        api_key_env: VLLM_API_KEY          # the *name* of an env var (not needed on loopback)
        max_concurrency: 64
        model_info: {vision: false, function_calling: true, json_output: true,
                     structured_output: false, family: unknown}

or for Ollama (`ollama serve`, `ollama pull qwen2.5:7b`): `model: qwen2.5:7b`,
`base_url: http://localhost:11434/v1`. Drop `send_scenario`: only the simulator reads it.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from anyio.streams.text import TextReceiveStream

from agents.simulated.server import serve_simulated
from runtime import RunSummary, load_playbook, run_playbook
from runtime.log import configure_logging

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOK = ROOT / "playbooks" / "trajectories.yaml"
ERROR_RATE_429 = 0.02


def openai_models(base_url: str) -> dict[str, Any]:
    """The playbook's `models` section: every role on the OpenAI-compatible server."""
    return {
        "default": {
            "provider": "openai",
            "model": "simulated",
            "base_url": base_url,
            "send_scenario": True,  # the loopback simulator plays the episode's script
            "max_concurrency": 16,
            "retry_base_s": 0.05,
            "retry_max_s": 0.5,
            "timeout_s": 30,
        }
    }


@asynccontextmanager
async def in_process_server() -> AsyncIterator[str]:
    """The simulator served from this event loop; yields its base URL."""
    async with serve_simulated(port=0, error_rate_429=ERROR_RATE_429, seed=1) as server:
        yield server.base_url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def subprocess_server() -> AsyncIterator[str]:
    """`python -m agents.simulated.server` as a child process; yields its base URL once it
    listens."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "agents.simulated.server",
        "--port",
        str(port),
        "--error-rate-429",
        str(ERROR_RATE_429),
        "--seed",
        "1",
    ]
    async with await anyio.open_process(command, cwd=ROOT) as process:
        assert process.stdout is not None
        try:
            with anyio.fail_after(20):
                async for chunk in TextReceiveStream(process.stdout):
                    if "server on" in chunk:
                        break
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            process.terminate()
            with anyio.move_on_after(5):
                await process.wait()


async def main(use_subprocess: bool = False, store_dir: Path | None = None) -> RunSummary:
    """Serve the simulator, run the playbook against it over HTTP, print the summary."""
    store = store_dir or Path(tempfile.mkdtemp(prefix="apigen-openai-"))
    server = subprocess_server() if use_subprocess else in_process_server()
    async with server as base_url:
        print(f"simulated OpenAI-compatible server on {base_url}")
        loaded = load_playbook(
            PLAYBOOK, overrides={"models": openai_models(base_url), "store": str(store)}
        )
        summary = await run_playbook(loaded)
    print(f"ran {summary.run_id}: {summary.executed} episodes in {summary.duration_s:.2f}s")
    for phase, counts in summary.counts.items():
        parts = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
        print(f"  {phase}: {parts}")
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A playbook against a loopback OpenAI server.")
    parser.add_argument("--subprocess", action="store_true", help="run the server as a process")
    configure_logging(level="warning")
    anyio.run(main, parser.parse_args().subprocess)
