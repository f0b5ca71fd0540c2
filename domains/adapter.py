"""The generic adapter: any Python class with typed, documented methods becomes a domain.

- Tools: the class's public methods in definition order (classmethods, staticmethods and
  properties excluded). Arguments come from the signature (type hints required, defaults
  kept, unknown names refused, exact JSON types: no coercion, a `float` keeps an int an
  int), the description from the docstring's first paragraph, and argument docs from its
  `Args:` section. Read/write and argument types: see `domains.adapter_tools`.
- State: the instance's attributes, which must be JSON-like; each dict attribute is a table
  of its own (layout in `domains.adapter_state`).
- A call rebuilds an instance from the state (`__init__` not called), runs the method on it
  and stages the records that changed. A `ValueError`, `LookupError` or `ToolError` from the
  method is a tool error with its message, and the state stays unchanged. Each call costs
  O(size of the instance's data): simple and correct, not fast.
- Options (`domain.options`): `init` (constructor keyword arguments) or `loader` (the name of
  a classmethod or staticmethod) with `args`.
- Class hooks: `__subjects__` names the dict attribute whose keys are the task subjects
  (or pass `subject_table=`), `__policy__` replaces the class docstring as policy (or pass
  `policy=`), `__patterns__` lists task patterns. The API graph is empty.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from pydantic import Field
from pydantic_core import PydanticSerializationError, to_jsonable_python

from domains.adapter_state import ATTRIBUTES, materialise, to_tables, write_back
from domains.adapter_tools import (
    Method,
    args_model,
    is_write,
    parse_docstring,
    public_methods,
    reads,
    writes,
)
from domains.base import Domain, DomainOptions, SubjectContext, TaskPattern
from domains.environment import Environment
from domains.state import State, Tables
from domains.tools import Tool, ToolArgs
from runtime.errors import DomainError, ToolError

__all__ = ["ClassDomain", "ClassDomainOptions", "reads", "writes"]

DEFAULT_SUBJECT: Final = "default"
MAX_CONTEXT_ENTRIES: Final = 20


class ClassDomainOptions(DomainOptions):
    """How a class domain builds its instance: constructor arguments, or a named loader."""

    init: dict[str, Any] = Field(
        default_factory=dict, description="keyword arguments of the class's constructor"
    )
    loader: str | None = Field(
        default=None, description="name of a classmethod or staticmethod that builds the instance"
    )
    args: dict[str, Any] = Field(default_factory=dict, description="keyword arguments of `loader`")


class ClassDomain(Domain):
    """A domain whose tools are the methods of `cls` and whose state is an instance's data."""

    options_model = ClassDomainOptions

    def __init__(
        self,
        cls: type,
        *,
        name: str | None = None,
        loader: str | None = None,
        policy: str | None = None,
        subject_table: str | None = None,
    ) -> None:
        self.name = name or cls.__name__  # type: ignore[misc]
        self._cls = cls
        self._loader = loader
        if loader is not None:
            self._loader_function(loader)
        self._policy = policy
        self._subject_table: str | None = subject_table or getattr(cls, "__subjects__", None)
        self._tools = {
            method_name: self._tool(method_name, method)
            for method_name, method in public_methods(cls).items()
        }

    @property
    def tools(self) -> Mapping[str, Tool[Any]]:
        """The public methods as tools, in definition order."""
        return self._tools

    @property
    def policy(self) -> str:
        """The `policy` argument, else the class's `__policy__`, else its docstring."""
        if self._policy is not None:
            return self._policy
        return str(
            getattr(self._cls, "__policy__", None) or inspect.cleandoc(self._cls.__doc__ or "")
        )

    @property
    def patterns(self) -> Sequence[TaskPattern]:
        return tuple(getattr(self._cls, "__patterns__", ()))

    def load_tables(self, options: DomainOptions) -> Tables:
        """Build an instance as the options say and map its attributes to tables."""
        parsed = (
            options
            if isinstance(options, ClassDomainOptions)
            else ClassDomainOptions(data=options.data)
        )
        instance = self._instantiate(parsed)
        try:
            attributes = vars(instance)
        except TypeError as exc:
            raise DomainError(f"domain {self.name!r}: instances have no attribute dict") from exc
        return to_tables(attributes, self.name)

    def subjects(self, env: Environment) -> list[str]:
        """Keys of the `__subjects__` dict attribute, or the single subject "default"."""
        table = self._subject_table_of(env.state)
        return [DEFAULT_SUBJECT] if table is None else env.state.keys(table)

    def subject_context(self, env: Environment, subject_id: str) -> SubjectContext:
        """Every attribute, capped; of a dict, only the entries mentioning the subject if any do."""
        table = self._subject_table_of(env.state)
        records: dict[str, Any] = {}
        for attribute, value in vars(materialise(self._cls, env.state)).items():
            if attribute == table:
                records[attribute] = {subject_id: value[subject_id]} if subject_id in value else {}
            elif isinstance(value, dict):
                keys = [key for key, item in value.items() if _mentions(item, subject_id)]
                chosen = (keys or list(value))[:MAX_CONTEXT_ENTRIES]
                records[attribute] = {key: value[key] for key in chosen}
            elif isinstance(value, list):
                records[attribute] = value[:MAX_CONTEXT_ENTRIES]
            else:
                records[attribute] = value
        return SubjectContext(subject_id, records)

    # -- internals --------------------------------------------------------------------------

    def _tool(self, method_name: str, method: Method) -> Tool[Any]:
        summary, docs = parse_docstring(method.__doc__)
        model = args_model(self.name, method_name, method, docs)
        write = is_write(method)
        where = f"{self.name}.{method_name}"

        def run(state: State, args: ToolArgs) -> Any:
            instance: object = materialise(self._cls, state)
            kwargs = {field: getattr(args, field) for field in type(args).model_fields}
            try:
                value = method(instance, **kwargs)
            except ToolError:
                raise
            except (ValueError, LookupError) as exc:
                raise ToolError(_message(exc)) from exc
            changed = write_back(state, vars(instance), self.name)
            if changed and not write:
                raise DomainError(f"{where} is marked @reads but changed {', '.join(changed)}")
            try:
                return to_jsonable_python(value)
            except PydanticSerializationError as exc:
                raise DomainError(f"{where} returned data that is not JSON-like: {exc}") from exc

        return Tool(method_name, summary, model, write, run)

    def _instantiate(self, options: ClassDomainOptions) -> object:
        if options.args and options.loader is None and self._loader is None:
            raise DomainError(f"domain {self.name!r} option 'args': needs a 'loader'")
        loader = options.loader or self._loader
        factory: Callable[..., object] = self._cls
        kwargs, option = options.init, "init"
        if loader is not None:
            if options.init:
                raise DomainError(
                    f"domain {self.name!r} option 'init': this domain is built by loader "
                    f"{loader!r}; give the loader's arguments as 'args'"
                )
            factory = self._loader_function(loader)
            kwargs, option = options.args, "args"
        try:
            inspect.signature(factory).bind(**kwargs)
        except TypeError as exc:
            raise DomainError(f"domain {self.name!r} option {option!r}: {exc}") from exc
        try:
            instance = factory(**kwargs)
        except Exception as exc:
            raise DomainError(
                f"domain {self.name!r}: building the instance failed: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(instance, self._cls):
            raise DomainError(
                f"domain {self.name!r}: loader {loader!r} returned a {type(instance).__name__}, "
                f"not a {self._cls.__name__}"
            )
        return instance

    def _loader_function(self, loader: str) -> Callable[..., object]:
        member = inspect.getattr_static(self._cls, loader, None)
        if not isinstance(member, (classmethod, staticmethod)):
            known = dict.fromkeys(
                key
                for klass in self._cls.__mro__
                for key, value in vars(klass).items()
                if isinstance(value, (classmethod, staticmethod)) and not key.startswith("_")
            )
            raise DomainError(
                f"domain {self.name!r} option 'loader': {loader!r} is not a classmethod or "
                f"staticmethod of {self._cls.__name__} (loaders: {', '.join(known) or 'none'})"
            )
        function: Callable[..., object] = getattr(self._cls, loader)
        return function

    def _subject_table_of(self, state: State) -> str | None:
        """The subject table's name, checked to be a dict attribute in this state."""
        table = self._subject_table
        if table is not None:
            index = state.get(ATTRIBUTES, table)
            if index is None or "table" not in index:
                raise DomainError(
                    f"domain {self.name!r}: subjects {table!r} is not a dict attribute"
                )
        return table


def _message(error: Exception) -> str:
    """The exception's message: its one argument as text (KeyError adds no quotes), or its type."""
    if len(error.args) == 1:
        return str(error.args[0])
    return str(error) or type(error).__name__


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
