"""The model gateway: every model call of a run goes through it.

Per model it bounds concurrency and request rate, retries transient failures with jittered
exponential backoff, and answers repeated requests from the store's cache, so a resumed run
is reproducible. Every call carries a seed derived from the run's seed and the sample's
identity (`CallContext`): sent as the request's `seed` and part of the cache key, so samples
meant to be independent (trials, reviewers, Best-of-N candidates, attempts) never share an
answer, while the same sample of a resumed run hits the cache. Each call, cache hit and final
failure is recorded with its token usage and cost; API keys never reach a record or a log event.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import ssl
import time
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from functools import cached_property
from types import TracebackType
from typing import Any, Literal, NamedTuple

import anyio
import openai
import orjson
from autogen_core.models import ChatCompletionClient, CreateResult, LLMMessage, ModelInfo
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel, ValidationError

from agents.models.clients import build_clients, endpoint, request_identity
from agents.models.completion_shapes import UnusableAnswer, normalise, unusable_reason
from agents.models.key_filter import KeyFilter
from agents.models.openai_wire import ToolList, wire_messages
from agents.models.transport import (
    HttpCertificateError,
    HttpConnectError,
    HttpProtocolError,
    HttpStatusError,
)
from agents.simulated import SimOutcome, SimulatedChatCompletionClient, tool_schema
from agents.simulated.scenario import SCENARIO_ARG, ScenarioSource, scenario_json
from runtime.deadlines import DeadlineWatch, WatchedScope
from runtime.engine import RunContext
from runtime.errors import ModelError, RunStopped
from runtime.log import get_logger, redact_secrets
from runtime.model_config import FaultName, ModelConfig
from runtime.stop import StopSwitch
from runtime.store import Store
from runtime.store_types import ModelCallRecord, ModelCallStatus

_log = get_logger("agents.models.gateway")

JsonOutput = bool | type[BaseModel] | None
ToolChoice = Tool | Literal["auto", "required", "none"]


SEED_RANGE = 2**31
"""Per-call seeds stay below this: every OpenAI-compatible server accepts a 31-bit seed."""


@dataclass(frozen=True, slots=True)
class CallContext:
    """Who is calling, for the store and the logs, and which sample the call belongs to.

    (phase, item_key, role, index, attempt) names one independent sample: `index` tells
    parallel samples of one role apart (reviewer i of a committee, Best-of-N candidate i),
    `attempt` the episode's attempts (a proposer's retries after reflection). The item key
    already names the trial.
    """

    phase: str = ""
    item_key: str = ""
    role: str = ""
    index: int = 0
    attempt: int = 1

    def sample(self, index: int) -> CallContext:
        """The same caller's `index`-th parallel sample."""
        return replace(self, index=index)


