"""The embedding API: load a playbook with its extensions, run it, resume a stored run."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.engine import Engine, ProgressSink, RunSummary
from runtime.errors import PlaybookError, RegistryError, StoreError
from runtime.exports import ExportError, ExportSource, export_run
from runtime.playbook import Playbook, parse_playbook
from runtime.plugins import Extensions, load_extensions
from runtime.store import Store
from runtime.store_types import RunRecord
from runtime.yaml_source import YamlSource

STORE_FILE = "store.sqlite"


@dataclass
class LoadedPlaybook:
    """A validated playbook with the extensions it was validated against."""

    playbook: Playbook
    extensions: Extensions
    path: str


def load_playbook(path: str | Path, overrides: Mapping[str, Any] | None = None) -> LoadedPlaybook:
    """Read and validate a playbook file; `overrides` replace top-level keys before validation."""
    source = YamlSource.read(Path(path))
    return _validate(source, overrides)


def _validate(source: YamlSource, overrides: Mapping[str, Any] | None) -> LoadedPlaybook:
    if isinstance(source.data, dict) and overrides:
        source.data.update(overrides)
    plugins = source.data.get("plugins", []) if isinstance(source.data, dict) else []
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise source.error(("plugins",), "must be a list of module names")
    try:
        extensions = load_extensions(plugins)
    except RegistryError as exc:
        raise source.error(("plugins",), str(exc)) from None
    playbook = parse_playbook(source, extensions.steps, extensions.protocol_catalog)
    return LoadedPlaybook(playbook, extensions, source.file)


async def run_playbook(
    loaded: LoadedPlaybook | str | Path, *, progress: ProgressSink | None = None
) -> RunSummary:
    """Run (or continue) a playbook; a repeated call does only uncommitted work."""
    if not isinstance(loaded, LoadedPlaybook):
        loaded = load_playbook(loaded)
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
            hooks=loaded.extensions.run_hooks,
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
        raise ExportError(str(exc)) from None
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


async def load_stored_playbook(store_file: Path, run_id: str | None = None) -> LoadedPlaybook:
    """Rebuild a run's playbook from the snapshot in its store (for `resume`)."""
    run = await stored_run(store_file, run_id)
    source = YamlSource(f"{store_file}#{run.run_id}", run.playbook_json)
    loaded = _validate(source, {"store": str(store_file.parent)})
    if loaded.playbook.run_id != run.run_id:
        raise PlaybookError(source.file, None, "", "stored playbook no longer validates the same")
    loaded.path = run.playbook_path
    return loaded
