"""Building clients from playbook config: providers, keys, model info."""

from __future__ import annotations

import pytest
from autogen_ext.models.openai import OpenAIChatCompletionClient
from pydantic import ValidationError

from agents.models.clients import build_client, endpoint, is_loopback, request_identity
from agents.models.openai_native import NativeOpenAIClient
from agents.simulated import SimulatedChatCompletionClient
from runtime.errors import ModelError
from runtime.model_config import ModelConfig


def test_simulated_is_the_default_provider() -> None:
    client = build_client("default", ModelConfig())
    assert isinstance(client, SimulatedChatCompletionClient)
    assert client.model_info["family"] == "simulated"


@pytest.mark.parametrize(
    ("client_kind", "expected_type"),
    [("native", NativeOpenAIClient), ("autogen", OpenAIChatCompletionClient)],
)
def test_an_unknown_openai_model_name_gets_default_model_info(
    client_kind: str, expected_type: type
) -> None:
    config = ModelConfig(
        provider="openai",
        model="qwen-local",
        base_url="http://127.0.0.1:8000/v1",
        client=client_kind,
    )
    client = build_client("local", config)
    assert isinstance(client, expected_type)
    assert client.model_info["family"] == "unknown"
    assert client.model_info["function_calling"] and client.model_info["json_output"]


@pytest.mark.parametrize("client_kind", ["native", "autogen"])
def test_a_known_openai_model_keeps_autogen_model_info(
    monkeypatch: pytest.MonkeyPatch, client_kind: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-known")
    config = ModelConfig(provider="openai", model="gpt-4o", client=client_kind)
    assert build_client("gpt", config).model_info["family"] == "gpt-4o"


def test_a_base_url_the_native_client_cannot_speak_to_is_a_model_error() -> None:
    config = ModelConfig(provider="openai", model="m", base_url="ftp://127.0.0.1/v1")
    with pytest.raises(ModelError, match="scheme must be http or https"):
        build_client("m", config)


def test_configured_model_info_overrides_the_defaults() -> None:
    config = ModelConfig(
        provider="openai",
        model="llama",
        base_url="http://localhost:1/v1",
        model_info={"structured_output": True, "family": "llama-3.3-70b"},
    )
    info = build_client("l", config).model_info
    assert (info["structured_output"], info["family"], info["json_output"]) == (
        True,
        "llama-3.3-70b",
        True,
    )


def test_a_remote_openai_model_without_key_variable_needs_openai_api_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelError, match="OPENAI_API_KEY"):
        build_client("m", ModelConfig(provider="openai", model="m", base_url="https://x.io/v1"))


def test_an_autogen_component_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPONENT_KEY", "sk-test-component-key")
    config = ModelConfig(
        provider="autogen_ext.models.openai.OpenAIChatCompletionClient",
        api_key_env="COMPONENT_KEY",
        config={
            "model": "gpt-4o-mini",
            "base_url": "http://127.0.0.1:9/v1",
            "max_retries": 0,
        },
    )
    client = build_client("component", config)
    assert isinstance(client, OpenAIChatCompletionClient)
    assert endpoint(config) == config.provider
    assert "sk-test-component-key" not in repr(request_identity("component", config))


def test_a_broken_component_config_is_a_model_error() -> None:
    config = ModelConfig(provider="no_such_package.Client", config={"model": "x"})
    with pytest.raises(ModelError, match="component"):
        build_client("broken", config)


def test_an_unknown_provider_is_a_model_error() -> None:
    """A playbook cannot name one (ModelConfig refuses it); a config built unvalidated can."""
    with pytest.raises(ModelError, match="unknown provider 'anthropic'"):
        build_client("m", ModelConfig.model_construct(provider="anthropic"))


def test_a_playbook_cannot_name_an_unknown_provider() -> None:
    with pytest.raises(ValidationError, match="unknown provider 'anthropic' \\(known: simulated"):
        ModelConfig(provider="anthropic")


def test_endpoints_and_identities_carry_no_credentials() -> None:
    config = ModelConfig(
        provider="openai",
        model="m",
        base_url="https://user:sk-test-inurl12345@proxy.example.com:8443/v1",
        config={"api_key": "sk-test-inconfig123"},
    )
    assert endpoint(config) == "https://proxy.example.com:8443/v1"
    assert "sk-test" not in repr(request_identity("m", config))


def test_loopback_urls_are_recognised() -> None:
    assert is_loopback("http://127.0.0.1:8000/v1") and is_loopback("http://localhost/v1")
    assert is_loopback("http://[::1]:80/v1") and not is_loopback("https://api.openai.com/v1")
