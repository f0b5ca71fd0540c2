"""Local HTTP pieces for transport tests: a scripted raw server, a forward proxy, TLS.

Every server listens on loopback only. The proxy sends every host it is asked for to one
local upstream, so a test can name a host that does not resolve (`llm.example.test`): a
request that arrives proves it went through the proxy.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import trustme
from anyio.abc import ByteStream, Listener, SocketAttribute
from anyio.streams.buffered import BufferedByteReceiveStream
from anyio.streams.tls import TLSListener

REMOTE_HOST = "llm.example.test"
"""A name no resolver knows: only a proxy can reach it (it sends it to its upstream)."""

_MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class Seen:
    """One request as a server received it."""

    line: str
    headers: dict[str, str]
    body: bytes


async def read_request(reader: BufferedByteReceiveStream) -> Seen:
    """One request (head and Content-Length body); anyio.EndOfStream when the peer is done."""
    head = (await reader.receive_until(b"\r\n\r\n", _MAX_HEAD)).decode("latin-1")
    line, *rest = head.split("\r\n")
    headers = {}
    for header in rest:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    size = int(headers.get("content-length", "0"))
    body = await reader.receive_exactly(size) if size else b""
    return Seen(line, headers, body)


def response(
    body: bytes, status: str = "200 OK", headers: str = "", content_type: str = "application/json"
) -> bytes:
    """A whole HTTP/1.1 response with a Content-Length."""
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{headers}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


Answer = Callable[[int, Seen], bytes]
"""The raw bytes to answer request i (counted over the server's life) with."""


@dataclass
class RawServer:
    """Answers every request with `answer(i, request)`, keeping the connection open."""

    answer: Answer
    host: str = "127.0.0.1"
    tls: bool = False
    port: int = 0
    requests: list[Seen] = field(default_factory=list)
    connections: int = 0

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}/v1"

    async def handle(self, stream: ByteStream) -> None:
        self.connections += 1
        async with stream:
            reader = BufferedByteReceiveStream(stream)
            while True:
                try:
                    seen = await read_request(reader)
                except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError):
                    return
                self.requests.append(seen)
                try:
                    await stream.send(self.answer(len(self.requests) - 1, seen))
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return


@asynccontextmanager
async def listening(
    handler: Callable[[ByteStream], object],
    host: str = "127.0.0.1",
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[int]:
    """Serve `handler` on a free port of `host` (over TLS with `tls`); yields the port."""
    tcp = await anyio.create_tcp_listener(local_host=host, local_port=0)
    port = tcp.extra(SocketAttribute.local_port)
    listener: Listener[ByteStream] = (
        TLSListener(tcp, tls, standard_compatible=False) if tls is not None else tcp
    )

    async def serve(stream: ByteStream) -> None:
        await handler(stream)  # type: ignore[misc]

    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, serve)
        try:
            yield port
        finally:
            group.cancel_scope.cancel()


@asynccontextmanager
async def raw_server(
    answer: Answer, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
) -> AsyncIterator[RawServer]:
    server = RawServer(answer, host, tls is not None)
    async with listening(server.handle, host, tls) as port:
        server.port = port
        yield server


@dataclass
class ForwardProxy:
    """An HTTP forward proxy: CONNECT tunnels, and absolute-form requests rewritten to
    origin form; every target goes to `upstream`. With `required_auth` it answers 407 to
    a request whose Proxy-Authorization header is not exactly that."""

    upstream: tuple[str, int]
    required_auth: str | None = None
    port: int = 0
    asked: list[str] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    heads: list[Seen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, client: ByteStream) -> None:
        async with client:
            reader = BufferedByteReceiveStream(client)
            try:
                first = await read_request(reader)
            except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError):
                return
            if not self._allowed(first):
                await client.send(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
                )
                return
            upstream = await anyio.connect_tcp(*self.upstream)
            async with upstream, anyio.create_task_group() as group:
                group.start_soon(_pipe, upstream, client)
                if first.line.startswith("CONNECT "):
                    await client.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    if reader.buffer:
                        await upstream.send(bytes(reader.buffer))
                    await _pipe(client, upstream)
                else:
                    await self._forward(first, reader, upstream)
                group.cancel_scope.cancel()

    def _allowed(self, request: Seen) -> bool:
        self.asked.append(request.line)
        self.heads.append(request)
        self.auth.append(request.headers.get("proxy-authorization"))
        return self.required_auth is None or self.auth[-1] == self.required_auth

    async def _forward(
        self, request: Seen, reader: BufferedByteReceiveStream, upstream: ByteStream
    ) -> None:
        """Absolute-form requests, one after another, each rewritten to origin form."""
        while True:
            method, target, version = request.line.split(" ", 2)
            parts = urlsplit(target)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            headers = "".join(
                f"{name}: {value}\r\n"
                for name, value in request.headers.items()
                if not name.startswith("proxy-")
            )
            head = f"{method} {path or '/'} {version}\r\n{headers}\r\n"
            await upstream.send(head.encode("latin-1") + request.body)
            try:
                request = await read_request(reader)
            except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError):
                return
            self.asked.append(request.line)


async def _pipe(source: ByteStream, sink: ByteStream) -> None:
    try:
        async for chunk in source:
            await sink.send(chunk)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
        pass


@asynccontextmanager
async def forward_proxy(
    upstream: tuple[str, int], required_auth: str | None = None
) -> AsyncIterator[ForwardProxy]:
    proxy = ForwardProxy(upstream, required_auth)
    async with listening(proxy.handle) as port:
        proxy.port = port
        yield proxy


@dataclass(frozen=True)
class Certificates:
    """A test CA, a server context with a certificate it issued, and the CA as a PEM file."""

    server: ssl.SSLContext
    ca_file: Path


def certificates(directory: Path) -> Certificates:
    """A fresh CA whose certificate covers localhost, 127.0.0.1, ::1 and REMOTE_HOST."""
    authority = trustme.CA()
    issued = authority.issue_cert("localhost", "127.0.0.1", "::1", REMOTE_HOST)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    issued.configure_cert(server)
    ca_file = directory / "test-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return Certificates(server, ca_file)
