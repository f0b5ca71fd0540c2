"""The Ray worker: runs batches of episodes with its own runtime and returns their commits.

This class is made a Ray actor by `runtime.ray_executor` (so this module never imports
Ray). Each batch runs inside a fresh actor system and run hooks, with a scratch store in
the run directory for the model gateway; the model calls it logged are shipped back with
the commits and the driver writes both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runtime.episodes import EpisodeRunner, WorkItem, build_steps, phase_context, run_items
from runtime.log import bound, get_logger
from runtime.playbook import Playbook
from runtime.plugins import Extensions, load_extensions
from runtime.services import ServicesContext
from runtime.store import Store
from runtime.store_types import ItemCommit, ModelCallRecord, ResultPayload, RunRecord

_log = get_logger("runtime.ray_worker")

_CALL_FIELDS = tuple(ModelCallRecord.model_fields)


def item_to_wire(item: WorkItem) -> dict[str, Any]:
    """A work item as plain data (what crosses to a worker)."""
    return {
        "key": item.key,
        "index": item.index,
        "trial": item.trial,
        "inputs": [payload.model_dump(mode="json") for payload in item.inputs],
    }


def item_from_wire(data: dict[str, Any]) -> WorkItem:
    return WorkItem(
        key=data["key"],
        index=data["index"],
        trial=data["trial"],
        inputs=[ResultPayload.model_validate(payload) for payload in data["inputs"]],
    )


class EpisodeWorker:
    """One worker: the playbook (sent once), its extensions, and a scratch store."""

    def __init__(
        self, playbook_json: str, playbook_path: str, run_id: str, worker_dir: str, name: str
    ) -> None:
        self.playbook = Playbook.model_validate_json(playbook_json).located(
            Path(playbook_path).parent if playbook_path else None
        )
        self.playbook_path = playbook_path
        self.run_id = run_id
        self.name = name
        self.store_path = Path(worker_dir) / f"{name}.sqlite"
        self.extensions: Extensions = load_extensions(self.playbook.plugins)
        self._shipped_calls = 0

    async def run_batch(self, phase_name: str, wire_items: list[dict[str, Any]]) -> dict[str, Any]:
        """Run the items concurrently; return their commits and the model calls made."""
        phase = next(p for p in self.playbook.phases if p.name == phase_name)
        items = [item_from_wire(data) for data in wire_items]
        commits: list[ItemCommit] = []
        with bound(run_id=self.run_id, phase=phase_name, worker=self.name):
            async with Store.open(self.store_path) as store:
                await store.ensure_run(self._run_record())
                services = ServicesContext(
                    self.playbook, self.extensions.run_hooks, store, self.run_id, self.playbook_path
                )
                async with services as (system, resources):
                    ctx = phase_context(self.playbook, phase, self.run_id, store, system, resources)
                    steps, on_fail = await build_steps(self.extensions.steps, phase, ctx)
                    runner = EpisodeRunner(self.playbook, phase, ctx, steps, on_fail)
                    limit = phase.concurrency or self.playbook.concurrency

                    async def keep(commit: ItemCommit) -> None:
                        commits.append(commit)

                    await run_items(runner, items, limit, keep)
                calls = await self._new_calls(store)
        _log.debug("ray.batch_done", items=len(items), model_calls=len(calls))
        return {
            "commits": [commit.model_dump(mode="json") for commit in commits],
            "model_calls": calls,
        }

    async def _new_calls(self, store: Store) -> list[dict[str, Any]]:
        """Model calls logged since the last batch, with cached answers for the driver's cache."""
        rows = (await store.model_calls(self.run_id))[self._shipped_calls :]
        self._shipped_calls += len(rows)
        calls = []
        for row in rows:
            call = {field: row[field] for field in _CALL_FIELDS if field in row.keys()}  # noqa: SIM118
            if row["status"] == "ok":
                call["response_json"] = await store.cached_response(row["request_key"])
            calls.append(call)
        return calls

    def _run_record(self) -> RunRecord:
        return RunRecord(
            run_id=self.run_id,
            name=self.playbook.name,
            playbook_path=self.playbook_path,
            playbook_hash=self.playbook.content_hash(),
            playbook_json=self.playbook.stored_json(),
            seed=self.playbook.seed,
            simulated=self.playbook.simulated,
        )
