"""Variants every domain's blueprints have: the good ones (as proposed, with a failed read
before the right one, with a read made twice) and the faults any domain can carry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from benchmarks.mutation_kit import (
    Context,
    Mutation,
    Proposal,
    Variant,
    call,
    edited,
    inserted,
    replace_everywhere,
    set_argument,
    with_actions,
)
from domains.base import TRANSFER_TOOLS

OTHER_CANDIDATES: Final = 40
"""How many other users' records a wrong-id variant tries before giving up."""

# -- good variants ------------------------------------------------------------------------------


def original(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    yield Variant("original", pattern, proposal)


def failed_read(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """A lookup that finds nobody before the right one; a wrong record id before the right."""
    profile, actions = context.profile, proposal["actions"]
    lookup = next((i for i, a in enumerate(actions) if a["name"] in profile.lookups), None)
    if lookup is not None:
        mutated = inserted(actions, lookup, profile.failed_lookup)
        yield Variant("failed_read", pattern, with_actions(proposal, mutated))
    read = next((i for i, a in enumerate(actions) if a["name"] == profile.record_read), None)
    if read is not None:
        wrong = call(profile.record_read, **{profile.record_key: profile.missing_id})
        yield Variant(
            "failed_read", pattern, with_actions(proposal, inserted(actions, read, wrong))
        )


def repeated_read(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """The first read, and the first record read, each made twice in a row."""
    actions, writes = proposal["actions"], set(context.writes(proposal))
    reads = [
        i for i, a in enumerate(actions) if i not in writes and a["name"] not in TRANSFER_TOOLS
    ]
    record = [i for i in reads if actions[i]["name"] == context.profile.record_read]
    for index in dict.fromkeys(reads[:1] + record[:1]):
        doubled = inserted(actions, index + 1, actions[index])
        yield Variant("repeated_read", pattern, with_actions(proposal, doubled))


# -- faults -------------------------------------------------------------------------------------


def wrong_subject(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """The blueprint names another user than the one its lookup finds and its writes serve."""
    if not any(a["name"] in context.profile.lookups for a in proposal["actions"]):
        return
    other = next(key for key in context.env.state.keys("users") if key != proposal["user_id"])
    mutated = edited(proposal, lambda p: p.update(user_id=other))
    yield Variant("wrong_subject", pattern, mutated, "policy", context.profile.subject_rule)


def missing_lookup(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """The writes without the identity lookup before them."""
    lookups = context.profile.lookups
    if not context.writes(proposal) or not any(a["name"] in lookups for a in proposal["actions"]):
        return
    kept = with_actions(proposal, [a for a in proposal["actions"] if a["name"] not in lookups])
    yield Variant("missing_lookup", pattern, kept, "policy", context.profile.lookup_rule)


def unknown_tool(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """The last action calls a tool the domain does not have."""
    if proposal["actions"]:
        renamed = f"{proposal['actions'][-1]['name']}_now"
        mutated = edited(proposal, lambda p: p["actions"][-1].update(name=renamed))
        yield Variant("unknown_tool", pattern, mutated, "format")


def missing_argument(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """The first required argument of the first action that has one, left out."""
    for index, act in enumerate(proposal["actions"]):
        fields = context.domain.tools[act["name"]].args_model.model_fields
        required = [name for name, info in fields.items() if info.is_required()]
        if required:
            kwargs = {k: v for k, v in act["kwargs"].items() if k != required[0]}
            actions = [*proposal["actions"][:index], {**act, "kwargs": kwargs}]
            actions += proposal["actions"][index + 1 :]
            yield Variant("missing_argument", pattern, with_actions(proposal, actions), "format")
            return


def duplicate_write(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """The first write made twice in a row."""
    writes, actions = context.writes(proposal), proposal["actions"]
    if writes:
        doubled = inserted(actions, writes[0] + 1, actions[writes[0]])
        yield Variant("duplicate_write", pattern, with_actions(proposal, doubled), "execution")


def _written_id(context: Context, proposal: Proposal) -> tuple[str, Any] | None:
    """The argument naming what the first write changes: its record id, else its user."""
    writes = context.writes(proposal)
    if not writes:
        return None
    kwargs = proposal["actions"][writes[0]]["kwargs"]
    for key in (context.profile.record_key, "user_id"):
        if key in kwargs:
            return key, kwargs[key]
    return None


def nonexistent_id(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """The first write's record (or user) id, wherever it appears, replaced by one that is
    nobody's: the write fails."""
    found = _written_id(context, proposal)
    if found is not None:
        key, old = found
        missing = context.profile.missing_id if key == context.profile.record_key else "nobody_0"
        mutated = replace_everywhere(proposal, key, old, missing)
        yield Variant("nonexistent_id", pattern, mutated, "execution")


def wrong_id(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """The first write's record, wherever it appears, replaced by another user's record on
    which the actions still succeed; or the user it writes for replaced by another user."""
    found = _written_id(context, proposal)
    if found is None:
        return
    key, old = found
    profile, state = context.profile, context.env.state
    if key == profile.record_key:
        owner = state.get(profile.record_table, old)
        others = [
            record_id
            for record_id, record in state.items(profile.record_table)
            if owner is not None and record["user_id"] != owner["user_id"]
        ]
    else:
        others = [user_id for user_id in state.keys("users") if user_id != old]
    write = context.writes(proposal)[0]
    for other in others[:OTHER_CANDIDATES]:
        if key == profile.record_key:
            mutated = replace_everywhere(proposal, key, old, other)
        else:
            mutated = set_argument(proposal, write, key, other)
        if context.reaches_policy(mutated):
            yield Variant("wrong_id", pattern, mutated, "policy", profile.served_rule)
            return


def loose_types(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """The first action with a number (or a string of digits) argument, that argument given
    as another JSON type: '3', 3.0 or true for an integer; a string for a number; a number
    for a string of digits."""
    for index, act in enumerate(proposal["actions"]):
        parameters = context.domain.tools[act["name"]].schema()["function"]["parameters"]
        loose = list(_loosened(parameters.get("properties", {}), act["kwargs"]))
        for key, value in loose:
            yield Variant(
                "loose_types", pattern, set_argument(proposal, index, key, value), "format"
            )
        if loose:
            return


def _loosened(schemas: dict[str, Any], kwargs: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    """(argument, value of the wrong JSON type) pairs, for the arguments that allow them.

    Zip codes are left alone: the airline spec accepts an integer zip.
    """
    for key, value in kwargs.items():
        if key == "zip":
            continue
        types = _types(schemas.get(key, {}))
        if type(value) is int and types == {"integer"}:
            yield from ((key, str(value)), (key, float(value)), (key, True))
        elif type(value) in (int, float) and "number" in types:
            yield key, str(value)
        elif isinstance(value, str) and value.isdigit() and types == {"string"}:
            yield key, int(value)
        elif isinstance(value, list) and value and all(_digits(v) for v in value):
            yield key, [int(v) for v in value]


def _digits(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit()


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a property schema allows."""
    if "type" in schema:
        return {schema["type"]}
    return {option["type"] for option in schema.get("anyOf", []) if "type" in option}


GENERIC_MUTATIONS: Final[tuple[Mutation, ...]] = (
    original,
    failed_read,
    repeated_read,
    wrong_subject,
    missing_lookup,
    unknown_tool,
    missing_argument,
    duplicate_write,
    nonexistent_id,
    wrong_id,
    loose_types,
)
