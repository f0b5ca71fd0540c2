"""The embedding API: load a playbook with its extensions, run it, resume a stored run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.engine import Engine, ProgressSink, RunContext, RunHook, RunSummary
from runtime.errors import PlaybookError, RegistryError, StoreError, UsageError
from runtime.executors import EpisodeCap
from runtime.exports import ExportError, ExportSource, export_run
from runtime.playbook import Playbook, parse_playbook
from runtime.plugins import Extensions, load_extensions
from runtime.protocol import resolve_protocol
from runtime.protocol_step import AttachedRoles, RoleFactory
from runtime.secrets import redacted_locations
from runtime.store import Store
from runtime.store_types import RunRecord
from runtime.yaml_source import YamlSource

STORE_FILE = "store.sqlite"


@dataclass
class LoadedPlaybook:
    """A validated playbook with the extensions it was validated against.

    `path` is the playbook file (absolute; for a stored run, the file it was run from).
    `unloaded_plugins` are plugin modules a stored playbook names that were not imported
    because nobody vouched for them (see `load_stored_playbook`).
    """

    playbook: Playbook
    extensions: Extensions
    path: str
    unloaded_plugins: tuple[str, ...] = ()


def load_playbook(
    path: str | Path, overrides: Mapping[str, Any] | None = None, *, check_files: bool = True
) -> LoadedPlaybook:
    """Read and validate a playbook file; `overrides` replace top-level keys before validation.

    Everything that can be known before a run is checked here, so a bad input fails before
    anything is written: the schema, step parameters, export formats and, unless
    `check_files` is false, what the registered load-time checks look at (prompt files and
    templates, task files, domains and their data folders). An overriding `store` is
    relative to the working directory (it comes from a command line, not the file).
    """
    file = Path(path)
    source = YamlSource.read(file)
    if overrides:
        values = dict(overrides)
        if values.get("store") is not None:
            values["store"] = str(Path(values["store"]).expanduser().absolute())
        source.override(values)
    return _validate(source, file.absolute(), full=True, check_files=check_files)


def _validate(
    source: YamlSource,
    playbook_file: Path | None,
    *,
    full: bool,
    check_files: bool,
    trusted_plugins: Sequence[str] | None = None,
) -> LoadedPlaybook:
    """Validate `source`; import its plugins (all, or only the `trusted_plugins`).

    `full` adds what needs the extensions' registries (step kinds, export formats), and
    refuses to go on without a plugin the playbook names; `check_files` adds the load-time
    checks. Reading a stored run for a report needs neither.
    """
    named = source.data.get("plugins", []) if isinstance(source.data, dict) else []
    if not isinstance(named, list) or not all(isinstance(p, str) for p in named):
        raise source.error(("plugins",), "must be a list of module names")
    if trusted_plugins is None:
        to_load, unloaded = list(named), ()
    else:
        to_load = list(dict.fromkeys(trusted_plugins))
        unloaded = tuple(name for name in named if name not in to_load)
        if unloaded and full:
            raise source.error(("plugins",), not_loaded(unloaded))
    try:
        extensions = load_extensions(to_load)
    except RegistryError as exc:
        raise source.error(("plugins",), str(exc)) from None
    playbook = parse_playbook(
        source, extensions.steps if full else None, extensions.protocol_catalog
    )
    playbook.located(playbook_file.parent if playbook_file is not None else None)
    if full:
        for index, spec in enumerate(playbook.export):
            try:
                extensions.exporters.get(spec.format)
            except RegistryError as exc:
                raise source.error(("export", index, "format"), str(exc)) from None
    if check_files:
        for check in extensions.checks:
            check(playbook, source, extensions.steps)
    path = str(playbook_file) if playbook_file is not None else ""
    return LoadedPlaybook(playbook, extensions, path, unloaded)


async def run_playbook(
    loaded: LoadedPlaybook | str | Path,
    *,
    progress: ProgressSink | None = None,
    attach: Mapping[str, RoleFactory] | None = None,
    one_at_a_time: bool = False,
) -> RunSummary:
    """Run (or continue) a playbook; a repeated call does only uncommitted work.

    `attach` plays protocol roles with the caller's own objects: keyed by a role's name or
    its kind (`{"human": factory}`), each factory builds the role for one episode from the
    episode's scope, and the protocol runs it as that role's actor. `one_at_a_time` runs
    one episode at a time (for a person at a console), without changing the run's identity.
    """
    if not isinstance(loaded, LoadedPlaybook):
        loaded = load_playbook(loaded)
    hooks = list(loaded.extensions.run_hooks)
    if attach:
        _check_attachable(loaded, attach)
        hooks.append(_attaching(AttachedRoles(dict(attach)), one_at_a_time))
    for check in loaded.extensions.preflight:
        await check(loaded.playbook)
    async with AsyncExitStack() as stack:
        executor = None
        if loaded.playbook.executor.kind == "ray":
            from runtime.ray_executor import RayExecutor

            executor = await stack.enter_async_context(RayExecutor(loaded.playbook, loaded.path))
        engine = Engine(
            loaded.playbook,
            loaded.extensions.steps,
            playbook_path=loaded.path,
            hooks=hooks,
            progress=progress,
            executor=executor,
        )
        summary = await engine.run()
    for spec in loaded.playbook.export:
        destination = loaded.playbook.run_dir / spec.path
        await export_stored_run(
            loaded, Path(summary.store_path), spec.format, destination, spec.include_rejected
        )
    return summary


def protocol_roles(loaded: LoadedPlaybook) -> dict[str, set[str]]:
    """Per role name and per role kind in the playbook's protocol steps, the phases it is in."""
    found: dict[str, set[str]] = {}
    library = loaded.extensions.protocols
    for phase in loaded.playbook.phases:
        for step in phase.steps:
            if step.kind != "protocol":
                continue
            roles = resolve_protocol(step.raw_params, library).get("roles") or {}
            for name, spec in roles.items():
                for key in (name, spec.get("agent") if isinstance(spec, dict) else None):
                    if isinstance(key, str):
                        found.setdefault(key, set()).add(phase.name)
    return found


