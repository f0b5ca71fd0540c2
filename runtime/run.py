"""The command line: `python -m runtime.run PLAYBOOK.yaml` (or the `apigen-mt` script).

Subcommands: run (the default), resume, schema, inspect, export, report. User errors (a bad
playbook, a missing store, ...) print one line naming the cause and exit with code 2; a run
stopped by an error no retry gets past (a rejected API key, ...) prints one line and exits
with 3; a run stopped by SIGINT or SIGTERM exits with 130 or 143 (see `runtime.shutdown`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from runtime.api import (
    LoadedPlaybook,
    export_stored_run,
    load_playbook,
    load_stored_playbook,
    not_loaded,
    protocol_roles,
    resolve_store_path,
    run_playbook,
    stored_run,
)
from runtime.console import LogProgress, RichProgress
from runtime.engine import RunSummary
from runtime.errors import ApigenError, RunStopped, UsageError
from runtime.exports import sidecar_path
from runtime.inspection import (
    failure_lines,
    funnel_line,
    inspection_json,
    model_line,
    read_models,
    read_phases,
    reflection_line,
)
from runtime.log import configure_logging
from runtime.loop import run as run_on_loop
from runtime.playbook import Playbook, playbook_json_schema
from runtime.plugins import load_extensions
from runtime.protocol_step import RoleFactory
from runtime.secrets import redact_text
from runtime.shutdown import Interrupted, run_until_signalled
from runtime.store import Store
from runtime.traces import read_trace, trace_lines

EXIT_USAGE = 2
EXIT_STOPPED = 3
EXIT_INTERRUPTED = 130  # SIGINT; SIGTERM exits 143 (128 + the signal number)
COMMANDS = ("run", "resume", "schema", "inspect", "export", "report")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="apigen-mt",
        description="Generate verifiable multi-turn tool-use data from a YAML playbook.",
        epilog="A bare PLAYBOOK.yaml means `run PLAYBOOK.yaml`.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add_plugins(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument(
            "--plugin",
            action="append",
            default=[],
            metavar="MODULE",
            help="import this plugin module (repeatable); a store's own plugins are imported"
            " only when named here",
        )

    def add_logging(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--log-json", action="store_true", help="log JSON lines to stderr")
        cmd.add_argument(
            "--log-level", default="info", choices=["debug", "info", "warning", "error"]
        )

    run = sub.add_parser("run", help="run a playbook (continues it if it already ran)")
    run.add_argument("playbook", help="path to the playbook YAML")
    run.add_argument("--store", help="run directory (overrides the playbook's `store`)")
    run.add_argument("--seed", type=int, help="override the playbook's seed (a new run)")
    run.add_argument("--concurrency", type=int, help="override episodes in flight")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_roles(run)
    add_logging(run)

    resume = sub.add_parser("resume", help="continue an interrupted run")
    resume.add_argument("target", help="a playbook, a run directory or a store file")
    resume.add_argument("--run-id", help="which run in the store (default: latest unfinished)")
    resume.add_argument("--no-progress", action="store_true")
    add_plugins(resume)
    add_roles(resume)
    resume.add_argument(
        "--retry-failed",
        action="store_true",
        help="redo items that failed (endpoint down, step crashed); rejected items stay",
    )
    add_logging(resume)

    sub.add_parser("schema", help="print the playbook JSON Schema")

    inspect = sub.add_parser("inspect", help="summarise a run's store")
    inspect.add_argument("target", help="a run directory or a store file")
    inspect.add_argument("--run-id", help="which run (default: latest)")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.add_argument(
        "--trace", metavar="ITEM", help="print an item's protocol message trace (e.g. 000003.t1)"
    )
    inspect.add_argument("--phase", help="the phase of --trace ITEM (when several have it)")
    add_plugins(inspect)

    export = sub.add_parser("export", help="write a run's data in a dataset format")
    export.add_argument("target", help="a run directory, a store file or the playbook")
    export.add_argument(
        "--format",
        required=True,
        help="sharegpt | apigen-mt-5k (only the published dataset's columns) | openai | tau"
        " | hf | a plugin's format",
    )
    export.add_argument(
        "--out",
        help="a file for sharegpt, apigen-mt-5k (plus <out>.meta.json) and openai; a directory"
        " for tau (tasks_<domain>.json per domain) and hf"
        " (default: <run dir>/export/<format>.jsonl, or <run dir>/export/<format>/)",
    )
    export.add_argument("--include-rejected", action="store_true", help="rejected items too")
    export.add_argument(
        "--include-reasoning",
        action="store_true",
        help="openai, sharegpt, hf: the assistant's reasoning beside its messages",
    )
    export.add_argument("--run-id", help="which run in the store (default: latest)")
    add_plugins(export)

    report = sub.add_parser("report", help="write report.html and plots for a run")
    report.add_argument("target", help="a run directory, a store file or the playbook")
    report.add_argument("--out", help="output directory (default: <run dir>/report)")
    report.add_argument("--run-id", help="which run in the store (default: latest)")
    add_plugins(report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] not in COMMANDS and not args_list[0].startswith("-"):
        args_list.insert(0, "run")
    args = build_parser().parse_args(args_list)
    if hasattr(args, "log_json"):
        configure_logging(level=args.log_level, json=args.log_json)
    else:
        configure_logging(level="warning")
    try:
        if args.command == "schema":
            print(json.dumps(playbook_json_schema(load_extensions().steps), indent=2))
            return 0
        if args.command == "inspect":
            return run_on_loop(_inspect, args)
        if args.command in {"export", "report"}:
            return _export(args)
        loaded = _load_for(args)
        if getattr(args, "retry_failed", False):
            forgotten = run_on_loop(_forget_failed, loaded)
            print(f"retrying {forgotten} failed items", file=sys.stderr)
        attach = _players(loaded, getattr(args, "role", []))
        no_progress = args.no_progress or bool(attach)
        summary = _run_with_progress(loaded, no_progress=no_progress, attach=attach)
    except RunStopped as exc:
        print(f"stopped: {exc}; fix it, then `resume` to continue", file=sys.stderr)
        return EXIT_STOPPED
    except ApigenError as exc:
        print(f"error: {redact_text(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except Interrupted as exc:
        print(f"{exc}: run `resume` to continue where it stopped", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: run `resume` to continue where it stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    _print_summary(summary)
    run_on_loop(_print_details, Path(summary.store_path), summary.run_id, loaded)
    return 0


async def _forget_failed(loaded: LoadedPlaybook) -> int:
    store_file = resolve_store_path(loaded.playbook.store_path)
    async with Store.open(store_file) as store:
        return await store.forget_failed(loaded.playbook.run_id)


def _export(args: argparse.Namespace) -> int:
    """`export` and `report` (a report is the `report` export format)."""
    target = Path(args.target)
    if target.suffix in {".yaml", ".yml"}:
        loaded = load_playbook(target, check_files=False)
        store_file = resolve_store_path(loaded.playbook.store_path)
    else:
        store_file = resolve_store_path(target)
        loaded = run_on_loop(_stored, store_file, args.run_id, args.plugin, False)
    format_name = "report" if args.command == "report" else args.format
    if args.out:
        destination = Path(args.out)
    else:
        exporter = loaded.extensions.exporters.get(format_name)
        name = "report" if format_name == "report" else f"export/{format_name}{exporter.suffix}"
        destination = store_file.parent / name
    include_rejected = bool(getattr(args, "include_rejected", False))
    include_reasoning = bool(getattr(args, "include_reasoning", False))
    count = run_on_loop(
        export_stored_run,
        loaded,
        store_file,
        format_name,
        destination,
        include_rejected,
        include_reasoning,
    )
    if format_name == "report":
        print(f"wrote the report ({count} plots) -> {_written(destination)}")
    else:
        print(f"wrote {count} records as {format_name} -> {_written(destination)}")
    return 0


def _written(destination: Path) -> str:
    """The destination, with the files in it (a directory) or beside it (metadata)."""
    if destination.is_dir():
        names = sorted(path.name for path in destination.iterdir())
        shown = ", ".join(names) if len(names) <= 8 else f"{len(names)} files"
        return f"{destination}/ ({shown})"
    sidecar = sidecar_path(destination)
    return f"{destination} (metadata: {sidecar.name})" if sidecar.exists() else str(destination)


def _load_for(args: argparse.Namespace) -> LoadedPlaybook:
    if args.command == "run":
        overrides: dict[str, Any] = {}
        if args.store is not None:
            overrides["store"] = args.store
        if args.seed is not None:
            overrides["seed"] = args.seed
        if args.concurrency is not None:
            overrides["concurrency"] = args.concurrency
        return load_playbook(args.playbook, overrides)
    target = Path(args.target)
    if target.suffix in {".yaml", ".yml"}:
        loaded = load_playbook(target)
        store_file = resolve_store_path(loaded.playbook.store_path)
        run_on_loop(stored_run, store_file, loaded.playbook.run_id)
        return loaded
    return run_on_loop(_stored, resolve_store_path(target), args.run_id, args.plugin, True)


def add_roles(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="ROLE=PLAYER",
        help="play a protocol role yourself, e.g. user=console (one episode at a time)",
    )


def _players(loaded: LoadedPlaybook, wanted: list[str]) -> dict[str, RoleFactory]:
    """`--role ROLE=PLAYER` options as attached roles: ROLE is a protocol role's name or
    kind, or the player's own word for what it plays (`user` for the console)."""
    attach: dict[str, RoleFactory] = {}
    known = protocol_roles(loaded)
    for option in wanted:
        role, sep, name = option.partition("=")
        if not sep or not role or not name:
            raise UsageError(f"--role {option!r}: expected ROLE=PLAYER, e.g. user=console")
        player = loaded.extensions.players.get(name)
        if role not in known and role == player.called:
            role = player.plays
        if role not in known:
            shown = ", ".join(sorted(known)) or "none"
            raise UsageError(f"--role {option!r}: no protocol role {role!r} (known: {shown})")
        attach[role] = player.factory
    return attach


