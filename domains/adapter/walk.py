"""Task patterns for a domain nobody wrote patterns for: random walks on its API graph.

A walk runs on a fork of the data: for an `act` task it picks a write tool, often first
calls a read that feeds it (an edge of the inferred graph), calls the write with arguments
drawn from what the read returned and from the state, then may follow an edge to a second
write. An `answer` task calls a read (after one that feeds it, sometimes) and asks for
facts of its output. Every call must succeed (and every write change something) or the
walk starts over; the task says every value the calls use, so a user can give them.
When no walk succeeds, `failure` names what was missing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from domains.adapter.probe import quiet_call
from domains.adapter.values import (
    ValuePool,
    draw_arguments,
    output_pool,
    state_pool,
    telling,
    words,
)
from domains.base import Action, Ending, Task, TaskPattern
from domains.environment import Environment
from domains.task_draft import PERSONAS, runs_cleanly

if TYPE_CHECKING:
    from domains.adapter.domain import AdaptedDomain

WALKS: Final = 12
CALL_TRIES: Final = 6


def walk_patterns(domain: AdaptedDomain) -> tuple[TaskPattern, ...]:
    """An `act` walk when the domain has writes, an `answer` walk when it has reads."""
    writes = domain.write_tools()
    found: list[TaskPattern] = []
    if writes:
        found.append(ActWalk(domain))
    if any(name not in writes for name in domain.tools):
        found.append(AnswerWalk(domain))
    return tuple(found)


def phrase(name: str, arguments: dict[str, Any]) -> str:
    """`send message with receiver id "u2" and text "hi"`: a call as a user would ask for it."""
    details = " and ".join(
        f"{key.replace('_', ' ')} {json.dumps(value, ensure_ascii=False)}"
        for key, value in arguments.items()
    )
    words_of_name = name.replace("_", " ")
    return f"{words_of_name} with {details}" if details else words_of_name


class WalkPattern(TaskPattern):
    """Shared walking: arguments from the state and from earlier outputs, calls on a fork."""

    name = "graph_walk"
    description = "a random walk on the inferred API graph"
    write_tools: tuple[str, ...] = ()  # type: ignore[misc]

    def __init__(self, domain: AdaptedDomain) -> None:
        self.domain = domain
        self.write_tools = tuple(domain.write_tools())
        self.failure = ""
        self._pools: dict[str, ValuePool] = {}
        self._schemas = {
            name: tool.schema()["function"]["parameters"] for name, tool in domain.tools.items()
        }

    def instantiate(self, env: Environment, rng: random.Random) -> Task | None:
        """A task from one of a few walks that runs cleanly, else None (see `failure`)."""
        pool = self._pool(env)
        subjects = self.domain.subjects(env)
        self.failure = f"no {self.ending!r} walk on the API graph succeeded"
        for _ in range(WALKS):
            subject = rng.choice(subjects)
            task = self.walk(env.fork(), rng, subject, pool)
            if task is not None and runs_cleanly(env, task):
                self.failure = ""
                return task
        return None

    def walk(
        self, fork: Environment, rng: random.Random, subject: str, pool: ValuePool
    ) -> Task | None:
        raise NotImplementedError

    def _pool(self, env: Environment) -> ValuePool:
        key = env.fingerprint()
        if key not in self._pools:
            self._pools[key] = state_pool(env)
        return self._pools[key]

    def _call(
        self,
        fork: Environment,
        name: str,
        rng: random.Random,
        pool: ValuePool,
        fed: ValuePool,
        subject: str,
        done: Sequence[Action],
        must_change: bool,
    ) -> tuple[Action, Any] | None:
        """A successful call of `name` (changing the state if `must_change`), or None."""
        pinned = {} if subject == "default" else self._subject_arguments(name, subject)
        for _ in range(CALL_TRIES):
            arguments = draw_arguments(
                self._schemas[name],
                pool,
                rng,
                fed=fed if fed.entries else None,
                prefer=pinned,
                free=self.domain.free_parameters(name),
            )
            if arguments is None:
                self.failure = f"{name}: no value in the state fits a required argument"
                return None
            action = Action(name=name, kwargs=arguments)
            if action in done:
                continue
            result = quiet_call(fork, name, arguments)
            if result.ok and (result.changed or not must_change):
                output_pool(result.value, fed)
                for key, value in arguments.items():
                    fed.add(words(key), value)
                return action, result.value
            if not result.ok:
                self.failure = f"{name} failed with arguments drawn from the state: {result.output}"
        return None

    def _subject_arguments(self, name: str, subject: str) -> dict[str, Any]:
        """Parameters named like the subject table's key (`user_id`) get the subject."""
        table = self.domain._subject_table or ""
        stem = words(table.rpartition(".")[2])
        properties = self._schemas[name].get("properties", {})
        return {
            key: subject
            for key, spec in properties.items()
            if spec.get("type") == "string" and stem & words(key) and words(key) & {"id", "name"}
        }