def _check_attachable(loaded: LoadedPlaybook, attach: Mapping[str, RoleFactory]) -> None:
    if loaded.playbook.executor.kind != "local":
        raise UsageError("attached roles run in this process: use executor kind 'local'")
    known = protocol_roles(loaded)
    for name in attach:
        if name not in known:
            shown = ", ".join(sorted(known)) or "none: the playbook has no protocol step"
            raise UsageError(f"no protocol role or role kind {name!r} to play (known: {shown})")


def _attaching(attached: AttachedRoles, one_at_a_time: bool) -> RunHook:
    """A run hook that hands the attached roles to the protocol steps."""

    @asynccontextmanager
    async def hook(context: RunContext) -> AsyncIterator[None]:
        context.resources.provide(AttachedRoles, attached)
        if one_at_a_time:
            context.resources.provide(EpisodeCap, EpisodeCap(1))
        yield

    return hook


async def export_stored_run(
    loaded: LoadedPlaybook,
    store_file: Path,
    format_name: str,
    destination: Path,
    include_rejected: bool = False,
    include_reasoning: bool = False,
) -> int:
    """Export a run in `format_name` to `destination`; return how many records were written.

    `include_reasoning` adds the assistant's reasoning where the format can carry it.
    """
    try:
        exporter = loaded.extensions.exporters.get(format_name)
    except RegistryError as exc:
        hint = f"; {not_loaded(loaded.unloaded_plugins)}" if loaded.unloaded_plugins else ""
        raise ExportError(f"{exc}{hint}") from None
    async with Store.open(store_file) as store:
        run = await stored_run(store_file, loaded.playbook.run_id)
        source = ExportSource(store, run, loaded.playbook, include_reasoning=include_reasoning)
        return await export_run(source, exporter, destination, include_rejected=include_rejected)


def resolve_store_path(target: str | Path) -> Path:
    """A run directory or a store file -> the store file, which must already exist."""
    path = Path(target)
    store_file = path / STORE_FILE if path.is_dir() else path
    if not store_file.is_file():
        raise StoreError(f"{store_file}: no run store here")
    return store_file


async def stored_run(store_file: Path, run_id: str | None = None) -> RunRecord:
    """The run to resume or inspect: the named one, else the latest unfinished, else latest."""
    async with Store.open(store_file) as store:
        runs = await store.list_runs()
    if not runs:
        raise StoreError(f"{store_file}: the store holds no runs")
    if run_id is not None:
        for run in runs:
            if run.run_id == run_id:
                return run
        known = ", ".join(run.run_id for run in runs)
        raise StoreError(f"{store_file}: no run {run_id!r} (runs: {known})")
    unfinished = [run for run in runs if run.status != "completed"]
    return (unfinished or runs)[-1]


async def load_stored_playbook(
    store_file: Path,
    run_id: str | None = None,
    *,
    plugins: Sequence[str] = (),
    for_run: bool = False,
) -> LoadedPlaybook:
    """Rebuild a run's playbook from the snapshot in its store.

    A store may come from someone else, so the plugin modules its playbook names are not
    imported unless listed in `plugins` (the CLI's `--plugin`): reading the run (inspect,
    export, report) works without them and `unloaded_plugins` says what was left out. To
    run it again (`for_run`, as `resume` does) every named plugin must be vouched for, the
    snapshot must hold no masked secret, and the load-time checks run as for a file.
    """
    run = await stored_run(store_file, run_id)
    source = YamlSource(f"{store_file}#{run.run_id}", run.playbook_json)
    source.override({"store": str(store_file.parent.absolute())})
    origin = Path(run.playbook_path) if run.playbook_path else None
    loaded = _validate(source, origin, full=for_run, check_files=for_run, trusted_plugins=plugins)
    if loaded.playbook.run_id != run.run_id:
        raise PlaybookError(source.file, None, "", "stored playbook no longer validates the same")
    if for_run:
        masked = redacted_locations(loaded.playbook.stored_form().get("models", {}), ("models",))
        if masked:
            raise source.error(
                (),
                f"{masked[0]} held a secret, which the store does not keep: resume with the"
                " playbook file instead",
            )
    return loaded


def not_loaded(plugins: Sequence[str]) -> str:
    """Which stored plugins were not imported, and how to vouch for them."""
    names = ", ".join(repr(name) for name in plugins)
    flags = " ".join(f"--plugin {name}" for name in plugins)
    return (
        f"the run's playbook names plugin modules not loaded: {names} (a store's plugins are"
        f" imported only when named: {flags})"
    )
