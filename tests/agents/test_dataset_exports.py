"""Every export format written from a real run and read back by the tools that consume it."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from agents.dialogue.transcript import ChatMessage, ChatRole, EndReason, Transcript
from agents.exports.collect import training_messages
from agents.exports.tau import task_files
from domains.registry import resolve_domain
from runtime.api import LoadedPlaybook, export_stored_run, load_playbook, run_playbook
from runtime.engine import RunSummary
from runtime.exports import ExportError
from runtime.store import Store

pytestmark = pytest.mark.anyio

PLAYBOOK = Path(__file__).parents[2] / "playbooks" / "trajectories.yaml"
STOP = "###STOP###"


@pytest.fixture(scope="module")
async def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[LoadedPlaybook, RunSummary]:
    """One run shared by the module's tests, which only read it (27 trials of 9 tasks)."""
    store = tmp_path_factory.mktemp("exports") / "run"
    loaded = load_playbook(PLAYBOOK, {"store": str(store)})
    return loaded, await run_playbook(loaded)


async def _export(
    run: tuple[LoadedPlaybook, RunSummary], fmt: str, out: Path, rejected: bool = False
) -> int:
    loaded, summary = run
    return await export_stored_run(loaded, Path(summary.store_path), fmt, out, rejected)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_sharegpt_rows_follow_the_apigen_mt_layout(
    run: tuple[LoadedPlaybook, RunSummary], tmp_path: Path
) -> None:
    out = tmp_path / "sharegpt.jsonl"
    count = await _export(run, "sharegpt", out)
    rows = _jsonl(out)
    assert count == len(rows) == 9  # keep: first -> one trajectory per task that succeeded
    row = rows[0]
    assert set(row) == {"conversations", "tools", "system", "metadata"}
    assert row["conversations"][0]["from"] == "human"
    assert row["conversations"][-1]["from"] == "gpt"
    roles = {turn["from"] for turn in row["conversations"]}
    assert roles == {"human", "gpt", "function_call", "observation"}
    call = next(t for t in row["conversations"] if t["from"] == "function_call")
    assert set(json.loads(call["value"])) == {"name", "arguments"}
    assert {tool["name"] for tool in json.loads(row["tools"])} >= {"get_order_details"}
    assert "policy" in row["system"].lower()
    assert row["metadata"]["simulated"] is True and row["metadata"]["accepted"] is True


async def test_rejected_trajectories_only_on_request(
    run: tuple[LoadedPlaybook, RunSummary], tmp_path: Path
) -> None:
    accepted = await _export(run, "openai", tmp_path / "a.jsonl")
    everything = await _export(run, "openai", tmp_path / "b.jsonl", rejected=True)
    assert everything == 27 > accepted
    flags = [row["metadata"]["accepted"] for row in _jsonl(tmp_path / "b.jsonl")]
    assert flags.count(False) == 27 - flags.count(True) > 0


async def test_openai_rows_pair_tool_calls_with_results(
    run: tuple[LoadedPlaybook, RunSummary], tmp_path: Path
) -> None:
    await _export(run, "openai", tmp_path / "openai.jsonl")
    for row in _jsonl(tmp_path / "openai.jsonl"):
        messages = row["messages"]
        assert messages[0]["role"] == "system"
        called = [c["id"] for m in messages for c in m.get("tool_calls", [])]
        answered = [m["tool_call_id"] for m in messages if m["role"] == "tool"]
        assert called == answered
        assert all(
            json.loads(c["function"]["arguments"]) is not None
            for m in messages
            for c in m.get("tool_calls", [])
        )
        assert all(tool["type"] == "function" for tool in row["tools"])


async def test_jsonl_exports_load_with_datasets(
    run: tuple[LoadedPlaybook, RunSummary], tmp_path: Path
) -> None:
    datasets = pytest.importorskip("datasets")
    for fmt in ("sharegpt", "openai"):
        path = tmp_path / f"{fmt}.jsonl"
        await _export(run, fmt, path, rejected=True)
        loaded = datasets.load_dataset("json", data_files=str(path), split="train")
        assert loaded.num_rows == 27


async def test_hf_export_loads_from_disk(
    run: tuple[LoadedPlaybook, RunSummary], tmp_path: Path
) -> None:
    datasets = pytest.importorskip("datasets")
    await _export(run, "hf", tmp_path / "hf")
    dataset = datasets.load_from_disk(str(tmp_path / "hf"))
    assert dataset.num_rows == 9
    assert json.loads(dataset.info.description)["simulated"] is True


