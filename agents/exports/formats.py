"""The dialogue formats: ShareGPT (APIGen-MT-5k layout), OpenAI chat and HF datasets.

Every record carries the run's metadata (playbook hash, models, seed, simulated or real),
except in `apigen-mt-5k`, which has exactly the published dataset's columns and leaves the
metadata to a sidecar file beside it. Dialogues end on the assistant's last message (see
`agents.exports.collect.training_messages`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio.to_thread

from agents.dialogue.transcript import ChatMessage
from agents.exports.collect import TrajectoryRecord, trajectories
from runtime.exports import ExportError, ExportSource


def _metadata(source: ExportSource, record: TrajectoryRecord) -> dict[str, Any]:
    """Flat, consistently typed metadata (one JSON string for nested parts) for Arrow."""
    info = source.metadata()
    return {
        "run_id": info["run_id"],
        "playbook_hash": info["playbook_hash"],
        "seed": info["seed"],
        "simulated": bool(record.info.get("simulated", info["simulated"])),
        "models": json.dumps(record.info.get("models", info["models"]), sort_keys=True),
        "domain": str(record.info.get("domain", "")),
        "ending": str(record.info.get("ending", "")),
        "phase": record.phase,
        "item_key": record.item_key,
        "accepted": record.status == "accepted",
        "generator": info["generator"],
    }


def _function_schemas(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool schemas as `{name, description, parameters}`, whatever shape they were stored in."""
    return [tool.get("function", tool) for tool in tools]


def _write_jsonl_sync(out: Path, rows: list[dict[str, Any]]) -> int:
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)


async def _write_jsonl(out: Path, rows: list[dict[str, Any]]) -> int:
    """Write off the event loop: exports can be large."""
    return await anyio.to_thread.run_sync(_write_jsonl_sync, out, rows)


def sharegpt_turns(
    messages: list[ChatMessage], *, include_reasoning: bool = False
) -> list[dict[str, str]]:
    """human / gpt / function_call (JSON {name, arguments}) / observation turns, in order.

    With `include_reasoning`, the first turn of an assistant message that has reasoning
    carries it as `reasoning`.
    """
    turns: list[dict[str, str]] = []
    for message in messages:
        if message.role == "user":
            turns.append({"from": "human", "value": message.content})
        elif message.role == "tool":
            turns.append({"from": "observation", "value": message.content})
        else:
            first = len(turns)
            if message.content:
                turns.append({"from": "gpt", "value": message.content})
            for call in message.tool_calls:
                value = json.dumps({"name": call.name, "arguments": call.arguments})
                turns.append({"from": "function_call", "value": value})
            if include_reasoning and message.reasoning and len(turns) > first:
                turns[first]["reasoning"] = message.reasoning
    return turns


def sharegpt_record(source: ExportSource, record: TrajectoryRecord) -> dict[str, Any]:
    transcript = record.transcript
    return {
        "conversations": sharegpt_turns(
            record.messages, include_reasoning=source.include_reasoning
        ),
        "tools": json.dumps(_function_schemas(transcript.tools)),
        "system": transcript.system,
        "metadata": _metadata(source, record),
    }


APIGEN_MT_5K_COLUMNS = ("conversations", "tools", "system")
"""The columns of the published Salesforce/APIGen-MT-5k dataset, in its order."""


def apigen_mt_5k_record(record: TrajectoryRecord) -> dict[str, Any]:
    """Exactly the published dataset's columns: `{from, value}` turns, tools and system as
    strings; nothing else (no metadata, no reasoning)."""
    return {
        "conversations": sharegpt_turns(record.messages),
        "tools": json.dumps(_function_schemas(record.transcript.tools)),
        "system": record.transcript.system,
    }


def openai_messages(
    system: str, messages: list[ChatMessage], *, include_reasoning: bool = False
) -> list[dict[str, Any]]:
    """system/user/assistant (with `tool_calls`)/tool (with `tool_call_id`) messages.

    With `include_reasoning`, an assistant message that has reasoning carries it as
    `reasoning_content` (the field vLLM and DeepSeek answer with).
    """
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for message in messages:
        if message.role == "tool":
            out.append(
                {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
            )
            continue
        if message.role == "assistant" and message.tool_calls:
            wire: dict[str, Any] = {
                "role": "assistant",
                "content": message.content or None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {
                            "name": call.name,
                            "arguments": json.dumps(call.arguments),
                        },
                    }
                    for call in message.tool_calls
                ],
            }
        else:
            wire = {"role": message.role, "content": message.content}
        if include_reasoning and message.reasoning:
            wire["reasoning_content"] = message.reasoning
        out.append(wire)
    return out


def openai_record(source: ExportSource, record: TrajectoryRecord) -> dict[str, Any]:
    transcript = record.transcript
    return {
        "messages": openai_messages(
            transcript.system, record.messages, include_reasoning=source.include_reasoning
        ),
        "tools": [
            {"type": "function", "function": schema}
            for schema in _function_schemas(transcript.tools)
        ],
        "metadata": _metadata(source, record),
    }


class ShareGPTExporter:
    """JSONL in the layout of the released APIGen-MT-5k dataset."""

    description = "ShareGPT JSONL (conversations, tools, system) as in APIGen-MT-5k"
    suffix = ".jsonl"

    async def write(self, source: ExportSource, out: Path, *, include_rejected: bool) -> int:
        records = await trajectories(source, include_rejected=include_rejected)
        return await _write_jsonl(out, [sharegpt_record(source, record) for record in records])


class OpenAIExporter:
    """JSONL for chat fine-tuning: `messages` with tool calls, and `tools`."""

    description = "OpenAI chat fine-tuning JSONL (messages, tools)"
    suffix = ".jsonl"

    async def write(self, source: ExportSource, out: Path, *, include_rejected: bool) -> int:
        records = await trajectories(source, include_rejected=include_rejected)
        return await _write_jsonl(out, [openai_record(source, record) for record in records])


class APIGenMT5kExporter:
    """ShareGPT JSONL with only the columns of the published APIGen-MT-5k dataset."""

    description = (
        "ShareGPT JSONL with exactly APIGen-MT-5k's columns (conversations, tools, system);"
        " provenance in <out>.meta.json"
    )
    suffix = ".jsonl"
    metadata_sidecar = True

    async def write(self, source: ExportSource, out: Path, *, include_rejected: bool) -> int:
        if source.include_reasoning:
            raise ExportError(
                "apigen-mt-5k has no column for reasoning: use --format sharegpt with"
                " --include-reasoning"
            )
        records = await trajectories(source, include_rejected=include_rejected)
        return await _write_jsonl(out, [apigen_mt_5k_record(record) for record in records])


class HFExporter:
    """A Hugging Face `datasets` dataset on disk (needs the `hf` extra)."""

    description = "Hugging Face dataset directory (datasets.load_from_disk); needs apigen-mt[hf]"
    suffix = ""

    async def write(self, source: ExportSource, out: Path, *, include_rejected: bool) -> int:
        try:
            import datasets  # type: ignore[import-untyped]
        except ImportError as exc:
            raise ExportError(
                "the hf format needs the `datasets` package: pip install 'apigen-mt[hf]'"
            ) from exc
        records = await trajectories(source, include_rejected=include_rejected)
        rows = [sharegpt_record(source, record) for record in records]

        def save() -> None:
            dataset = datasets.Dataset.from_list(rows)
            dataset.info.description = json.dumps(source.metadata())
            dataset.save_to_disk(str(out))

        await anyio.to_thread.run_sync(save)
        return len(rows)
