"""Both OpenAI clients (native and autogen-ext's) on what servers and networks send."""

from __future__ import annotations

import gzip
import json

import pytest
from autogen_core.models import ChatCompletionClient, UserMessage
from local_http import Seen, raw_server, response

from agents.models.clients import build_client
from runtime.model_config import ModelConfig

pytestmark = pytest.mark.anyio

KEY_ENV = "APIGEN_CLIENTS_TEST_KEY"
ANSWER = json.dumps(
    {
        "id": "c1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }
).encode()
ASK = [UserMessage(content="Hello", source="user")]


@pytest.fixture(params=["native", "autogen"])
def kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, "sk-test-clients")
    return str(request.param)


def client(kind: str, base_url: str) -> ChatCompletionClient:
    config = ModelConfig(
        provider="openai", model="m", base_url=base_url, client=kind, api_key_env=KEY_ENV
    )
    return build_client("remote", config)


async def test_a_307_is_followed_with_the_body_and_without_the_key_to_another_host(
    kind: str,
) -> None:
    async with raw_server(lambda i, seen: response(ANSWER)) as elsewhere:
        location = f"http://127.0.0.1:{elsewhere.port}/v1/chat/completions"
        redirect = response(b"", "307 Temporary Redirect", f"Location: {location}\r\n")
        async with raw_server(lambda i, seen: redirect) as server:
            chat = client(kind, server.base_url)
            result = await chat.create(ASK)
            await chat.close()
    assert result.content == "Hi."
    (first,), (moved,) = server.requests, elsewhere.requests
    assert first.headers["authorization"] == "Bearer sk-test-clients"
    assert moved.line == "POST /v1/chat/completions HTTP/1.1" and moved.body == first.body
    assert "authorization" not in moved.headers


async def test_interim_answers_are_skipped_and_a_gzip_body_is_decoded(kind: str) -> None:
    def answer(index: int, seen: Seen) -> bytes:
        interim = b"HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n"
        return interim + response(gzip.compress(ANSWER), headers="Content-Encoding: gzip\r\n")

    async with raw_server(answer) as server:
        chat = client(kind, server.base_url)
        result = await chat.create(ASK)
        await chat.close()
    assert (result.content, result.usage.completion_tokens) == ("Hi.", 2)
