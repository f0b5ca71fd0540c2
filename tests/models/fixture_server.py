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

import anyio
from anyio.abc import ByteStream, SocketAttribute
from anyio.streams.buffered import BufferedByteReceiveStream

FIXTURES = Path(__file__).parent / "fixtures" / "completions.json"
CHAT = "/v1/chat/completions"


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


class FixtureServer:
    """Answers chat requests with `bodies` in order; a request past the last one gets a 400."""

    def __init__(self, bodies: Sequence[dict[str, Any]]) -> None:
        self.port = 0
        self.requests: list[dict[str, Any]] = []
        self._bodies = list(bodies)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _answer(self, path: str, body: bytes) -> tuple[int, bytes]:
        if path != CHAT:
            return 404, b'{"error": {"message": "no such route"}}'
        self.requests.append(json.loads(body))
        index = len(self.requests) - 1
        if index >= len(self._bodies):
            return 400, b'{"error": {"message": "no fixture left for this request"}}'
        return 200, json.dumps(self._bodies[index]).encode()

    async def handle(self, stream: ByteStream) -> None:
        """Serve one keep-alive connection until the client closes it."""
        async with stream:
            reader = BufferedByteReceiveStream(stream)
            while True:
                try:
                    head = (await reader.receive_until(b"\r\n\r\n", 65536)).decode("latin-1")
                except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError):
                    return
                request_line, *lines = head.split("\r\n")
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in lines)
                }
                length = int(headers.get("content-length", "0"))
                body = await reader.receive_exactly(length) if length else b""
                status, payload = self._answer(request_line.split(" ")[1], body)
                await stream.send(
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                    "Content-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode("latin-1")
                    + payload
                )


@asynccontextmanager
async def serve_fixtures(*cases: str | dict[str, Any]) -> AsyncIterator[FixtureServer]:
    """Serve fixture bodies (by case name, or given), one per chat request, on loopback."""
    server = FixtureServer([fixture(case) if isinstance(case, str) else case for case in cases])
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    async with listener, anyio.create_task_group() as group:
        server.port = listener.extra(SocketAttribute.local_port)
        group.start_soon(listener.serve, server.handle)
        try:
            yield server
        finally:
            group.cancel_scope.cancel()
