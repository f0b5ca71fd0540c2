"""Opening a store runs none of its code: plugins a stored playbook names are imported only
when the user names them (`--plugin`), or runs the playbook file itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

MARKER_PLUGIN = """
from pathlib import Path

from runtime.steps import Step, StepOutcome

Path(__file__).with_name("imported.marker").write_text("imported")


class Marked(Step):
    async def run(self, episode):
        return StepOutcome.ok()


class MarkedExporter:
    description = "one line per item"
    suffix = ".txt"

    async def write(self, source, out, *, include_rejected):
        items = await source.store.items(source.run.run_id)
        out.write_text("".join(item.item_key + "\\n" for item in items))
        return len(items)


def register(extensions):
    extensions.steps.register("marked", Marked)
    extensions.exporters.register("marked", MarkedExporter())
"""

PLAYBOOK = """\
name: sent
plugins: [markerplug]
phases:
  - name: p
    episodes: 3
    steps: [{kind: echo, rounds: 1}, {kind: marked}]
"""

NOT_LOADED = (
    "the run's playbook names plugin modules not loaded: 'markerplug' (a store's plugins are"
    " imported only when named: --plugin markerplug)"
)


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.run", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def sent_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store someone else made with a plugin, next to that plugin (so it is importable)."""
    root = tmp_path_factory.mktemp("sender")
    (root / "markerplug.py").write_text(MARKER_PLUGIN)
    (root / "sent.yaml").write_text(PLAYBOOK)
    result = _cli(root, "run", "sent.yaml", "--store", "run", "--no-progress")
    assert result.returncode == 0, result.stderr[-2000:]
    (root / "imported.marker").unlink()
    return root


def _marker(root: Path) -> Path:
    return root / "imported.marker"


def test_inspect_reads_the_store_without_importing_its_plugins(sent_store: Path) -> None:
    result = _cli(sent_store, "inspect", "run")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "p: accepted 3" in result.stdout
    assert f"  note: {NOT_LOADED}" in result.stdout.splitlines()
    assert not _marker(sent_store).exists()


@pytest.mark.parametrize("command", [("export", "--format", "sharegpt"), ("report",)])
def test_export_and_report_work_without_the_plugins(
    sent_store: Path, command: tuple[str, ...], tmp_path: Path
) -> None:
    result = _cli(sent_store, command[0], "run", *command[1:], "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "out").exists()
    assert not _marker(sent_store).exists()


def test_a_format_from_an_unloaded_plugin_names_the_plugin(sent_store: Path) -> None:
    result = _cli(sent_store, "export", "run", "--format", "marked", "--out", "x.txt")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: unknown export format 'marked'"
        " (known: apigen-mt-5k, hf, openai, report, sharegpt, tau); " + NOT_LOADED
    )
    assert not _marker(sent_store).exists()


def test_resuming_a_store_needs_its_plugins_named(sent_store: Path) -> None:
    result = _cli(sent_store, "resume", "run", "--no-progress")
    assert result.returncode == 2
    store = Path("run") / "store.sqlite"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {store}#sent-")
    assert lines[0].endswith(f":1: plugins: {NOT_LOADED}")
    assert not _marker(sent_store).exists()
    vouched = _cli(sent_store, "resume", "run", "--no-progress", "--plugin", "markerplug")
    assert vouched.returncode == 0, vouched.stderr[-2000:]
    assert ": 0 episodes" in vouched.stdout
    _marker(sent_store).unlink()


def test_a_named_plugin_is_imported_and_used(sent_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "items.txt"
    result = _cli(
        sent_store,
        "export",
        "run",
        "--format",
        "marked",
        "--out",
        str(out),
        "--plugin",
        "markerplug",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.read_text().splitlines() == ["000000", "000001", "000002"]
    assert _marker(sent_store).exists()
    _marker(sent_store).unlink()
