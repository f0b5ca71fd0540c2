"""Model clients from playbook config: simulated, OpenAI-compatible, or any autogen component.

API keys are read from the environment variable the config names, at build time, and go
straight into the client: they never reach a config dump, a log event or the store.
"""

from __future__ import annotations

import ipaddress
import math
import os
from typing import Any
from urllib.parse import urlsplit

import httpx2
from autogen_core.models import ChatCompletionClient, ModelInfo
from autogen_ext.models.openai import OpenAIChatCompletionClient
from autogen_ext.models.openai._model_info import get_info as known_model_info

from agents.models.openai_native import NativeOpenAIClient
from agents.simulated import SIMULATED_MODEL_INFO, SimulatedChatCompletionClient
from runtime.errors import ModelError
from runtime.log import redact_secrets
from runtime.model_config import ModelConfig

DEFAULT_MODEL_INFO = ModelInfo(
    vision=False,
    function_calling=True,
    json_output=True,
    family="unknown",
    structured_output=False,
    multiple_system_messages=True,
)
DEFAULT_OPENAI_KEY_ENV = "OPENAI_API_KEY"
_LOOPBACK_KEY = "sk-loopback-no-key"
_RUNTIME_FIELDS = {
    "client",
    "api_key_env",
    "timeout_s",
    "max_concurrency",
    "max_retries",
    "retry_base_s",
    "retry_max_s",
    "rpm",
    "price",
    "json_mode",
    "send_scenario",
    "send_seed",
}


def build_client(name: str, config: ModelConfig) -> ChatCompletionClient:
    """The autogen client for model `name`; raises ModelError when it cannot be built."""
    if config.provider == "simulated":
        return SimulatedChatCompletionClient(
            config.model, faults=config.faults, model_info=_model_info(config, simulated=True)
        )
    if config.provider == "openai" and config.client == "native":
        return _native_client(name, config)
    if config.provider == "openai":
        return _openai_client(name, config)
    if "." in config.provider:
        return _component_client(name, config)
    raise ModelError(endpoint(config), f"model {name!r}: unknown provider {config.provider!r}")


def endpoint(config: ModelConfig) -> str:
    """Where a model's requests go, fit for logs: no credentials in it."""
    if config.provider == "simulated":
        return f"simulated:{config.model}"
    if config.provider == "openai":
        return _strip_userinfo(config.base_url or "https://api.openai.com/v1")
    return config.provider


def request_identity(name: str, config: ModelConfig) -> dict[str, Any]:
    """The parts of a model config that shape its answers (part of the cache key).

    Limits, retries and prices leave an answer unchanged; secrets are masked.
    """
    identity = config.model_dump(mode="json", exclude=_RUNTIME_FIELDS)
    identity["name"] = name
    identity["base_url"] = _strip_userinfo(config.base_url) if config.base_url else None
    identity["config"] = _masked(config.config)
    return identity


def is_loopback(url: str | None) -> bool:
    """Whether `url` points at this machine (a local simulator or server)."""
    if not url:
        return False
    return is_loopback_host(urlsplit(url).hostname or "")


