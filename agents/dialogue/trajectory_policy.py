"""The trajectory policy check (pure functions): a kept conversation must follow the policy.

Reaching the right state is not enough for training data: an agent that writes before the
user agreed teaches the skipped confirmation. Over a trajectory's actual calls and dialogue:
- every write is confirmed: the user agreed ("yes") after the agent listed that write (its
  action and its target, in the one or two messages before the agreement); one "yes" to a
  plan listing several writes confirms each of them once;
- one tool call per assistant message where the domain's policy says so;
- no call the domain's mechanical rules forbid (over the calls' results on a fork of the
  base state);
- a transfer to a human agent only when the task's right answer is a transfer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agents.dialogue.assistant import NOT_RUN, ExecutedCall
from agents.dialogue.transcript import ChatMessage, ToolCall
from agents.dialogue.verify import normalize_text, output_mentioned
from domains.base import TRANSFER_TOOLS, Domain, Ending
from domains.environment import Environment, ToolResult

LISTING_MESSAGES = 2
"""How many of the agent's messages before the user's agreement may hold the listed plan."""

_AFFIRMATIVE = re.compile(
    r"\b(yes|yeah|yep|yup|sure|ok|okay|confirm|confirmed|go ahead|proceed|please do|do it|"
    r"correct|that's right|that is right|absolutely|of course|sounds good)\b",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"^\W*(no|nope|nah)\b(?!\s+problem)|\b(don'?t|do not|not yet|wait|hold on|never mind|"
    r"cancel that)\b",
    re.IGNORECASE,
)
_NON_TARGET_KEYS = frozenset({"user_id", "payment_id", "payment_method_id"})
_WORD = re.compile(r"[a-z]+")


def is_affirmative(text: str) -> bool:
    """Whether a user message agrees to go ahead ("Yes, please", "Go ahead") and does not
    hold it back ("No", "Wait", "Don't do that yet")."""
    return _AFFIRMATIVE.search(text) is not None and _NEGATIVE.search(text) is None


def targets(arguments: dict[str, Any]) -> list[str]:
    """What an agent names when it lists a write: its record ids (order, reservation,
    item, flight numbers), else the values it writes (an amount, an address)."""
    ids = [
        str(value)
        for key, value in _leaves(arguments)
        if key not in _NON_TARGET_KEYS and (key.endswith(("_id", "_ids")) or key.endswith("number"))
    ]
    if ids:
        return ids
    return [str(value) for key, value in _leaves(arguments) if key not in _NON_TARGET_KEYS]


def _leaves(value: Any, key: str = "") -> Iterable[tuple[str, Any]]:
    """(argument name, scalar value) pairs, nested lists and objects flattened."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _leaves(item, str(name))
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, key)
    elif isinstance(value, str | int | float) and not isinstance(value, bool) and str(value):
        yield key, value


def lists_write(text: str, call: ToolCall, words: Sequence[str]) -> bool:
    """Whether `text` lists this write: one of its action words and one of its targets (a
    write whose only argument is the user's own id has none: its words suffice)."""
    said = normalize_text(text)
    vocabulary = set(_WORD.findall(said))
    names_action = any(w.startswith(stem) for stem in words for w in vocabulary)
    named = targets(call.arguments)
    return names_action and (
        not named or any(output_mentioned(target.lstrip("#"), said) for target in named)
    )


@dataclass
class _Agreement:
    """What the user's latest "yes" agreed to, and the writes it has already covered."""

    listing: str = ""
    used: list[ToolCall] = field(default_factory=list)

    def covers(self, call: ToolCall, words: Sequence[str]) -> bool:
        if not lists_write(self.listing, call, words):
            return False
        return not any(_same_write(call, done) for done in self.used)


def _same_write(left: ToolCall, right: ToolCall) -> bool:
    return left.name == right.name and left.arguments == right.arguments


WordsOf = Callable[[str], "Sequence[str] | None"]
"""A write tool's action words; None for a tool that does not write."""


