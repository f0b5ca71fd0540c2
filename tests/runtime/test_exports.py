"""Exports: registered formats, atomic writes, the playbook's `export:` section."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from runtime.api import export_stored_run, load_playbook, run_playbook
from runtime.exports import ExportError, ExportSource

pytestmark = pytest.mark.anyio


class ItemsExporter:
    """Writes one JSON line per committed echo item, with the run's metadata."""

    description = "test format"
    suffix = ".jsonl"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    async def write(self, source: ExportSource, out: Path, *, include_rejected: bool) -> int:
        status = None if include_rejected else "accepted"
        items = await source.store.items(source.run.run_id, "echo", status=status)
        with out.open("w") as handle:
            for item in items:
                handle.write(json.dumps({"key": item.item_key, **source.metadata()}) + "\n")
                if self.fail:
                    raise OSError("disk full")
        return len(items)


def _playbook(tmp_path: Path, export: str = "") -> Path:
    path = tmp_path / "echo.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            name: exp
            store: {tmp_path / "run"}
            phases:
              - name: echo
                episodes: 4
                steps: [{{kind: echo, rounds: 1}}]
            """
        )
        + export
    )
    return path


ITEMS_PLUGIN = """
import json


class ItemsExporter:
    description = "test format"
    suffix = ".jsonl"

    async def write(self, source, out, *, include_rejected):
        items = await source.store.items(source.run.run_id, "echo", status="accepted")
        with out.open("w") as handle:
            for item in items:
                handle.write(json.dumps({"key": item.item_key, **source.metadata()}) + "\\n")
        return len(items)


def register(extensions):
    extensions.exporters.register("items", ItemsExporter())
"""


async def test_the_export_section_runs_at_the_end_of_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "items_plugin.py").write_text(ITEMS_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = load_playbook(
        _playbook(
            tmp_path,
            "plugins: [items_plugin]\nexport: [{format: items, path: out/items.jsonl}]\n",
        )
    )
    await run_playbook(loaded)
    lines = (tmp_path / "run" / "out" / "items.jsonl").read_text().splitlines()
    assert len(lines) == 4
    record = json.loads(lines[0])
    assert record["run_id"] == loaded.playbook.run_id
    assert record["seed"] == 0 and record["simulated"] is True


async def test_a_failed_export_leaves_the_previous_file_untouched(tmp_path: Path) -> None:
    loaded = load_playbook(_playbook(tmp_path))
    summary = await run_playbook(loaded)
    destination = tmp_path / "items.jsonl"
    destination.write_text("previous\n")
    loaded.extensions.exporters.register("items", ItemsExporter(fail=True))
    with pytest.raises(OSError, match="disk full"):
        await export_stored_run(loaded, Path(summary.store_path), "items", destination)
    assert destination.read_text() == "previous\n"
    assert not (tmp_path / "items.jsonl.partial").exists()


async def test_an_unknown_format_is_named(tmp_path: Path) -> None:
    loaded = load_playbook(_playbook(tmp_path))
    summary = await run_playbook(loaded)
    with pytest.raises(ExportError, match="unknown export format 'parquet'"):
        await export_stored_run(loaded, Path(summary.store_path), "parquet", tmp_path / "x")


class BareItemsExporter(ItemsExporter):
    """A layout with no room for metadata: the run's metadata goes beside the file."""

    metadata_sidecar = True


async def test_a_format_without_metadata_gets_it_in_a_sidecar(tmp_path: Path) -> None:
    loaded = load_playbook(_playbook(tmp_path))
    summary = await run_playbook(loaded)
    loaded.extensions.exporters.register("bare", BareItemsExporter())
    destination = tmp_path / "bare.jsonl"
    assert await export_stored_run(loaded, Path(summary.store_path), "bare", destination) == 4
    sidecar = json.loads((tmp_path / "bare.jsonl.meta.json").read_text())
    assert sidecar["run_id"] == loaded.playbook.run_id
    assert (sidecar["simulated"], sidecar["records"]) == (True, 4)


async def test_a_failed_export_writes_no_sidecar(tmp_path: Path) -> None:
    loaded = load_playbook(_playbook(tmp_path))
    summary = await run_playbook(loaded)
    failing = BareItemsExporter(fail=True)
    loaded.extensions.exporters.register("bare", failing)
    with pytest.raises(OSError, match="disk full"):
        await export_stored_run(loaded, Path(summary.store_path), "bare", tmp_path / "b.jsonl")
    for name in ("b.jsonl", "b.jsonl.partial", "b.jsonl.meta.json", "b.jsonl.meta.json.partial"):
        assert not (tmp_path / name).exists()