async def _stored(
    store_file: Path, run_id: str | None, plugins: list[str], for_run: bool
) -> LoadedPlaybook:
    return await load_stored_playbook(store_file, run_id, plugins=plugins, for_run=for_run)


def _run_with_progress(
    loaded: LoadedPlaybook,
    *,
    no_progress: bool,
    attach: dict[str, RoleFactory] | None = None,
) -> RunSummary:
    console = Console(stderr=True)
    if console.is_terminal and not no_progress:
        with RichProgress(console) as progress:
            return run_on_loop(_run, loaded, progress, attach)
    with LogProgress() as plain:
        return run_on_loop(_run, loaded, plain, attach)


async def _run(
    loaded: LoadedPlaybook,
    progress: RichProgress | LogProgress,
    attach: dict[str, RoleFactory] | None = None,
) -> RunSummary:
    async def run() -> RunSummary:
        # a person plays one episode at a time
        return await run_playbook(
            loaded, progress=progress, attach=attach, one_at_a_time=bool(attach)
        )

    return await run_until_signalled(run, grace_s=loaded.playbook.timeouts.shutdown_s)


def _print_summary(summary: RunSummary) -> None:
    verb = "resumed" if summary.resumed else "ran"
    print(
        f"{verb} {summary.run_id}: {summary.executed} episodes in {summary.duration_s:.2f}s"
        f" -> {summary.store_path}"
    )
    for phase, counts in summary.counts.items():
        total = sum(counts.values())
        parts = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
        print(f"  {phase}: {total} items ({parts})")


