"""The parts of an adapted domain: a class, its options and hooks, and how it is built.

`ClassDomainOptions` are a class's `domain.options` (or one entry of `compose`'s
`classes`); `Part` joins them with the class's hooks (`__arguments__`, `__is_error__`,
`__reads__`, ...) and says which node of the state its instance is.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from domains.adapter.codec import Codec
from domains.adapter.tools import Method, declared_access
from domains.base import DomainOptions
from runtime.errors import DomainError

ArgumentMode = Literal["strict", "lenient"]


def default_is_error(value: Any) -> bool:
    """The in-band error convention: a mapping with a non-empty `"error"` entry."""
    return isinstance(value, Mapping) and bool(value.get("error"))


class ClassDomainOptions(DomainOptions):
    """How a class domain builds its instance and treats its calls and state."""

    init: dict[str, Any] = Field(
        default_factory=dict, description="keyword arguments of the class's constructor"
    )
    loader: str | None = Field(
        default=None, description="name of a classmethod or staticmethod that builds the instance"
    )
    args: dict[str, Any] = Field(default_factory=dict, description="keyword arguments of `loader`")
    arguments: ArgumentMode | None = Field(
        default=None,
        description="strict: exact JSON types (default); lenient: as the class's code "
        "tolerates them ('3' for an int)",
    )
    exclude: list[str] = Field(
        default_factory=list,
        description="attributes ('name' or 'Class.name') that are not state: reset after "
        "every call",
    )
    volatile: list[str] = Field(
        default_factory=list,
        description="attributes kept from call to call but left out of the fingerprint",
    )
    state: list[str] = Field(
        default_factory=list,
        description="attributes that are state although a default would leave them out "
        "(a private `_cache` that is really data, a public random generator to fingerprint)",
    )
    clock: dt.datetime | None = Field(
        default=None, description="freeze datetime.now() and time.time() at this moment"
    )
    reads: list[str] = Field(default_factory=list, description="methods declared read-only")
    writes: list[str] = Field(default_factory=list, description="methods declared writes")
    infer_access: bool = Field(
        default=True, description="probe unmarked methods to tell reads from writes"
    )
    compare_all: bool = Field(
        default=False,
        description="compare every object after each call instead of trusting the write "
        "barriers: for classes that change state around them (heapq on a list attribute, "
        "writes into obj.__dict__); slow: each call costs the whole instance",
    )


@dataclass
class Part:
    """One class of an adapted domain: its instance's node id and how it is configured."""

    cls: type
    target: str
    options: ClassDomainOptions
    prefix: str = ""
    loader: str | None = None
    arguments: ArgumentMode | None = None
    is_error: Callable[[Any], bool] | None = None
    codecs: tuple[Codec, ...] = ()
    exclude: tuple[str, ...] = ()
    volatile: tuple[str, ...] = ()

    def hook(self, name: str, default: Any = None) -> Any:
        return getattr(self.cls, name, default)

    def argument_mode(self) -> ArgumentMode:
        mode = self.options.arguments or self.arguments or self.hook("__arguments__") or "strict"
        if mode not in ("strict", "lenient"):
            raise DomainError(f"{self.cls.__name__}: arguments {mode!r} is not strict or lenient")
        return "lenient" if mode == "lenient" else "strict"

    def error_check(self) -> Callable[[Any], bool] | None:
        if self.is_error is not None:
            return self.is_error
        found = inspect.getattr_static(self.cls, "__is_error__", default_is_error)
        if found is None:
            return None
        return found.__func__ if isinstance(found, staticmethod | classmethod) else found

    def access(self, method_name: str, method: Method) -> bool | None:
        """Declared writes (True), reads (False), or None to infer."""
        if method_name in self.options.writes or method_name in self.hook("__writes__", ()):
            return True
        if method_name in self.options.reads or method_name in self.hook("__reads__", ()):
            return False
        return declared_access(method)


def instantiate(part: Part, domain_name: str) -> object:
    """An instance of the part's class, built as its options say."""
    options, cls = part.options, part.cls
    if options.args and options.loader is None and part.loader is None:
        raise DomainError(f"domain {domain_name!r} option 'args': needs a 'loader'")
    loader = options.loader or part.loader
    factory: Callable[..., object] = cls
    kwargs, option = options.init, "init"
    if loader is not None:
        if options.init:
            raise DomainError(
                f"domain {domain_name!r} option 'init': this domain is built by loader "
                f"{loader!r}; give the loader's arguments as 'args'"
            )
        factory = loader_function(cls, loader, domain_name)
        kwargs, option = options.args, "args"
    try:
        inspect.signature(factory).bind(**kwargs)
    except TypeError as exc:
        raise DomainError(f"domain {domain_name!r} option {option!r}: {exc}") from exc
    try:
        instance = factory(**kwargs)
    except Exception as exc:
        raise DomainError(
            f"domain {domain_name!r}: building the instance failed: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(instance, cls):
        raise DomainError(
            f"domain {domain_name!r}: loader {loader!r} returned a {type(instance).__name__}, "
            f"not a {cls.__name__}"
        )
    try:
        vars(instance)
    except TypeError as exc:
        raise DomainError(f"domain {domain_name!r}: instances have no attribute dict") from exc
    return instance


def loader_function(cls: type, loader: str, domain_name: str) -> Callable[..., object]:
    member = inspect.getattr_static(cls, loader, None)
    if not isinstance(member, classmethod | staticmethod):
        known = dict.fromkeys(
            key
            for klass in cls.__mro__
            for key, value in vars(klass).items()
            if isinstance(value, classmethod | staticmethod) and not key.startswith("_")
        )
        raise DomainError(
            f"domain {domain_name!r} option 'loader': {loader!r} is not a classmethod or "
            f"staticmethod of {cls.__name__} (loaders: {', '.join(known) or 'none'})"
        )
    function: Callable[..., object] = getattr(cls, loader)
    return function
