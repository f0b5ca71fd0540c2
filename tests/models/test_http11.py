"""The HTTP/1.1 client's transport layer against raw loopback servers, on asyncio and uvloop."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from anyio.abc import SocketAttribute, SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream

from agents.http11 import HttpClient, HttpConnectError, _Connection

pytestmark = pytest.mark.anyio

Handler = Callable[[SocketStream, BufferedByteReceiveStream], Awaitable[None]]
ANSWER = b'{"id": "chatcmpl-1", "choices": [{"message": {"content": "' + b"ok " * 60 + b'"}}]}'


@pytest.fixture(
    params=[
        pytest.param(("asyncio", {}), id="asyncio"),
        pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """Both loops the project runs on: their transports pause, buffer and close differently."""
    backend: tuple[str, dict[str, Any]] = request.param
    return backend


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    """A loopback listener running `handler` on each connection; yields its base URL.

    (Its streams read whatever arrives even while the handler does not ask for it.)
    """
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)

    async def serve(stream: SocketStream) -> None:
        async with stream:
            await handler(stream, BufferedByteReceiveStream(stream))

    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, serve)
        yield f"http://127.0.0.1:{listener.extra(SocketAttribute.local_port)}/v1"
        group.cancel_scope.cancel()


async def read_request(reader: BufferedByteReceiveStream) -> bytes:
    """One request's body (this client always sends a Content-Length)."""
    head = await reader.receive_until(b"\r\n\r\n", 65536)
    fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:])
    return await reader.receive_exactly(int(fields[b"Content-Length"]))


async def closed_by_client(reader: BufferedByteReceiveStream) -> bool:
    """Whether the client ends the connection (EOF or reset), reading whatever it sent."""
    try:
        while True:
            await reader.receive()
    except (anyio.EndOfStream, anyio.BrokenResourceError):
        return True


def framed(body: bytes, chunked: bool = False) -> bytes:
    """A 200 response; chunked bodies use chunks of varying size, an extension and a trailer."""
    if not chunked:
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    chunks, start, size = [], 0, 1
    while start < len(body):
        piece = body[start : start + size]
        chunks.append(b"%x;n=%d\r\n%s\r\n" % (len(piece), size, piece))
        start, size = start + size, size * 2
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    return head + b"".join(chunks) + b"0\r\nX-Trailer: t\r\n\r\n"


def spy_checkouts(monkeypatch: pytest.MonkeyPatch) -> list[_Connection]:
    """Record every connection `HttpClient` checks out, to inspect it afterwards."""
    seen: list[_Connection] = []
    checkout = HttpClient._checkout

    async def recording(self: HttpClient) -> _Connection:
        seen.append(await checkout(self))
        return seen[-1]

    monkeypatch.setattr(HttpClient, "_checkout", recording)
    return seen


