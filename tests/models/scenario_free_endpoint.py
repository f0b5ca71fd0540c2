"""A loopback OpenAI-compatible endpoint that gets no scenario, as vLLM or OpenAI would.

It records every chat request it receives and answers by reading the request the way a real
model reads its prompt: the system message says which role asks. Its answers depend on the
request's `seed` field only (temperature sampling with a seed), so two samples get the same
answer exactly when they send the same seed, and a test can tell which sample a reply came
from. Proposals are the blueprints it is given (a real proposer writes its own).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from agents.simulated.server import ServerFaults, SimServer

STOP = "###STOP###"


class ScenarioFreeEndpoint(SimServer):
    """Records requests; answers proposer, reviewer, judge, human and assistant roles."""

    def __init__(
        self,
        blueprints: Sequence[Mapping[str, Any]],
        human_turns: int = 2,
        final_reviews: Sequence[Mapping[str, Any]] = ({"aligned": True},),
    ) -> None:
        super().__init__("127.0.0.1", ServerFaults())
        self.blueprints = list(blueprints)
        self.human_turns = human_turns
        self.final_reviews = list(final_reviews)
        self.requests: list[dict[str, Any]] = []

    async def chat(self, body: bytes) -> tuple[int, bytes]:
        request = json.loads(body)
        self.requests.append(request)
        content = self.answer(request)
        completion = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": 0,
            "model": request.get("model", "recorder"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
        return 200, json.dumps(completion).encode()

    def answer(self, request: Mapping[str, Any]) -> str:
        """What a model in the request's role says (seeded by the request's `seed`)."""
        messages = request["messages"]
        system = messages[0]["content"] if messages[0]["role"] == "system" else ""
        seed = request.get("seed")
        if "task blueprints" in system:
            blueprint = self.blueprints[(len(self.proposals()) - 1) % len(self.blueprints)]
            return f"My plan: one clear task.\n```json\n{json.dumps(blueprint)}\n```"
        if "matches its calls" in system:
            asked = len(self.of_role("matches its calls"))
            return json.dumps(self.final_reviews[(asked - 1) % len(self.final_reviews)])
        if "reviewer" in system:
            review = {c: 1 for c in ("correctness", "completeness", "satisfaction", "creativity")}
            return json.dumps({**review, "rationale": f"fine (sample {seed})"})
        if "judge" in system:
            return json.dumps({"score": 5, "reason": f"sample {seed}"})
        if system.startswith("You are a customer talking"):
            said = sum(message["role"] == "assistant" for message in messages)
            return STOP if said >= self.human_turns else f"I need help with my order ({seed})."
        if system:
            return f"How can I help you further? (sample {seed})"
        return f"- keep going (sample {seed})"

    def proposals(self) -> list[dict[str, Any]]:
        return self.of_role("task blueprints")

    def of_role(self, marker: str) -> list[dict[str, Any]]:
        """The recorded requests whose system message contains `marker`."""
        return [
            request
            for request in self.requests
            if request["messages"][0]["role"] == "system"
            and marker in request["messages"][0]["content"]
        ]
