"""Exports: turn a run's store into files other tools read (datasets, task files, reports).

Exporters are registered by name (agents register the dataset formats and the report). Every
export is written next to its destination and moved into place only when complete, so a
failed export never leaves a half-written file behind. A format whose layout has no room for
the run's metadata (`metadata_sidecar = True`) gets it in `<destination>.meta.json`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

import anyio

from runtime.errors import ApigenError
from runtime.playbook import Playbook
from runtime.registry import Registry
from runtime.store import Store
from runtime.store_types import RunRecord


class ExportError(ApigenError):
    """An export could not be written (unknown format, unwritable path, missing extra)."""


def _package_version() -> str:
    try:
        return version("apigen-mt")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class ExportSource:
    """The run being exported: its store, its record and its playbook.

    `include_reasoning` asks formats that can carry the model's reasoning to include it.
    """

    store: Store
    run: RunRecord
    playbook: Playbook
    include_reasoning: bool = False

    def metadata(self) -> dict[str, Any]:
        """Provenance carried by every export: which run, playbook, models and seed."""
        return {
            "run_id": self.run.run_id,
            "playbook_hash": self.run.playbook_hash,
            "seed": self.run.seed,
            "simulated": self.run.simulated,
            "models": {
                name: {"provider": model.provider, "model": model.model}
                for name, model in self.playbook.models.items()
            },
            "generator": f"apigen-mt {_package_version()}",
        }


SIDECAR_SUFFIX = ".meta.json"


class Exporter(Protocol):
    """Writes one format. `out` is a temporary path; the caller moves it into place.

    An exporter may also set `metadata_sidecar = True` (see `export_run`).
    """

    description: str
    suffix: str

    async def write(self, source: ExportSource, out: Path, *, include_rejected: bool) -> int:
        """Write the export to `out` (a file, or a directory) and return the record count."""
        ...


ExporterRegistry = Registry[Exporter]


async def export_run(
    source: ExportSource, exporter: Exporter, destination: Path, *, include_rejected: bool
) -> int:
    """Write to a temporary sibling, then replace `destination` in one rename.

    For an exporter with `metadata_sidecar`, the run's metadata and the record count go to
    `sidecar_path(destination)` (written the same way, after the export itself).
    """
    count = await _write_atomically(
        destination, lambda out: exporter.write(source, out, include_rejected=include_rejected)
    )
    if getattr(exporter, "metadata_sidecar", False):
        text = json.dumps({**source.metadata(), "records": count}, indent=2)

        async def write_sidecar(out: Path) -> int:
            await anyio.Path(out).write_text(text, encoding="utf-8")
            return count

        await _write_atomically(sidecar_path(destination), write_sidecar)
    return count


def sidecar_path(destination: Path) -> Path:
    """Where the metadata of an export without a metadata column goes."""
    return destination.with_name(destination.name + SIDECAR_SUFFIX)


async def _write_atomically(destination: Path, write: Callable[[Path], Awaitable[int]]) -> int:
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    _remove(partial)
    try:
        count = await write(partial)
    except BaseException:
        _remove(partial)
        raise
    _remove(destination)
    partial.rename(destination)
    return count


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
