"""The exception hierarchy shared by every layer.

One base (`ApigenError`) so callers can catch everything the product raises; each subclass
carries the field, record or endpoint at fault so an error message names its cause.
"""

from __future__ import annotations


class ApigenError(Exception):
    """Base of every error apigen-mt raises on purpose."""


class PlaybookError(ApigenError):
    """A playbook (or another user-supplied config file) is malformed or invalid."""

    def __init__(self, file: str, line: int | None, field: str, message: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        location = f"{file}:{line}" if line is not None else file
        prefix = f"{location}: {field}: " if field else f"{location}: "
        super().__init__(prefix + message)


class RegistryError(ApigenError):
    """A name (or import path) could not be resolved in a registry."""


class UsageError(ApigenError):
    """A command asks for something the run does not have (an item, a phase)."""


class StoreError(ApigenError):
    """The run store is unreadable, corrupt or was asked for something it does not hold."""


class ActorError(ApigenError):
    """Base of the actor runtime's errors."""


class AskTimeout(ActorError):
    """An `ask` got no reply within its timeout."""


class MailboxClosed(ActorError):
    """A message was sent to an actor that has stopped."""


class MailboxFull(ActorError):
    """`tell_nowait` found the bounded mailbox full (backpressure)."""


class HandlerFailed(ActorError):
    """The actor's handler raised while handling an `ask`; carries the original error."""

    def __init__(self, actor: str, error_type: str, message: str) -> None:
        self.actor = actor
        self.error_type = error_type
        self.message = message
        super().__init__(f"actor {actor!r} failed: {error_type}: {message}")


class DomainError(ApigenError):
    """A domain could not be built or loaded (bad data file, unknown domain, ...)."""


class ToolError(DomainError):
    """A tool call was invalid; the environment is unchanged when this is raised."""


class ModelError(ApigenError):
    """A model call failed for good (after retries) or its output could not be used."""

    def __init__(self, endpoint: str, message: str) -> None:
        self.endpoint = endpoint
        super().__init__(f"{endpoint}: {message}")


class RunStopped(ModelError):
    """A failure no retry and no other call gets past (a rejected API key, an untrusted
    certificate): the run stops at the first one, is marked `stopped`, and `resume`
    continues it once the cause is fixed."""

    def __init__(self, endpoint: str, cause: str) -> None:
        self.detail = cause
        super().__init__(endpoint, cause)

    def __reduce__(self) -> tuple[type[RunStopped], tuple[str, str]]:
        """Rebuilt from its parts in another process (a Ray worker's error reaches the driver)."""
        return type(self), (self.endpoint, self.detail)
