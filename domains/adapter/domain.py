"""The generic adapter: any Python class with typed, documented methods becomes a domain.

- Tools: the class's public methods in definition order (classmethods, staticmethods and
  properties excluded). Arguments come from the signature (type hints required, defaults
  kept, unknown names refused; `strict` JSON types by default, or `lenient` as the class's
  code tolerates them: `domains.adapter.tools`), the description from the docstring's first
  paragraph, and argument docs from its `Args:` section.
- State: the instance's object graph (`domains.adapter.graph`): nested objects with their
  back-references, dicts with any keys in their order, sets, tuples, dates, Decimals, with
  `Codec`s for other types. Attributes can be excluded (caches) or volatile (generators,
  clocks: kept per fork, out of the fingerprint); the wall clock can be frozen.
- A call runs the method on the live graph checked out to the fork and stages only what it
  changed. Any exception from the method is a tool error with its type and message (a
  `ValueError`, `LookupError` or `ToolError` with its message alone); so is a returned
  in-band error (`{"error": ...}`, or the class's `__is_error__(value)`). A failed call
  changes nothing. Return values of any type become readable text (`domains.adapter.codec.view`).
- Reads and writes: `@reads` / `@writes`, or the `reads` / `writes` options; an unmarked
  method is probed on a fork at load time: a write if a call changed the state, a read if
  calls succeeded without changing it, else (no call succeeded) a write.
- Without `__patterns__`, the API graph is inferred by probing and task patterns are random
  walks on it (`domains.adapter.walk`), so phase 1 needs nothing hand-written.
- Options (`domain.options`): `init` (constructor keyword arguments) or `loader` (the name
  of a classmethod or staticmethod) with `args`; `arguments`, `exclude`, `volatile`,
  `clock`, `reads`, `writes`, `infer_access`. Class hooks: `__subjects__`, `__policy__`,
  `__patterns__`, `__exclude__`, `__volatile__`, `__codecs__`, `__arguments__`,
  `__is_error__`, `__clock__`, `__reads__`, `__writes__`.
"""

from __future__ import annotations

import copy
import datetime as dt
import inspect
import sys
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Final, TypeVar

import structlog

from domains.adapter.clock import frozen, replacements
from domains.adapter.codec import Codec, ValueCodec, view
from domains.adapter.graph import ROOT, Arena, Roles
from domains.adapter.parts import (
    ArgumentMode,
    ClassDomainOptions,
    Part,
    instantiate,
    loader_function,
)
from domains.adapter.state import ObjectState
from domains.adapter.tools import Method, args_model, parse_docstring, public_methods
from domains.base import ApiGraph, Domain, DomainOptions, SubjectContext, TaskPattern, name_words
from domains.environment import Environment
from domains.state import BaseData, State, Tables
from domains.tools import Tool, ToolArgs
from runtime.errors import DomainError, ToolError

__all__ = ["AdaptedDomain", "ClassDomain"]

_log = structlog.get_logger("domains.adapter")
T = TypeVar("T")

DEFAULT_SUBJECT: Final = "default"
MAX_CONTEXT_ENTRIES: Final = 20
DEFAULT_POLICY: Final = (
    "# Assistant policy\n\n"
    "- Use the tools to do what the user asks, with the values the user gives.\n"
    "- Look up what you need before you change anything; never invent identifiers.\n"
    "- Before a change, list what you will do and get the user's explicit yes.\n"
)


@dataclass
class _ToolSpec:
    part: Part
    method_name: str
    method: Method
    declared: bool | None
    summary: str
    model: type[ToolArgs]


@dataclass
class _Binding:
    """What loading the data settled: tools' access, the API graph, the patterns."""

    access: dict[str, bool] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)
    edges: tuple[tuple[str, str], ...] = ()
    warnings: list[str] = field(default_factory=list)
    free: dict[str, frozenset[str]] = field(default_factory=dict)
    """Per tool, the parameters any value does for (new names, texts)."""


