"""Trajectory verification (pure functions): ending, policy, final state, required outputs.

A trajectory is accepted when it ended as the task expects (a transfer task by a transfer),
broke no policy rule (`agents.dialogue.trajectory_policy`, judged by the caller), replaying the
blueprint's ground-truth actions on a fresh fork of the base environment yields the same
state fingerprint as the conversation's fork, and every required output appears
(normalised) in what the assistant said.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, Field

from agents.dialogue.transcript import EndReason
from domains.base import Action, Ending
from domains.environment import Environment
from domains.state import Record

MismatchKind = Literal["missing", "unexpected", "different"]

_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])")
_DECIMAL = re.compile(r"(?<![\d.])(\d+)\.(\d+)(?!\d)(?!\.\d)")
_SPACE = re.compile(r"\s+")


class RecordMismatch(BaseModel):
    """A record whose state after the conversation differs from the replayed ground truth.

    `missing`: the ground truth changed it, the conversation did not; `unexpected`: the
    reverse; `different`: both changed it, differently.
    """

    table: str
    key: str
    kind: MismatchKind
    expected: Record | None
    actual: Record | None

    def __str__(self) -> str:
        return f"{self.table}/{self.key} ({self.kind})"


class TrajectoryVerdict(BaseModel):
    """The verifier's decision with every reason; `*_ok` are None when unchecked.

    `policy_ok` is reported even when the policy only informs (`policy: report`): then its
    violations are listed but are not reasons.
    """

    accepted: bool
    policy_ok: bool | None = None
    state_ok: bool | None = None
    outputs_ok: bool | None = None
    reasons: list[str] = Field(default_factory=list)
    violations: list[str] = Field(default_factory=list)
    expected_fingerprint: str = ""
    actual_fingerprint: str = ""
    mismatches: list[RecordMismatch] = Field(default_factory=list)
    missing_outputs: list[str] = Field(default_factory=list)
    replay_errors: list[str] = Field(default_factory=list)


def normalize_text(text: str) -> str:
    """Lower case, `$` dropped, thousands separators and trailing decimal zeros removed,
    whitespace collapsed: "$1,234.50" and "1234.5" normalise alike."""
    lowered = text.lower().replace("$", "")
    lowered = _THOUSANDS.sub(lambda match: match.group(0).replace(",", ""), lowered)
    lowered = _DECIMAL.sub(_trim_decimal, lowered)
    return _SPACE.sub(" ", lowered).strip()


def _trim_decimal(match: re.Match[str]) -> str:
    fraction = match.group(2).rstrip("0")
    return f"{match.group(1)}.{fraction}" if fraction else match.group(1)


def output_mentioned(output: str, said: str) -> bool:
    """Whether `output` appears in `said` as a whole token run (so "12" is not found in "123")."""
    needle = normalize_text(output)
    if not needle:
        return True
    pattern = rf"(?<![0-9a-z])(?<!\d\.){re.escape(needle)}(?![0-9a-z])(?!\.\d)"
    return re.search(pattern, normalize_text(said)) is not None


def missing_outputs(outputs: Sequence[str], said: Iterable[str]) -> list[str]:
    """The required outputs that appear in none of the assistant's messages."""
    texts = list(said)
    return [output for output in outputs if not any(output_mentioned(output, t) for t in texts)]


def replay(base: Environment, actions: Sequence[Action]) -> tuple[Environment, list[str]]:
    """The ground-truth actions run on a fresh fork of `base`, with any call that failed."""
    fork = base.fork()
    results = fork.run([action.model_dump() for action in actions])
    errors = [f"{index}: {r.name}: {r.output}" for index, r in enumerate(results) if not r.ok]
    return fork, errors


def state_mismatches(expected: Environment, actual: Environment) -> list[RecordMismatch]:
    """Records that differ between two forks of the same base, in table then key order."""
    expected_changes = {(c.table, c.key): c for c in expected.diff()}
    actual_changes = {(c.table, c.key): c for c in actual.diff()}
    mismatches: list[RecordMismatch] = []
    for address in sorted(expected_changes.keys() | actual_changes.keys()):
        want, got = expected_changes.get(address), actual_changes.get(address)
        either = want if want is not None else got
        assert either is not None
        expected_record = want.after if want is not None else either.before
        actual_record = got.after if got is not None else either.before
        if expected_record == actual_record:
            continue
        kind: MismatchKind = "different"
        if want is None or got is None:
            kind = "missing" if got is None else "unexpected"
        mismatches.append(
            RecordMismatch(
                table=address[0],
                key=address[1],
                kind=kind,
                expected=expected_record,
                actual=actual_record,
            )
        )
    return mismatches


def verify_trajectory(
    base: Environment,
    actions: Sequence[Action],
    outputs: Sequence[str],
    actual: Environment,
    said: Sequence[str],
    *,
    check_state: bool = True,
    check_outputs: bool = True,
    end: EndReason | None = None,
    endings: Collection[EndReason] | None = None,
    expected: Ending | None = None,
    violations: Sequence[str] | None = None,
    enforce_policy: bool = True,
    replayed: tuple[Environment, list[str]] | None = None,
) -> TrajectoryVerdict:
    """Compare the conversation's final state and messages with the blueprint's.

    With `endings`, the conversation must have ended in one of those ways, and a task whose
    `expected` ending is a transfer must end by one. `violations` are the trajectory's
    policy violations (None: not checked); they reject it when `enforce_policy`.
    `replayed` is `replay(base, actions)` when the caller keeps it (the trials of one
    blueprint share it); it is only read.
    """
    verdict = TrajectoryVerdict(accepted=True, actual_fingerprint=actual.fingerprint())
    if endings is not None and end not in endings:
        verdict.reasons.append(f"unfinished: the conversation ended by {end}")
    elif endings is not None and expected == "transfer" and end != "transfer":
        verdict.reasons.append(
            f"ending: the task needs a transfer, the conversation ended by {end}"
        )
    if violations is not None:
        verdict.violations = list(violations)
        verdict.policy_ok = not verdict.violations
        if enforce_policy:
            verdict.reasons.extend(verdict.violations)
    if check_state:
        expected_env, errors = replayed or replay(base, actions)
        verdict.replay_errors = list(errors)
        verdict.expected_fingerprint = expected_env.fingerprint()
        verdict.state_ok = verdict.expected_fingerprint == verdict.actual_fingerprint
        if not verdict.state_ok:
            verdict.mismatches = state_mismatches(expected_env, actual)
            listed = ", ".join(str(m) for m in verdict.mismatches) or "fingerprints differ"
            verdict.reasons.append(f"state_mismatch: {listed}")
    if check_outputs:
        verdict.missing_outputs = missing_outputs(outputs, said)
        verdict.outputs_ok = not verdict.missing_outputs
        verdict.reasons.extend(f"missing_output: {value}" for value in verdict.missing_outputs)
    verdict.accepted = not verdict.reasons
    return verdict