async def test_tau_tasks_replay_to_the_verified_state(
    run: tuple[LoadedPlaybook, RunSummary], tmp_path: Path
) -> None:
    _, summary = run
    await _export(run, "tau", tmp_path / "tau")
    assert [path.name for path in (tmp_path / "tau").iterdir()] == ["tasks_retail.json"]
    tasks = json.loads((tmp_path / "tau" / "tasks_retail.json").read_text())
    assert len(tasks) == 9
    async with Store.open(summary.store_path) as store:
        verdicts = await store.results(summary.run_id, "trajectories", kind="verdict")
    expected = {v.payload["expected_fingerprint"] for v in verdicts}
    base = resolve_domain("retail").environment({"data": {"seed": 0}})
    for task in tasks:
        assert set(task) == {"user_id", "instruction", "actions", "outputs", "ending", "metadata"}
        assert task["ending"] in ("act", "answer", "refuse", "transfer")
        fork = base.fork()
        assert all(result.ok for result in fork.run(task["actions"]))
        assert fork.fingerprint() in expected


async def test_the_report_has_every_plot(
    run: tuple[LoadedPlaybook, RunSummary], tmp_path: Path
) -> None:
    out = tmp_path / "report"
    plots = await _export(run, "report", out)
    names = {"funnel", "reasons", "conversations", "tools", "passk", "tokens", "time"}
    assert plots == len(names)
    html = (out / "report.html").read_text()
    for name in names:
        assert (out / f"{name}.png").stat().st_size > 1000
        assert f'src="{name}.png"' in html
    assert "SIMULATED" in html


def _give_reasoning(store_path: Path, reasoning: str) -> None:
    """Give every stored assistant message of every trajectory `reasoning`, as a real model's
    would have (the simulated one has none)."""
    with sqlite3.connect(store_path) as db:
        rows = db.execute("SELECT rowid, payload_json FROM results WHERE kind='trajectory'")
        for rowid, payload_json in rows.fetchall():
            payload = json.loads(payload_json)
            for message in payload["messages"]:
                if message["role"] == "assistant":
                    message["reasoning"] = reasoning
            db.execute(
                "UPDATE results SET payload_json=? WHERE rowid=?", (json.dumps(payload), rowid)
            )


@pytest.mark.parametrize("fmt", ["openai", "sharegpt"])
async def test_reasoning_is_exported_only_with_include_reasoning(
    run: tuple[LoadedPlaybook, RunSummary], tmp_path: Path, fmt: str
) -> None:
    loaded, summary = run
    copy = shutil.copytree(Path(summary.store_path).parent, tmp_path / "run")
    store_path = copy / "store.sqlite"
    _give_reasoning(store_path, "Checking the policy first.")
    plain, shown = tmp_path / "plain.jsonl", tmp_path / "shown.jsonl"
    assert await export_stored_run(loaded, store_path, fmt, plain) == 9
    cli = [sys.executable, "-m", "runtime.run", "export", str(store_path), "--format", fmt]
    done = await anyio.run_process([*cli, "--out", str(shown), "--include-reasoning"])
    assert done.returncode == 0
    assert "Checking the policy" not in plain.read_text()
    rows = _jsonl(shown)
    assert len(rows) == 9
    if fmt == "openai":
        for row in rows:
            for message in row["messages"]:
                has = message.get("reasoning_content") == "Checking the policy first."
                assert has == (message["role"] == "assistant")
        return
    for row in rows:
        # the first turn of each assistant message carries it (here: its text or its one call)
        turns = row["conversations"]
        said = [turn for turn in turns if turn["from"] in {"gpt", "function_call"}]
        assert said and all(turn["reasoning"] == "Checking the policy first." for turn in said)
        assert all("reasoning" not in turn for turn in turns if turn not in said)


def _stored_transcripts(summary: RunSummary) -> dict[str, dict[str, Any]]:
    """Each trial's stored trajectory payload (everything that was said), by item key."""
    with sqlite3.connect(summary.store_path) as db:
        rows = db.execute("SELECT item_key, payload_json FROM results WHERE kind='trajectory'")
        return {key: json.loads(payload) for key, payload in rows.fetchall()}


