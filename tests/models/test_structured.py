"""Structured outputs: JSON found in fenced or prose answers, validated, failures keep the raw."""

from __future__ import annotations

import pytest
from autogen_core.models import UserMessage
from model_support import RUN_ID
from pydantic import BaseModel

from agents.models.gateway import ModelGateway
from agents.models.structured import (
    StructuredOutputError,
    create_structured,
    json_mode,
    parse_structured,
    top_level_objects,
)
from agents.simulated.scenario import SimReply, SimScenario
from runtime.errors import ModelError
from runtime.model_config import ModelConfig
from runtime.store import Store

pytestmark = pytest.mark.anyio


class Verdict(BaseModel):
    score: int
    reason: str


ASK = [UserMessage(content="Rate the task.", source="user")]


def test_a_fenced_block_after_reasoning_parses() -> None:
    raw = 'Let me think {briefly}.\n```json\n{"score": 3, "reason": "clear"}\n```\n'
    assert parse_structured(raw, Verdict) == Verdict(score=3, reason="clear")


def test_the_last_top_level_object_wins() -> None:
    raw = 'Draft: {"score": 1, "reason": "x"}\nFinal: {"score": 2, "reason": "y {z}"}'
    assert parse_structured(raw, Verdict).score == 2


def test_a_truncated_object_never_yields_its_inner_objects() -> None:
    assert list(top_level_objects('{"a": {"b": 1}, "c": "unterminated')) == []


def test_garbage_raises_with_the_raw_text() -> None:
    with pytest.raises(StructuredOutputError) as raised:
        parse_structured("I cannot answer that.", Verdict, endpoint="simulated:x")
    assert raised.value.raw == "I cannot answer that."
    assert isinstance(raised.value, ModelError) and raised.value.endpoint == "simulated:x"


def test_a_schema_mismatch_names_the_field() -> None:
    with pytest.raises(StructuredOutputError, match="score") as raised:
        parse_structured('{"score": "high", "reason": "r"}', Verdict)
    assert raised.value.raw == '{"score": "high", "reason": "r"}'


async def test_create_structured_parses_a_simulated_answer(store: Store) -> None:
    scenario = SimScenario(
        role="reviewer",
        seed=1,
        replies=[SimReply(json_value={"score": 4, "reason": "good"}, reasoning="looks fine")],
    )
    async with ModelGateway({"sim": ModelConfig()}, store, RUN_ID) as gateway:
        parsed = await create_structured(gateway, "sim", ASK, Verdict, scenario=scenario)
    assert parsed.value == Verdict(score=4, reason="good")
    assert parsed.raw.startswith("Reasoning: looks fine\n")
    assert parsed.usage.completion_tokens > 0


async def test_malformed_json_from_the_simulator_is_a_structured_error(store: Store) -> None:
    scenario = SimScenario(
        role="reviewer", seed=1, replies=[SimReply(json_value={"score": 4, "reason": "good"})]
    )
    config = ModelConfig(faults={"reviewer": {"malformed_json": 1.0}})
    async with ModelGateway({"sim": config}, store, RUN_ID) as gateway:
        with pytest.raises(StructuredOutputError) as raised:
            await create_structured(gateway, "sim", ASK, Verdict, scenario=scenario)
    assert raised.value.raw and raised.value.raw in '{"score": 4, "reason": "good"}'


async def test_the_json_mode_follows_model_info_unless_configured(store: Store) -> None:
    models = {
        "schema": ModelConfig(),
        "json": ModelConfig(model_info={"structured_output": False}),
        "text": ModelConfig(model_info={"structured_output": False, "json_output": False}),
        "forced": ModelConfig(json_mode="text"),
    }
    async with ModelGateway(models, store, RUN_ID) as gateway:
        modes = {name: json_mode(gateway, name) for name in models}
    assert modes == {"schema": "schema", "json": "json_object", "text": "text", "forced": "text"}
