"""The `models:` section of a playbook: named model configurations."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ModelConfig(BaseModel):
    """One named model: which provider builds its client and how the gateway limits it."""

    model_config = ConfigDict(extra="forbid")

    provider: str = Field(
        default="simulated",
        description="'simulated' (offline stand-in), 'openai' (any OpenAI-compatible "
        "base_url) or an autogen component provider path such as "
        "'autogen_ext.models.openai.OpenAIChatCompletionClient'",
    )
    model: str = "simulated"
    base_url: str | None = None
    api_key_env: str | None = Field(
        default=None, description="name of the environment variable holding the API key"
    )
    temperature: float | None = None
    max_tokens: int | None = None
    timeout_s: float = 120.0
    seed: int | None = None
    model_info: dict[str, Any] | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    max_concurrency: int = Field(default=16, ge=1)
    max_retries: int = Field(default=4, ge=0)
