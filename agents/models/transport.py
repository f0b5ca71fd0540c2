"""HTTP to one OpenAI-compatible endpoint, on aiohttp: a keep-alive pool, proxy, TLS trust.

What users of OpenAI, vLLM, Ollama and corporate networks expect comes from aiohttp:
redirects are followed (a 307/308 sends the body again; a redirect to another origin drops
the Authorization header), interim 1xx responses are skipped, gzip and deflate bodies are
decoded, IPv6 addresses and happy-eyeballs connects work. Two things are decided once per
endpoint instead of on every request (aiohttp's `trust_env` looks the environment up on
each, which triples its CPU per request): the proxy (`agents.models.proxies`) and the TLS context,
which trusts what `ssl.create_default_context` trusts, `SSL_CERT_FILE`/`SSL_CERT_DIR`
included. Callers see this module's errors, never aiohttp's.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from yarl import URL

from agents.models.proxies import Proxy, proxy_for

KEEPALIVE_S = 15.0
"""Seconds an idle connection stays parked (aiohttp's default)."""


class HttpError(Exception):
    """A request got no usable HTTP response."""


class HttpConnectError(HttpError):
    """The server (or the proxy) could not be reached, or dropped the connection."""


class HttpCertificateError(HttpConnectError):
    """The server's TLS certificate is not trusted here: no retry changes that."""

    def __init__(self, where: str, reason: str) -> None:
        self.reason = reason
        super().__init__(f"{where}: TLS certificate not trusted: {reason}")


class HttpProtocolError(HttpError):
    """The server's answer is not well-formed HTTP, or not what was asked for."""


class HttpStatusError(HttpError):
    """The server answered with an error status; `headers` are its response headers."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.message = message
        self.headers: Mapping[str, str] = headers or {}
        super().__init__(f"HTTP {status}: {message}")


class HttpProxyError(HttpStatusError):
    """The proxy refused to open a tunnel to the server (HTTP 407, 403, 502, ...)."""


@dataclass(frozen=True)
class HttpResponse:
    """A complete response: status, headers (case-insensitive) and the whole body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class _EncodedOnSend(aiohttp.Payload):
    """A body encoded when the request is made and let go once written: a request waiting
    for its answer (most of a model call's life) holds no copy of what it sent. A redirect
    that sends it again encodes it again."""

    _autoclose = True

    def __init__(self, encode: Callable[[], bytes]) -> None:
        super().__init__(encode, content_type="application/json")
        self._encode = encode
        self._encoded: bytes | None = None

    @property
    def size(self) -> int:
        """Encodes the body: aiohttp asks for its size as it makes the request."""
        if self._encoded is None:
            self._encoded = self._encode()
        return len(self._encoded)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self._encode().decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        data, self._encoded = self._encoded or self._encode(), None
        await writer.write(data if content_length is None else data[:content_length])


class HttpClient:
    """Requests to one base URL over a pool of at most `max_connections` connections.

    The aiohttp session is opened on first use, in the event loop that uses it; the caller
    bounds how many requests are in flight (the model gateway's limiter does).
    Raises ValueError for a URL it cannot speak to or a proxy setting it cannot honour.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        max_connections: int,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"base_url {base_url!r}: scheme must be http or https")
        if not parts.hostname:
            raise ValueError(f"base_url {base_url!r} has no host")
        headers = dict(headers)
        if parts.username is not None or parts.password is not None:
            # credentials in the URL are the endpoint's Basic auth (they win over a key's
            # Bearer header, as in httpx); the URL itself is kept, and shown, without them
            username, password = (unquote(part or "") for part in (parts.username, parts.password))
            headers["Authorization"] = _basic(username, password)
            base_url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        self.base_url = base_url.rstrip("/")
        self.proxy: Proxy | None = proxy_for(base_url, environ)
        self._proxy_url = URL(self.proxy.url) if self.proxy else None
        # Made now, so SSL_CERT_FILE is read as the client is built (about 1 MB: only for
        # https; a plain endpoint redirected to https gets aiohttp's default context).
        self._ssl: ssl.SSLContext | bool = (
            ssl.create_default_context() if parts.scheme == "https" else True
        )
        self._headers = headers
        # The proxy's credentials: on the CONNECT request of a tunnel (https), else on
        # every request, which then goes to the proxy (aiohttp takes only one of each).
        # Through a proxy all headers go with each request, none as the session's: aiohttp
        # also sends a session's headers to the proxy, an Authorization header as
        # Proxy-Authorization. Without one they are the session's (merged per request in C).
        self._proxy_headers = _proxy_authorization(self.proxy)
        if self._proxy_headers and parts.scheme == "http":
            self._headers.update(self._proxy_headers)
            self._proxy_headers = None
        self._request_headers = self._headers if self.proxy else None
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}
        self._closed = False

    def post(self, path: str, body: Callable[[], bytes]) -> Coroutine[Any, Any, HttpResponse]:
        """POST `body()` to base URL + `path` (see `_send` for a dropped parked connection);
        the sending coroutine itself, which the caller awaits."""
        return self._send("POST", path, body)

    async def get(self, path: str) -> HttpResponse:
        """GET base URL + `path`."""
        return await self._send("GET", path, None)

    async def aclose(self) -> None:
        """Close the pool; later requests fail with HttpConnectError."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _send(self, method: str, path: str, body: Callable[[], bytes] | None) -> HttpResponse:
        """One request; sent once more if the server closed the connection before answering.

        A server may close a parked keep-alive connection just as it is reused, and aiohttp
        retries only idempotent methods: a chat completion repeated is at worst a wasted call.
        """
        session = self._session or self._open()
        url = self._url(path)
        for attempt in (1, 2):
            try:
                async with session.request(
                    method,
                    url,
                    headers=self._request_headers,
                    data=_EncodedOnSend(body) if body is not None else None,
                    proxy=self._proxy_url,
                    proxy_headers=self._proxy_headers,
                ) as response:
                    return HttpResponse(response.status, response.headers, await response.read())
            except aiohttp.ServerDisconnectedError as exc:
                if attempt == 1:
                    continue
                raise HttpConnectError(f"{self._where()}: server closed the connection") from exc
            except aiohttp.ClientError as exc:
                raise self._failure(exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise HttpConnectError(f"{self._where()}: the HTTP client is closed")
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=0,
            ssl=self._ssl,
            keepalive_timeout=KEEPALIVE_S,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=None if self.proxy else self._headers,
            timeout=aiohttp.ClientTimeout(total=None),  # the gateway bounds every attempt
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,  # the proxy is already decided: see `agents.models.proxies`
        )
        return self._session

    def _url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(self.base_url + path)
        return url

    def _where(self) -> str:
        via = f" via proxy {self.proxy}" if self.proxy else ""
        return f"{self.base_url}{via}"

    def _failure(self, exc: aiohttp.ClientError) -> HttpError:
        """Our error for an aiohttp one, naming the endpoint (and proxy) at fault."""
        where = self._where()
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            return HttpCertificateError(where, _reason(exc.certificate_error))
        if isinstance(exc, aiohttp.ClientHttpProxyError):
            return HttpProxyError(exc.status, f"proxy {self.proxy}: {exc.message}", exc.headers)
        if isinstance(exc, aiohttp.ClientProxyConnectionError):
            reason = _reason(exc.os_error)
            return HttpConnectError(f"cannot connect to proxy {self.proxy}: {reason}")
        if isinstance(exc, aiohttp.ClientConnectorSSLError):
            return HttpConnectError(f"{where}: TLS handshake failed: {_reason(exc.os_error)}")
        if isinstance(exc, aiohttp.ClientConnectorError):
            return HttpConnectError(
                f"cannot connect to {exc.host}:{exc.port}: {_reason(exc.os_error)}"
            )
        if isinstance(exc, aiohttp.TooManyRedirects):
            return HttpProtocolError(f"{where}: too many redirects")
        if isinstance(exc, aiohttp.ClientResponseError):  # never raised for a status here
            return HttpProtocolError(f"{where}: malformed HTTP response: {exc.message}")
        if isinstance(exc, aiohttp.ClientPayloadError):
            return HttpProtocolError(f"{where}: response body cut short or undecodable: {exc}")
        if isinstance(exc, aiohttp.InvalidURL):
            return HttpProtocolError(f"{where}: bad redirect target: {exc}")
        return HttpConnectError(f"{where}: {type(exc).__name__}: {exc}")


def _proxy_authorization(proxy: Proxy | None) -> dict[str, str] | None:
    """The Proxy-Authorization header for a proxy URL's credentials (Basic, UTF-8)."""
    if proxy is None or (proxy.username is None and proxy.password is None):
        return None
    return {"Proxy-Authorization": _basic(proxy.username, proxy.password)}


def _basic(username: str | None, password: str | None) -> str:
    """A Basic authorization value for credentials (UTF-8)."""
    credentials = f"{username or ''}:{password or ''}".encode()
    return "Basic " + base64.b64encode(credentials).decode("ascii")


def _reason(error: Any) -> str:
    """An OS or TLS error's own words, without the class name noise."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return getattr(error, "verify_message", None) or str(error)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
