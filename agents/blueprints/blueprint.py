"""The task blueprint: what the simulated user wants and the verified calls that do it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domains.base import Action, Ending, Task


class Provenance(BaseModel):
    """Where a blueprint came from: which model, which attempt, what feedback shaped it."""

    model: str = ""
    attempt: int = 1
    feedback: list[str] = Field(default_factory=list)
    parents: list[str] = Field(default_factory=list)
    simulated: bool = False


class Blueprint(Task):
    """A task in the tau-bench shape plus its provenance.

    `instruction` is written to the user in the second person and carries every identifier
    the actions need; `outputs` are the facts the assistant must tell the user.
    """

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1)
    instruction: str = Field(min_length=1)
    actions: list[Action] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list)
    ending: Ending | None = Field(
        default=None, description="act | answer | refuse | transfer (derived when absent)"
    )
    provenance: Provenance = Field(default_factory=Provenance)

    def action_dicts(self) -> list[dict[str, Any]]:
        return [action.model_dump() for action in self.actions]


class ProposedBlueprint(BaseModel):
    """What the proposer model must return (provenance is ours to fill in)."""

    model_config = ConfigDict(extra="ignore")

    user_id: str = Field(min_length=1)
    instruction: str = Field(min_length=1)
    actions: list[Action] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list)
    ending: Ending | None = None
