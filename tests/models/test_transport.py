"""The HTTP transport against local servers: what OpenAI, vLLM, Ollama and corporate
networks expect of a client (proxies, redirects, interim answers, compression, IPv6, TLS)."""

from __future__ import annotations

import base64
import gzip
import socket
import zlib
from pathlib import Path

import anyio
import pytest
from anyio.abc import SocketAttribute
from local_http import REMOTE_HOST, Seen, certificates, forward_proxy, raw_server, response

from agents.models.gateway import classify
from agents.models.transport import (
    HttpCertificateError,
    HttpClient,
    HttpConnectError,
    HttpProxyError,
)

pytestmark = pytest.mark.anyio

KEY = "sk-test-transport-key"
OK = b'{"ok": true}'
BODY = b'{"model": "m", "messages": []}'


def client(base_url: str, environ: dict[str, str] | None = None) -> HttpClient:
    """A client that sees only `environ` (by default no proxy settings at all)."""
    return HttpClient(
        base_url,
        headers={"Authorization": f"Bearer {KEY}"},
        max_connections=4,
        environ=environ or {},
    )


def always(payload: bytes) -> object:
    return lambda index, seen: payload


async def closed_port() -> int:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(SocketAttribute.local_port)
    await listener.aclose()
    return int(port)


# -- proxies -------------------------------------------------------------------------------


async def test_a_post_goes_through_the_http_proxy_to_a_host_only_the_proxy_can_reach() -> None:
    async with (
        raw_server(lambda i, seen: response(OK)) as upstream,
        forward_proxy(("127.0.0.1", upstream.port)) as proxy,
    ):
        http = client(f"http://{REMOTE_HOST}:8000/v1", {"HTTP_PROXY": proxy.url})
        answer = await http.post("/chat/completions", lambda: BODY)
        await http.aclose()
    assert (answer.status, answer.body) == (200, OK)
    assert proxy.asked == [f"POST http://{REMOTE_HOST}:8000/v1/chat/completions HTTP/1.1"]
    (seen,) = upstream.requests
    assert (seen.body, seen.headers["host"]) == (BODY, f"{REMOTE_HOST}:8000")
    assert seen.headers["authorization"] == f"Bearer {KEY}"


