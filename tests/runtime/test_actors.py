"""Specification of the actor runtime: ordering, timeouts, failures, backpressure, shutdown."""

from __future__ import annotations

import anyio
import pytest

from runtime.actors import Actor, ActorSystem, FunctionActor
from runtime.errors import AskTimeout, HandlerFailed, MailboxClosed, MailboxFull

pytestmark = pytest.mark.anyio


class Recorder(Actor[object, object]):
    """Appends every message it sees; answers asks with the number of messages so far."""

    def __init__(self) -> None:
        self.seen: list[object] = []
        self.stopped = False

    async def handle(self, message: object) -> object:
        self.seen.append(message)
        return len(self.seen)

    async def on_stop(self) -> None:
        self.stopped = True


class Gate(Actor[str, str]):
    """Blocks in its handler until the gate opens: a deliberately slow consumer."""

    def __init__(self) -> None:
        self.gate = anyio.Event()
        self.entered = anyio.Event()
        self.handled: list[str] = []

    async def handle(self, message: str) -> str:
        self.entered.set()
        await self.gate.wait()
        self.handled.append(message)
        return message


async def test_tells_and_asks_are_handled_in_send_order() -> None:
    recorder = Recorder()
    async with ActorSystem() as system:
        ref = system.spawn(recorder)
        for n in range(5):
            await ref.tell(n)
        reply = await ref.ask("last", timeout=5)
        await ref.tell(99)
        await ref.stop(timeout=5)
    assert recorder.seen == [0, 1, 2, 3, 4, "last", 99]
    assert reply == 6
    assert recorder.stopped


async def test_ask_returns_the_handlers_value() -> None:
    async def double(value: int) -> int:
        return value * 2

    async with ActorSystem() as system:
        ref = system.spawn(FunctionActor[int, int](double))
        assert [await ref.ask(n, timeout=5) for n in (1, 2, 21)] == [2, 4, 42]


async def test_ask_times_out_when_no_reply_comes() -> None:
    gate = Gate()
    async with ActorSystem() as system:
        ref = system.spawn(gate)
        with pytest.raises(AskTimeout, match=r"did not reply within 0\.05s"):
            await ref.ask("never", timeout=0.05)
        gate.gate.set()


async def test_failing_handler_answers_the_asker_and_the_actor_survives() -> None:
    async def picky(value: int) -> int:
        if value < 0:
            raise ValueError(f"negative: {value}")
        return value

    async with ActorSystem() as system:
        ref = system.spawn(FunctionActor[int, int](picky), name="picky")
        with pytest.raises(HandlerFailed) as failure:
            await ref.ask(-3, timeout=5)
        assert failure.value.actor == "picky"
        assert failure.value.error_type == "ValueError"
        assert failure.value.message == "negative: -3"
        assert isinstance(failure.value.__cause__, ValueError)
        assert await ref.ask(7, timeout=5) == 7


async def test_failing_tell_does_not_kill_the_actor() -> None:
    async def fragile(value: int) -> int:
        if value == 0:
            raise ZeroDivisionError("zero")
        return value

    async with ActorSystem() as system:
        ref = system.spawn(FunctionActor[int, int](fragile))
        await ref.tell(0)
        assert await ref.ask(5, timeout=5) == 5


async def test_full_mailbox_applies_backpressure() -> None:
    gate = Gate()
    async with ActorSystem() as system:
        ref = system.spawn(gate, mailbox_size=2)
        await ref.tell("a")
        await gate.entered.wait()  # "a" is being handled, the mailbox is empty again
        ref.tell_nowait("b")
        ref.tell_nowait("c")
        with pytest.raises(MailboxFull):
            ref.tell_nowait("d")
        sent = anyio.Event()

        async def blocked_sender() -> None:
            await ref.tell("d")
            sent.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(blocked_sender)
            with anyio.move_on_after(0.05):
                await sent.wait()
            assert not sent.is_set(), "a full mailbox must make `tell` wait"
            gate.gate.set()
            with anyio.fail_after(5):
                await sent.wait()
        await ref.stop(timeout=5)
    assert gate.handled == ["a", "b", "c", "d"]


async def test_messages_to_a_stopped_actor_are_refused() -> None:
    async with ActorSystem() as system:
        ref = system.spawn(Recorder())
        await ref.stop(timeout=5)
        with pytest.raises(MailboxClosed):
            await ref.tell("late")
        with pytest.raises(MailboxClosed):
            await ref.ask("late", timeout=1)
        assert system.live_actors == 0


async def test_shutdown_cancels_running_handlers() -> None:
    gate = Gate()
    with anyio.fail_after(5):
        async with ActorSystem() as system:
            ref = system.spawn(gate)
            await ref.tell("stuck")
            await gate.entered.wait()
            system.shutdown()
    assert gate.handled == []


async def test_cancelling_the_caller_cancels_the_system_cleanly() -> None:
    gate = Gate()
    with anyio.move_on_after(0.1) as scope, anyio.fail_after(5):
        async with ActorSystem() as system:
            ref = system.spawn(gate)
            await ref.ask("forever", timeout=60)
    assert scope.cancelled_caught
    assert gate.handled == []


async def test_leaving_the_system_drains_mailboxes() -> None:
    recorder = Recorder()
    async with ActorSystem() as system:
        ref = system.spawn(recorder)
        for n in range(100):
            await ref.tell(n)
    assert recorder.seen == list(range(100))
    assert recorder.stopped


