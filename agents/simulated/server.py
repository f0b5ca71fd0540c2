"""A loopback OpenAI-compatible server playing the simulated backend's scripts, with faults.

It exercises the real HTTP path (openai SDK, retries, timeouts, cache) without a network:
`python -m agents.simulated.server --port 8011 --error-rate-429 0.1`, or in tests
`async with serve_simulated(port=0, fail_first=1) as server: ... server.base_url`.
Minimal HTTP/1.1 (Content-Length bodies, keep-alive) on anyio streams; loopback hosts only.
It answers exactly as `SimulatedChatCompletionClient.play` would, but straight from the
OpenAI JSON (no autogen messages) and with per-script work cached, since it shares a machine
with the client it serves; the command line runs on uvloop when installed.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar, get_args

import anyio
import orjson
from anyio.abc import ByteStream, SocketAttribute
from anyio.streams.buffered import BufferedByteReceiveStream
from autogen_core.models import RequestUsage

from agents.models.clients import is_loopback_host
from agents.simulated import Played, completion_text, estimate_tokens, play
from agents.simulated.scenario import SCENARIO_ARG, SimScenario
from runtime.log import get_logger
from runtime.loop import run as run_on_loop
from runtime.model_config import FaultName

_log = get_logger("agents.simulated.server")


_MAX_HEAD = 64 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
_FINISH = {"function_calls": "tool_calls", "stop": "stop", "length": "length"}
_PROMPT_ROLES = frozenset({"system", "developer", "user", "tool"})
_GENERIC_TEXT = "This is a simulated reply from simulated."
_SCENARIO_CACHE = 4096
_SCHEMA_CACHE = 64

S = TypeVar("S", bound="SimServer")

_Key: TypeAlias = Callable[[Any], bytes]
"""Serialises part of a parsed request exactly (a cache key for work done once per script)."""


@dataclass(frozen=True)
class ServerFaults:
    """Transport-level faults; rates are probabilities per chat request (seeded)."""

    latency_ms: float = 0.0
    error_rate_429: float = 0.0
    error_rate_500: float = 0.0
    slow_rate: float = 0.0
    slow_s: float = 0.0
    truncate_rate: float = 0.0
    fail_first: int = 0
    fail_first_status: int = 429
    seed: int = 0
    sim_faults: Mapping[str, Mapping[FaultName, float]] = field(default_factory=dict)


class ServerStats:
    """Requests served by path and status, and the most chat requests served at once."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, int]] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0

    def add(self, path: str, status: int) -> None:
        self._counts[(path, status)] += 1

    def requests(self, path: str | None = None, status: int | None = None) -> int:
        """How many requests matched the path and status (None: any)."""
        return sum(
            n
            for (p, s), n in self._counts.items()
            if (path is None or p == path) and (status is None or s == status)
        )

    def as_json(self) -> dict[str, Any]:
        by_path: dict[str, dict[str, int]] = {}
        for (path, status), n in sorted(self._counts.items()):
            by_path.setdefault(path, {})[str(status)] = n
        return {"total": self.requests(), "by_path": by_path, "peak_in_flight": self.peak_in_flight}


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class SimServer:
    """The server's state: faults, counters and the scripts it answers from."""

    def __init__(self, host: str, faults: ServerFaults) -> None:
        require_loopback(host)
        self.host = host
        self.port = 0
        self.faults = faults
        self.stats = ServerStats()
        self._rng = random.Random(faults.seed)
        self._chat_requests = 0

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    async def handle(self, stream: ByteStream) -> None:
        """Serve one connection: requests in sequence until the client closes it."""
        async with stream:
            reader = BufferedByteReceiveStream(stream)
            while True:
                try:
                    request = await _read_request(reader)
                except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError):
                    return
                except (ValueError, anyio.DelimiterNotFound):
                    await _send(stream, 400, _error("malformed request", "invalid_request"), False)
                    return
                try:
                    status, payload = await self._respond(request)
                except Exception as exc:
                    _log.exception("simserver.error", path=request.path)
                    status, payload = 500, _error(f"{type(exc).__name__}: {exc}", "server_error")
                self.stats.add(request.path, status)
                keep_alive = request.headers.get("connection", "").lower() != "close"
                try:
                    await _send(stream, status, payload, keep_alive)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return
                if not keep_alive:
                    return

    async def _respond(self, request: _Request) -> tuple[int, bytes]:
        route = (request.method, request.path)
        if route == ("POST", "/v1/chat/completions"):
            stats = self.stats
            stats.in_flight += 1
            stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
            try:
                return await self.chat(request.body)
            finally:
                stats.in_flight -= 1
        if route == ("GET", "/v1/models"):
            models = {"object": "list", "data": [{"id": "simulated", "object": "model"}]}
            return 200, _dump(models)
        if route == ("GET", "/stats"):
            return 200, _dump(self.stats.as_json())
        return 404, _error(f"no route {request.method} {request.path}", "not_found")

    async def chat(self, body: bytes) -> tuple[int, bytes]:
        """(status, JSON body) for one chat-completions request: the scenario's answer with
        the configured faults. Test servers override it to answer another way."""
        faults = self.faults
        self._chat_requests += 1
        if self._chat_requests <= faults.fail_first:
            return faults.fail_first_status, _error("injected failure", "server_error")
        if self._rng.random() < faults.error_rate_429:
            return 429, _error("rate limit reached (simulated)", "rate_limit_exceeded")
        if self._rng.random() < faults.error_rate_500:
            return 500, _error("internal error (simulated)", "server_error")
        delay = faults.latency_ms / 1000
        if self._rng.random() < faults.slow_rate:
            delay += faults.slow_s
        truncate = self._rng.random() < faults.truncate_rate
        # The latency counts from the request's arrival and includes the answer's making:
        # a burst of requests is not answered later by the time the server takes for it.
        due = anyio.current_time() + delay
        answer = self._answer(body, truncate)
        if delay > 0:
            await anyio.sleep_until(due)
        return answer

    def _answer(self, body: bytes, truncate: bool) -> tuple[int, bytes]:
        """(status, JSON body) of the scenario's answer to a chat request."""
        try:
            request, key = _parse(body)
            prompt, turns = prompt_text(request.get("messages", []))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return 400, _error(f"bad chat request: {exc}", "invalid_request")
        tools = [tool["function"] for tool in request.get("tools") or []]
        response_format = (request.get("response_format") or {}).get("type", "text")
        try:
            played = self._play(request.get(SCENARIO_ARG), turns, tools, response_format, key)
        except ValueError as exc:
            return 400, _error(f"bad scenario: {exc}", "invalid_request")
        usage = RequestUsage(
            prompt_tokens=estimate_tokens(prompt + _schema_text(tools, key)),
            completion_tokens=estimate_tokens(completion_text(played.content)),
        )
        answer = completion_json(played, usage, request.get("model", "simulated"), body)
        payload = _dump(answer)
        return 200, payload[: len(payload) // 2] if truncate else payload

    def _play(
        self,
        raw: Any,
        turns: int,
        tools: Sequence[Mapping[str, Any]],
        response_format: str,
        key: _Key | None,
    ) -> Played:
        """The simulated model's answer: the script at this turn, with the role's faults."""
        if raw is None:
            return Played("{}" if response_format != "text" else _GENERIC_TEXT, "stop", ())
        scenario = _scenario(raw, key)
        names = {tool["name"] for tool in tools}
        played = play(scenario, turns, self.faults.sim_faults.get(scenario.role, {}), names)
        if played.faults:
            _log.debug("sim.faults", role=scenario.role, faults=list(played.faults))
        return played


def require_loopback(host: str) -> None:
    """Refuse to serve anywhere but this machine: the simulator has no authentication."""
    if not is_loopback_host(host):
        raise ValueError(f"refusing to listen on non-loopback host {host!r}")


def prompt_text(messages: Sequence[Mapping[str, Any]]) -> tuple[str, int]:
    """OpenAI chat messages' prompt text as the simulated client counts it, and assistant turns.

    Tool calls count as their names and arguments (an assistant's text beside them does not).
    """
    parts: list[str] = []
    turns = 0
    for message in messages:
        role = message["role"]
        if role == "assistant":
            turns += 1
            calls = message.get("tool_calls")
            if calls:
                parts.extend(c["function"]["name"] + c["function"]["arguments"] for c in calls)
                continue
        elif role not in _PROMPT_ROLES:
            raise ValueError(f"unknown message role {role!r}")
        parts.append(_text(message.get("content")))
    return "".join(parts), turns


def completion_json(
    played: Played, usage: RequestUsage, model: str, request_body: bytes
) -> dict[str, Any]:
    """A `chat.completion` object for an answer (tool-call arguments as JSON strings)."""
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if isinstance(played.content, str):
        message["content"] = played.content
    else:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in played.content
        ]
    return {
        "id": "chatcmpl-" + hashlib.sha256(request_body).hexdigest()[:24],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": _FINISH.get(played.finish_reason, "stop"),
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        },
    }


