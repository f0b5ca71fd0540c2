"""Checks before a run writes anything: its domains load, its models build, endpoints answer.

A missing data directory, a bad data record, a missing API key or an endpoint that cannot
be reached from here (nobody listens, the proxy refuses, the certificate is not trusted)
then ends the command with a one-line error, and no store or run record is created.
"""

from __future__ import annotations

import anyio
import httpx2
from autogen_core.models import ChatCompletionClient

from agents.models.clients import api_key, build_client, endpoint, http_client
from agents.models.gateway import classify
from agents.models.openai_native import NativeOpenAIClient
from agents.models.transport import HttpError, HttpProxyError
from agents.resources import load_domains
from runtime.errors import ModelError
from runtime.model_config import ModelConfig
from runtime.playbook import Playbook

PROBE_TIMEOUT_S = 10.0
PROXY_AUTHENTICATION_REQUIRED = 407


async def preflight(playbook: Playbook) -> None:
    """Load the domains (kept for the run), build every model client once, probe endpoints."""
    await load_domains(playbook)
    for name, config in playbook.models.items():
        client = build_client(name, config)
        try:
            if config.provider == "openai" and config.base_url:
                await check_reachable(name, config, client)
        finally:
            await client.close()


async def check_reachable(name: str, config: ModelConfig, client: ChatCompletionClient) -> None:
    """One `GET {base_url}/models` through the stack the calls use (the native client's, or
    httpx for `client: autogen`), with its proxy and TLS trust.

    Any HTTP answer shows the endpoint reachable, 401, 403 and 404 included (a key may be
    allowed to chat but not to list models, and some servers serve no list): the key is
    judged by the first real call, which stops the run if it is rejected. A proxy that
    refuses (407), a certificate not trusted, no connection or no answer in time fail.
    """
    try:
        with anyio.fail_after(min(PROBE_TIMEOUT_S, config.timeout_s)):
            if isinstance(client, NativeOpenAIClient):
                status = (await client.probe()).status
            else:
                status = await _probe_with_httpx(name, config)
    except TimeoutError:
        reason = f"no answer within {min(PROBE_TIMEOUT_S, config.timeout_s):g}s"
    except HttpProxyError as exc:
        reason = f"the proxy refused: {exc}"
    except (HttpError, httpx2.HTTPError) as exc:
        failure = classify(exc)
        if failure.stops_run:  # an untrusted certificate
            reason = f"{failure.reason} (trust its CA with SSL_CERT_FILE)"
        else:
            reason = str(exc) or type(exc).__name__
    else:
        if status != PROXY_AUTHENTICATION_REQUIRED:
            return
        reason = "the proxy refused: HTTP 407 proxy authentication required"
    raise ModelError(endpoint(config), f"endpoint unreachable: {reason}")


async def _probe_with_httpx(name: str, config: ModelConfig) -> int:
    assert config.base_url is not None
    async with http_client(config) as client:
        response = await client.get(
            config.base_url.rstrip("/") + "/models",
            headers={"Authorization": f"Bearer {api_key(name, config)}"},
        )
    status: int = response.status_code
    return status
