"""The pre-run reachability probe: `GET {base_url}/models` through the stack calls use."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from anyio.abc import SocketAttribute
from local_http import REMOTE_HOST, certificates, forward_proxy, raw_server, response

from agents.models.clients import build_client
from agents.models.preflight import check_reachable
from runtime.errors import ModelError
from runtime.model_config import ModelConfig

pytestmark = pytest.mark.anyio

KEY_ENV = "APIGEN_PREFLIGHT_TEST_KEY"
MODELS = response(b'{"object": "list", "data": [{"id": "m", "object": "model"}]}')


@pytest.fixture(params=["native", "autogen"])
def client_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, "sk-test-preflight")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return str(request.param)


async def _probe(base_url: str, client_kind: str) -> None:
    config = ModelConfig(
        provider="openai", model="m", base_url=base_url, client=client_kind, api_key_env=KEY_ENV
    )
    client = build_client("remote", config)
    try:
        await check_reachable("remote", config, client)
    finally:
        await client.close()


async def test_the_probe_goes_through_the_proxy_to_a_host_only_it_can_reach(
    client_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        raw_server(lambda i, seen: MODELS) as upstream,
        forward_proxy(("127.0.0.1", upstream.port)) as proxy,
    ):
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        await _probe(f"http://{REMOTE_HOST}/v1", client_kind)
    assert proxy.asked == [f"GET http://{REMOTE_HOST}/v1/models HTTP/1.1"]
    assert upstream.requests[0].headers["authorization"] == "Bearer sk-test-preflight"


@pytest.mark.parametrize("status", ["401 Unauthorized", "403 Forbidden", "404 Not Found"])
async def test_any_http_answer_shows_the_endpoint_reachable(client_kind: str, status: str) -> None:
    async with raw_server(lambda i, seen: response(b'{"error": {}}', status)) as server:
        await _probe(server.base_url, client_kind)
    assert server.requests[0].line == "GET /v1/models HTTP/1.1"


async def test_a_proxy_asking_for_credentials_is_unreachable(
    client_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        raw_server(lambda i, seen: MODELS) as upstream,
        forward_proxy(("127.0.0.1", upstream.port), required_auth="Basic x") as proxy,
    ):
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with pytest.raises(ModelError) as raised:
            await _probe(f"http://{REMOTE_HOST}/v1", client_kind)
    assert str(raised.value) == (
        f"http://{REMOTE_HOST}/v1: endpoint unreachable: the proxy refused: "
        "HTTP 407 proxy authentication required"
    )


async def test_an_untrusted_certificate_is_unreachable_naming_the_fix(
    client_kind: str, tmp_path: Path
) -> None:
    certs = certificates(tmp_path)
    async with raw_server(lambda i, seen: MODELS, tls=certs.server) as server:
        with pytest.raises(ModelError) as raised:
            await _probe(server.base_url, client_kind)
    message = str(raised.value)
    assert message.startswith(f"{server.base_url}: endpoint unreachable: TLS certificate not")
    assert message.endswith("(trust its CA with SSL_CERT_FILE)")


async def test_a_trusted_certificate_is_reachable(
    client_kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certs = certificates(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca_file))
    async with raw_server(lambda i, seen: MODELS, tls=certs.server) as server:
        await _probe(server.base_url, client_kind)
    assert len(server.requests) == 1


async def test_nothing_listening_is_unreachable(client_kind: str) -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(SocketAttribute.local_port)
    await listener.aclose()
    base_url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(ModelError, match=rf"^{base_url}: endpoint unreachable: "):
        await _probe(base_url, client_kind)