async def _print_details(store_file: Path, run_id: str, loaded: LoadedPlaybook) -> None:
    """Funnels, and what extensions add (pass^k, ...), after a run."""
    async with Store.open(store_file) as store:
        phases = await read_phases(store, run_id, loaded.playbook)
        extra = [
            line
            for hook in loaded.extensions.summaries
            for line in await hook(store, run_id, loaded.playbook)
        ]
    for phase, view in phases.items():
        if view.funnel:
            print(f"  {phase} funnel: {funnel_line(view)}")
        reflected = reflection_line(view)
        if reflected:
            print(f"    {reflected}")
    for line in extra:
        print(f"  {line}")


async def _inspect(args: argparse.Namespace) -> int:
    store_file = resolve_store_path(args.target)
    run = await stored_run(store_file, args.run_id)
    loaded = await load_stored_playbook(store_file, run.run_id, plugins=args.plugin)
    if args.trace is not None:
        return await _print_trace(store_file, run.run_id, loaded.playbook, args)
    async with Store.open(store_file) as store:
        phases = await read_phases(store, run.run_id, loaded.playbook)
        models = await read_models(store, run.run_id, loaded.playbook)
        extra = [
            line
            for hook in loaded.extensions.summaries
            for line in await hook(store, run.run_id, loaded.playbook)
        ]
    if args.json:
        report: dict[str, Any] = {
            "run_id": run.run_id,
            "name": run.name,
            "status": run.status,
            "simulated": run.simulated,
            "seed": run.seed,
            "playbook": run.playbook_path,
            **inspection_json(phases, models),
            "notes": extra,
            "unloaded_plugins": list(loaded.unloaded_plugins),
        }
        print(json.dumps(report, indent=2))
        return 0
    label = " (SIMULATED models)" if run.simulated else ""
    playbook = _shown_path(run.playbook_path)
    print(f"run {run.run_id} [{run.status}]{label}  seed={run.seed}  playbook={playbook}")
    for phase, view in phases.items():
        parts = ", ".join(f"{status} {n}" for status, n in sorted(view.counts.items()))
        print(f"  {phase}: {parts}")
        if view.funnel:
            print(f"    funnel: {funnel_line(view)}")
        for line in failure_lines(view):
            print(f"    {line}")
    for model in models:
        print(f"  model {model_line(model)}")
    for line in extra:
        print(f"  {line}")
    if loaded.unloaded_plugins:
        print(f"  note: {not_loaded(loaded.unloaded_plugins)}")
    return 0


async def _print_trace(
    store_file: Path, run_id: str, playbook: Playbook, args: argparse.Namespace
) -> int:
    async with Store.open(store_file) as store:
        trace = await read_trace(store, run_id, playbook, args.trace, args.phase)
    if args.json:
        print(json.dumps(trace.as_json(), indent=2))
    else:
        print("\n".join(trace_lines(trace)))
    return 0


def _shown_path(path: str) -> str:
    """A path as a person would type it here: relative to the working directory if inside it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


if __name__ == "__main__":
    sys.exit(main())
