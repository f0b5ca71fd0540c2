"""A step that kills its Ray worker process once, the first time it sees a chosen item."""

from __future__ import annotations

import os

import anyio
from pydantic import Field

from runtime.plugins import Extensions
from runtime.steps import Episode, Step, StepOutcome, StepParams


class CrashParams(StepParams):
    key: str = Field(description="item key whose first run kills the process")
    marker: str = Field(description="file created just before the crash")


class CrashOnceStep(Step):
    """Exit the whole worker process (no cleanup, like SIGKILL) once, then pass."""

    params_model = CrashParams

    async def run(self, episode: Episode) -> StepOutcome:
        params = self.params
        assert isinstance(params, CrashParams)
        marker = anyio.Path(params.marker)
        if episode.key == params.key and not await marker.exists():
            await marker.write_text(str(os.getpid()))
            os._exit(1)
        return StepOutcome.ok()


def register(extensions: Extensions) -> None:
    extensions.steps.register("crash_once", CrashOnceStep)