class AdaptedDomain(Domain):
    """Shared machinery of class domains: parts, tools, the arena, probing, patterns."""

    options_model: ClassVar[type[DomainOptions]] = ClassDomainOptions
    prompt_style = "generic"

    def __init__(self, name: str, policy: str | None, subject_table: str | None) -> None:
        self.name = name  # type: ignore[misc]
        self._policy = policy
        self._subject_table = subject_table
        self._parts: list[Part] = []
        self._specs: dict[str, _ToolSpec] = {}
        self._tools: dict[str, Tool[Any]] = {}
        self._binding = _Binding()
        self._clock: dict[int, Any] | None = None
        self._modules: list[types.ModuleType] = []
        self._patterns: tuple[TaskPattern, ...] | None = None
        self._warned: set[str] = set()

    # -- the domain interface -------------------------------------------------------------

    @property
    def tools(self) -> Mapping[str, Tool[Any]]:
        """The public methods as tools, in definition order (parts in order)."""
        return self._tools

    @property
    def policy(self) -> str:
        """The `policy` argument, else the classes' `__policy__` or docstrings, else a default."""
        if self._policy is not None:
            return self._policy
        texts = [
            str(part.hook("__policy__") or inspect.cleandoc(part.cls.__doc__ or ""))
            for part in self._parts
        ]
        return "\n\n".join(text for text in texts if text) or DEFAULT_POLICY

    @property
    def api_graph(self) -> ApiGraph:
        """Edges inferred when the data loaded: a call's output or writes fed the next's args."""
        return ApiGraph(self._binding.edges)

    @property
    def patterns(self) -> Sequence[TaskPattern]:
        """The classes' `__patterns__`, else random walks on the inferred API graph."""
        declared = [p for part in self._parts for p in part.hook("__patterns__", ())]
        if declared:
            return tuple(declared)
        if self._patterns is None:
            from domains.adapter.walk import walk_patterns

            self._patterns = walk_patterns(self)
        return self._patterns

    def free_parameters(self, tool_name: str) -> frozenset[str]:
        """Parameters of a tool that took a value the state did not hold when probed."""
        return self._binding.free.get(tool_name, frozenset())

    @property
    def warnings(self) -> list[str]:
        """What loading noticed: state that changes on every call, methods never probed."""
        return list(self._binding.warnings)

    @property
    def access_evidence(self) -> dict[str, str]:
        """Per inferred tool, why it is a read or a write (declare it to make it final)."""
        return dict(self._binding.evidence)

    def write_words(self, tool_name: str) -> tuple[str, ...]:
        return name_words(tool_name) or (tool_name.lower(),)

    def load_tables(self, options: DomainOptions) -> Tables:
        """The tables of a freshly built instance (see `environment` for the whole binding)."""
        _, tables = self._load(self._options(options))
        return tables

    def environment(self, options: Mapping[str, Any] | None = None) -> Environment:
        """Build the instance(s), the arena and the base state; probe unmarked methods.

        The domain takes the options of its latest environment (its tools' argument modes,
        their read/write flags and the inferred graph follow them): load one environment
        per domain object, as a playbook does.
        """
        parsed = self._options(self.parse_options(options or {}))
        infer = bool(getattr(parsed, "infer_access", True))
        arena, tables = self._load(parsed)
        base = BaseData(tables)
        arena.attach(base)
        env = Environment(self, ObjectState(base, arena))
        from domains.adapter.probe import probe

        self._binding = probe(self, env, infer=infer)
        self._apply_access()
        self._patterns = None
        for warning in self._binding.warnings:
            _log.warning("domain.state_warning", domain=self.name, warning=warning)
        return env

    def subjects(self, env: Environment) -> list[str]:
        """Keys of the subjects dict attribute (`attr`, or `alias.attr` when composed), or
        the single subject "default"."""
        if self._subject_table is None:
            return [DEFAULT_SUBJECT]
        table: Any = self._public_view(env)
        for step in self._subject_table.split("."):
            table = table.get(step) if isinstance(table, dict) else None
        if not isinstance(table, dict):
            raise DomainError(
                f"domain {self.name!r}: subjects {self._subject_table!r} is not a dict attribute"
            )
        return [str(key) for key in table]

    def subject_context(self, env: Environment, subject_id: str) -> SubjectContext:
        """Public state only; of a dict, the entries mentioning the subject if any do."""
        shown = self._public_view(env)
        table = self._subject_table
        if all(part.target == ROOT for part in self._parts):
            return SubjectContext(subject_id, _around(shown, table, subject_id))
        records = {
            alias: _around(value, _inside(table, alias), subject_id)
            if isinstance(value, dict)
            else value
            for alias, value in shown.items()
        }
        return SubjectContext(subject_id, records)

    def read(self, env: Environment, use: Callable[[Any], T]) -> T:
        """`use(instance)` on the env's state (the root object when composed), untracked; the
        result is deep-copied so it outlives the call. `use` must not change anything."""
        state = env.state
        if not isinstance(state, ObjectState):
            raise DomainError(f"domain {self.name!r}: the state is not an adapted object graph")
        found: T = state.arena.read(state, ROOT, lambda root: copy.deepcopy(use(root)))
        return found

    def public_state(self, env: Environment) -> dict[str, Any]:
        """The public attributes of the state, as readable data (what prompts may show)."""
        return self._public_view(env)

    # -- subclasses ------------------------------------------------------------------------

    def _options(self, options: DomainOptions) -> DomainOptions:
        return options

    def _configure(self, options: DomainOptions) -> list[Part]:
        raise NotImplementedError

    def _build_root(self, parts: list[Part]) -> object:
        raise NotImplementedError

    # -- internals ---------------------------------------------------------------------------

    def _set_parts(self, parts: list[Part]) -> None:
        """Tools of every part; a tool name two parts share is a load-time error."""
        specs: dict[str, _ToolSpec] = {}
        owners: dict[str, list[str]] = {}
        for part in parts:
            lenient = part.argument_mode() == "lenient"
            for method_name, method in public_methods(part.cls).items():
                tool_name = part.prefix + method_name
                owners.setdefault(tool_name, []).append(part.target)
                summary, docs = parse_docstring(method.__doc__)
                model = args_model(self.name, method_name, method, docs, lenient=lenient)
                declared = part.access(method_name, method)
                specs[tool_name] = _ToolSpec(part, method_name, method, declared, summary, model)
        clashes = {tool: where for tool, where in owners.items() if len(where) > 1}
        if clashes:
            listed = "; ".join(f"{tool} ({', '.join(where)})" for tool, where in clashes.items())
            raise DomainError(
                f"domain {self.name!r}: tool names clash: {listed}; give the parts a 'prefix'"
            )
        self._parts = parts
        self._specs = specs
        self._binding = _Binding()
        self._apply_access()

    def _apply_access(self) -> None:
        tools: dict[str, Tool[Any]] = {}
        for tool_name, spec in self._specs.items():
            write = spec.declared
            if write is None:
                write = self._binding.access.get(tool_name, True)
            tools[tool_name] = Tool(
                tool_name, spec.summary, spec.model, write, self._runner(tool_name, spec, write)
            )
        self._tools = tools

    def _runner(self, tool_name: str, spec: _ToolSpec, write: bool) -> Any:
        where = f"{self.name}.{tool_name}"
        is_error = spec.part.error_check()
        declared_read = spec.declared is False
        method_name, target = spec.method_name, spec.part.target

        def run(state: State, args: ToolArgs) -> Any:
            if not isinstance(state, ObjectState):
                raise DomainError(f"{where}: the state is not an adapted object graph")
            kwargs = {name: getattr(args, name) for name in type(args).model_fields}

            def invoke(node: object) -> Any:
                with frozen(self._clock, self._modules):
                    try:
                        return getattr(node, method_name)(**kwargs)
                    except ToolError:
                        raise
                    except (ValueError, LookupError) as exc:
                        raise ToolError(_message(exc)) from exc
                    except Exception as exc:
                        raise ToolError(f"{type(exc).__name__}: {_message(exc)}") from exc

            def convert(value: Any) -> Any:
                if is_error is not None and is_error(value):
                    detail = value.get("error") if isinstance(value, Mapping) else value
                    raise ToolError(str(view(detail)))
                return view(value, depth=12)

            value, effect = state.arena.call(state, target, invoke, convert)
            if effect.changed and not write and not declared_read and where not in self._warned:
                self._warned.add(where)
                _log.warning(
                    "tool.inferred_read_wrote",
                    tool=where,
                    changed=effect.changed[:5],
                    hint="probing found it a read; declare it in the domain's `writes`",
                )
            if effect.changed and declared_read:
                raise DomainError(
                    f"{where} is marked @reads but changed {', '.join(effect.changed)}"
                )
            return value

        return run

    def _load(self, options: DomainOptions) -> tuple[Arena, Tables]:
        parts = self._configure(options)
        self._set_parts(parts)
        root = self._build_root(parts)
        roles = Roles(
            exclude=frozenset(
                name
                for part in parts
                for name in (*part.exclude, *part.hook("__exclude__", ()), *part.options.exclude)
            ),
            volatile=frozenset(
                name
                for part in parts
                for name in (*part.volatile, *part.hook("__volatile__", ()), *part.options.volatile)
            ),
            state=frozenset(
                name
                for part in parts
                for name in (*part.hook("__state__", ()), *part.options.state)
            ),
        )
        codecs = [codec for part in parts for codec in (*part.codecs, *part.hook("__codecs__", ()))]
        arena, tables = Arena.load(root, ValueCodec(codecs), roles)
        arena.compare_all = any(
            part.options.compare_all or bool(part.hook("__compare_all__", False)) for part in parts
        )
        moment = next(
            (
                part.options.clock or part.hook("__clock__")
                for part in parts
                if part.options.clock or part.hook("__clock__")
            ),
            None,
        )
        if isinstance(moment, str):
            moment = dt.datetime.fromisoformat(moment)
        self._clock = replacements(moment) if moment is not None else None
        self._modules = _modules_of([part.cls for part in parts], arena)
        return arena, tables

    def _public_view(self, env: Environment) -> dict[str, Any]:
        state = env.state
        if not isinstance(state, ObjectState):
            raise DomainError(f"domain {self.name!r}: the state is not an adapted object graph")
        shown = state.arena.read(state, ROOT, lambda root: view(root, public=True, depth=8))
        return shown if isinstance(shown, dict) else {"value": shown}


