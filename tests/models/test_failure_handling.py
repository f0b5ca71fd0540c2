"""How the gateway handles a failed call: when to retry, how long to wait, when to stop."""

from __future__ import annotations

import ssl
from datetime import datetime, timezone

import httpx2
import openai
import pytest
from autogen_core.models import UserMessage
from local_http import raw_server, response
from model_support import RUN_ID

from agents.models.gateway import CallContext, ModelGateway, _retry_after, _seconds, classify
from agents.models.transport import HttpStatusError
from runtime.errors import ModelError, RunStopped
from runtime.model_config import ModelConfig
from runtime.stop import StopSwitch
from runtime.store import Store

pytestmark = pytest.mark.anyio

NOW = datetime(2015, 10, 21, 7, 27, 30, tzinfo=timezone.utc)
ASK = [UserMessage(content="Hi", source="user")]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 30.0),  # 30 s after NOW
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # already past
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(value: str | None, seconds: float | None) -> None:
    assert _seconds(value, NOW) == seconds


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert _retry_after({"retry-after-ms": "1500", "retry-after": "9"}, NOW) == 1.5
    assert _retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, NOW) == 40.0
    assert _retry_after({}, NOW) is None


def test_a_429_waits_as_long_as_the_server_asks_in_either_header() -> None:
    assert classify(HttpStatusError(429, "slow", {"retry-after-ms": "250"})) == (
        True,
        "rate limited (HTTP 429)",
        0.25,
        False,
    )
    assert classify(HttpStatusError(503, "down", {"retry-after": "7"})).retry_after == 7.0


@pytest.mark.parametrize(
    ("status", "cause"),
    [
        (401, "API key rejected"),
        (403, "access forbidden"),
        (407, "proxy authentication required"),
    ],
)
def test_a_rejected_key_forbidden_access_or_proxy_login_stop_the_run(
    status: int, cause: str
) -> None:
    message = "Incorrect API key provided: sk-proj-abcdefghijklmnop1234"
    failure = classify(HttpStatusError(status, message))
    assert (failure.retryable, failure.stops_run) == (False, True)
    assert failure.reason.startswith(f"{cause} (HTTP {status}: Incorrect API key provided: ")
    assert "abcdefghijklmnop1234" not in failure.reason


def test_the_openai_sdks_errors_stop_the_run_the_same_way() -> None:
    request = httpx2.Request("POST", "https://api.test/v1/chat/completions")
    rejected = openai.AuthenticationError(
        "bad key", response=httpx2.Response(401, request=request), body=None
    )
    assert classify(rejected).stops_run
    untrusted = openai.APIConnectionError(request=request)
    untrusted.__cause__ = httpx2.ConnectError("connect failed")
    untrusted.__cause__.__cause__ = ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"
    )
    failure = classify(untrusted)
    assert (failure.retryable, failure.stops_run) == (False, True)
    assert failure.reason.startswith("TLS certificate not trusted")
    refused = openai.APIConnectionError(request=request)
    assert classify(refused) == (True, "connection error: Connection error.", None, False)


def test_a_404_fails_the_call_without_stopping_the_run() -> None:
    assert classify(HttpStatusError(404, "no such model")) == (
        False,
        "HTTP 404: no such model",
        None,
        False,
    )


async def test_the_first_rejected_call_stops_every_later_one_without_a_request(
    store: Store,
) -> None:
    rejected = response(b'{"error": {"message": "Invalid API key"}}', "401 Unauthorized")
    async with raw_server(lambda i, seen: rejected) as server:
        config = ModelConfig(provider="openai", model="m", base_url=server.base_url)
        stop = StopSwitch()
        async with ModelGateway({"remote": config}, store, RUN_ID, stop=stop) as gateway:
            with pytest.raises(RunStopped) as first:
                await gateway.create("remote", ASK, call=CallContext(item_key="a"))
            with pytest.raises(RunStopped) as second:
                await gateway.create("remote", ASK, call=CallContext(item_key="b"))
    assert len(server.requests) == 1, "not retried (max_retries is 4), and no second request"
    assert isinstance(first.value, ModelError) and stop.error is first.value
    assert second.value is first.value
    assert first.value.endpoint == server.base_url
    assert str(first.value) == (
        f"{server.base_url}: model 'remote': API key rejected (HTTP 401: Invalid API key)"
    )
    rows = await store.model_calls(RUN_ID)
    assert [(row["status"], row["attempt"], row["item_key"]) for row in rows] == [("error", 1, "a")]