@pytest.mark.parametrize("fmt", ["sharegpt", "openai", "hf"])
async def test_dialogues_end_on_the_assistant_and_never_show_the_stop_turn(
    run: tuple[LoadedPlaybook, RunSummary], tmp_path: Path, fmt: str
) -> None:
    _, summary = run
    out = tmp_path / fmt
    assert await _export(run, fmt, out, rejected=True) == 27
    if fmt == "hf":
        rows = list(pytest.importorskip("datasets").load_from_disk(str(out)))
    else:
        rows = _jsonl(out)
    stored = _stored_transcripts(summary)
    # 24 trials ended on the user's stop turn (19 accepted, 5 rejected), 3 on a refusal
    ends = [stored[row["metadata"]["item_key"]]["end"] for row in rows]
    assert (ends.count("stop"), ends.count("refusal")) == (24, 3)
    for row, end in zip(rows, ends, strict=True):
        said = stored[row["metadata"]["item_key"]]["messages"]
        if fmt == "openai":
            exported = row["messages"][1:]  # after the system message
            assert exported[-1]["role"] == "assistant"
        else:
            exported = row["conversations"]
            assert exported[-1]["from"] == "gpt"
        if end == "stop":
            assert said[-1] == {**said[-1], "role": "user", "content": STOP}
            assert len(_dialogue(fmt, said[:-1])) == len(exported)
        else:
            assert len(_dialogue(fmt, said)) == len(exported)
        assert STOP not in json.dumps(row)


def _dialogue(fmt: str, messages: list[dict[str, Any]]) -> list[Any]:
    """What a stored dialogue becomes: one OpenAI message each, or ShareGPT turns (an assistant
    message is its text, if any, then one function_call turn per call)."""
    if fmt == "openai":
        return messages
    turns: list[str] = []
    for message in messages:
        if message["role"] == "assistant":
            turns += ["gpt"] * bool(message["content"]) + ["call"] * len(message["tool_calls"])
        else:
            turns.append(message["role"])
    return turns


async def test_a_phase_s_own_stop_token_is_the_one_dropped(tmp_path: Path) -> None:
    tasks = PLAYBOOK.parent / "data" / "retail_tasks.json"
    text = PLAYBOOK.read_text().replace(STOP, "<<DONE>>")
    playbook = tmp_path / "done.yaml"
    playbook.write_text(text.replace("data/retail_tasks.json", str(tasks)))
    loaded = load_playbook(playbook, {"store": str(tmp_path / "run")})
    summary = await run_playbook(loaded)
    out = tmp_path / "openai.jsonl"
    await export_stored_run(loaded, Path(summary.store_path), "openai", out)
    rows = _jsonl(out)
    assert rows and all(row["messages"][-1]["role"] == "assistant" for row in rows)
    assert "<<DONE>>" not in out.read_text()
    assert "<<DONE>>" in json.dumps(_stored_transcripts(summary))


REFERENCE_TOOLS = [
    {
        "name": "get_user_details",
        "description": "Get the details of a user.",
        "parameters": {
            "type": "object",
            "properties": {"user_id": {"type": "string", "description": "The user id."}},
            "required": ["user_id"],
        },
    }
]
REFERENCE = {
    # One record shaped as the Salesforce/APIGen-MT-5k dataset card shows it.
    "conversations": [
        {"from": "human", "value": "Hi, I want to know my address. My id is ana_lee_1."},
        {
            "from": "function_call",
            "value": json.dumps({"name": "get_user_details", "arguments": {"user_id": "ana_1"}}),
        },
        {"from": "observation", "value": '{"address": "1 Main St"}'},
        {"from": "gpt", "value": "Your address is 1 Main St."},
    ],
    "system": "# Retail agent policy ...",
    "tools": json.dumps(REFERENCE_TOOLS),
}


async def test_apigen_mt_5k_rows_have_exactly_the_published_columns(
    run: tuple[LoadedPlaybook, RunSummary], tmp_path: Path
) -> None:
    out = tmp_path / "5k.jsonl"
    assert await _export(run, "apigen-mt-5k", out) == 9
    for row in _jsonl(out):
        assert list(row) == ["conversations", "tools", "system"]
        assert all(list(turn) == ["from", "value"] for turn in row["conversations"])
        kinds = {turn["from"] for turn in row["conversations"]}
        assert kinds <= {"human", "gpt", "function_call", "observation"}
        for turn in row["conversations"]:
            if turn["from"] == "function_call":
                call = json.loads(turn["value"])
                assert list(call) == ["name", "arguments"] and isinstance(call["arguments"], dict)
        tools = json.loads(row["tools"])
        assert all(set(tool) == {"name", "description", "parameters"} for tool in tools)
        assert isinstance(row["system"], str) and row["system"]
    provenance = json.loads((tmp_path / "5k.jsonl.meta.json").read_text())
    assert provenance["simulated"] is True and provenance["records"] == 9


