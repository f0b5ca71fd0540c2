"""The `load_task` step kind: a tau-bench task file's tasks as a phase's blueprints.

Phase 2 itself is a protocol (`playbooks/protocols/conversation.yaml`): its participants are
role kinds (`agents.roles`), and its verifier records the `trajectory` and `verdict` results
named here.
"""

from __future__ import annotations

import json

import anyio
from pydantic import Field, TypeAdapter, ValidationError

from agents.blueprints.blueprint import Blueprint, Provenance
from agents.resources import DomainCatalog, PlaybookFile
from agents.steps.base import BLUEPRINT
from domains.base import Task
from runtime.errors import ApigenError
from runtime.plugins import Extensions
from runtime.steps import Episode, Step, StepOutcome, StepParams

TRAJECTORY = "trajectory"
VERDICT = "verdict"

_TASKS = TypeAdapter(list[Task])


class LoadTaskParams(StepParams):
    path: str = Field(description="JSON list of {user_id, instruction, actions, outputs}")


class LoadTaskStep(Step):
    """Records task `index` of a tau-bench-style file as this episode's blueprint."""

    produces = frozenset({"blueprint"})
    params_model = LoadTaskParams
    tasks: list[Task]
    source: str

    async def setup(self) -> None:
        params = self.params
        assert isinstance(params, LoadTaskParams)
        located = self.phase.resources.get(PlaybookFile) or PlaybookFile(None)
        path = located.resolve(params.path)
        try:
            text = await anyio.Path(path).read_text(encoding="utf-8")
            self.tasks = _TASKS.validate_python(json.loads(text))
        except (OSError, ValueError) as exc:
            raise ApigenError(f"task file {path}: {_short(exc)}") from exc
        self.source = path.name

    async def run(self, episode: Episode) -> StepOutcome:
        if episode.index >= len(self.tasks):
            return StepOutcome.fail(f"no_task: the file holds {len(self.tasks)} tasks")
        task = self.tasks[episode.index]
        try:
            blueprint = Blueprint(
                **task.model_dump(), provenance=Provenance(model=f"file:{self.source}")
            )
        except ValidationError as exc:
            return StepOutcome.fail(f"invalid_task: {_short(exc)}")
        catalog = self.phase.resources.get(DomainCatalog)
        if catalog is not None and self.phase.phase in catalog.by_phase:
            writes = catalog.for_phase(self.phase.phase).domain.write_tools()
            blueprint.ending = blueprint.resolved_ending(writes)
        episode.record(BLUEPRINT, blueprint.model_dump(mode="json"))
        return StepOutcome.ok(task=episode.index)


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)


def register_trajectory_steps(extensions: Extensions) -> None:
    """Add the `load_task` step kind."""
    extensions.steps.register("load_task", LoadTaskStep)
