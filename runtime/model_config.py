"""The `models:` section of a playbook: named model configurations."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FaultName = Literal[
    "malformed_json",
    "unknown_tool",
    "wrong_argument",
    "skipped_confirmation",
    "premature_stop",
    "refusal",
]
JsonMode = Literal["auto", "schema", "json_object", "text"]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class ModelPrice(BaseModel):
    """USD per million tokens, used to cost each call."""

    model_config = ConfigDict(extra="forbid")

    prompt_per_mtok: float = Field(default=0.0, ge=0)
    completion_per_mtok: float = Field(default=0.0, ge=0)


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
    client: Literal["native", "autogen"] = Field(
        default="native",
        description="provider 'openai' only: 'native' (the OpenAI wire format on aiohttp, "
        "the fast default) or 'autogen' (autogen-ext's OpenAIChatCompletionClient on the "
        "openai SDK: images, streaming, model-name-based model_info)",
    )
    api_key_env: str | None = Field(
        default=None, description="name of the environment variable holding the API key"
    )
    temperature: float | None = None
    max_tokens: int | None = None
    timeout_s: float = Field(default=120.0, gt=0, description="bound on each call attempt")
    seed: int | None = Field(
        default=None,
        description="mixed into every call's sample seed (which derives from the run's seed "
        "and the sample's identity); changing it changes every sample",
    )
    send_seed: bool | None = Field(
        default=None,
        description="send each call's sample seed as the request's `seed` field (default: "
        "yes for provider 'openai'; autogen components may reject the field)",
    )
    model_info: dict[str, Any] | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    max_concurrency: int = Field(default=16, ge=1)
    max_retries: int = Field(default=4, ge=0)
    retry_base_s: float = Field(default=1.0, ge=0, description="first backoff (doubles)")
    retry_max_s: float = Field(default=30.0, ge=0, description="longest single backoff")
    rpm: float | None = Field(default=None, gt=0, description="requests per minute at most")
    price: ModelPrice | None = None
    json_mode: JsonMode = Field(
        default="auto",
        description="how structured outputs are requested: 'auto' follows model_info; "
        "'schema' (structured output), 'json_object' (JSON mode) or 'text' (instructions only)",
    )
    send_scenario: bool = Field(
        default=False,
        description="send the simulated-backend scenario to an OpenAI-compatible server "
        "(the loopback simulator); otherwise scenarios reach only simulated models",
    )
    faults: dict[str, dict[FaultName, Rate]] = Field(
        default_factory=dict,
        description="simulated models only: role -> fault -> rate in [0, 1]",
    )
