"""Extension loading: step kinds and run hooks contributed by installed packages or modules.

Installed packages register through the `apigen_mt.plugins` entry-point group; a playbook's
`plugins:` list names further modules. Each exposes `register(extensions)`.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from runtime.engine import RunContext, RunHook
from runtime.errors import RegistryError
from runtime.exports import ExporterRegistry
from runtime.playbook import Playbook
from runtime.protocol import ProtocolCatalog, ProtocolLibrary, RoleKinds
from runtime.protocol_step import RoleFactory
from runtime.registry import Registry
from runtime.steps import StepRegistry, default_step_registry
from runtime.store import Store
from runtime.yaml_source import YamlSource

ENTRY_POINT_GROUP = "apigen_mt.plugins"


SummaryHook = Callable[[Store, str, Playbook], Awaitable[list[str]]]
"""Extra lines for a run's summary (e.g. pass^k), read from its store."""

PlaybookCheck = Callable[[Playbook, YamlSource, StepRegistry], None]
"""A load-time check of what the schema cannot see (a prompt file exists and parses, a
domain is known): raises `PlaybookError` via `source.error(loc, message)` naming the field."""

Preflight = Callable[[Playbook], Awaitable[None]]
"""A check run before anything is written (domain data loads, model clients build, endpoints
answer); it raises an `ApigenError` naming the cause, so a doomed run leaves no trace."""


@dataclass(frozen=True)
class Player:
    """Someone a command line can name to play a protocol role (`run --role user=console`):
    `plays` is the role kind it is made for, `called` the word a person uses for it."""

    plays: str
    called: str
    factory: RoleFactory


@dataclass
class Extensions:
    """Everything plugins can extend; passed to each plugin's `register`."""

    steps: StepRegistry = field(default_factory=default_step_registry)
    run_hooks: list[RunHook] = field(default_factory=list)
    exporters: ExporterRegistry = field(default_factory=lambda: ExporterRegistry("export format"))
    summaries: list[SummaryHook] = field(default_factory=list)
    preflight: list[Preflight] = field(default_factory=list)
    checks: list[PlaybookCheck] = field(default_factory=list)
    roles: RoleKinds = field(default_factory=RoleKinds)
    protocols: ProtocolLibrary = field(default_factory=ProtocolLibrary)
    players: Registry[Player] = field(default_factory=lambda: Registry("player"))

    def __post_init__(self) -> None:
        self.run_hooks.append(_provide_roles(self.roles))

    @property
    def protocol_catalog(self) -> ProtocolCatalog:
        """What a playbook's protocol steps are checked against when it loads."""
        return ProtocolCatalog(self.roles, self.protocols)


def _provide_roles(roles: RoleKinds) -> RunHook:
    """A run hook that makes the role kinds available to protocol steps."""

    @asynccontextmanager
    async def hook(context: RunContext) -> AsyncIterator[None]:
        context.resources.provide(RoleKinds, roles)
        yield

    return hook


Register = Callable[[Extensions], None]


def load_extensions(modules: Sequence[str] = (), *, entry_point_plugins: bool = True) -> Extensions:
    """Built-ins, then installed entry points, then the named modules, in that order."""
    extensions = Extensions()
    if entry_point_plugins:
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            register: Register = entry.load()
            register(extensions)
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise RegistryError(f"cannot import plugin module {module_name!r}: {exc}") from exc
        module_register = getattr(module, "register", None)
        if not callable(module_register):
            raise RegistryError(f"plugin module {module_name!r} has no register(extensions)")
        module_register(extensions)
    return extensions