def _modules_of(classes: Iterable[type], arena: Arena) -> list[types.ModuleType]:
    """The modules whose globals hold the clock a method may read."""
    names = {klass.__module__ for cls in classes for klass in cls.__mro__}
    names.update(
        str(record["$object"]).partition(":")[0]
        for record in arena.records.values()
        if "$object" in record
    )
    names -= {"builtins", "domains.adapter.compose"}
    return [sys.modules[name] for name in sorted(names) if name in sys.modules]


class ClassDomain(AdaptedDomain):
    """A domain whose tools are the methods of `cls` and whose state is an instance's data."""

    def __init__(
        self,
        cls: type,
        *,
        name: str | None = None,
        loader: str | None = None,
        policy: str | None = None,
        subject_table: str | None = None,
        arguments: ArgumentMode | None = None,
        is_error: Callable[[Any], bool] | None = None,
        codecs: Sequence[Codec] = (),
        exclude: Sequence[str] = (),
        volatile: Sequence[str] = (),
    ) -> None:
        super().__init__(
            name or cls.__name__, policy, subject_table or getattr(cls, "__subjects__", None)
        )
        self._cls = cls
        self._template = Part(
            cls,
            ROOT,
            ClassDomainOptions(),
            loader=loader,
            arguments=arguments,
            is_error=is_error,
            codecs=tuple(codecs),
            exclude=tuple(exclude),
            volatile=tuple(volatile),
        )
        if loader is not None:
            loader_function(cls, loader, self.name)
        self._set_parts([self._template])

    def _configure(self, options: DomainOptions) -> list[Part]:
        parsed = (
            options
            if isinstance(options, ClassDomainOptions)
            else ClassDomainOptions(data=options.data)
        )
        return [replace(self._template, options=parsed)]

    def _build_root(self, parts: list[Part]) -> object:
        return instantiate(parts[0], self.name)


