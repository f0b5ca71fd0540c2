"""Deterministic blueprint validators: format, then execution, then policy.

Each returns a `CheckResult` with machine-readable reasons (`code: detail`), so the
acceptance funnel can count failures per stage and the proposer gets precise feedback.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agents.blueprints.blueprint import Blueprint, ProposedBlueprint
from agents.blueprints.state_diff import render_diff
from domains.base import TRANSFER_TOOLS, Domain, Ending
from domains.environment import Environment, ToolResult, format_validation_error

CHECKS = ("format", "execution", "policy")


@dataclass
class CheckResult:
    """Outcome of one validator."""

    check: str
    passed: bool
    reasons: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


def check_format(domain: Domain, proposal: Any) -> tuple[CheckResult, Blueprint | None]:
    """Schema valid, every tool exists, every argument set validates against its tool, and
    the stated ending fits the actions (see `Task.ending_conflicts`)."""
    reasons: list[str] = []
    try:
        parsed = ProposedBlueprint.model_validate(proposal)
    except ValidationError as exc:
        return CheckResult("format", False, [f"schema: {format_validation_error(exc)}"]), None
    for index, action in enumerate(parsed.actions):
        found = domain.tools.get(action.name)
        if found is None:
            reasons.append(f"unknown_tool: action {index} calls {action.name!r}")
            continue
        try:
            found.args_model.model_validate(action.kwargs)
        except ValidationError as exc:
            detail = format_validation_error(exc)
            reasons.append(f"bad_arguments: action {index} ({action.name}): {detail}")
    blueprint = Blueprint(**parsed.model_dump())
    conflicts = blueprint.ending_conflicts(domain.write_tools())
    reasons += [f"ending_mismatch: {conflict}" for conflict in conflicts]
    if reasons:
        return CheckResult("format", False, reasons), None
    return CheckResult("format", True), blueprint


@dataclass
class Execution:
    """The trace of a blueprint's actions on a fork, the state change they made, and how the
    blueprint says its conversation ends."""

    fork: Environment
    trace: list[ToolResult]
    diff_text: str
    ending: Ending = "act"


def execute(base: Environment, blueprint: Blueprint) -> Execution:
    """Run the actions on a fresh fork of `base` (which is never touched)."""
    fork = base.fork()
    trace = fork.run(blueprint.action_dicts())
    ending = blueprint.resolved_ending(base.domain.write_tools())
    return Execution(fork, trace, render_diff(fork.diff()), ending)


def check_execution(execution: Execution) -> CheckResult:
    """Every write succeeds, changes the state and repeats no earlier write; the ending holds.

    A failed or repeated read is legitimate (the user first gives a wrong order id, or the
    agent reads a record again): only writes are held to these checks.
    """
    reasons: list[str] = []
    seen: set[str] = set()
    for index, result in enumerate(execution.trace):
        if not result.writes:
            continue
        call_key = json.dumps([result.name, result.arguments], sort_keys=True)
        if call_key in seen:
            reasons.append(f"repeated_call: action {index} repeats {result.name}")
        seen.add(call_key)
        if not result.ok:
            reasons.append(f"tool_error: action {index} ({result.name}): {result.output}")
        elif not result.changed:
            reasons.append(f"no_op_write: action {index} ({result.name}) changed nothing")
    reasons += _ending_reasons(execution)
    detail = {"diff": execution.diff_text, "outputs": [r.output for r in execution.trace]}
    return CheckResult("execution", not reasons, reasons, detail)


def _ending_reasons(execution: Execution) -> list[str]:
    """act: a write was made; other endings: none was; transfer: a transfer call succeeded."""
    ending, trace = execution.ending, execution.trace
    writes = [index for index, result in enumerate(trace) if result.writes]
    if ending == "act" and not writes:
        return ["no_write: ending 'act' but the task changes nothing (facts belong in outputs)"]
    if ending != "act" and writes:
        return [f"unexpected_write: ending {ending!r} but action {writes[0]} writes"]
    transferred = any(r.ok and r.name in TRANSFER_TOOLS for r in trace)
    if ending == "transfer" and not transferred:
        return ["no_transfer: ending 'transfer' but no transfer to a human agent succeeded"]
    return []


def check_policy(
    domain: Domain, base: Environment, trace: Sequence[ToolResult], subject: str | None = None
) -> CheckResult:
    """The domain's mechanical policy rules over the executed sequence, for the task's user.

    `detail["rules"]` lists the broken rules' ids, in the order of the reasons.
    """
    violations = domain.check_policy(trace, base, subject)
    reasons = [f"policy: {v}" for v in violations]
    return CheckResult("policy", not violations, reasons, {"rules": [v.rule for v in violations]})


@dataclass
class Validation:
    """All checks run on one proposal, in order, stopping at the first failure."""

    results: list[CheckResult]
    blueprint: Blueprint | None
    execution: Execution | None

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results) and len(self.results) == len(CHECKS)

    @property
    def reasons(self) -> list[str]:
        return [reason for result in self.results for reason in result.reasons]


def validate(domain: Domain, base: Environment, proposal: Any) -> Validation:
    """Format, then execution, then policy; a later check runs only if the earlier passed."""
    fmt, blueprint = check_format(domain, proposal)
    if blueprint is None:
        return Validation([fmt], None, None)
    execution = execute(base, blueprint)
    run = check_execution(execution)
    if not run.passed:
        return Validation([fmt, run], blueprint, execution)
    policy = check_policy(domain, base, execution.trace, blueprint.user_id)
    return Validation([fmt, run, policy], blueprint, execution)