def sample_seed(run_seed: int, call: CallContext, model_seed: int | None = None) -> int:
    """The seed of one sample: stable across resumes, different for every other sample."""
    identity = (
        f"{run_seed}:{model_seed}:{call.phase}:{call.item_key}:{call.role}:{call.index}:"
        f"{call.attempt}"
    )
    digest = hashlib.sha256(identity.encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_RANGE


class RateLimiter:
    """At most `rpm` requests a minute (a token bucket of `burst`); waiters sleep, never poll."""

    def __init__(self, rpm: float, burst: int = 1) -> None:
        self._interval = 60.0 / rpm
        self._burst = burst
        self._next = -math.inf

    async def acquire(self) -> None:
        """Reserve the next free slot, then sleep until it comes."""
        now = anyio.current_time()
        slot = max(self._next, now)
        self._next = slot + self._interval
        wait = slot - (self._burst - 1) * self._interval - now
        if wait > 0:
            await anyio.sleep(wait)


@dataclass
class _Endpoint:
    """One configured model: its client and its limits."""

    name: str
    config: ModelConfig
    clients: list[ChatCompletionClient]
    in_flight: anyio.Semaphore
    rate: RateLimiter | None
    identity: dict[str, Any]
    endpoint: str

    turn: int = 0

    @property
    def client(self) -> ChatCompletionClient:
        return self.clients[0]

    def next_client(self) -> ChatCompletionClient:
        """The shards in turn, so each one's connection pool stays small."""
        self.turn = (self.turn + 1) % len(self.clients)
        return self.clients[self.turn]

    @cached_property
    def simulated(self) -> bool:
        """Whether the client is the offline simulator (asked several times per call)."""
        return isinstance(self.client, SimulatedChatCompletionClient)

    @property
    def plays_scripts(self) -> bool:
        """Whether requests carry the simulator's script (the simulator, `send_scenario`)."""
        return self.simulated or self.config.send_scenario

    @property
    def sends_seed(self) -> bool:
        """Whether requests carry the sample seed: `send_seed`, by default for provider openai
        (OpenAI, vLLM and Ollama honour it; other autogen components may reject the field)."""
        configured = self.config.send_seed
        return self.config.provider == "openai" if configured is None else configured


class ModelGateway:
    """The run's access to its models (one per run; see `gateway_run_hook`)."""

    def __init__(
        self,
        models: Mapping[str, ModelConfig],
        store: Store,
        run_id: str,
        *,
        clients: Mapping[str, ChatCompletionClient] | None = None,
        seed: int = 0,
        stop: StopSwitch | None = None,
    ) -> None:
        """Build every model's client now, so a missing key fails the run before it starts.

        `clients` supplies ready-made clients by model name (tests, embedding applications);
        `seed` is the run's seed, from which every call's sample seed derives; `stop` is the
        run's stop switch, tripped by a failure no retry gets past (then every call raises
        RunStopped, a ModelError).
        """
        self._stop = stop or StopSwitch()
        self._store = store
        self._run_id = run_id
        self._seed = seed
        self._rng = random.Random()
        self._cached_keys: KeyFilter | None = None  # loaded on first use, then kept current
        self.deadlines = DeadlineWatch()
        """Keeps the attempts' deadlines while it runs (`gateway_run_hook` runs it)."""
        self._cache_index_lock = anyio.Lock()
        given = clients or {}
        self._endpoints = {
            name: _Endpoint(
                name=name,
                config=config,
                clients=[given[name]] if name in given else build_clients(name, config),
                # no checkpoint when a slot is free: a checkpoint costs every call a loop pass
                in_flight=anyio.Semaphore(config.max_concurrency, fast_acquire=True),
                rate=RateLimiter(config.rpm) if config.rpm else None,
                identity=request_identity(name, config),
                endpoint=endpoint(config),
            )
            for name, config in models.items()
        }

    async def __aenter__(self) -> ModelGateway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with anyio.CancelScope(shield=True):
            await self.close()

    @property
    def models(self) -> list[str]:
        return list(self._endpoints)

    def config(self, model: str) -> ModelConfig:
        return self._get(model).config

    def endpoint(self, model: str) -> str:
        """Where `model`'s requests go (for error messages; never holds credentials)."""
        return self._get(model).endpoint

    def model_info(self, model: str) -> ModelInfo:
        return self._get(model).client.model_info

    def is_simulated(self, model: str) -> bool:
        """Whether `model` is the offline simulator (its outputs are labelled as such)."""
        return self._get(model).simulated

    def plays_scripts(self, model: str) -> bool:
        """Whether `model` gets the simulator's scripts (else nobody needs to build them)."""
        return self._get(model).plays_scripts

    def create(
        self,
        model: str,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: ToolChoice = "auto",
        json_output: JsonOutput = None,
        scenario: ScenarioSource | None = None,
        call: CallContext | None = None,
        extra: Mapping[str, Any] | None = None,
        cache: bool = True,
        timeout_s: float | None = None,
    ) -> Coroutine[Any, Any, CreateResult]:
        """One completion from `model`, to await: cached, or called with limits and retries.

        `scenario` reaches simulated models (and OpenAI-compatible ones with
        `send_scenario`), and a callable one is built only for them; `extra` goes to the
        client as `extra_create_args`; `cache=False` skips the cache lookup (for a deliberate
        re-ask of an identical request).
        `timeout_s` bounds the whole call from its first attempt (retries and backoff
        included; each attempt is also bounded by the model's `timeout_s`), and raises
        TimeoutError when it runs out. Raises ModelError when the call fails for good, and
        RunStopped (a ModelError) when no call can succeed until the cause is fixed.
        """
        target = self._get(model)
        context = call or CallContext()
        seed = sample_seed(self._seed, context, target.config.seed)
        args = self._create_args(target, scenario, extra, seed)
        key = request_key(target.identity, messages, tools, tool_choice, json_output, args, seed)
        # the call's own coroutine, not one awaiting it: every live episode waits in one
        return self._call(
            target, key, messages, tools, tool_choice, json_output, args, context, timeout_s, cache
        )

    async def close(self) -> None:
        """Close every client (their HTTP connection pools)."""
        for target in self._endpoints.values():
            for client in target.clients:
                try:
                    await client.close()
                except Exception as exc:
                    _log.warning("model.close_failed", model=target.name, error=_safe(str(exc)))

    # -- internals ------------------------------------------------------------------------

    def _get(self, model: str) -> _Endpoint:
        try:
            return self._endpoints[model]
        except KeyError:
            known = ", ".join(sorted(self._endpoints)) or "none"
            raise ModelError(model, f"unknown model {model!r} (models: {known})") from None

    @staticmethod
    def _create_args(
        target: _Endpoint,
        scenario: ScenarioSource | None,
        extra: Mapping[str, Any] | None,
        seed: int,
    ) -> dict[str, Any]:
        """The client's `extra_create_args`: the caller's, the sample seed (where the model
        takes one) and the scenario (for simulated models and `send_scenario` servers)."""
        args = dict(extra or {})
        if target.sends_seed:
            args.setdefault("seed", seed)
        if scenario is None or not target.plays_scripts:
            return args
        dumped = scenario_json(scenario)
        if target.simulated:
            args[SCENARIO_ARG] = dumped
        elif target.config.send_scenario:
            args["extra_body"] = {**args.get("extra_body", {}), SCENARIO_ARG: dumped}
        return args

    async def _cache_index(self) -> KeyFilter:
        """The keys the store may hold answers for: most lookups miss, and a miss costs no query."""
        if self._cached_keys is None:
            async with self._cache_index_lock:
                if self._cached_keys is None:
                    self._cached_keys = KeyFilter(await self._store.cached_keys())
        return self._cached_keys

    async def _cached(self, target: _Endpoint, key: str, call: CallContext) -> CreateResult | None:
        if key not in await self._cache_index():
            return None
        stored = await self._store.cached_response(key)
        if stored is None:
            return None
        try:
            result = CreateResult.model_validate_json(stored)
        except ValidationError:
            _log.warning("model.cache_unreadable", model=target.name, request_key=key)
            return None
        await self._record(target, key, call, "cached", attempt=0)
        _log.debug("model.call", model=target.name, status="cached", simulated=target.simulated)
        return result.model_copy(update={"cached": True})

    async def _call(
        self,
        target: _Endpoint,
        key: str,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: ToolChoice,
        json_output: JsonOutput,
        args: dict[str, Any],
        call: CallContext,
        timeout_s: float | None,
        cache: bool,
    ) -> CreateResult:
        if cache:
            hit = await self._cached(target, key, call)
            if hit is not None:
                return hit
        config = target.config
        attempt = 0
        deadline = math.inf  # of the whole call, set when its first attempt starts
        while True:
            attempt += 1
            self._stop.check()  # the run is stopping: no new request
            if target.rate is not None:
                await target.rate.acquire()
            started = time.perf_counter()
            try:
                async with target.in_flight:
                    started = time.perf_counter()
                    now = anyio.current_time()
                    if attempt == 1 and timeout_s is not None:
                        deadline = now + timeout_s
                    with self._attempt_scope(config, timeout_s, attempt, deadline) as scope:
                        # one attempt, inline: a coroutine of its own would wait beside
                        # this one in every live episode
                        client, attempt_args = target.next_client(), _reseeded(args, attempt)
                        if isinstance(client, SimulatedChatCompletionClient):
                            outcome = client.play(
                                messages,
                                tools=tools,
                                json_output=json_output,
                                extra_create_args=attempt_args,
                            )
                        else:
                            result = await client.create(
                                messages,
                                tools=tools,
                                tool_choice=tool_choice,
                                json_output=json_output,
                                extra_create_args=attempt_args,
                            )
                            outcome = SimOutcome(result, ())
                        outcome = _usable(target, outcome, len(messages), bool(tools))
                    if scope.cancelled_caught:
                        raise TimeoutError
            except Exception as exc:
                latency = time.perf_counter() - started
                retryable, reason, retry_after, stops_run = classify(exc)
                if stops_run:
                    await self._record(target, key, call, "error", attempt, latency, error=reason)
                    raise self._stop_run(target, reason) from exc
                retryable &= attempt <= config.max_retries
                delay = self._backoff(config, attempt, retry_after) if retryable else 0.0
                out_of_time = anyio.current_time() + delay >= deadline
                if not retryable or out_of_time:
                    await self._record(target, key, call, "error", attempt, latency, error=reason)
                    _log.error(
                        "model.error",
                        model=target.name,
                        attempt=attempt,
                        reason=reason,
                        latency_s=round(latency, 3),
                        simulated=target.simulated,
                    )
                    if out_of_time:
                        message = f"model {target.name!r}: no answer within {timeout_s}s"
                        raise TimeoutError(message) from exc
                    raise ModelError(
                        target.endpoint,
                        f"model {target.name!r}: {reason} (attempt {attempt} of "
                        f"{config.max_retries + 1})",
                    ) from exc
                _log.warning(
                    "model.retry",
                    model=target.name,
                    attempt=attempt,
                    reason=reason,
                    latency_s=round(latency, 3),
                    delay_s=round(delay, 3),
                )
                await anyio.sleep(delay)
                continue
            latency = time.perf_counter() - started
            await self._succeeded(target, key, call, outcome, attempt, latency)
            return outcome.result

    def _attempt_scope(
        self, config: ModelConfig, call_timeout_s: float | None, attempt: int, deadline: float
    ) -> WatchedScope | anyio.CancelScope:
        """The scope bounding one attempt: the model's timeout, cut short by the whole call's
        deadline. A first attempt's is kept by the watchdog (a thousand calls wait in these
        at once); a retry's remaining time varies, so it gets a timer of its own."""
        if attempt == 1:
            limit = config.timeout_s
            return self.deadlines.scope(
                limit if call_timeout_s is None else min(limit, call_timeout_s)
            )
        return anyio.CancelScope(deadline=min(anyio.current_time() + config.timeout_s, deadline))

    def _stop_run(self, target: _Endpoint, cause: str) -> RunStopped:
        """Trip the run's stop switch (the first cause wins) and return its error."""
        self._stop.trip(RunStopped(target.endpoint, f"model {target.name!r}: {cause}"))
        assert self._stop.error is not None
        return self._stop.error

    def _backoff(self, config: ModelConfig, attempt: int, retry_after: float | None) -> float:
        """Exponential in the attempt, jittered to half..full, at least a server's Retry-After."""
        ceiling = min(config.retry_max_s, config.retry_base_s * 2 ** (attempt - 1))
        delay = self._rng.uniform(ceiling / 2, ceiling)
        if retry_after is not None:
            delay = max(delay, min(retry_after, config.retry_max_s))
        return delay

    async def _succeeded(
        self,
        target: _Endpoint,
        key: str,
        call: CallContext,
        outcome: SimOutcome,
        attempt: int,
        latency: float,
    ) -> None:
        result = outcome.result
        await self._record(target, key, call, "ok", attempt, latency, result=result)
        (await self._cache_index()).add(key)
        if _log.debug_enabled:
            _log.debug(
                "model.call",
                model=target.name,
                attempt=attempt,
                latency_s=round(latency, 3),
                prompt_tokens=result.usage.prompt_tokens,
                completion_tokens=result.usage.completion_tokens,
                simulated=target.simulated,
                role=call.role,
            )
        if outcome.faults:
            await self._record_faults(target, key, call, outcome.faults)

    async def _record_faults(
        self, target: _Endpoint, key: str, call: CallContext, faults: tuple[FaultName, ...]
    ) -> None:
        """Injected faults go to the log and the store, so a failure can be traced to them."""
        payload = {
            "model": target.name,
            "role": call.role,
            "phase": call.phase,
            "item_key": call.item_key,
            "request_key": key,
            "faults": list(faults),
            "simulated": True,
        }
        _log.info("model.fault", **payload)
        await self._store.add_event(self._run_id, "model.fault", payload)

    async def _record(
        self,
        target: _Endpoint,
        key: str,
        call: CallContext,
        status: ModelCallStatus,
        attempt: int,
        latency: float = 0.0,
        *,
        result: CreateResult | None = None,
        error: str | None = None,
    ) -> None:
        prompt = result.usage.prompt_tokens if result else 0
        completion = result.usage.completion_tokens if result else 0
        price = target.config.price
        cost = (
            (prompt * price.prompt_per_mtok + completion * price.completion_per_mtok) / 1e6
            if price
            else 0.0
        )
        await self._store.record_model_call(
            ModelCallRecord.model_construct(  # every field set here, typed: no validation pass
                run_id=self._run_id,
                phase=call.phase,
                item_key=call.item_key,
                model=target.name,
                provider=target.config.provider,
                endpoint=target.endpoint,
                request_key=key,
                status=status,
                error=error,
                attempt=attempt,
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=cost,
                latency_s=latency,
                simulated=target.simulated,
                response_json=result.model_dump_json() if result else None,
            )
        )


def _usable(target: _Endpoint, outcome: SimOutcome, message_count: int, tools: bool) -> SimOutcome:
    """An attempt's answer in the shape every role expects (see `completion_shapes`).

    Raises UnusableAnswer for a truncated or empty answer (`classify` retries it).
    """
    # Hermes call ids hash the message count: it tells a conversation's requests apart.
    result = normalise(outcome.result, tools_offered=tools, salt=str(message_count))
    reason = unusable_reason(result)
    if reason is not None:
        raise UnusableAnswer(target.endpoint, reason)
    return outcome if result is outcome.result else SimOutcome(result, outcome.faults)


def _reseeded(args: dict[str, Any], attempt: int) -> dict[str, Any]:
    """A retry's arguments: the sample seed moved on, so a truncated or empty answer is
    sampled anew instead of reproduced (the cache key stays the sample's)."""
    if attempt == 1 or "seed" not in args:
        return args
    return {**args, "seed": (args["seed"] + attempt - 1) % SEED_RANGE}


def request_key(
    identity: Mapping[str, Any],
    messages: Sequence[LLMMessage],
    tools: Sequence[Tool | ToolSchema],
    tool_choice: ToolChoice,
    json_output: JsonOutput,
    args: Mapping[str, Any],
    seed: int,
) -> str:
    """sha256 of the canonical JSON of everything that shapes the answer (never secrets).

    Messages count in their wire form: what reaches the model, not autogen's bookkeeping.
    The sample seed counts whether or not it is sent: two samples never share an answer.
    """
    if isinstance(json_output, type):
        output: Any = {"schema": json_output.model_json_schema()}
    else:
        output = json_output
    payload = {
        "model": identity,
        "messages": wire_messages(messages),
        "tools": tools.key_json if isinstance(tools, ToolList) else [tool_schema(t) for t in tools],
        "tool_choice": tool_choice if isinstance(tool_choice, str) else tool_choice.name,
        "json_output": output,
        "args": args,
        "sample_seed": seed,
    }
    try:
        canonical = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except TypeError as exc:
        raise ModelError(str(identity.get("name", "")), f"request is not JSON: {exc}") from exc
    return hashlib.sha256(canonical).hexdigest()


class Failure(NamedTuple):
    """How a failed call is handled: retried (no sooner than `retry_after` seconds, when
    the server said so), or final; `stops_run` when no call to the endpoint can succeed
    until someone fixes the cause (a rejected API key, an untrusted certificate)."""

    retryable: bool
    reason: str
    retry_after: float | None = None
    stops_run: bool = False


STOPPING_STATUSES = {
    401: "API key rejected",
    403: "access forbidden",
    407: "proxy authentication required",
}
"""Statuses every later call would get too: the run stops at the first one."""


def classify(exc: BaseException) -> Failure:
    """How to handle a failed call: retry it, give it up, or stop the run."""
    certificate = _certificate_error(exc)
    if certificate is not None:
        return Failure(False, _safe(f"TLS certificate not trusted: {certificate}"), None, True)
    if isinstance(exc, TimeoutError | openai.APITimeoutError):
        return Failure(True, "timeout")
    if isinstance(exc, HttpStatusError):
        return _status(exc.status, exc.message, exc.headers)
    if isinstance(exc, openai.APIStatusError):
        return _status(exc.status_code, _sdk_message(exc), exc.response.headers)
    if isinstance(exc, HttpConnectError | openai.APIConnectionError):
        return Failure(True, _safe(f"connection error: {exc}"))
    if isinstance(exc, HttpProtocolError | json.JSONDecodeError):
        return Failure(True, _safe(f"malformed response: {exc}"))
    if isinstance(exc, openai.APIResponseValidationError):
        return Failure(True, _safe(f"malformed response: {exc}"))
    if isinstance(exc, UnusableAnswer):
        return Failure(True, exc.reason)
    return Failure(False, _safe(f"{type(exc).__name__}: {exc}"))


def _status(status: int, message: str, headers: Mapping[str, str]) -> Failure:
    """429 and 5xx are worth retrying (no sooner than the server asks); 401, 403 and 407
    stop the run; other statuses fail the call."""
    if status == 429:
        return Failure(True, "rate limited (HTTP 429)", _retry_after(headers))
    if status >= 500:
        return Failure(True, f"server error (HTTP {status})", _retry_after(headers))
    if status in STOPPING_STATUSES:
        cause = f"{STOPPING_STATUSES[status]} (HTTP {status}: {message})"
        return Failure(False, _safe(cause), None, True)
    return Failure(False, _safe(f"HTTP {status}: {message}"))


def _retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """When the server asks to be called again: `retry-after-ms` (OpenAI's), else
    `Retry-After` in seconds or as an HTTP date (RFC 9110 section 10.2.3)."""
    milliseconds = _seconds(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000
    return _seconds(headers.get("retry-after"), now)


def _seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A delay in seconds, or an HTTP date's distance from `now` (never negative)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _sdk_message(exc: openai.APIStatusError) -> str:
    """The server's own error message (the SDK's `message` prefixes "Error code: N - ")."""
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return exc.message


def _certificate_error(exc: BaseException) -> str | None:
    """Why the server's certificate was refused, if that is what failed the call (the
    openai SDK wraps the ssl error in its own; the native client raises its own type)."""
    if isinstance(exc, HttpCertificateError):
        return exc.reason
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return getattr(current, "verify_message", None) or str(current)
        current = current.__cause__ or current.__context__
    return None


def _safe(text: str) -> str:
    """Text with anything key-shaped masked (error messages may echo request details)."""
    return str(redact_secrets(None, "", {"text": text})["text"])


@asynccontextmanager
async def gateway_run_hook(context: RunContext) -> AsyncIterator[None]:
    """Provide the run's ModelGateway in its resources; close its clients when the run ends."""
    async with (
        ModelGateway(
            context.playbook.models,
            context.store,
            context.run_id,
            seed=context.playbook.seed,
            stop=StopSwitch.of(context.resources),
        ) as gateway,
        anyio.create_task_group() as watchdog,
    ):
        watchdog.start_soon(gateway.deadlines.run, name="model-call-deadlines")
        context.resources.provide(ModelGateway, gateway)
        try:
            yield
        finally:
            watchdog.cancel_scope.cancel()
