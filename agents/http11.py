"""A lean HTTP/1.1 client for JSON POSTs: keep-alive connections on asyncio protocols.

It exists for throughput: a run keeps hundreds of model calls in flight, and a general HTTP
stack spends milliseconds of CPU per request on features a JSON API call never uses. It
speaks what OpenAI-compatible endpoints answer with (Content-Length or chunked bodies,
keep-alive, optional TLS); no proxies, redirects, compression or HTTP/2.
It uses asyncio transports directly, as the project runs only on anyio's asyncio backend
(asyncio or uvloop, see runtime/loop.py): a bare protocol holds about a third of an anyio
stream's memory per open connection, and a run keeps one open per model call in flight.
Connecting races the host's addresses as anyio.connect_tcp did ("happy eyeballs", RFC 8305):
uvloop's create_connection tries them one at a time, so an address that silently drops
packets (a broken IPv6 route, say) would hold every new connection for the OS's timeout.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, zip_longest
from typing import cast
from urllib.parse import urlsplit

import anyio

_MAX_HEAD = 64 * 1024
_MAX_BODY = 64 * 1024 * 1024
_HAPPY_EYEBALLS_DELAY = 0.25
"""Seconds an address gets to connect before the next one is tried too (RFC 8305's default)."""

_Address = tuple[socket.AddressFamily, tuple[str, int]]


class HttpError(Exception):
    """A request got no usable HTTP response."""


class HttpConnectError(HttpError):
    """The server could not be reached, or dropped the connection mid-request."""


class HttpProtocolError(HttpError):
    """The server's answer is not well-formed HTTP/1.1."""


class HttpStatusError(HttpError):
    """The server answered with an error status; `retry_after` is its Retry-After, if any."""

    def __init__(self, status: int, message: str, retry_after: str | None = None) -> None:
        self.status = status
        self.message = message
        self.retry_after = retry_after
        super().__init__(f"HTTP {status}: {message}")


@dataclass(frozen=True)
class HttpResponse:
    """A complete response: status, lower-cased headers and the whole body."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Origin:
    """Where requests go: scheme, host, port and the base path of every request."""

    tls: bool
    host: str
    port: int
    base_path: str

    @classmethod
    def parse(cls, url: str) -> Origin:
        """Raise ValueError for a URL this client cannot speak to."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"base_url {url!r}: scheme must be http or https")
        if not parts.hostname:
            raise ValueError(f"base_url {url!r} has no host")
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        return cls(tls, parts.hostname, port, parts.path.rstrip("/"))

    @property
    def host_header(self) -> str:
        default = 443 if self.tls else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


class _Connection(asyncio.Protocol):
    """One connection: the bytes received and not yet parsed, and the one task reading them.

    The loop appends whatever arrives to `buffer` and wakes the reader's future, which
    exists only while a read waits, so an idle connection holds no future. At end of
    stream the inherited `eof_received` returns None: the transport closes itself and
    `connection_lost` ends the reads.
    """

    __slots__ = ("_drain", "_ended", "_waiter", "answered", "buffer", "reused", "transport")

    transport: asyncio.Transport

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.reused = False
        self.answered = False  # bytes arrived since it was opened or last parked
        self._ended: str | None = None  # why the connection ended, once it has
        self._waiter: asyncio.Future[None] | None = None  # a read waiting for bytes
        self._drain: asyncio.Future[None] | None = None  # exists while writing is paused

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.answered = True
        _wake(self._waiter)

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = "end of stream" if exc is None else repr(exc)
        _wake(self._waiter)
        _wake(self._drain)  # left set: what was written never drained

    def pause_writing(self) -> None:
        """The transport holds more than its high-water mark: `send` waits for resume."""
        self._drain = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        drain, self._drain = self._drain, None
        _wake(drain)

    async def fill(self) -> None:
        """Wait for more bytes; the connection ending first raises HttpConnectError."""
        received = len(self.buffer)
        if self._ended is None:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        if len(self.buffer) == received:
            raise HttpConnectError(f"connection closed by the server: {self._ended}")

    async def send(self, request: bytes) -> None:
        """Write a whole request, waiting while the transport's buffer is over its limit.

        A connection that ends first, or before the write drains, raises HttpConnectError.
        """
        if self._ended is None:
            self.transport.write(request)
            drain = self._drain
            if drain is None:
                return
            await drain
            if self._drain is None:
                return
        raise HttpConnectError(f"connection lost while sending: {self._ended}")

    async def read_head(self) -> tuple[int, dict[str, str]]:
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            if len(self.buffer) > _MAX_HEAD:
                raise HttpProtocolError("response head exceeds 64 KiB")
            await self.fill()
        head = bytes(self.buffer[:end]).decode("latin-1")
        del self.buffer[: end + 4]
        status_line, *lines = head.split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HttpProtocolError(f"bad status line {status_line[:80]!r}")
        headers: dict[str, str] = {}
        for line in lines:
            name, sep, value = line.partition(":")
            if not sep:
                raise HttpProtocolError(f"bad header line {line[:80]!r}")
            headers[name.strip().lower()] = value.strip()
        return int(parts[1]), headers

    async def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            await self.fill()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    async def read_line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            if len(self.buffer) > _MAX_HEAD:
                raise HttpProtocolError("chunk header exceeds 64 KiB")
            await self.fill()
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        return line

    async def read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size_field = (await self.read_line()).split(b";", 1)[0].strip()
            try:
                size = int(size_field, 16)
            except ValueError:
                raise HttpProtocolError(f"bad chunk size {size_field[:20]!r}") from None
            if size == 0:
                while await self.read_line():  # trailers end with an empty line
                    pass
                return bytes(body)
            body += await self.read_exactly(size)
            if len(body) > _MAX_BODY:
                raise HttpProtocolError("response body exceeds 64 MiB")
            if await self.read_line():
                raise HttpProtocolError("chunk not followed by CRLF")

    async def read_response(self) -> tuple[HttpResponse, bool]:
        """Read one whole response; also whether the socket may serve another request."""
        status, headers = await self.read_head()
        keep = headers.get("connection", "").lower() != "close"
        length = headers.get("content-length")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self.read_chunked()
        elif length is not None:
            if not length.isdigit() or int(length) > _MAX_BODY:
                raise HttpProtocolError(f"bad Content-Length {length[:20]!r}")
            body = await self.read_exactly(int(length))
        else:
            body, keep = await self.read_to_close(), False
        return HttpResponse(status, headers, body), keep and not self.buffer

    async def read_to_close(self) -> bytes:
        while True:
            try:
                await self.fill()
            except HttpConnectError:
                data = bytes(self.buffer)
                self.buffer.clear()
                return data
            if len(self.buffer) > _MAX_BODY:
                raise HttpProtocolError("response body exceeds 64 MiB")


class HttpClient:
    """POSTs to one origin over a pool of keep-alive connections.

    Connections are opened as needed and parked for reuse up to `max_idle`; the caller
    bounds how many requests are in flight (the model gateway's limiter does).
    """

    def __init__(self, url: str, *, headers: dict[str, str], max_idle: int) -> None:
        self.origin = Origin.parse(url)
        fixed = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._fixed_headers = f"Host: {self.origin.host_header}\r\n{fixed}"
        self._max_idle = max_idle
        self._idle: list[_Connection] = []
        self._ssl = ssl.create_default_context() if self.origin.tls else None
        self._closed = False

    async def post(self, path: str, body: Callable[[], bytes]) -> HttpResponse:
        """POST `body()` to base path + `path`; a stale parked connection is retried once.

        `body` is called once per attempt and its bytes are dropped once sent, so a request
        awaiting its answer (most of its life) holds no copy of what it sent.
        """
        while True:
            connection = await self._checkout()
            try:
                await connection.send(self._request(path, body()))
                response, keep = await connection.read_response()
            except HttpConnectError:
                connection.transport.abort()
                if connection.reused and not connection.answered:
                    continue  # the server closed it while parked: try a fresh one
                raise
            except BaseException:  # cancelled or malformed midway: the exchange is lost
                connection.transport.abort()
                raise
            if keep and not self._closed and len(self._idle) < self._max_idle:
                connection.reused, connection.answered = True, False
                self._idle.append(connection)
            else:
                connection.transport.close()
            return response

    async def aclose(self) -> None:
        """Close every parked connection; later checkouts open none."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.transport.close()

    async def _checkout(self) -> _Connection:
        if self._closed:
            raise HttpConnectError("the HTTP client is closed")
        if self._idle:
            return self._idle.pop()
        origin = self.origin
        hostname = origin.host if self._ssl is not None else None
        try:
            sock = await _connect(origin.host, origin.port)
            try:
                _, connection = await asyncio.get_running_loop().create_connection(
                    _Connection, sock=sock, ssl=self._ssl, server_hostname=hostname
                )
            except BaseException:
                sock.close()  # the loops close it too, though asyncio only later
                raise
        except OSError as exc:  # ssl.SSLError and socket.gaierror included
            raise HttpConnectError(f"cannot connect to {origin.host}:{origin.port}: {exc}") from exc
        return connection

    def _request(self, path: str, body: bytes) -> bytes:
        """Head and body joined: an exact-size copy, the only one alive while it is sent.

        orjson's buffer can be twice the body's size, and a write may wait for the event
        loop to flush it (uvloop flushes at the end of a loop iteration).
        """
        head = (
            f"POST {self.origin.base_path}{path} HTTP/1.1\r\n{self._fixed_headers}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        return head + body


async def _resolve(host: str, port: int) -> list[_Address]:
    """The host's TCP addresses, families alternating from the first one's (RFC 8305 section 4)."""
    by_family: dict[socket.AddressFamily, list[_Address]] = {}
    for family, _, _, _, sockaddr in await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        by_family.setdefault(family, []).append((family, sockaddr))
    return [a for a in chain.from_iterable(zip_longest(*by_family.values())) if a is not None]


def _new_socket(family: socket.AddressFamily) -> socket.socket:
    """A non-blocking TCP socket without Nagle's delay, as asyncio's own connects make."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


async def _connect(host: str, port: int) -> socket.socket:
    """A socket connected to one of the host's addresses: the first to connect of a race.

    An attempt starts every `_HAPPY_EYEBALLS_DELAY` seconds, or as soon as the previous one
    fails; the first success cancels the rest. Every socket but the winner is closed, also
    when the race is cancelled; if every attempt fails, OSError names each error.
    """
    loop = asyncio.get_running_loop()
    won: list[socket.socket] = []
    errors: list[OSError] = []

    async def attempt(
        family: socket.AddressFamily, sockaddr: tuple[str, int], done: anyio.Event
    ) -> None:
        sock: socket.socket | None = None
        try:
            sock = _new_socket(family)
            await loop.sock_connect(sock, sockaddr)
            if not won:
                won.append(sock)
                group.cancel_scope.cancel()
        except OSError as exc:
            errors.append(exc)
        finally:
            done.set()
            if sock is not None and sock not in won:
                sock.close()

    addresses = await _resolve(host, port)  # outside the group, which would wrap its error
    try:
        async with anyio.create_task_group() as group:
            for family, sockaddr in addresses:
                done = anyio.Event()
                group.start_soon(attempt, family, sockaddr, done)
                with anyio.move_on_after(_HAPPY_EYEBALLS_DELAY):
                    await done.wait()
    except BaseException:
        for sock in won:
            sock.close()
        raise
    if won:
        return won[0]
    if len(errors) == 1:
        raise errors[0]
    raise OSError("; ".join(map(str, errors)) or "the host has no address")


def _wake(future: asyncio.Future[None] | None) -> None:
    """Resolve a waiter unless it is gone or done (a cancelled read leaves a done one)."""
    if future is not None and not future.done():
        future.set_result(None)
