"""An environment: a domain's tools bound to one copy-on-write state."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from domains.state import RecordChange, State, Tables
from runtime.errors import ToolError
from runtime.log import get_logger

if TYPE_CHECKING:
    from domains.base import Domain

_log = get_logger("domains.environment")

ERROR_PREFIX = "Error: "


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one call: `output` is what the agent sees (errors start with 'Error:').

    `value` is the tool's raw return value; it may share structure with the state, so
    treat it as read-only.
    """

    name: str
    arguments: dict[str, Any]
    ok: bool
    output: str
    value: Any = None
    writes: bool = False
    changed: bool = False


def render_output(value: Any) -> str:
    """Text an agent sees for a tool's return value: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def format_validation_error(error: ValidationError) -> str:
    """`field.path: message` for each problem, joined: short enough for an agent to act on."""
    parts = []
    for problem in error.errors():
        loc = ".".join(str(part) for part in problem["loc"]) or "arguments"
        parts.append(f"{loc}: {problem['msg']}")
    return "; ".join(parts)


@dataclass
class Environment:
    """A domain plus a state view. `fork()` is cheap; a failed call leaves the state unchanged."""

    domain: Domain
    state: State

    def fork(self) -> Environment:
        """A new environment sharing this one's data; each pays only for what it changes."""
        return Environment(self.domain, self.state.fork())

    def call(self, name: str, arguments: Mapping[str, Any] | None = None) -> ToolResult:
        """Validate arguments by name and run the tool; errors come back as results."""
        args = dict(arguments or {})
        found = self.domain.tools.get(name)
        if found is None:
            return ToolResult(name, args, ok=False, output=f"{ERROR_PREFIX}unknown tool {name!r}")
        try:
            parsed = found.args_model.model_validate(args)
        except ValidationError as exc:
            message = f"{ERROR_PREFIX}invalid arguments for {name}: {format_validation_error(exc)}"
            return ToolResult(name, args, False, message, writes=found.writes)
        try:
            with self.state.transaction():
                value = found.fn(self.state, parsed)
        except ToolError as exc:
            output = f"{ERROR_PREFIX}{exc}"
            return ToolResult(name, args, False, output, writes=found.writes)
        except Exception as exc:  # a tool bug must not take the episode down with it
            _log.error("tool.crashed", tool=name, error=repr(exc), exc_info=True)
            output = f"{ERROR_PREFIX}internal error in {name}: {type(exc).__name__}"
            return ToolResult(name, args, False, output, writes=found.writes)
        return ToolResult(
            name,
            args,
            ok=True,
            output=render_output(value),
            value=value,
            writes=found.writes,
            changed=self.state.last_transaction_changed,
        )

    def run(self, actions: Sequence[Mapping[str, Any]]) -> list[ToolResult]:
        """Run `{name, kwargs}` actions in order (the tau-bench task shape)."""
        return [self.call(str(action["name"]), action.get("kwargs") or {}) for action in actions]

    def fingerprint(self) -> str:
        return self.state.fingerprint()

    def diff(self) -> list[RecordChange]:
        return self.state.diff()

    def snapshot(self) -> Tables:
        return self.state.snapshot()