def is_loopback_host(host: str) -> bool:
    """Whether a host name or address is this machine's loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


CONNECTIONS_PER_CLIENT = 32
"""The HTTP client scans its whole pool on every request, so an endpoint allowed many calls
at once gets several clients (shards) of this many connections instead of one huge pool."""


def build_clients(name: str, config: ModelConfig) -> list[ChatCompletionClient]:
    """One client, or for autogen-ext's OpenAI client one per `CONNECTIONS_PER_CLIENT`
    calls in flight; the gateway spreads calls over them."""
    if config.provider != "openai" or config.client == "native":
        return [build_client(name, config)]
    shards = math.ceil(config.max_concurrency / CONNECTIONS_PER_CLIENT)
    return [_openai_client(name, config, shards) for _ in range(shards)]


def http_client(config: ModelConfig, shards: int = 1) -> httpx2.AsyncClient:
    """A pool sized to this shard's share of the calls the gateway lets through at once.

    The SDK's default pool keeps 100 connections alive: beyond that it churns connections,
    and every request scans the whole pool. Proxies (`HTTP(S)_PROXY`, `NO_PROXY`) and
    `SSL_CERT_FILE` are httpx's to honour (`trust_env`).
    """
    size = math.ceil(config.max_concurrency / shards)
    return httpx2.AsyncClient(
        limits=httpx2.Limits(max_connections=size, max_keepalive_connections=size),
        timeout=httpx2.Timeout(config.timeout_s),
        follow_redirects=True,  # as the SDK's own client does, and the native one
    )


def _native_client(name: str, config: ModelConfig) -> ChatCompletionClient:
    defaults = {
        field: getattr(config, field)
        for field in ("temperature", "max_tokens")
        if getattr(config, field) is not None
    }
    key = api_key(name, config)
    try:
        return NativeOpenAIClient(
            model=config.model,
            base_url=config.base_url or "https://api.openai.com/v1",
            api_key=key,
            model_info=_native_model_info(config),
            defaults=defaults,
            max_connections=config.max_concurrency,
        )
    except ValueError as exc:
        raise ModelError(endpoint(config), f"model {name!r}: {exc}") from exc


def _openai_client(name: str, config: ModelConfig, shards: int = 1) -> ChatCompletionClient:
    kwargs: dict[str, Any] = {
        "model": config.model,
        "api_key": api_key(name, config),
        "timeout": config.timeout_s,
        "max_retries": 0,
    }
    if config.base_url:
        kwargs["base_url"] = config.base_url
    kwargs["http_client"] = http_client(config, shards)
    for field in ("temperature", "max_tokens"):
        value = getattr(config, field)
        if value is not None:
            kwargs[field] = value
    if config.model_info is not None:
        kwargs["model_info"] = _model_info(config, simulated=False)
    try:
        try:
            return OpenAIChatCompletionClient(**kwargs)
        except ValueError:
            if "model_info" in kwargs:
                raise
        # A name autogen does not know (a local or hosted open model): assume the defaults.
        return OpenAIChatCompletionClient(**kwargs, model_info=DEFAULT_MODEL_INFO)
    except (ValueError, TypeError) as exc:
        raise ModelError(endpoint(config), f"model {name!r}: {exc}") from exc


def _component_client(name: str, config: ModelConfig) -> ChatCompletionClient:
    component_config = dict(config.config)
    if config.api_key_env:
        component_config["api_key"] = api_key(name, config)
    try:
        return ChatCompletionClient.load_component(
            {"provider": config.provider, "config": component_config}
        )
    except Exception as exc:
        message = str(redact_secrets(None, "", {"error": str(exc)})["error"])
        raise ModelError(
            endpoint(config), f"model {name!r}: cannot load the autogen component: {message}"
        ) from None


def api_key(name: str, config: ModelConfig) -> str:
    """The model's API key from the variable its config names; ModelError when unset."""
    variable = config.api_key_env
    if variable is None:
        if is_loopback(config.base_url):
            return _LOOPBACK_KEY
        variable = DEFAULT_OPENAI_KEY_ENV
    value = os.environ.get(variable)
    if not value:
        raise ModelError(
            endpoint(config),
            f"model {name!r}: environment variable {variable} (api_key_env) is not set",
        )
    return value


def _native_model_info(config: ModelConfig) -> ModelInfo:
    """What autogen-ext knows of an OpenAI model name, else the defaults; config wins."""
    if config.model_info is None:
        try:
            return known_model_info(config.model)
        except ValueError:
            pass
    return _model_info(config, simulated=False)


def _model_info(config: ModelConfig, *, simulated: bool) -> ModelInfo:
    base = SIMULATED_MODEL_INFO if simulated else DEFAULT_MODEL_INFO
    info: ModelInfo = {**base, **(config.model_info or {})}  # type: ignore[typeddict-item]
    return info


def _strip_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()


def _masked(value: Any) -> Any:
    """A copy of a config value with secret-looking keys masked."""
    if isinstance(value, dict):
        masked = redact_secrets(None, "", {key: _masked(item) for key, item in value.items()})
        return dict(masked)
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value
