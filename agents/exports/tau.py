"""tau-bench task lists from a run's verified blueprints: one file per domain.

A task list is one domain's (tau-bench keeps retail and airline tasks apart, and a task only
replays on its own domain's data), so `tau` writes a directory with `tasks_<domain>.json`
per domain. Each file is a JSON list of `{user_id, instruction, actions: [{name, kwargs}],
outputs}` as tau-bench reads it; each task also has `ending` (how its conversation must end,
which `load_task` reads back) and `metadata` (run, phase, item; simulated or real). tau-bench's
`Task` model ignores keys it does not know.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio.to_thread

from agents.exports.collect import blueprints
from runtime.exports import ExportSource
from runtime.playbook import DomainSection, Playbook

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def domain_label(section: DomainSection | None) -> str:
    """A file-name-safe domain name: `retail`, or `TodoList` for `examples.todo:TodoList`."""
    if section is None:
        return "tasks"
    name = re.split(r"[:.]", section.name)[-1]
    return _UNSAFE.sub("_", name) or "domain"


def task_files(playbook: Playbook) -> dict[str, str]:
    """Phase -> task file name: `tasks_<domain>.json`, shared by the phases of one domain.

    Phases that name one domain with different options (other data) cannot share a file: each
    gets `tasks_<domain>_<phase>.json`.
    """
    sections = {phase.name: phase.domain or playbook.domain for phase in playbook.phases}
    options: dict[str, set[str]] = {}
    for section in sections.values():
        key = json.dumps(section.options if section else {}, sort_keys=True)
        options.setdefault(domain_label(section), set()).add(key)
    files = {}
    for phase, section in sections.items():
        label = domain_label(section)
        suffix = f"_{phase}" if len(options[label]) > 1 else ""
        files[phase] = f"tasks_{label}{suffix}.json"
    return files


def tau_task(blueprint: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """One task in tau-bench's shape, plus `ending` when known and `metadata`."""
    return {
        "user_id": blueprint["user_id"],
        "instruction": blueprint["instruction"],
        "actions": [
            {"name": action["name"], "kwargs": action.get("kwargs", {})}
            for action in blueprint["actions"]
        ],
        "outputs": list(blueprint.get("outputs", [])),
        **({"ending": blueprint["ending"]} if blueprint.get("ending") else {}),
        "metadata": metadata,
    }


class TauExporter:
    """A directory of tau-bench task lists, `tasks_<domain>.json` per domain."""

    description = "directory of tau-bench task lists, one tasks_<domain>.json per domain"
    suffix = ""

    async def write(self, source: ExportSource, out: Path, *, include_rejected: bool) -> int:
        metadata = source.metadata()
        files = task_files(source.playbook)
        tasks: dict[str, list[dict[str, Any]]] = {}
        for phase, key, blueprint in await blueprints(source, include_rejected=include_rejected):
            task = tau_task(blueprint, {**metadata, "phase": phase, "item_key": key})
            tasks.setdefault(files[phase], []).append(task)

        def save() -> None:
            out.mkdir(parents=True)
            for name, listed in sorted(tasks.items()):
                (out / name).write_text(json.dumps(listed, indent=2), encoding="utf-8")

        await anyio.to_thread.run_sync(save)
        return sum(len(listed) for listed in tasks.values())
