"""What the agents' step kinds share: their run resources and the funnel events they emit."""

from __future__ import annotations

from agents.models.gateway import CallContext, ModelGateway
from agents.resources import AgentRoster, DomainCatalog, DomainHandle, Templates
from runtime.steps import Episode, Step

BLUEPRINT = "blueprint"
"""The result kind of a verified blueprint (what trajectory phases read as their input)."""


def record_funnel(episode: Episode, stage: str, passed: bool, group: str | None = None) -> None:
    """One stage of the acceptance funnel, counted from the store after the run.

    `group` names the checks that run side by side on every attempt (a step's name), so the
    funnel shows them as one stage with parts instead of a sequence (see `runtime.funnel`).
    """
    if group is None:
        episode.event("funnel", stage=stage, passed=passed)
    else:
        episode.event("funnel", stage=stage, passed=passed, group=group)


class AgentStep(Step):
    """A step with the phase's domain, the model gateway, the roles and the templates."""

    needs_domain = True

    handle: DomainHandle
    gateway: ModelGateway
    roster: AgentRoster
    templates: Templates

    async def setup(self) -> None:
        resources = self.phase.resources
        self.handle = resources.require(DomainCatalog).for_phase(self.phase.phase)
        self.gateway = resources.require(ModelGateway)
        self.roster = resources.require(AgentRoster)
        self.templates = resources.require(Templates)

    def call(self, episode: Episode, role: str) -> CallContext:
        """Who is calling a model, for the gateway's records and the sample seed."""
        return CallContext(
            phase=self.phase.phase, item_key=episode.key, role=role, attempt=episode.attempt
        )