async def test_many_short_lived_actors_leave_nothing_behind() -> None:
    async def echo(value: int) -> int:
        return value

    async with ActorSystem() as system:
        for n in range(2000):
            ref = system.spawn(FunctionActor[int, int](echo))
            assert await ref.ask(n, timeout=5) == n
            await ref.stop(timeout=5)
        assert system.live_actors == 0


async def test_asks_queued_before_a_failed_start_get_the_failure() -> None:
    class Broken(Actor[int, int]):
        async def on_start(self) -> None:
            raise RuntimeError("cannot connect")

    async with ActorSystem() as system:
        ref = system.spawn(Broken(), name="broken")
        with pytest.raises(HandlerFailed, match="cannot connect"):
            await ref.ask(1, timeout=5)  # queued before the actor task ran on_start


async def test_an_actor_that_failed_to_start_refuses_later_messages() -> None:
    class Broken(Actor[int, int]):
        async def on_start(self) -> None:
            raise RuntimeError("cannot connect")

    async with ActorSystem() as system:
        ref = system.spawn(Broken())
        await anyio.wait_all_tasks_blocked()
        with pytest.raises(MailboxClosed):
            await ref.ask(1, timeout=5)
        assert system.live_actors == 0


async def test_asks_pending_at_shutdown_fail_instead_of_hanging() -> None:
    gate = Gate()
    outcome: list[BaseException] = []

    async def ask_and_keep() -> None:
        try:
            await ref.ask("stuck", timeout=60)
        except MailboxClosed as exc:
            outcome.append(exc)

    async with anyio.create_task_group() as asker_group, ActorSystem() as system:
        ref = system.spawn(gate)
        asker_group.start_soon(ask_and_keep)
        await gate.entered.wait()
        system.shutdown()
    assert len(outcome) == 1
    assert "stopped before replying" in str(outcome[0])


async def test_asks_with_different_timeouts_each_expire_on_their_own() -> None:
    gate = Gate()
    expired: list[float] = []

    async def ask_with(limit: float) -> None:
        with pytest.raises(AskTimeout):
            await ref.ask(f"{limit}", timeout=limit)
        expired.append(limit)

    async with ActorSystem() as system:
        ref = system.spawn(gate)
        async with anyio.create_task_group() as group:
            group.start_soon(ask_with, 0.3)
            await gate.entered.wait()
            group.start_soon(ask_with, 0.05)
        gate.gate.set()
    assert expired == [0.05, 0.3]


# -- inline actors: served in their senders' tasks -------------------------------------


async def test_inline_actor_serves_overlapping_senders_one_at_a_time_in_arrival_order() -> None:
    gate = Gate()
    async with ActorSystem() as system:
        ref = system.spawn_inline(gate, name="inline-gate")
        replies: list[str] = []

        async def send(message: str) -> None:
            replies.append(await ref.ask(message))

        async with anyio.create_task_group() as group:
            group.start_soon(send, "first")
            await gate.entered.wait()  # "first" is in the handler; the others must queue
            for message in ("second", "third", "fourth"):
                group.start_soon(send, message)
                await anyio.wait_all_tasks_blocked()
            assert gate.handled == []
            gate.gate.set()
        assert gate.handled == ["first", "second", "third", "fourth"]
        assert replies == gate.handled
        await ref.stop()
        assert system.live_actors == 0


async def test_inline_sender_cancelled_while_waiting_gives_its_turn_up() -> None:
    gate = Gate()
    async with ActorSystem() as system:
        ref = system.spawn_inline(gate)
        never = anyio.CancelScope()

        async def cancelled_sender() -> None:
            with never:
                await ref.ask("never")

        async with anyio.create_task_group() as group:
            group.start_soon(ref.ask, "holder")
            await gate.entered.wait()
            group.start_soon(cancelled_sender)
            await anyio.wait_all_tasks_blocked()
            group.start_soon(ref.ask, "after")
            await anyio.wait_all_tasks_blocked()
            never.cancel()  # queued between the holder and "after"
            with anyio.move_on_after(0.05):
                await ref.ask("timed out")  # waits behind them, then gives up
            gate.gate.set()
        assert gate.handled == ["holder", "after"]
        assert await ref.ask("next") == "next"


async def test_inline_handler_failure_reaches_its_sender_and_the_next_one_is_served() -> None:
    class FailsOnce(Actor[int, int]):
        def __init__(self) -> None:
            self.calls = 0

        async def handle(self, message: int) -> int:
            self.calls += 1
            if self.calls == 1:
                raise ValueError("bad first message")
            return message

    async with ActorSystem() as system:
        ref = system.spawn_inline(FailsOnce(), name="flaky")
        with pytest.raises(HandlerFailed, match="bad first message"):
            await ref.ask(1)
        assert await ref.ask(2) == 2


async def test_inline_stop_waits_for_the_message_in_hand_then_refuses_more() -> None:
    recorder = Recorder()
    gate = Gate()

    class Both(Actor[str, str]):
        async def handle(self, message: str) -> str:
            await recorder.handle(message)
            return await gate.handle(message)

        async def on_stop(self) -> None:
            assert gate.handled == ["in hand"]  # on_stop runs after the message in hand
            await recorder.on_stop()

    async with ActorSystem() as system:
        ref = system.spawn_inline(Both())
        async with anyio.create_task_group() as group:
            group.start_soon(ref.ask, "in hand")
            await gate.entered.wait()
            group.start_soon(ref.stop)
            await anyio.wait_all_tasks_blocked()
            assert not recorder.stopped
            gate.gate.set()
        assert recorder.stopped
        with pytest.raises(MailboxClosed):
            await ref.ask("late")
