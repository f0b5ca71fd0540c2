"""Read what exports need from a run's store: trajectories (kept per `keep`) and blueprints.

A trajectory's training dialogue ends on the assistant's last message: the user's closing
turn carrying the phase's stop token is a signal to the simulator, not something a model
should learn to answer, so it is left out (a conversation that ended another way, by a
transfer or the turn limit, keeps every message).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.dialogue.transcript import ChatMessage, Transcript
from agents.passk import Keep, kept_from_store
from agents.roles.dialogue import HumanKind, HumanParams
from agents.roles.verifier import keep_rule, role_params, verifier_params
from agents.steps.base import BLUEPRINT
from agents.steps.load_task import TRAJECTORY, VERDICT
from runtime.exports import ExportSource
from runtime.playbook import PhaseConfig

_INFO_KEYS: tuple[str, ...] = ("attempt", "trial", "domain", "ending", "models", "simulated")


@dataclass
class TrajectoryRecord:
    """One conversation with its phase, key, status, verdict and recording metadata.

    `messages` is the dialogue exports write (see `training_messages`); `transcript` keeps
    everything that was said.
    """

    phase: str
    item_key: str
    status: str
    transcript: Transcript
    verdict: dict[str, Any]
    info: dict[str, Any]
    messages: list[ChatMessage]


def stop_token(phase: PhaseConfig) -> str | None:
    """The stop token of the phase's simulated user (None when it has none)."""
    params = role_params(phase, HumanKind.name, HumanParams)
    return params.stop_token if params is not None else None


def training_messages(transcript: Transcript, stop: str | None) -> list[ChatMessage]:
    """The dialogue without the user's closing stop-token turn, so it ends on the assistant.

    Only a conversation that ended on the stop token loses its last message (that message).
    """
    messages = transcript.messages
    if (
        stop is not None
        and transcript.end == "stop"
        and messages
        and messages[-1].role == "user"
        and stop in messages[-1].content
    ):
        return messages[:-1]
    return messages


def _trajectory_phases(source: ExportSource) -> list[str]:
    return [phase.name for phase in source.playbook.phases if verifier_params(phase) is not None]


async def trajectories(source: ExportSource, *, include_rejected: bool) -> list[TrajectoryRecord]:
    """Accepted trajectories under each phase's `keep` rule (or every one when asked)."""
    store, run_id = source.store, source.run.run_id
    records: list[TrajectoryRecord] = []
    phases = {phase.name: phase for phase in source.playbook.phases}
    for name in _trajectory_phases(source):
        keep: Keep = keep_rule(phases[name])
        stop = stop_token(phases[name])
        kept = set(await kept_from_store(store, run_id, name, keep))
        items = {item.item_key: item for item in await store.items(run_id, phase=name)}
        latest: dict[str, dict[str, dict[str, Any]]] = {}
        for result in await store.results(run_id, name):
            latest.setdefault(result.item_key, {})[result.kind] = result.payload
        for key, item in items.items():
            if key not in kept and not include_rejected:
                continue
            found = latest.get(key, {})
            if TRAJECTORY not in found:
                continue
            payload = dict(found[TRAJECTORY])
            info: dict[str, Any] = {
                field: payload.pop(field) for field in _INFO_KEYS if field in payload
            }
            transcript = Transcript.model_validate(payload)
            records.append(
                TrajectoryRecord(
                    phase=name,
                    item_key=key,
                    status=item.status,
                    transcript=transcript,
                    verdict=found.get(VERDICT, {}),
                    info=info,
                    messages=training_messages(transcript, stop),
                )
            )
    return records


async def blueprints(
    source: ExportSource, *, include_rejected: bool
) -> list[tuple[str, str, dict[str, Any]]]:
    """`(phase, item_key, blueprint)` for each item's last blueprint (accepted items only)."""
    store, run_id = source.store, source.run.run_id
    status = None if include_rejected else "accepted"
    wanted = {(item.phase, item.item_key) for item in await store.items(run_id, status=status)}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for phase in source.playbook.phases:
        for result in await store.results(run_id, phase.name):
            if result.kind == BLUEPRINT and (phase.name, result.item_key) in wanted:
                found[(phase.name, result.item_key)] = result.payload
    return [(phase, key, payload) for (phase, key), payload in found.items()]
