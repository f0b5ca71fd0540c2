"""Run a playbook's episodes on a Ray cluster; the driver stays the only store writer.

Each Ray worker actor runs our own anyio runtime (actor system, run hooks, model gateway)
and receives batches of work items; it returns one `ItemCommit` per item plus the model
calls it made, and the driver commits them with the same exactly-once keys as the local
executor. A worker that dies has its whole batch re-queued on a fresh worker: nothing was
committed for it, so nothing is lost or duplicated.

What crosses the wire is explicit and small: the playbook as JSON once per worker, then
work items and commits as plain dicts. Domain data never travels: each worker loads (or
generates) it once from the playbook's domain options.
"""

from __future__ import annotations

import math
import os
import sys
import uuid
from collections import deque
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import anyio

from runtime.episodes import WorkItem
from runtime.errors import ApigenError
from runtime.executors import Commit
from runtime.log import get_logger
from runtime.playbook import PhaseConfig, Playbook
from runtime.ray_worker import EpisodeWorker, item_to_wire
from runtime.steps import PhaseContext
from runtime.store_types import ItemCommit, ModelCallRecord

_log = get_logger("runtime.ray")

INSTALL_HINT = "executor `ray` needs Ray: pip install 'apigen-mt[ray]'"


MAX_WORKER_LOSSES = 2
"""Workers an item may take down before it is committed as failed (a poison item)."""


class ExecutorError(ApigenError):
    """The executor could not run (Ray missing, cluster unreachable, workers lost)."""


def import_ray() -> Any:
    """The `ray` module, or a clear error saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ExecutorError(INSTALL_HINT) from exc
    return ray


def start_local_cluster(num_cpus: int | None) -> None:
    """A local Ray instance whose workers import the same modules as this process."""
    ray = import_ray()
    paths = [entry for entry in sys.path if entry]
    ray.init(
        num_cpus=num_cpus,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}},
    )


def worker_playbook(playbook: Playbook, workers: int) -> Playbook:
    """The playbook each worker runs: per-endpoint limits split across the workers."""
    models = {}
    for name, model in playbook.models.items():
        update: dict[str, Any] = {"max_concurrency": max(1, model.max_concurrency // workers)}
        if model.rpm is not None:
            update["rpm"] = model.rpm / workers
        models[name] = model.model_copy(update=update)
    concurrency = max(1, math.ceil(playbook.concurrency / workers))
    return playbook.model_copy(update={"models": models, "concurrency": concurrency})


class RayExecutor:
    """A pool of Ray worker actors fed batches of work keys; use as an async context manager."""

    def __init__(self, playbook: Playbook, playbook_path: str) -> None:
        self.playbook = playbook
        self.config = playbook.executor
        self.playbook_path = playbook_path
        self._ray: Any = None
        self._started_cluster = False
        self._workers: list[Any] = []
        self._worker_dir = playbook.run_dir / "ray-workers"
        self._payload = worker_playbook(playbook, self.config.workers).model_dump_json()
        self.requeued = 0

    async def __aenter__(self) -> RayExecutor:
        ray = import_ray()
        self._ray = ray
        if not ray.is_initialized():
            await anyio.to_thread.run_sync(self._init_cluster)
        self._workers = [self._spawn() for _ in range(self.config.workers)]
        return self

    def _init_cluster(self) -> None:
        """Connect to the configured cluster, or start a local one."""
        if self.config.address is None:
            start_local_cluster(self.config.num_cpus)
            self._started_cluster = True
        else:
            self._ray.init(address=self.config.address, log_to_driver=False)
        _log.info("ray.connected", address=self.config.address or "local")

    def _spawn(self) -> Any:
        remote = self._ray.remote(EpisodeWorker)
        name = f"worker-{uuid.uuid4().hex[:8]}"
        return remote.options(max_concurrency=4).remote(
            self._payload, self.playbook_path, self.playbook.run_id, str(self._worker_dir), name
        )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for worker in self._workers:
            self._ray.kill(worker)
        self._workers = []
        if self._started_cluster:
            await anyio.to_thread.run_sync(self._ray.shutdown)

    async def run_phase(
        self,
        phase: PhaseConfig,
        ctx: PhaseContext,
        items: Iterable[WorkItem],
        commit: Commit,
    ) -> None:
        """Feed batches to every worker until the queue is empty; re-queue a dead worker's."""
        queue: deque[WorkItem] = deque(items)
        size = self.config.episodes_per_worker
        losses: dict[str, int] = {}

        async def drive(slot: int) -> None:
            while queue:
                batch = [queue.popleft() for _ in range(min(size, len(queue)))]
                try:
                    reply = await self._run_batch(slot, phase.name, batch)
                except self._ray.exceptions.RayActorError as exc:
                    _log.warning("ray.worker_lost", slot=slot, batch=len(batch), error=str(exc))
                    self._workers[slot] = self._spawn()
                    for item in reversed(batch):
                        losses[item.key] = losses.get(item.key, 0) + 1
                        if losses[item.key] > MAX_WORKER_LOSSES:
                            await commit(_lost(ctx, item))
                        else:
                            queue.appendleft(item)
                            self.requeued += 1
                    continue
                for call in reply["model_calls"]:
                    await ctx.store.record_model_call(ModelCallRecord.model_validate(call))
                for payload in reply["commits"]:
                    await commit(ItemCommit.model_validate(payload))

        async with anyio.create_task_group() as group:
            for slot in range(len(self._workers)):
                group.start_soon(drive, slot)

    async def _run_batch(self, slot: int, phase: str, batch: list[WorkItem]) -> dict[str, Any]:
        wire = [item_to_wire(item) for item in batch]
        ref = self._workers[slot].run_batch.remote(phase, wire)
        try:
            with anyio.fail_after(self.config.batch_timeout_s):
                reply: dict[str, Any] = await ref
        except TimeoutError:
            self._ray.cancel(ref, force=True)
            raise ExecutorError(
                f"a Ray batch of {len(batch)} episodes took over {self.config.batch_timeout_s}s"
            ) from None
        return reply


def _lost(ctx: PhaseContext, item: WorkItem) -> ItemCommit:
    """The failed commit of an item that kept killing its workers."""
    return ItemCommit(
        run_id=ctx.run_id,
        phase=ctx.phase,
        item_key=item.key,
        index=item.index,
        trial=item.trial,
        status="failed",
        reason=f"worker_lost: the item's worker died {MAX_WORKER_LOSSES + 1} times",
        attempts=0,
    )
