"""Structured outputs: ask a model for JSON, find it in the answer, validate it with pydantic.

A parse failure is a `StructuredOutputError` carrying the raw answer, so the caller can
record it and retry (with feedback) instead of losing what the model said.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from autogen_core.models import CreateResult, LLMMessage, RequestUsage, UserMessage
from pydantic import BaseModel, ValidationError

from agents.models.gateway import CallContext, JsonOutput, ModelGateway
from agents.simulated.scenario import ScenarioSource
from runtime.errors import ModelError
from runtime.model_config import JsonMode

T = TypeVar("T", bound=BaseModel)

_DECODER = json.JSONDecoder()


class StructuredOutputError(ModelError):
    """A model's answer held no JSON object that validates; `raw` is what it said."""

    def __init__(self, endpoint: str, message: str, raw: str) -> None:
        super().__init__(endpoint, message)
        self.raw = raw
        self.reason = message


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """A validated value with the raw answer it came from and the call's usage."""

    value: T
    raw: str
    usage: RequestUsage
    result: CreateResult


async def create_structured(
    gateway: ModelGateway,
    model_name: str,
    messages: Sequence[LLMMessage],
    schema: type[T],
    *,
    scenario: ScenarioSource | None = None,
    call: CallContext | None = None,
    cache: bool = True,
) -> Parsed[T]:
    """Ask `model_name` for one `schema` object, in the strictest JSON mode it supports.

    Raises StructuredOutputError (retryable by the caller) or ModelError (the call failed).
    """
    mode = json_mode(gateway, model_name)
    request = list(messages)
    json_output: JsonOutput = schema if mode == "schema" else mode == "json_object" or None
    if mode != "schema":
        request.append(UserMessage(content=format_instructions(schema), source="user"))
    result = await gateway.create(
        model_name,
        request,
        json_output=json_output,
        scenario=scenario,
        call=call,
        cache=cache,
    )
    target = gateway.endpoint(model_name)
    if not isinstance(result.content, str):
        raise StructuredOutputError(target, "expected a JSON answer, got tool calls", "")
    raw = result.content
    if result.finish_reason == "content_filter":
        raise StructuredOutputError(target, f"the model refused: {raw[:200]}", raw)
    return Parsed(parse_structured(raw, schema, endpoint=target), raw, result.usage, result)


def json_mode(gateway: ModelGateway, model_name: str) -> JsonMode:
    """The configured JSON mode, or the strictest one the model's info claims."""
    configured = gateway.config(model_name).json_mode
    if configured != "auto":
        return configured
    info = gateway.model_info(model_name)
    if info.get("structured_output"):
        return "schema"
    if info.get("json_output"):
        return "json_object"
    return "text"


def format_instructions(schema: type[BaseModel]) -> str:
    """Appended when the schema is not enforced by the API (JSON mode also needs the word)."""
    schema_text = json.dumps(schema.model_json_schema(), sort_keys=True)
    return f"Answer with one JSON object that matches this JSON schema:\n{schema_text}"


def parse_structured(raw: str, schema: type[T], *, endpoint: str = "") -> T:
    """Validate the last top-level JSON object in `raw` (fenced or after prose) as `schema`."""
    found = list(top_level_objects(raw))
    if not found:
        raise StructuredOutputError(endpoint, "no JSON object in the answer", raw)
    try:
        return schema.model_validate(found[-1])
    except ValidationError as exc:
        raise StructuredOutputError(endpoint, _validation_message(exc), raw) from exc


def top_level_objects(text: str) -> Iterator[dict[str, Any]]:
    """JSON objects that are not nested in other braces, in order of appearance.

    Braces opened by text that does not parse count as nesting, so a truncated object
    never yields one of its inner objects.
    """
    depth = 0
    in_string = escaped = False
    index = 0
    while index < len(text):
        char = text[index]
        if depth == 0:
            if char == "{":
                try:
                    value, end = _DECODER.raw_decode(text, index)
                except ValueError:
                    depth = 1
                else:
                    if isinstance(value, dict):
                        yield value
                    index = end
                    continue
        elif in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        index += 1


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"]) or "(root)"
        parts.append(f"{location}: {error['msg']}")
    return "schema: " + "; ".join(parts)