@asynccontextmanager
async def serve_simulated(
    port: int = 0, host: str = "127.0.0.1", **faults: Any
) -> AsyncIterator[SimServer]:
    """Run the server in the caller's event loop for the block; `port=0` picks a free port."""
    async with serving(SimServer(host, ServerFaults(**faults)), port) as server:
        yield server


@asynccontextmanager
async def serving(server: S, port: int = 0) -> AsyncIterator[S]:
    """Serve `server` (a SimServer or a subclass) on its host for the block."""
    listener = await anyio.create_tcp_listener(local_host=server.host, local_port=port)
    async with listener, anyio.create_task_group() as group:
        server.port = listener.extra(SocketAttribute.local_port)
        group.start_soon(listener.serve, server.handle)
        try:
            yield server
        finally:
            group.cancel_scope.cancel()


async def _read_request(reader: BufferedByteReceiveStream) -> _Request:
    head = (await reader.receive_until(b"\r\n\r\n", _MAX_HEAD)).decode("latin-1")
    request_line, *header_lines = head.split("\r\n")
    method, target, _version = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ValueError("chunked request bodies are not supported")
    length = int(headers.get("content-length", "0"))
    body = await reader.receive_exactly(length) if length else b""
    return _Request(method, target.split("?", 1)[0], headers, body)


