"""Checks before a run writes anything: its domains load, its models build, endpoints answer.

A missing data directory, a bad data record, a missing API key or an endpoint nobody listens
on then ends the command with a one-line error, and no store or run record is created.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import anyio

from agents.models import build_client, endpoint
from agents.resources import load_domains
from runtime.errors import ModelError
from runtime.model_config import ModelConfig
from runtime.playbook import Playbook

CONNECT_TIMEOUT_S = 5.0


async def preflight(playbook: Playbook) -> None:
    """Load the domains (kept for the run) and build every model client once."""
    await load_domains(playbook)
    for name, config in playbook.models.items():
        client = build_client(name, config)
        await client.close()
        if config.provider == "openai" and config.base_url:
            await check_reachable(config)


async def check_reachable(config: ModelConfig) -> None:
    """A TCP connection to the endpoint's host and port: fails fast when nothing listens."""
    assert config.base_url is not None
    parts = urlsplit(config.base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with anyio.fail_after(min(CONNECT_TIMEOUT_S, config.timeout_s)):
            stream = await anyio.connect_tcp(host, port)
    except (OSError, TimeoutError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        raise ModelError(endpoint(config), f"endpoint unreachable: {reason}") from None
    await stream.aclose()