async def test_apigen_mt_5k_rows_load_beside_the_published_dataset(
    run: tuple[LoadedPlaybook, RunSummary], tmp_path: Path
) -> None:
    datasets = pytest.importorskip("datasets")
    ours = tmp_path / "5k.jsonl"
    await _export(run, "apigen-mt-5k", ours)
    reference = tmp_path / "apigen-mt_5k.json"  # the published file is one JSON list
    reference.write_text(json.dumps([REFERENCE]))
    published = datasets.Dataset.from_json(str(reference))
    exported = datasets.Dataset.from_json(str(ours))
    assert exported.features == published.features
    both = datasets.concatenate_datasets([published, exported])
    assert both.num_rows == 1 + 9
    assert both[1]["conversations"][0]["from"] == "human"


async def test_apigen_mt_5k_refuses_reasoning_it_has_no_column_for(
    run: tuple[LoadedPlaybook, RunSummary], tmp_path: Path
) -> None:
    loaded, summary = run
    out = tmp_path / "5k.jsonl"
    with pytest.raises(ExportError, match="no column for reasoning"):
        await export_stored_run(loaded, Path(summary.store_path), "apigen-mt-5k", out, False, True)
    assert not out.exists()


def _transcript(end: EndReason, *said: tuple[ChatRole, str]) -> Transcript:
    return Transcript(
        system="policy",
        messages=[ChatMessage(role=role, content=text) for role, text in said],
        end=end,
    )


def test_only_the_closing_stop_turn_is_left_out() -> None:
    stopped = _transcript(
        "stop", ("user", "Cancel it."), ("assistant", "Done."), ("user", "Thanks! <<DONE>>")
    )
    assert [m.content for m in training_messages(stopped, "<<DONE>>")] == ["Cancel it.", "Done."]
    # another phase's token is just text
    assert len(training_messages(stopped, "###STOP###")) == 3


def test_a_conversation_that_ended_another_way_keeps_every_message() -> None:
    transferred = _transcript("transfer", ("user", "A human, please."), ("assistant", "Sure."))
    capped = _transcript("max_turns", ("user", "Wait ###STOP###"), ("assistant", "Yes?"))
    assert len(training_messages(transferred, STOP)) == 2
    assert len(training_messages(capped, STOP)) == 2
    assert len(training_messages(_transcript("stop", ("user", STOP)), None)) == 1


TWO_DOMAINS = (Path(__file__).parents[1] / "two_domains.yaml").read_text()


async def test_tau_writes_one_task_list_per_domain(tmp_path: Path) -> None:
    playbook = tmp_path / "two.yaml"
    playbook.write_text(TWO_DOMAINS)
    loaded = load_playbook(playbook, {"store": str(tmp_path / "run")})
    summary = await run_playbook(loaded)
    assert summary.counts == {"retail_tasks": {"accepted": 3}, "airline_tasks": {"accepted": 2}}
    out = tmp_path / "tau"
    assert await export_stored_run(loaded, Path(summary.store_path), "tau", out) == 5
    names = sorted(path.name for path in out.iterdir())
    assert names == ["tasks_airline.json", "tasks_retail.json"]
    for domain, count in (("retail", 3), ("airline", 2)):
        tasks = json.loads((out / f"tasks_{domain}.json").read_text())
        assert [TauBenchTask.model_validate(task).user_id for task in tasks]  # loads as tau-bench
        assert len(tasks) == count
        assert {task["metadata"]["phase"] for task in tasks} == {f"{domain}_tasks"}
        base = resolve_domain(domain).environment({"data": {"seed": 0}})
        for task in tasks:
            assert all(result.ok for result in base.fork().run(task["actions"]))


class TauBenchAction(BaseModel):
    """tau-bench's `Action` (tau_bench/types.py): a tool name and its keyword arguments."""

    name: str
    kwargs: dict[str, Any]


class TauBenchTask(BaseModel):
    """tau-bench's `Task`: pydantic with default settings, so unknown keys are ignored."""

    user_id: str
    actions: list[TauBenchAction]
    instruction: str
    outputs: list[str]


def test_phases_of_one_domain_on_other_data_get_their_own_task_files(tmp_path: Path) -> None:
    text = TWO_DOMAINS.replace(
        "name: airline, options: {data: {seed: 0}}", "name: retail, options: {data: {seed: 1}}"
    )
    playbook = tmp_path / "two.yaml"
    playbook.write_text(text)
    files = task_files(load_playbook(playbook).playbook)
    assert files == {
        "retail_tasks": "tasks_retail_retail_tasks.json",
        "airline_tasks": "tasks_retail_airline_tasks.json",
    }
    same = TWO_DOMAINS.replace("name: airline,", "name: retail,")
    playbook.write_text(same)
    assert set(task_files(load_playbook(playbook).playbook).values()) == {"tasks_retail.json"}