async def _send(stream: ByteStream, status: int, payload: bytes, keep_alive: bool) -> None:
    reason = _REASONS.get(status, "Error")
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    await stream.send(head.encode("latin-1") + payload)


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def _parse(body: bytes) -> tuple[Any, _Key | None]:
    """The JSON body, and a faithful cache key for its parts when orjson could parse it.

    The standard library has the last word: it accepts more (NaN, huge integers), which
    orjson could not serialise back exactly, and words its errors as before.
    """
    with contextlib.suppress(ValueError):
        return orjson.loads(body), orjson.dumps
    return json.loads(body), None


def _scenario(raw: Any, key: _Key | None) -> SimScenario:
    """The validated script; every request of an episode carries the same one."""
    if key is None:
        return SimScenario.model_validate(raw)
    return _scenario_from_json(key(raw))


@functools.lru_cache(maxsize=_SCENARIO_CACHE)
def _scenario_from_json(text: bytes) -> SimScenario:
    return SimScenario.model_validate(json.loads(text))


def _schema_text(tools: Sequence[Mapping[str, Any]], key: _Key | None) -> str:
    """The tool schemas' share of the prompt text; a run sends few distinct tool lists."""
    if not tools:
        return ""
    if key is None:
        return json.dumps(tools, sort_keys=True)
    return _schema_text_from_json(key(tools))


@functools.lru_cache(maxsize=_SCHEMA_CACHE)
def _schema_text_from_json(text: bytes) -> str:
    return json.dumps(json.loads(text), sort_keys=True)


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _error(message: str, code: str) -> bytes:
    return _dump({"error": {"message": message, "type": code, "code": code, "param": None}})


def _parse_fail_first(value: str) -> tuple[int, int]:
    count, _, status = value.partition(":")
    return int(count), int(status or "429")


def _parse_sim_fault(values: Sequence[str]) -> dict[str, dict[FaultName, float]]:
    """`ROLE:FAULT=RATE` options as the simulated client's fault table."""
    known: tuple[FaultName, ...] = get_args(FaultName)
    table: dict[str, dict[FaultName, float]] = {}
    for value in values:
        role, _, rest = value.partition(":")
        name, _, rate = rest.partition("=")
        fault = next((fault for fault in known if fault == name), None)
        if fault is None:
            raise ValueError(f"unknown fault {name!r} (known: {', '.join(known)})")
        table.setdefault(role, {})[fault] = float(rate)
    return table


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry: serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m agents.simulated.server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--error-rate-429", type=float, default=0.0)
    parser.add_argument("--error-rate-500", type=float, default=0.0)
    parser.add_argument("--slow-rate", type=float, default=0.0)
    parser.add_argument("--slow-s", type=float, default=0.0)
    parser.add_argument("--truncate-rate", type=float, default=0.0)
    parser.add_argument("--fail-first", default="0", metavar="N:STATUS")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sim-fault",
        action="append",
        default=[],
        metavar="ROLE:FAULT=RATE",
        help="a simulated-model fault for a role (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        require_loopback(args.host)
        fail_first, fail_status = _parse_fail_first(args.fail_first)
        sim_faults = _parse_sim_fault(args.sim_fault)
    except ValueError as exc:
        parser.error(str(exc))
    faults = {
        "latency_ms": args.latency_ms,
        "error_rate_429": args.error_rate_429,
        "error_rate_500": args.error_rate_500,
        "slow_rate": args.slow_rate,
        "slow_s": args.slow_s,
        "truncate_rate": args.truncate_rate,
        "fail_first": fail_first,
        "fail_first_status": fail_status,
        "seed": args.seed,
        "sim_faults": sim_faults,
    }

    async def serve() -> None:
        async with serve_simulated(args.port, args.host, **faults) as server:
            print(f"simulated OpenAI-compatible server on {server.base_url}", flush=True)
            await anyio.sleep_forever()

    gc.freeze()  # what importing built is permanent: collections need not walk it per request
    with contextlib.suppress(KeyboardInterrupt):
        run_on_loop(serve)


if __name__ == "__main__":
    main()
