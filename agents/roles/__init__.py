"""The participants of the shipped protocols, as role kinds (see `runtime.protocol`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

import yaml

from agents.roles.blueprint_roles import (
    FinalReviewerKind,
    GivenKind,
    ProposerKind,
    ReflectorKind,
    ReviewerKind,
    ValidatorKind,
)
from agents.roles.deliberation import CriticKind, DebateJudgeKind, SupervisorKind
from agents.roles.dialogue import AssistantKind, EnvironmentKind, HumanKind, TurnJudgeKind
from agents.roles.scope import EpisodeScope, PhaseServices
from agents.roles.verifier import VerifierKind
from runtime.engine import RunContext
from runtime.protocol import ProtocolLibrary, RoleKind, RoleKinds
from runtime.protocol_step import ProtocolScopes
from runtime.steps import Episode, PhaseContext

__all__ = [
    "EpisodeScope",
    "PhaseServices",
    "protocol_scopes_hook",
    "register_protocols",
    "register_role_kinds",
]

SHIPPED_PROTOCOLS = ("blueprints", "conversation", "review")


def register_role_kinds(kinds: RoleKinds) -> None:
    """Add the shipped role kinds."""
    shipped: tuple[RoleKind, ...] = (
        ProposerKind(),
        ValidatorKind(),
        ReviewerKind(),
        FinalReviewerKind(),
        ReflectorKind(),
        GivenKind(),
        HumanKind(),
        TurnJudgeKind(),
        AssistantKind(),
        EnvironmentKind(),
        VerifierKind(),
        CriticKind(),
        DebateJudgeKind(),
        SupervisorKind(),
    )
    for kind in shipped:
        kinds.register(kind.name, kind)


def register_protocols(library: ProtocolLibrary) -> None:
    """Add the shipped protocols (`agents/protocols/*.yaml`) a playbook can `use`."""
    folder = files("agents") / "protocols"
    for name in SHIPPED_PROTOCOLS:
        library.register(name, yaml.safe_load((folder / f"{name}.yaml").read_text("utf-8")))


def _scope(phase: PhaseContext, episode: Episode) -> EpisodeScope:
    return EpisodeScope(PhaseServices.of(phase), episode, timeout_s=phase.ask_timeout_s)


def _accepted(scope: object) -> None:
    assert isinstance(scope, EpisodeScope)
    scope.on_accepted()


@asynccontextmanager
async def protocol_scopes_hook(context: RunContext) -> AsyncIterator[None]:
    """Give protocol steps what the shipped role kinds build on, per episode."""
    context.resources.provide(ProtocolScopes, ProtocolScopes(_scope, _accepted))
    yield
