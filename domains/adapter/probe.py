"""Probing an adapted domain on forks of its base: which tools write, and what feeds what.

Arguments are drawn from the state (`ValuePool`: every scalar and dict key the instance
holds, filed under the words of the name that holds it) and from earlier calls' outputs,
matched to a parameter by the words of its name, then by its JSON type. Every probe runs on
a fresh fork, so the base never changes.

- Access: an unmarked method is a write if a probe call changed the state, a read if probe
  calls succeeded without changing it, and a write (the safe mistake) if none succeeded.
- API graph: T -> U when, after a successful call of T, a call of U succeeds with an
  argument taken from T's output or from what T wrote.
- A field changed by every successful call (a wall-clock stamp, a call counter) is reported:
  exclude it, make it volatile, or freeze the clock.
"""

from __future__ import annotations

import copy
import random
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from domains.adapter.calls import changed_fields
from domains.adapter.values import (
    ValuePool,
    draw_arguments,
    fresh_value,
    output_pool,
    state_pool,
    telling,
    words,
)
from domains.environment import Environment, ToolResult, render_output

if TYPE_CHECKING:
    from domains.adapter.domain import AdaptedDomain, _Binding

PROBE_TRIES: Final = 16
FEED_TRIES: Final = 5


def quiet_call(env: Environment, name: str, arguments: Mapping[str, Any]) -> ToolResult:
    """`env.call` without logging a crash: probes try arguments that are meant to fail."""
    found = env.domain.tools.get(name)
    if found is None:
        return ToolResult(name, dict(arguments), False, f"unknown tool {name!r}")
    try:
        parsed = found.args_model.model_validate(dict(arguments))
        with env.state.transaction():
            value = found.fn(env.state, parsed)
    except Exception as exc:
        return ToolResult(name, dict(arguments), False, f"{type(exc).__name__}: {exc}")
    return ToolResult(
        name,
        dict(arguments),
        True,
        render_output(value),
        value,
        found.writes,
        env.state.last_transaction_changed,
    )


@dataclass
class Probe:
    """One successful probe call: its arguments, whether it changed the state, what it gave."""

    arguments: dict[str, Any]
    changed: bool
    fields: frozenset[str]
    output: Any


def probe_tool(
    env: Environment,
    schema: Mapping[str, Any],
    name: str,
    pool: ValuePool,
    rng: random.Random,
    tries: int = PROBE_TRIES,
    wanted: int = 3,
) -> list[Probe]:
    """Up to `wanted` successful calls of `name` on fresh forks of `env`."""
    found: list[Probe] = []
    for _ in range(tries):
        arguments = draw_arguments(schema, pool, rng)
        if arguments is None:
            break
        fork = env.fork()
        result = quiet_call(fork, name, arguments)
        if result.ok:
            fields = frozenset(
                f for c in fork.diff() for f in changed_fields(c.key, c.before, c.after)
            )
            found.append(Probe(arguments, result.changed, fields, result.value))
            if len(found) >= wanted:
                break
    return found


_CACHE: OrderedDict[tuple[Any, ...], _Binding] = OrderedDict()
_CACHE_SIZE: Final = 32


def probe(domain: AdaptedDomain, env: Environment, *, infer: bool, seed: int = 0) -> _Binding:
    """Access of unmarked tools, the API graph and state warnings, from calls on forks.

    Probing is seeded, so the same classes, options and data give the same answer: it is
    remembered for the last few of them (tests and workers load the same domain often).
    """
    key = (
        domain.name,
        tuple(
            (part.cls, part.target, part.prefix, part.options.model_dump_json())
            for part in domain._parts
        ),
        env.fingerprint(),
        infer,
        seed,
    )
    found = _CACHE.get(key)
    if found is None:
        found = _probe(domain, env, infer=infer, seed=seed)
        _CACHE[key] = found
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    return copy.deepcopy(found)


def _probe(domain: AdaptedDomain, env: Environment, *, infer: bool, seed: int) -> _Binding:
    from domains.adapter.domain import _Binding

    rng = random.Random(seed)
    pool = state_pool(env)
    schemas = {name: tool.schema()["function"]["parameters"] for name, tool in domain.tools.items()}
    probes = {name: probe_tool(env, schemas[name], name, pool, rng) for name in domain.tools}
    after = _after_writes(env, schemas, probes, pool, rng)
    binding = _Binding()
    for name, spec in domain._specs.items():
        if spec.declared is not None or not infer:
            continue
        calls = probes[name]
        if calls and not any(call.changed for call in calls):
            calls = [*calls, *_with_new_values(env, name, calls[0], rng)]
        if any(call.changed for call in calls):
            binding.access[name] = True
            binding.evidence[name] = "write: a probe call changed the state"
        elif calls:
            binding.access[name] = False
            binding.evidence[name] = f"read: {len(calls)} probe calls changed nothing"
        else:
            binding.access[name] = True
            binding.evidence[name] = "write (assumed): no probe call succeeded"
            binding.warnings.append(
                f"{name}: no probe call succeeded, so it counts as a write; declare it"
            )
    known = {(type(v).__name__, v) for _, v in pool.entries}
    free = {name: _free_parameters(env, name, found, known, rng) for name, found in probes.items()}
    binding.free = {name: frozenset(params) for name, params in free.items() if params}
    found = _edges(env, schemas, probes, pool, free, rng)
    binding.edges = tuple(dict.fromkeys([*after, *found]))
    binding.warnings += _every_call_warnings(probes)
    return binding