async def test_a_request_cancelled_awaiting_its_answer_closes_its_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cancelled read leaves no waiter, the server sees the close, the next call works."""
    seen = spy_checkouts(monkeypatch)
    closed = anyio.Event()
    connections = 0

    async def handle(stream: SocketStream, reader: BufferedByteReceiveStream) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        if connections == 1:  # never answered
            if await closed_by_client(reader):
                closed.set()
        else:
            await stream.send(framed(ANSWER))
            await closed_by_client(reader)

    async with serving(handle) as url:
        client = HttpClient(url, headers={}, max_idle=4)
        with anyio.move_on_after(0.2) as scope:
            await client.post("/x", lambda: b"{}")
        assert scope.cancelled_caught
        with anyio.fail_after(5):
            await closed.wait()
        answer = await client.post("/x", lambda: b"{}")
        await client.aclose()
    assert answer.body == ANSWER and connections == len(seen) == 2
    assert seen[0].transport.is_closing() and seen[0]._waiter is None


def read_until_closed(sock: socket.socket) -> int:
    """How many bytes a raw server socket receives before the client ends the connection."""
    received = 0
    with sock:
        sock.settimeout(5)
        while data := sock.recv(1 << 20):
            received += len(data)
    return received


async def test_a_request_cancelled_while_its_body_drains_closes_its_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that never reads keeps the write paused; cancelling it drops the connection."""
    seen = spy_checkouts(monkeypatch)
    body = b"x" * 16_000_000  # several times what loopback's kernel buffers take unread
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepts late, reads nothing
        client = HttpClient(f"http://127.0.0.1:{listener.getsockname()[1]}", headers={}, max_idle=4)
        with anyio.move_on_after(0.2) as scope:
            await client.post("/x", lambda: body)
        assert scope.cancelled_caught
        server_side, _ = await anyio.to_thread.run_sync(listener.accept)
        received = await anyio.to_thread.run_sync(read_until_closed, server_side)
        await client.aclose()
    assert 0 < received < len(body)
    drain = seen[0]._drain  # the cancel landed while waiting for the paused write to drain
    assert drain is not None and drain.cancelled()
    assert seen[0].transport.is_closing() and not client._idle


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_response_sent_in_tiny_pieces_is_read_whole(chunked: bool) -> None:
    """Pieces of 1 to 7 bytes split the head, chunk sizes and CRLFs; keep-alive still holds."""
    connections = 0

    async def handle(stream: SocketStream, reader: BufferedByteReceiveStream) -> None:
        nonlocal connections
        connections += 1
        while True:
            try:
                await read_request(reader)
            except (anyio.EndOfStream, anyio.IncompleteRead):
                return
            response, start, size = framed(ANSWER, chunked), 0, 1
            while start < len(response):
                await stream.send(response[start : start + size])
                await anyio.sleep(0.001)
                start, size = start + size, size % 7 + 1

    async with serving(handle) as url:
        client = HttpClient(url, headers={}, max_idle=4)
        first = await client.post("/x", lambda: b"{}")
        second = await client.post("/x", lambda: b"{}")
        await client.aclose()
    assert first.body == second.body == ANSWER and first.status == 200
    assert connections == 1


async def test_a_large_body_waits_for_the_transport_to_drain_and_arrives_intact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """More than one write can hand the kernel: the transport pauses writing, nothing is lost."""
    pauses = 0
    pause = _Connection.pause_writing

    def counting(self: _Connection) -> None:
        nonlocal pauses
        pauses += 1
        pause(self)

    monkeypatch.setattr(_Connection, "pause_writing", counting)
    payload = bytes(range(256)) * 32_000  # 8 MB
    received: list[bytes] = []

    async def handle(stream: SocketStream, reader: BufferedByteReceiveStream) -> None:
        received.append(await read_request(reader))
        await stream.send(framed(ANSWER))
        await closed_by_client(reader)

    async with serving(handle) as url:
        client = HttpClient(url, headers={}, max_idle=4)
        answer = await client.post("/x", lambda: payload)
        await client.aclose()
    assert answer.body == ANSWER and received == [payload]
    assert pauses >= 1


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_server_closing_mid_body_is_a_connection_error_never_retried(
    chunked: bool,
) -> None:
    """The second answer on a kept-alive connection breaks off: part of it arrived, no retry."""
    requests = 0

    async def handle(stream: SocketStream, reader: BufferedByteReceiveStream) -> None:
        nonlocal requests
        for whole in (True, False):
            await read_request(reader)
            requests += 1
            response = framed(ANSWER, chunked)
            await stream.send(response if whole else response[: len(response) // 2])

    async with serving(handle) as url:
        client = HttpClient(url, headers={}, max_idle=4)
        await client.post("/x", lambda: b"{}")
        with pytest.raises(HttpConnectError, match="closed by the server"):
            await client.post("/x", lambda: b"{}")
        await client.aclose()
    assert requests == 2


async def test_a_server_closing_while_the_body_is_sent_is_a_connection_error() -> None:
    """The server hangs up without reading a large body (uvloop reports it on the read)."""

    async def handle(stream: SocketStream, reader: BufferedByteReceiveStream) -> None:
        await reader.receive_until(b"\r\n\r\n", 65536)

    async with serving(handle) as url:
        client = HttpClient(url, headers={}, max_idle=4)
        with pytest.raises(HttpConnectError):
            await client.post("/x", lambda: b"x" * 8_000_000)
        await client.aclose()
