"""A loopback OpenAI-compatible server that answers each chat request with the next body.

The bodies come from `fixtures/completions.json`: responses written from the providers'
docs (OpenAI, vLLM, Ollama, servers without a tool parser), so a test drives the real HTTP
path of either OpenAI client with what those servers send. Requests are kept for asserts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any

from agents.simulated.server import ServerFaults, SimServer, serving

FIXTURES = Path(__file__).parent / "fixtures" / "completions.json"


@cache
def _all_fixtures() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIXTURES.read_text(encoding="utf-8"))
    return loaded


def fixture(name: str) -> dict[str, Any]:
    """One case's `chat.completion` body (a fresh copy: tests may edit it)."""
    body: dict[str, Any] = json.loads(json.dumps(_all_fixtures()[name]["body"]))
    return body


def fixture_names() -> list[str]:
    return [name for name in _all_fixtures() if not name.startswith("_")]


class FixtureServer(SimServer):
    """Answers chat requests with `bodies` in order; a request past the last one gets a 400."""

    def __init__(self, bodies: Sequence[dict[str, Any]]) -> None:
        super().__init__("127.0.0.1", ServerFaults())
        self.requests: list[dict[str, Any]] = []
        self._bodies = list(bodies)

    async def chat(self, body: bytes) -> tuple[int, bytes]:
        self.requests.append(json.loads(body))
        index = len(self.requests) - 1
        if index >= len(self._bodies):
            return 400, b'{"error": {"message": "no fixture left for this request"}}'
        return 200, json.dumps(self._bodies[index]).encode()


@asynccontextmanager
async def serve_fixtures(*cases: str | dict[str, Any]) -> AsyncIterator[FixtureServer]:
    """Serve fixture bodies (by case name, or given), one per chat request, on loopback."""
    bodies = [fixture(case) if isinstance(case, str) else case for case in cases]
    async with serving(FixtureServer(bodies)) as server:
        yield server
