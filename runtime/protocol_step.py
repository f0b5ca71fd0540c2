"""The `protocol` step kind: a phase's conversation declared in its playbook, run per episode.

The step's parameters are a protocol (roles, start, routes, limits). What its roles are given
comes from the run's `ProtocolScopes` resource (the agents package provides one); the role
kinds from the run's `RoleKinds` registry. The episode's outcome is the protocol's: an
accepting end passes, a rejecting or unfinished one fails, a failed one is an error. The
message trace is recorded with the episode (`inspect RUN --trace ITEM`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runtime.errors import ApigenError
from runtime.protocol import CheckedProtocol, ProtocolSpec, Role, RoleKinds, check_protocol
from runtime.protocol_run import ProtocolFailed, ProtocolRun, TraceEntry
from runtime.steps import Episode, PhaseContext, Step, StepOutcome, StepParams

TRACE = "trace"
"""The result kind holding an episode's messages in order."""
_CONTEXT = "protocol.context"


class ProtocolParams(StepParams, ProtocolSpec):
    """A protocol as a step's parameters."""


@dataclass(frozen=True)
class ProtocolScopes:
    """Builds what a protocol's roles are given for one episode (a run resource), and is
    told when the episode is accepted (to record what it produced)."""

    scope: Callable[[PhaseContext, Episode], Any]
    accepted: Callable[[Any], None] | None = None


RoleFactory = Callable[[Any], Role]
"""Builds a role for one episode from what its roles are given (the episode's scope)."""


@dataclass(frozen=True)
class AttachedRoles:
    """Roles the embedding program plays itself (a run resource): keyed by role name or by
    role kind, each builds the program's own role object for an episode; the protocol runs
    it as that role's actor in place of the one its kind would build."""

    players: Mapping[str, RoleFactory] = field(default_factory=dict)

    def for_protocol(self, protocol: CheckedProtocol, context: Any) -> dict[str, Role]:
        """The attached roles of one episode of `protocol`."""
        found: dict[str, Role] = {}
        for name, spec in protocol.spec.roles.items():
            factory = self.players.get(name) or self.players.get(spec.agent)
            if factory is not None:
                found[name] = factory(context)
        return found


class ProtocolStep(Step):
    """Runs the declared protocol for each episode attempt."""

    params_model = ProtocolParams
    needs_domain = True
    protocol: CheckedProtocol
    scopes: ProtocolScopes
    attached: AttachedRoles

    async def setup(self) -> None:
        resources = self.phase.resources
        checked = check_protocol(self.params_spec(), resources.require(RoleKinds))
        if not isinstance(checked, CheckedProtocol):
            where = ".".join(str(part) for part in checked.loc)
            raise ApigenError(f"phase {self.phase.phase!r}: protocol.{where}: {checked.message}")
        self.protocol = checked
        self.scopes = resources.require(ProtocolScopes)
        self.attached = resources.get(AttachedRoles) or AttachedRoles()

    def params_spec(self) -> ProtocolSpec:
        params = self.params
        assert isinstance(params, ProtocolParams)
        return params

    async def run(self, episode: Episode) -> StepOutcome:
        context = self.scopes.scope(self.phase, episode)
        episode.state[_CONTEXT] = context
        attached = self.attached.for_protocol(self.protocol, context)
        run = ProtocolRun(
            self.protocol, self.phase.system, context, attached=attached, episode=episode.key
        )
        try:
            result = await run.run(start=None)
        except ProtocolFailed as exc:
            self._record_trace(episode, run.trace)
            return StepOutcome.error(f"protocol: {exc}")
        self._record_trace(episode, result.trace)  # built once, when the run ended
        if result.outcome == "accepted":
            return StepOutcome.ok()
        if result.outcome == "failed":
            return StepOutcome.error(result.reason)
        return StepOutcome.fail(result.reason)

    async def on_accepted(self, episode: Episode) -> None:
        if self.scopes.accepted is not None:
            self.scopes.accepted(episode.state[_CONTEXT])

    @staticmethod
    def _record_trace(episode: Episode, trace: Sequence[TraceEntry]) -> None:
        messages = [[t.sender, t.receiver, t.kind, t.text] for t in trace]
        episode.record(TRACE, {"attempt": episode.attempt, "messages": messages})