def unconfirmed_writes(messages: Sequence[ChatMessage], words_of: WordsOf) -> list[str]:
    """Writes the user did not agree to after the agent listed them.

    `words_of(tool)` gives a write tool's action words and is None for reads. A user turn
    that is not a "yes" withdraws the earlier agreement; a write that failed does not use
    its agreement up (the agent may retry it).
    """
    violations: list[str] = []
    agreement = _Agreement()
    said: list[str] = []  # the agent's texts since its last write
    results = {m.tool_call_id: m for m in messages if m.role == "tool" and m.tool_call_id}
    for message in messages:
        if message.role == "user":
            listing = " ".join(said[-LISTING_MESSAGES:])
            agreement = _Agreement(listing) if is_affirmative(message.content) else _Agreement()
        elif message.role == "assistant" and message.content:
            said.append(message.content)
        for call in message.tool_calls:
            words = words_of(call.name)
            if words is None:
                continue
            said = []
            if not agreement.covers(call, words):
                violations.append(
                    f"unconfirmed_write: {call.name} (call {call.id}) was not listed and "
                    "agreed to by the user before it ran"
                )
                continue
            result = results.get(call.id)
            if result is None or not result.is_error:
                agreement.used.append(call)
    return violations


def parallel_calls(messages: Sequence[ChatMessage]) -> list[str]:
    """Assistant messages that make several tool calls at once."""
    return [
        f"parallel_calls: {', '.join(call.name for call in message.tool_calls)} in one message"
        for message in messages
        if len(message.tool_calls) > 1
    ]


def executed_calls(messages: Sequence[ChatMessage]) -> list[ToolCall]:
    """The calls that reached the environment: parsed arguments and a result that is not
    a refusal to run them (the second of two calls in one message is not run)."""
    results = {m.tool_call_id: m for m in messages if m.role == "tool" and m.tool_call_id}
    calls: list[ToolCall] = []
    for message in messages:
        for call in message.tool_calls:
            result = results.get(call.id)
            if call.invalid_arguments is not None or result is None:
                continue
            if result.is_error and result.content == NOT_RUN:
                continue
            calls.append(call)
    return calls


def replay_calls(base: Environment, calls: Sequence[ToolCall]) -> list[ToolResult]:
    """The trajectory's calls run again on a fresh fork of `base` (the same results)."""
    fork = base.fork()
    return [fork.call(call.name, call.arguments) for call in calls]


def rule_violations(
    domain: Domain,
    base: Environment,
    messages: Sequence[ChatMessage],
    subject: str,
    executed: Sequence[ExecutedCall] | None = None,
) -> list[str]:
    """The domain's mechanical rules over the calls the trajectory made.

    `executed` is what the conversation's environment ran on its fork of `base`: the same
    results a replay would give, so they are used as they are when they are exactly the
    calls the messages show as run (else, say for a role the caller played, the calls are
    replayed).
    """
    calls = executed_calls(messages)
    if executed is not None and [e.call_id for e in executed] == [call.id for call in calls]:
        trace = [e.full_result() for e in executed]
    else:
        trace = replay_calls(base, calls)
    return [f"policy: {violation}" for violation in domain.check_policy(trace, base, subject)]


def transfer_violations(messages: Sequence[ChatMessage], expected: Ending) -> list[str]:
    """A transfer to a human agent when the task's right answer is not one."""
    if expected == "transfer":
        return []
    failed = {m.tool_call_id for m in messages if m.role == "tool" and m.is_error}
    return [
        f"transfer_not_allowed: {call.name} although the task can be handled ({expected})"
        for message in messages
        for call in message.tool_calls
        if call.name in TRANSFER_TOOLS and call.id not in failed
    ]


def trajectory_violations(
    domain: Domain,
    base: Environment,
    messages: Sequence[ChatMessage],
    *,
    subject: str,
    expected: Ending,
    executed: Sequence[ExecutedCall] | None = None,
) -> list[str]:
    """Every way the conversation breaks the domain's policy (empty: it follows it);
    `executed`: see `rule_violations`."""
    writes = set(domain.write_tools())

    def words_of(tool: str) -> Sequence[str] | None:
        return domain.write_words(tool) if tool in writes else None

    violations = unconfirmed_writes(messages, words_of)
    if domain.sequential_tool_calls:
        violations += parallel_calls(messages)
    violations += rule_violations(domain, base, messages, subject, executed)
    violations += transfer_violations(messages, expected)
    return violations
