"""What `inspect` shows of a run, and what a finished run prints: per phase its item counts,
funnel and failure kinds; per model the calls made, cache hits and errors apart.

A resumed run answers many requests from its cache: counting those as calls overstates what
an endpoint served (and what it cost), so calls made, requests sent (retries included),
cache hits and errors are reported separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runtime.failures import FailedAttempt, FailureKind, failure_kinds, failures_json
from runtime.funnel import FunnelStage, format_funnel, funnel_json, funnel_stages
from runtime.playbook import Playbook
from runtime.store import Store

EXAMPLE_WIDTH = 80
"""Characters of a failure example shown in text (JSON has it whole)."""


@dataclass
class PhaseView:
    """One phase: item counts, funnel, failed attempts by kind, acceptances per attempt."""

    counts: dict[str, int] = field(default_factory=dict)
    funnel: list[FunnelStage] = field(default_factory=list)
    failed_attempts: int = 0
    failures: list[FailureKind] = field(default_factory=list)
    accepted_by_attempt: dict[int, int] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        return self.counts.get("accepted", 0)


@dataclass(frozen=True)
class ModelView:
    """One model's calls in a run: made (ok or failed for good), cache hits apart."""

    model: str
    calls_made: int
    requests: int
    cache_hits: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    priced: bool


async def read_phases(store: Store, run_id: str, playbook: Playbook) -> dict[str, PhaseView]:
    """Every phase with items or funnel events, in the playbook's order."""
    counts = await store.status_counts(run_id)
    funnels = await store.funnel_with_groups(run_id)
    failed = await store.failed_steps(run_id)
    timeouts = {
        phase: reasons.get("timeout", 0)
        for phase, reasons in (await store.reason_counts(run_id)).items()
    }
    by_attempt = await store.accepted_by_attempt(run_id)
    names = [phase.name for phase in playbook.phases]
    names += sorted((set(counts) | set(funnels)) - set(names))
    views: dict[str, PhaseView] = {}
    for name in names:
        if name not in counts and name not in funnels:
            continue
        attempts = [FailedAttempt(step, tuple(reasons)) for step, reasons in failed.get(name, [])]
        attempts += [FailedAttempt("", ("timeout",))] * timeouts.get(name, 0)
        views[name] = PhaseView(
            counts=counts.get(name, {}),
            funnel=funnel_stages(funnels.get(name, [])),
            failed_attempts=len(attempts),
            failures=failure_kinds(attempts),
            accepted_by_attempt=by_attempt.get(name, {}),
        )
    return views


async def read_models(store: Store, run_id: str, playbook: Playbook) -> list[ModelView]:
    requests = await store.requests_sent(run_id)
    views = []
    for usage in await store.model_usage(run_id):
        config = playbook.models.get(usage.model)
        views.append(
            ModelView(
                model=usage.model,
                calls_made=usage.calls - usage.cached,
                requests=requests.get(usage.model, 0),
                cache_hits=usage.cached,
                errors=usage.errors,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cost_usd=usage.cost_usd,
                priced=config is not None and config.price is not None,
            )
        )
    return views


def funnel_line(view: PhaseView) -> str:
    return format_funnel(view.funnel, view.accepted)


def reflection_line(view: PhaseView) -> str | None:
    """`accepted at attempt 1: 27; after reflection: 30` when retries accepted any."""
    accepted = view.accepted_by_attempt
    if not accepted or max(accepted) <= 1:
        return None
    total = sum(accepted.values())
    return f"accepted at attempt 1: {accepted.get(1, 0)}; after reflection: {total}"


def failure_lines(view: PhaseView) -> list[str]:
    """`failed attempts: 6`, then one `count  kind  example` line per kind."""
    if not view.failed_attempts:
        return []
    width = max(len(kind.kind) for kind in view.failures)
    lines = [f"failed attempts: {view.failed_attempts}, by kind:"]
    for kind in view.failures:
        example = kind.example
        if len(example) > EXAMPLE_WIDTH:
            example = example[: EXAMPLE_WIDTH - 3] + "..."
        lines.append(f"{kind.count:6d}  {kind.kind:<{width}}  e.g. {example}")
    return lines


def model_line(view: ModelView) -> str:
    """`default: 120 calls made (123 requests sent, retries included), 40 cache hits, ...`."""
    cost = f"${view.cost_usd:.4f}" if view.priced else "no price configured"
    errors = "1 error" if view.errors == 1 else f"{view.errors} errors"
    return (
        f"{view.model}: {view.calls_made} calls made"
        f" ({view.requests} requests sent, retries included), {view.cache_hits} cache hits,"
        f" {errors};"
        f" {view.prompt_tokens} prompt + {view.completion_tokens} completion tokens; {cost}"
    )


def inspection_json(phases: dict[str, PhaseView], models: list[ModelView]) -> dict[str, Any]:
    """The `phases` and `models` parts of `inspect --json`."""
    return {
        "phases": {
            name: {
                "counts": view.counts,
                "funnel": funnel_json(view.funnel),
                "failures": failures_json(view.failed_attempts, view.failures),
            }
            for name, view in phases.items()
        },
        "models": [
            {
                "model": m.model,
                "calls_made": m.calls_made,
                "requests": m.requests,
                "cache_hits": m.cache_hits,
                "errors": m.errors,
                "prompt_tokens": m.prompt_tokens,
                "completion_tokens": m.completion_tokens,
                "cost_usd": m.cost_usd if m.priced else None,
            }
            for m in models
        ],
    }
