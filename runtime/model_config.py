"""The `models:` section of a playbook: named model configurations."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runtime.secrets import looks_like_key

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
MIN_SEED, MAX_SEED = -(2**63), 2**63 - 1
"""Seeds are stored as SQLite integers: signed 64-bit."""
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PROVIDERS = ("simulated", "openai")


class ModelPrice(BaseModel):
    """USD per million tokens, used to cost each call."""

    model_config = ConfigDict(extra="forbid", strict=True)

    prompt_per_mtok: float = Field(default=0.0, ge=0, le=1e6)
    completion_per_mtok: float = Field(default=0.0, ge=0, le=1e6)


class ModelConfig(BaseModel):
    """One named model: which provider builds its client and how the gateway limits it."""

    model_config = ConfigDict(extra="forbid", strict=True)

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
        default=None,
        description="name of the environment variable holding the API key (never the key)",
    )
    temperature: float | None = Field(default=None, ge=0, le=10)
    max_tokens: int | None = Field(default=None, ge=1, le=10_000_000)
    timeout_s: float = Field(
        default=120.0, gt=0, le=86_400, description="bound on each call attempt (at most a day)"
    )
    seed: int | None = Field(
        default=None,
        ge=MIN_SEED,
        le=MAX_SEED,
        description="mixed into every call's sample seed (which derives from the run's seed "
        "and the sample's identity); changing it changes every sample; -2^63 to 2^63-1",
    )
    send_seed: bool | None = Field(
        default=None,
        description="send each call's sample seed as the request's `seed` field (default: "
        "yes for provider 'openai'; autogen components may reject the field)",
    )
    model_info: dict[str, Any] | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    max_concurrency: int = Field(
        default=16, ge=1, le=100_000, description="calls in flight to this model (1 to 100,000)"
    )
    max_retries: int = Field(default=4, ge=0, le=100, description="retries per call (0 to 100)")
    retry_base_s: float = Field(
        default=1.0, ge=0, le=3600, description="first backoff (doubles; at most an hour)"
    )
    retry_max_s: float = Field(
        default=30.0, ge=0, le=3600, description="longest single backoff (at most an hour)"
    )
    rpm: float | None = Field(
        default=None, gt=0, le=10_000_000, description="requests per minute at most"
    )
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

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        if value in _PROVIDERS or "." in value:
            return value
        raise ValueError(
            f"unknown provider {value!r} (known: {', '.join(_PROVIDERS)}, or an autogen "
            "component path such as 'autogen_ext.models.openai.OpenAIChatCompletionClient')"
        )

    @field_validator("api_key_env")
    @classmethod
    def _a_variable_name(cls, value: str | None) -> str | None:
        """A key pasted here by mistake is refused without being repeated anywhere."""
        if value is None:
            return value
        if looks_like_key(value):
            raise ValueError(
                "this looks like an API key itself (not shown): put the key in an environment"
                " variable and name the variable here"
            )
        if not _ENV_NAME.match(value):
            raise ValueError(
                "must be the name of an environment variable (letters, digits and _),"
                " not the key itself (the value is not shown)"
            )
        return value