class ActWalk(WalkPattern):
    """Writes, each often after a read that feeds it; one or two writes along graph edges."""

    ending: Ending = "act"  # type: ignore[misc]

    def walk(
        self, fork: Environment, rng: random.Random, subject: str, pool: ValuePool
    ) -> Task | None:
        graph = self.domain.api_graph
        writes = list(self.write_tools)
        actions: list[Action] = []
        asks: list[str] = []
        fed = ValuePool()
        current = rng.choice(writes)
        for step in range(rng.randint(1, 2)):
            feeders = [name for name in graph.predecessors(current) if name not in writes]
            if feeders and rng.random() < 0.7:
                read = self._call(
                    fork, rng.choice(feeders), rng, pool, fed, subject, actions, False
                )
                if read is not None:
                    actions.append(read[0])
            done = self._call(fork, current, rng, pool, fed, subject, actions, True)
            if done is None:
                if step == 0:
                    return None
                break
            actions.append(done[0])
            asks.append(phrase(current, done[0].kwargs))
            following = [name for name in graph.successors(current) if name in writes]
            if not following or rng.random() < 0.3:
                following = [name for name in writes if name != current]
            if not following:
                break
            current = rng.choice(following)
        instruction = "You want to " + ". Then you want to ".join(asks) + ". "
        return Task(
            user_id=subject,
            instruction=instruction + rng.choice(PERSONAS),
            actions=actions,
            outputs=[],
            ending="act",
        )


class AnswerWalk(WalkPattern):
    """A read (sometimes after a read that feeds it) whose output's facts the user asks for."""

    ending: Ending = "answer"  # type: ignore[misc]

    def walk(
        self, fork: Environment, rng: random.Random, subject: str, pool: ValuePool
    ) -> Task | None:
        graph = self.domain.api_graph
        reads = [name for name in self.domain.tools if name not in self.write_tools]
        target = rng.choice(reads)
        actions: list[Action] = []
        fed = ValuePool()
        feeders = [name for name in graph.predecessors(target) if name in reads]
        if feeders and rng.random() < 0.5:
            first = self._call(fork, rng.choice(feeders), rng, pool, fed, subject, actions, False)
            if first is not None:
                actions.append(first[0])
        done = self._call(fork, target, rng, pool, fed, subject, actions, False)
        if done is None:
            return None
        action, output = done
        actions.append(action)
        facts = _facts(output, rng)
        if not facts:
            self.failure = f"{target}: its output holds no fact to ask for"
            return None
        fields = " and the ".join(name for name, _ in facts)
        instruction = (
            f"You want to know the {fields} you get when you {phrase(target, action.kwargs)}. "
        )
        return Task(
            user_id=subject,
            instruction=instruction + rng.choice(PERSONAS),
            actions=actions,
            outputs=[value for _, value in facts],
            ending="answer",
        )


def _facts(output: Any, rng: random.Random, most: int = 2) -> list[tuple[str, str]]:
    """Up to `most` (field, value text) pairs from an output, telling values only."""
    leaves: list[tuple[str, Any]] = []

    def walk(value: Any, name: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, str(key).replace("_", " "))
        elif isinstance(value, list):
            for item in value[:5]:
                walk(item, name)
        elif telling(value) and len(str(value)) <= 60:
            leaves.append((name, value))

    walk(output, "result")
    unique = list(dict.fromkeys((name, str(value)) for name, value in leaves))
    rng.shuffle(unique)
    return unique[:most]
