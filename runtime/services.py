"""Run services: the actor system and the run hooks (model gateway, domains, ...)."""

from __future__ import annotations

from contextlib import AsyncExitStack

from runtime.actors import ActorSystem
from runtime.engine_types import RunContext, RunHook
from runtime.playbook import Playbook
from runtime.steps import Resources
from runtime.store import Store


class ServicesContext:
    """Starts the actor system and the run hooks; tears them down in reverse order."""

    def __init__(
        self, playbook: Playbook, hooks: list[RunHook], store: Store, run_id: str, path: str
    ) -> None:
        self._playbook = playbook
        self._path = path
        self._hooks = hooks
        self._store = store
        self._run_id = run_id
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> tuple[ActorSystem, Resources]:
        system = await self._stack.enter_async_context(
            ActorSystem(
                mailbox_size=self._playbook.mailbox_size,
                ask_timeout_s=self._playbook.timeouts.ask_s,
            )
        )
        resources = Resources()
        context = RunContext(
            self._playbook, self._run_id, self._store, system, resources, self._path
        )
        try:
            for hook in self._hooks:
                await self._stack.enter_async_context(hook(context))
        except BaseException:
            await self._stack.aclose()
            raise
        return system, resources

    async def __aexit__(self, *exc_info: object) -> bool | None:
        return await self._stack.__aexit__(*exc_info)  # type: ignore[arg-type]