async def test_https_goes_through_a_connect_tunnel_to_a_server_trusted_by_ssl_cert_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certs = certificates(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca_file))
    async with (
        raw_server(lambda i, seen: response(OK), tls=certs.server) as upstream,
        forward_proxy(("127.0.0.1", upstream.port)) as proxy,
    ):
        http = client(f"https://{REMOTE_HOST}/v1", {"https_proxy": proxy.url})
        answer = await http.post("/chat/completions", lambda: BODY)
        await http.aclose()
    assert answer.body == OK
    assert proxy.asked == [f"CONNECT {REMOTE_HOST}:443 HTTP/1.1"]
    assert upstream.requests[0].line == "POST /v1/chat/completions HTTP/1.1"


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_the_api_key_is_never_sent_as_proxy_credentials(
    scheme: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over a CONNECT tunnel the proxy must not see the key at all; over plain HTTP it sees
    the request, but the key is no Proxy-Authorization."""
    certs = certificates(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca_file))
    tls = certs.server if scheme == "https" else None
    async with (
        raw_server(lambda i, seen: response(OK), tls=tls) as upstream,
        forward_proxy(("127.0.0.1", upstream.port)) as proxy,
    ):
        http = client(f"{scheme}://{REMOTE_HOST}/v1", {f"{scheme}_proxy": proxy.url})
        await http.post("/chat/completions", lambda: BODY)
        await http.aclose()
    assert proxy.auth == [None]
    assert upstream.requests[0].headers["authorization"] == f"Bearer {KEY}"
    if scheme == "https":
        assert KEY not in repr(proxy.heads)


async def test_the_proxys_credentials_go_to_the_proxy_and_never_upstream() -> None:
    expected = "Basic " + base64.b64encode(b"alice:p@ss word").decode()
    async with (
        raw_server(lambda i, seen: response(OK)) as upstream,
        forward_proxy(("127.0.0.1", upstream.port), required_auth=expected) as proxy,
    ):
        proxy_url = f"http://alice:p%40ss%20word@127.0.0.1:{proxy.port}"
        http = client(f"http://{REMOTE_HOST}/v1", {"HTTP_PROXY": proxy_url})
        answer = await http.post("/chat/completions", lambda: BODY)
        await http.aclose()
    assert (answer.status, answer.body, proxy.auth) == (200, OK, [expected])
    assert "proxy-authorization" not in upstream.requests[0].headers
    assert str(http.proxy) == f"http://127.0.0.1:{proxy.port}"  # no credentials in messages


async def test_credentials_in_the_base_url_are_the_endpoints_basic_auth() -> None:
    async with raw_server(lambda i, seen: response(OK)) as upstream:
        http = client(f"http://bob:s%3Acret@127.0.0.1:{upstream.port}/v1")
        answer = await http.get("/models")
        await http.aclose()
    expected = "Basic " + base64.b64encode(b"bob:s:cret").decode()
    assert (answer.status, upstream.requests[0].headers["authorization"]) == (200, expected)
    assert http.base_url == f"http://127.0.0.1:{upstream.port}/v1"  # shown without them


async def test_a_proxy_refusing_the_tunnel_is_an_error_that_stops_the_run() -> None:
    async with (
        raw_server(lambda i, seen: response(OK)) as upstream,
        forward_proxy(("127.0.0.1", upstream.port), required_auth="Basic none") as proxy,
    ):
        http = client(f"https://{REMOTE_HOST}/v1", {"HTTPS_PROXY": proxy.url})
        with pytest.raises(HttpProxyError) as raised:
            await http.post("/chat/completions", lambda: BODY)
        await http.aclose()
    assert raised.value.status == 407 and upstream.requests == []
    failure = classify(raised.value)
    assert failure.stops_run and failure.reason.startswith("proxy authentication required")


async def test_a_loopback_endpoint_goes_direct_even_with_a_proxy_set() -> None:
    async with (
        raw_server(lambda i, seen: response(OK)) as upstream,
        forward_proxy(("127.0.0.1", upstream.port)) as proxy,
    ):
        http = client(upstream.base_url, {"HTTP_PROXY": proxy.url, "ALL_PROXY": proxy.url})
        await http.post("/chat/completions", lambda: BODY)
        await http.aclose()
    assert proxy.asked == [] and len(upstream.requests) == 1


async def test_an_unreachable_proxy_is_a_retryable_connection_error_naming_it() -> None:
    port = await closed_port()
    http = client(f"http://{REMOTE_HOST}/v1", {"HTTP_PROXY": f"http://127.0.0.1:{port}"})
    with pytest.raises(HttpConnectError, match=rf"proxy http://127\.0\.0\.1:{port}"):
        await http.post("/chat/completions", lambda: BODY)
    await http.aclose()


def test_a_proxy_the_client_cannot_speak_to_is_refused_when_the_client_is_built() -> None:
    with pytest.raises(ValueError, match=r"ALL_PROXY=socks5://127\.0\.0\.1:1080: not a proxy"):
        client(f"http://{REMOTE_HOST}/v1", {"ALL_PROXY": "socks5://u:secret@127.0.0.1:1080"})


# -- redirects, interim answers, compression ------------------------------------------------


@pytest.mark.parametrize("status", ["307 Temporary Redirect", "308 Permanent Redirect"])
async def test_a_307_or_308_redirect_is_followed_with_the_body_sent_again(status: str) -> None:
    def answer(index: int, seen: Seen) -> bytes:
        if index == 0:
            return response(b"", status, "Location: /v2/chat/completions\r\n")
        return response(OK)

    async with raw_server(answer) as server:
        http = client(server.base_url)
        got = await http.post("/chat/completions", lambda: BODY)
        await http.aclose()
    assert got.body == OK
    first, second = server.requests
    assert second.line == "POST /v2/chat/completions HTTP/1.1"
    assert first.body == second.body == BODY
    assert second.headers["authorization"] == f"Bearer {KEY}"  # the same origin


async def test_a_redirect_to_another_origin_does_not_take_the_authorization_header() -> None:
    async with raw_server(lambda i, seen: response(OK)) as elsewhere:
        location = f"http://127.0.0.1:{elsewhere.port}/v1/chat/completions"
        redirect = response(b"", "307 Temporary Redirect", f"Location: {location}\r\n")
        async with raw_server(lambda i, seen: redirect) as server:
            http = client(server.base_url)
            got = await http.post("/chat/completions", lambda: BODY)
            await http.aclose()
    assert got.body == OK
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    (moved,) = elsewhere.requests
    assert moved.body == BODY and "authorization" not in moved.headers


async def test_interim_100_and_103_answers_are_skipped() -> None:
    interim = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </hint>; rel=preload\r\n\r\n"
    )
    async with raw_server(lambda i, seen: interim + response(OK)) as server:
        http = client(server.base_url)
        with anyio.fail_after(10):  # a hang guard, not a timing claim
            got = await http.post("/chat/completions", lambda: BODY)
            again = await http.post("/chat/completions", lambda: BODY)
        await http.aclose()
    assert (got.status, got.body) == (200, OK) and again.body == OK


@pytest.mark.parametrize(
    ("encoding", "compress"), [("gzip", gzip.compress), ("deflate", zlib.compress)]
)
async def test_a_compressed_body_is_decoded(encoding: str, compress: object) -> None:
    squeezed = compress(OK * 50)  # type: ignore[operator]
    answer = response(squeezed, headers=f"Content-Encoding: {encoding}\r\n")
    async with raw_server(lambda i, seen: answer) as server:
        http = client(server.base_url)
        got = await http.post("/chat/completions", lambda: BODY)
        await http.aclose()
    assert got.body == OK * 50


# -- IPv6 and TLS --------------------------------------------------------------------------


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


async def test_an_ipv6_base_url_works_with_a_bracketed_host_header() -> None:
    """Without an IPv6 loopback here, the same call must fail as a clean connection error."""
    if not _has_ipv6_loopback():
        http = client("http://[::1]:9/v1")
        with pytest.raises(HttpConnectError, match=r"cannot connect to ::1:9"):
            await http.post("/chat/completions", lambda: BODY)
        await http.aclose()
        return
    async with raw_server(lambda i, seen: response(OK), host="::1") as server:
        http = client(server.base_url)
        got = await http.post("/chat/completions", lambda: BODY)
        await http.aclose()
    assert server.base_url == f"http://[::1]:{server.port}/v1"
    assert got.body == OK and server.requests[0].headers["host"] == f"[::1]:{server.port}"


async def test_a_server_whose_ca_is_in_ssl_cert_file_is_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certs = certificates(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca_file))
    async with raw_server(lambda i, seen: response(OK), tls=certs.server) as server:
        http = client(server.base_url)
        got = await http.post("/chat/completions", lambda: BODY)
        await http.aclose()
    assert server.base_url.startswith("https://") and got.body == OK


async def test_an_untrusted_certificate_is_an_error_that_stops_the_run(tmp_path: Path) -> None:
    certs = certificates(tmp_path)  # its CA is in no trust store
    async with raw_server(lambda i, seen: response(OK), tls=certs.server) as server:
        http = client(server.base_url)
        with pytest.raises(HttpCertificateError, match="certificate not trusted") as raised:
            await http.post("/chat/completions", lambda: BODY)
        await http.aclose()
    assert server.requests == []
    failure = classify(raised.value)
    assert (failure.retryable, failure.stops_run) == (False, True)
    assert failure.reason == f"TLS certificate not trusted: {raised.value.reason}"
    assert "self-signed certificate" in failure.reason or "unable to get" in failure.reason
