"""The simulated backend: an offline, seeded model client that plays per-request scripts."""

from agents.simulated._client import SIMULATED_MODEL_INFO, SimOutcome, SimulatedChatCompletionClient
from agents.simulated._messages import assistant_turns, tool_schema

__all__ = [
    "SIMULATED_MODEL_INFO",
    "SimOutcome",
    "SimulatedChatCompletionClient",
    "assistant_turns",
    "tool_schema",
]
