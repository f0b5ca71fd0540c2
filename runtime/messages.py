"""Pydantic message types shared by every agent and the engine.

Messages are immutable values: an actor may forward what it received without copying it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """Base of every message sent between actors: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Ping(Message):
    """Liveness probe; an actor that understands it answers with `Pong`."""

    seq: int = 0


class Pong(Message):
    seq: int = 0


class Shutdown(Message):
    """Ask a stateful actor to release what it holds before its mailbox is closed."""

    reason: str = ""
