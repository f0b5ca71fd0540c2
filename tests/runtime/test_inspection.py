"""What `inspect` and a finished run show: grouped funnels, failure kinds, calls vs cache hits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runtime.failures import FailedAttempt, FailureKind, failure_kinds, reason_kind
from runtime.funnel import FunnelStage, StageCount, format_funnel, funnel_json, funnel_stages
from runtime.inspection import (
    failure_lines,
    funnel_line,
    inspection_json,
    model_line,
    read_models,
    read_phases,
)
from runtime.playbook import Playbook
from runtime.store import Store
from runtime.store_types import ItemCommit, ItemEvent, ModelCallRecord, RunRecord

pytestmark = pytest.mark.anyio

PHASE_2 = [
    ("converse", "", 90, 90),
    ("policy", "verify", 90, 81),
    ("state", "verify", 90, 87),
    ("outputs", "verify", 90, 90),
]


def test_checks_of_one_group_are_one_stage_with_parts() -> None:
    stages = funnel_stages(PHASE_2)
    assert stages == [
        FunnelStage("converse", (StageCount("converse", 90, 90),)),
        FunnelStage(
            "verify",
            (
                StageCount("policy", 90, 81),
                StageCount("state", 90, 87),
                StageCount("outputs", 90, 90),
            ),
            grouped=True,
        ),
    ]
    assert format_funnel(stages, accepted=77) == (
        "converse 90 -> verify [policy 81, state 87, outputs 90] -> accepted 77"
    )


def test_checks_without_a_group_stay_a_sequence() -> None:
    rows = [("proposed", "", 40, 40), ("format", "", 40, 34), ("execution", "", 34, 31)]
    assert format_funnel(funnel_stages(rows), accepted=29) == (
        "proposed 40 -> format 34 -> execution 31 -> accepted 29"
    )


def test_a_group_stays_where_its_first_check_appeared() -> None:
    rows = [("a", "g", 5, 4), ("b", "", 5, 5), ("c", "g", 5, 3)]
    assert format_funnel(funnel_stages(rows), accepted=2) == "g [a 4, c 3] -> b 5 -> accepted 2"


def test_a_grouped_stage_is_one_json_entry_with_its_parts() -> None:
    assert funnel_json(funnel_stages(PHASE_2[:3])) == [
        {"stage": "converse", "reached": 90, "passed": 90},
        {
            "stage": "verify",
            "parts": [
                {"stage": "policy", "reached": 90, "passed": 81},
                {"stage": "state", "reached": 90, "passed": 87},
            ],
        },
    ]


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("state_mismatch: orders/#W1 (missing)", "state_mismatch"),
        ("policy: R4 (action 3): modify_pending_order_payment ...", "policy"),
        ("unconfirmed_write: cancel_pending_order (call c1) was not listed", "unconfirmed_write"),
        ("tool_error: action 2 (send_certificate): Error: user not found", "tool_error"),
        ("The instruction is vague: it never names the order.", "review"),
        ("timeout", "timeout"),
    ],
)
def test_a_reason_s_kind_is_its_code_else_its_step(reason: str, kind: str) -> None:
    assert reason_kind(reason, "review") == kind


def test_failures_count_attempts_per_kind_with_the_first_example() -> None:
    attempts = [
        FailedAttempt("verify", ("policy: A1 (action 2): x", "policy: A1 (action 3): y")),
        FailedAttempt("verify", ("state_mismatch: users/u1 (different)", "policy: R2: z")),
        FailedAttempt("verify", ("state_mismatch: orders/#W2 (missing)",)),
        FailedAttempt("review", ()),
    ]
    assert failure_kinds(attempts) == [
        FailureKind("policy", 2, "verify: policy: A1 (action 2): x"),
        FailureKind("state_mismatch", 2, "verify: state_mismatch: users/u1 (different)"),
        FailureKind("review", 1, "review"),
    ]


def _run() -> RunRecord:
    return RunRecord(
        run_id="r1",
        name="demo",
        playbook_path="demo.yaml",
        playbook_hash="h",
        playbook_json="{}",
        seed=3,
        simulated=True,
    )


def _item(key: str, status: str, reason: str, events: list[tuple[str, dict[str, Any]]]) -> Any:
    return ItemCommit(
        run_id="r1",
        phase="talk",
        item_key=key,
        index=0,
        status=status,  # type: ignore[arg-type]
        reason=reason,
        events=[ItemEvent(event=name, payload=payload) for name, payload in events],
    )


def _trial(key: str, checks: dict[str, bool], reasons: list[str]) -> Any:
    events = [("funnel", {"stage": "converse", "passed": True})]
    events += [
        ("funnel", {"stage": stage, "passed": ok, "group": "verify"})
        for stage, ok in checks.items()
    ]
    events.append(("step", {"step": "verify", "passed": not reasons, "reasons": reasons}))
    status, reason = ("rejected", f"verify: {reasons[0]}") if reasons else ("accepted", "")
    return _item(key, status, reason, events)


def _call(status: str, attempt: int, tokens: int = 0) -> ModelCallRecord:
    return ModelCallRecord(
        run_id="r1",
        model="m",
        provider="openai",
        request_key=f"k-{status}-{attempt}",
        status=status,  # type: ignore[arg-type]
        attempt=attempt,
        prompt_tokens=tokens,
        completion_tokens=tokens // 2,
    )


PLAYBOOK = Playbook.model_validate(
    {
        "name": "demo",
        "models": {"m": {"provider": "simulated"}},
        "phases": [{"name": "talk", "episodes": 4, "steps": [{"kind": "echo"}]}],
    }
)


async def test_a_store_reads_as_grouped_funnel_failure_kinds_and_calls(tmp_path: Path) -> None:
    async with Store.open(tmp_path / "s.sqlite") as store:
        await store.ensure_run(_run())
        checks = dict.fromkeys(("policy", "state", "outputs"), True)
        await store.commit_item(_trial("a", checks, []))
        # c commits before b, as concurrent items may: reading goes by item key
        await store.commit_item(
            _trial("c", {**checks, "state": False}, ["state_mismatch: orders/#1 (missing)"])
        )
        await store.commit_item(
            _trial("b", {**checks, "policy": False}, ["unconfirmed_write: w1", "policy: R1: first"])
        )
        await store.commit_item(_item("d", "failed", "timeout", []))
        # a call that succeeded first time, one after two retries, one that failed after one
        # retry, and two answers from the cache
        for call in (_call("ok", 1, 10), _call("ok", 3, 10), _call("error", 2)):
            await store.record_model_call(call)
        await store.record_model_call(_call("cached", 0))
        await store.record_model_call(_call("cached", 0).model_copy(update={"request_key": "x"}))
        phases = await read_phases(store, "r1", PLAYBOOK)
        models = await read_models(store, "r1", PLAYBOOK)
    view = phases["talk"]
    assert funnel_line(view) == "converse 3 -> verify [policy 2, state 2, outputs 3] -> accepted 1"
    assert failure_lines(view) == [
        "failed attempts: 3, by kind:",
        "     1  unconfirmed_write  e.g. verify: unconfirmed_write: w1",
        "     1  policy             e.g. verify: policy: R1: first",
        "     1  state_mismatch     e.g. verify: state_mismatch: orders/#1 (missing)",
        "     1  timeout            e.g. timeout",
    ]
    assert [model_line(model) for model in models] == [
        "m: 3 calls made (6 requests sent, retries included), 2 cache hits, 1 error;"
        " 20 prompt + 10 completion tokens; no price configured"
    ]
    shown = inspection_json(phases, models)
    assert shown["models"] == [
        {
            "model": "m",
            "calls_made": 3,
            "requests": 6,
            "cache_hits": 2,
            "errors": 1,
            "prompt_tokens": 20,
            "completion_tokens": 10,
            "cost_usd": None,
        }
    ]
    assert shown["phases"]["talk"]["failures"]["attempts"] == 3
    assert shown["phases"]["talk"]["funnel"][1]["stage"] == "verify"


async def test_a_priced_model_shows_its_cost(tmp_path: Path) -> None:
    priced = PLAYBOOK.model_copy(deep=True)
    priced.models["m"] = priced.models["m"].model_copy(
        update={"price": {"prompt_per_mtok": 1.0, "completion_per_mtok": 2.0}}
    )
    async with Store.open(tmp_path / "s.sqlite") as store:
        await store.ensure_run(_run())
        await store.record_model_call(_call("ok", 1, 10).model_copy(update={"cost_usd": 0.5}))
        (model,) = await read_models(store, "r1", priced)
    assert model_line(model).endswith("10 prompt + 5 completion tokens; $0.5000")
