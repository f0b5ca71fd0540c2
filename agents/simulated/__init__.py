"""The simulated backend: an offline, seeded model client that plays per-request scripts."""

from agents.models.request_text import assistant_turns, estimate_tokens, prompt_tokens, tool_schema
from agents.simulated._client import (
    SIMULATED_MODEL_INFO,
    SimOutcome,
    SimulatedChatCompletionClient,
    completion_text,
)
from agents.simulated._play import Played, play

__all__ = [
    "SIMULATED_MODEL_INFO",
    "Played",
    "SimOutcome",
    "SimulatedChatCompletionClient",
    "assistant_turns",
    "completion_text",
    "estimate_tokens",
    "play",
    "prompt_tokens",
    "tool_schema",
]