def _message(error: BaseException) -> str:
    """The exception's message: its one argument as text (KeyError adds no quotes), or its type."""
    if len(error.args) == 1:
        return str(error.args[0])
    return str(error) or type(error).__name__


def _inside(table: str | None, alias: str) -> str | None:
    """`attr` of `alias.attr` when the subject table belongs to that part."""
    if table is not None and table.startswith(f"{alias}."):
        return table[len(alias) + 1 :]
    return None


def _around(shown: dict[str, Any], table: str | None, subject_id: str) -> dict[str, Any]:
    """Each attribute, capped; the subject's entry of the subject table; of another dict, the
    entries mentioning the subject if any do."""
    records: dict[str, Any] = {}
    for attribute, value in shown.items():
        if attribute == table and isinstance(value, dict):
            records[attribute] = {subject_id: value[subject_id]} if subject_id in value else {}
        elif isinstance(value, dict):
            keys = [key for key, item in value.items() if _mentions(item, subject_id)]
            chosen = (keys or list(value))[:MAX_CONTEXT_ENTRIES]
            records[attribute] = {key: value[key] for key in chosen}
        elif isinstance(value, list):
            records[attribute] = value[:MAX_CONTEXT_ENTRIES]
        else:
            records[attribute] = value
    return records


def _mentions(value: Any, subject_id: str) -> bool:
    """Whether a value is the subject id, or a dict with a field equal to it or listing it."""
    if value == subject_id:
        return True
    if isinstance(value, dict):
        return any(
            item == subject_id or (isinstance(item, list) and subject_id in item)
            for item in value.values()
        )
    return False
