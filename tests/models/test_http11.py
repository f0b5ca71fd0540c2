"""The HTTP/1.1 client's transport layer against raw loopback servers, on asyncio and uvloop."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import pytest
from anyio.abc import SocketAttribute, SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream

from agents import http11
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


def track_sockets(monkeypatch: pytest.MonkeyPatch) -> list[socket.socket]:
    """Record every socket the client's connect attempts create, to see which stay open."""
    made: list[socket.socket] = []
    new_socket = http11._new_socket

    def recording(family: socket.AddressFamily) -> socket.socket:
        made.append(new_socket(family))
        return made[-1]

    monkeypatch.setattr(http11, "_new_socket", recording)
    return made


def resolve_to(monkeypatch: pytest.MonkeyPatch, *addresses: tuple[str, int]) -> None:
    """Make every host name resolve to `addresses`, in this order (IPv6 ones have a colon)."""

    async def resolve(host: str, port: int) -> list[http11._Address]:
        family = {False: socket.AF_INET, True: socket.AF_INET6}
        return [(family[":" in address[0]], address) for address in addresses]

    monkeypatch.setattr(http11, "_resolve", resolve)


@contextmanager
def unanswering_address() -> Iterator[tuple[str, int]]:
    """A loopback listener whose accept queue is full: Linux drops further SYNs, connects hang.

    (Non-routable addresses are no surer: a sandbox's network may refuse or even accept them.)
    """
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener:
        address: tuple[str, int] = listener.getsockname()
        fillers: list[socket.socket] = []
        try:
            while len(fillers) < 8:
                fillers.append(socket.socket())
                fillers[-1].settimeout(0.2)
                try:
                    fillers[-1].connect(address)
                except TimeoutError:
                    break
            else:
                pytest.skip("this kernel completes connects beyond a listener's backlog")
            yield address
        finally:
            for filler in fillers:
                filler.close()


def free_port() -> int:
    """A loopback port nothing listens on (for a moment at least): connects are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_address_that_never_answers_loses_the_race_to_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second address is tried 250 ms into the first's hang and wins; the loser is closed."""
    seen, made = spy_checkouts(monkeypatch), track_sockets(monkeypatch)

    async def handle(stream: SocketStream, reader: BufferedByteReceiveStream) -> None:
        await read_request(reader)
        await stream.send(framed(ANSWER))
        await closed_by_client(reader)

    with unanswering_address() as silent:
        async with serving(handle) as url:
            live = ("127.0.0.1", int(url.split(":")[2].split("/")[0]))
            resolve_to(monkeypatch, silent, live)
            client = HttpClient(url, headers={}, max_idle=4)
            started = anyio.current_time()
            with anyio.fail_after(5):
                answer = await client.post("/x", lambda: b"{}")
            took = anyio.current_time() - started
            assert len(made) == 2 and made[0].fileno() == -1  # the hung attempt is closed
            assert seen[0].transport.get_extra_info("peername") == live
            await client.aclose()
    assert answer.body == ANSWER and took >= http11._HAPPY_EYEBALLS_DELAY


async def test_a_connect_cancelled_midway_closes_every_socket_it_opened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both attempts hang when the caller gives up: neither socket outlives the cancel."""
    made = track_sockets(monkeypatch)
    with unanswering_address() as silent:
        resolve_to(monkeypatch, silent, silent)
        client = HttpClient("http://api.example.test/v1", headers={}, max_idle=4)
        with anyio.move_on_after(0.4) as scope:
            await client.post("/x", lambda: b"{}")
    assert scope.cancelled_caught
    assert len(made) == 2 and all(sock.fileno() == -1 for sock in made)


async def test_every_address_refusing_is_a_connection_error_naming_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each refusal starts the next attempt at once; the error names host, port and both."""
    made = track_sockets(monkeypatch)
    resolve_to(monkeypatch, ("::1", free_port()), ("127.0.0.1", free_port()))
    client = HttpClient("http://api.example.test:8080/v1", headers={}, max_idle=4)
    with anyio.fail_after(5), pytest.raises(HttpConnectError) as caught:
        await client.post("/x", lambda: b"{}")
    message = str(caught.value)
    assert message.startswith("cannot connect to api.example.test:8080: ")
    assert message.count("[Errno") == 2
    assert all(sock.fileno() == -1 for sock in made)


async def test_an_unresolvable_host_is_a_connection_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """getaddrinfo's failure reaches the caller as HttpConnectError; no socket is made."""
    made = track_sockets(monkeypatch)

    async def unresolvable(host: str, port: int) -> list[http11._Address]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(http11, "_resolve", unresolvable)
    client = HttpClient("http://nowhere.example.test/v1", headers={}, max_idle=4)
    with pytest.raises(HttpConnectError, match=r"nowhere\.example\.test:80: .*Name or service"):
        await client.post("/x", lambda: b"{}")
    assert not made


async def test_resolved_addresses_alternate_families_from_the_first_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RFC 8305 section 4's order: a family's other addresses wait behind the other family's."""
    v6, v4 = socket.AF_INET6, socket.AF_INET
    answers = [(v6, "a", 80), (v6, "b", 80), (v6, "c", 80), (v4, "d", 80), (v4, "e", 80)]

    async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[tuple[Any, ...]]:
        assert kwargs == {"type": socket.SOCK_STREAM}
        return [(family, socket.SOCK_STREAM, 6, "", (ip, p)) for family, ip, p in answers]

    monkeypatch.setattr(anyio, "getaddrinfo", getaddrinfo)
    order = [address[0] for _, address in await http11._resolve("example.test", 80)]
    assert order == ["a", "d", "b", "e", "c"]
    answers.reverse()
    order = [address[0] for _, address in await http11._resolve("example.test", 80)]
    assert order == ["e", "c", "d", "b", "a"]