def _with_new_values(env: Environment, name: str, call: Probe, rng: random.Random) -> list[Probe]:
    """A successful call again with one argument at a time given a new value: a write that
    was asked to write what the state already held shows itself."""
    found: list[Probe] = []
    for key, value in call.arguments.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            continue
        kind = "string" if isinstance(value, str) else "number"
        fork = env.fork()
        result = quiet_call(fork, name, {**call.arguments, key: fresh_value(key, kind, rng)})
        if result.ok:
            fields = frozenset(
                f for c in fork.diff() for f in changed_fields(c.key, c.before, c.after)
            )
            found.append(Probe(call.arguments, result.changed, fields, result.value))
    return found


def _after_writes(
    env: Environment,
    schemas: Mapping[str, Mapping[str, Any]],
    probes: dict[str, list[Probe]],
    pool: ValuePool,
    rng: random.Random,
) -> list[tuple[str, str]]:
    """Tools no probe could call on the base, tried after each write that succeeded (a
    login before a send): their probes, and the edges that made them possible."""
    edges: list[tuple[str, str]] = []
    writers = [(name, found[0]) for name, found in probes.items() if found and found[0].changed]
    for target in [name for name, found in probes.items() if not found]:
        for source, first in writers:
            ready = env.fork()
            if not quiet_call(ready, source, first.arguments).ok:
                continue
            fed = output_pool(first.output)
            for key, value in first.arguments.items():
                fed.add(words(key), value)
            found = probe_tool(ready, schemas[target], target, pool, rng, tries=FEED_TRIES)
            if not found:
                found = _fed_probe(ready, schemas[target], target, pool, fed, rng)
            if found:
                probes[target] = found
                if not quiet_call(env.fork(), target, found[0].arguments).ok:
                    edges.append((source, target))
                break
    return edges


def _fed_probe(
    env: Environment,
    schema: Mapping[str, Any],
    name: str,
    pool: ValuePool,
    fed: ValuePool,
    rng: random.Random,
) -> list[Probe]:
    for _ in range(FEED_TRIES):
        arguments = draw_arguments(schema, pool, rng, fed=fed)
        if arguments is None:
            return []
        fork = env.fork()
        result = quiet_call(fork, name, arguments)
        if result.ok:
            fields = frozenset(
                f for c in fork.diff() for f in changed_fields(c.key, c.before, c.after)
            )
            return [Probe(arguments, result.changed, fields, result.value)]
    return []


def _edges(
    env: Environment,
    schemas: Mapping[str, Mapping[str, Any]],
    probes: Mapping[str, Sequence[Probe]],
    pool: ValuePool,
    free: Mapping[str, set[str]],
    rng: random.Random,
) -> Iterator[tuple[str, str]]:
    """T -> U when U succeeds after T with a value T revealed (in its output) or wrote (an
    argument the state did not hold), in a parameter U does not take just any value for."""
    known = {(type(v).__name__, v) for _, v in pool.entries}
    for source, calls in probes.items():
        if not calls:
            continue
        first = calls[0]
        after = env.fork()
        if not quiet_call(after, source, first.arguments).ok:
            continue
        fed = output_pool(first.output)
        revealed = {(type(v).__name__, v) for _, v in fed.entries if telling(v)}
        if first.changed:
            for key, value in first.arguments.items():
                fed.add(words(key), value)
                if telling(value) and (type(value).__name__, value) not in known:
                    revealed.add((type(value).__name__, value))
        if not revealed:
            continue
        for target in schemas:
            if target == source:
                continue
            for _ in range(FEED_TRIES):
                arguments = draw_arguments(schemas[target], pool, rng, fed=fed)
                if arguments is None:
                    break
                used = {
                    (type(v).__name__, v)
                    for key, value in arguments.items()
                    if key not in free[target]
                    for v in _scalars(value)
                }
                if not used & revealed:
                    continue
                if quiet_call(after.fork(), target, arguments).ok:
                    yield source, target
                    break


def _free_parameters(
    env: Environment,
    name: str,
    calls: Sequence[Probe],
    known: set[tuple[str, Any]],
    rng: random.Random,
) -> set[str]:
    """Parameters that take a value the state does not hold (a new name, a new text): any
    value does for them, so a value fed into them proves nothing."""
    free = {
        key
        for call in calls
        for key, value in call.arguments.items()
        if any((type(v).__name__, v) not in known for v in _scalars(value))
    }
    if not calls:
        return free
    for key, value in calls[0].arguments.items():
        if key in free or not isinstance(value, str | int) or isinstance(value, bool):
            continue
        fresh = f"{key}_{rng.randrange(1000, 9999)}" if isinstance(value, str) else 7919
        if quiet_call(env.fork(), name, {**calls[0].arguments, key: fresh}).ok:
            free.add(key)
    return free


def _scalars(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    else:
        yield value


def _every_call_warnings(probes: Mapping[str, Sequence[Probe]]) -> list[str]:
    """Fields that every successful call changed, reads included: clocks and counters."""
    calls = [call for found in probes.values() for call in found]
    tools = [name for name, found in probes.items() if found]
    if len(calls) < 3 or len(tools) < 2:
        return []
    always = frozenset.intersection(*(call.fields for call in calls))
    return [
        f"{name} changes on every call (a clock or a counter?): make it volatile, exclude it, "
        "or freeze the clock"
        for name in sorted(always)
    ]
