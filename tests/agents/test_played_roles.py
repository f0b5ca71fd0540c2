"""A protocol role played from outside the run: an embedding program's own function
(`run_playbook(..., attach=...)`) and a person at the terminal (`run --role user=console`)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agents.roles.played import UserTurn, played_user
from examples import embed_protocol
from runtime import load_playbook, run_playbook
from runtime.errors import UsageError

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).parents[2]
ONE_TASK = """\
name: console_chat
seed: 11
models: {default: {provider: simulated}}
agents: {assistant: {model: default}}
domain: {name: retail, options: {data: {seed: 0}}}
phases:
  - name: tasks
    episodes: 1
    steps: [{kind: load_task, path: %s}]
  - name: chats
    input: {phase: tasks}
    steps: [{kind: protocol, use: conversation}]
""" % (ROOT / "playbooks" / "data" / "retail_tasks.json")


def _rows(store: Path, sql: str) -> list[Any]:
    with sqlite3.connect(store) as db:
        return [json.loads(row[0]) for row in db.execute(sql).fetchall()]


async def test_an_embedding_program_plays_the_user_and_its_words_are_verified(
    tmp_path: Path,
) -> None:
    heard: list[UserTurn] = []

    async def user(turn: UserTurn) -> str:
        heard.append(turn)
        return await embed_protocol.my_user(turn)

    loaded = load_playbook(
        ROOT / "playbooks" / "trajectories.yaml", overrides={"store": str(tmp_path)}
    )
    summary = await run_playbook(loaded, attach={"human": played_user(user)})
    trajectories = _rows(
        Path(summary.store_path), "SELECT payload_json FROM results WHERE kind='trajectory'"
    )
    verdicts = _rows(
        Path(summary.store_path), "SELECT payload_json FROM results WHERE kind='verdict'"
    )
    assert len(trajectories) == len(verdicts) == 27  # 9 tasks x 3 trials, each verified
    assert sum(v["accepted"] for v in verdicts) == summary.counts["trajectories"]["accepted"] > 0
    said = [m["content"] for t in trajectories for m in t["messages"] if m["role"] == "user"]
    assert said.count("Yes, please go ahead.") > 0
    assert "###STOP###" in said
    # the player sees its task and the assistant's words, never the tool calls or results
    first = [turn for turn in heard if turn.turn == 0]
    assert len(first) == 27 and all(turn.heard == "" for turn in first)
    assert all("{" not in turn.heard for turn in heard)


async def test_attaching_a_role_the_playbook_does_not_have_names_the_ones_it_has(
    tmp_path: Path,
) -> None:
    loaded = load_playbook(
        ROOT / "playbooks" / "trajectories.yaml", overrides={"store": str(tmp_path)}
    )
    with pytest.raises(UsageError, match=r"no protocol role or role kind 'user' to play \(known: "):
        await run_playbook(loaded, attach={"user": played_user(embed_protocol.my_user)})
    assert not (tmp_path / "store.sqlite").exists()  # nothing written


CONSOLE = ("--role", "user=console")


def _store_as_console(store: Path) -> tuple[str, ...]:
    return ("--store", str(store), *CONSOLE)


def _console(
    playbook: Path, store: Path, typed: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.run", *args, str(playbook), *_store_as_console(store)],
        input=typed,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def test_a_person_at_the_console_plays_the_user_and_the_turns_are_kept(tmp_path: Path) -> None:
    playbook = tmp_path / "chat.yaml"
    playbook.write_text(ONE_TASK)
    typed = "I want to cancel order #W5435876, I ordered it by mistake.\nyes\n\n"
    done = _console(playbook, tmp_path / "run", typed, "run")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "you are the user. Your task:\nYou are Sofia Allen" in done.stdout
    assert "assistant: " in done.stdout
    (trajectory,) = _rows(
        tmp_path / "run" / "store.sqlite",
        "SELECT payload_json FROM results WHERE kind='trajectory'",
    )
    users = [m["content"] for m in trajectory["messages"] if m["role"] == "user"]
    assert users == [
        "I want to cancel order #W5435876, I ordered it by mistake.",
        "yes",
        "###STOP###",  # the empty line
    ]
    assert "chats: 1 items" in done.stdout  # verified like any trajectory
    # one episode at a time, yet the same run as without the console (its identity holds)
    plain = load_playbook(playbook, overrides={"store": str(tmp_path / "run")}).playbook
    assert f"ran {plain.run_id}:" in done.stdout


def test_the_end_of_console_input_stops_the_run_and_resume_continues_it(tmp_path: Path) -> None:
    playbook = tmp_path / "chat.yaml"
    playbook.write_text(ONE_TASK)
    left = _console(playbook, tmp_path / "run", "hello\n", "run")
    assert left.returncode == 3, left.stderr[-2000:]
    assert "the user's player left (end of input)" in left.stderr
    resumed = subprocess.run(
        [sys.executable, "-m", "runtime.run", "resume", str(tmp_path / "run"), *CONSOLE],
        input="cancel #W5435876 please\nyes\n\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "chats: 1 items" in resumed.stdout


def test_a_role_option_names_what_is_wrong(tmp_path: Path) -> None:
    playbook = tmp_path / "chat.yaml"
    playbook.write_text(ONE_TASK)
    for option, message in [
        ("user=phone", "unknown player 'phone' (known: console)"),
        ("critic=console", "--role 'critic=console': no protocol role 'critic' (known: "),
        ("console", "--role 'console': expected ROLE=PLAYER, e.g. user=console"),
    ]:
        other = ("--store", str(tmp_path / "other"))
        done = subprocess.run(
            [sys.executable, "-m", "runtime.run", str(playbook), "--role", option, *other],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            check=False,
        )
        assert done.returncode == 2 and message in done.stderr, (option, done.stderr)
        assert not (tmp_path / "other").exists()


async def test_one_at_a_time_plays_one_episode_at_a_time(tmp_path: Path) -> None:
    order: list[str] = []

    async def user(turn: UserTurn) -> str:
        order.append(turn.episode)
        return await embed_protocol.my_user(turn)

    loaded = load_playbook(
        ROOT / "playbooks" / "trajectories.yaml", overrides={"store": str(tmp_path)}
    )
    assert loaded.playbook.concurrency > 1
    summary = await run_playbook(loaded, attach={"human": played_user(user)}, one_at_a_time=True)
    assert sum(summary.counts["trajectories"].values()) == 27
    # each episode's turns come together: no episode's turn falls between another's
    runs = [key for index, key in enumerate(order) if index == 0 or order[index - 1] != key]
    assert len(runs) == len(set(runs)) == 27
