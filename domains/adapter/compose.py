"""Several classes side by side in one domain: `domain: {name: compose, options: {classes: ...}}`.

Each class's instance is an attribute of one root object, named by its `as` alias, so its
state is namespaced (`fs.root...`, `chat.users...`: two classes may both have
`authenticated`), and the whole domain has one fork and one fingerprint. Tool names must be
unique across the classes; a clash is a load-time error unless the parts take a `prefix`.

    domain:
      name: compose
      options:
        classes:
          - {class: examples.workspace_domain:FileSystem, as: fs, init: {...}}
          - {class: examples.workspace_domain:Messenger, as: chat, loader: sample}
        subjects: chat.users        # optional: a dict attribute of one part
"""

from __future__ import annotations

from pydantic import ConfigDict, Field, field_validator

from domains.adapter.domain import AdaptedDomain
from domains.adapter.parts import ClassDomainOptions, Part, instantiate
from domains.base import DomainOptions
from runtime.errors import DomainError
from runtime.registry import import_object


class Composite:
    """The root of a composed domain: one attribute per part."""

    def __init__(self, **parts: object) -> None:
        self.__dict__.update(parts)


class PartOptions(ClassDomainOptions):
    """One class of a composition: `class` (import path), `as` (its name), and its options."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    class_path: str = Field(alias="class", description="import path 'pkg.module:Class'")
    alias: str = Field(alias="as", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    prefix: bool | str = Field(
        default=False, description="prefix its tool names: true for '<as>_', or a given prefix"
    )


class ComposeOptions(DomainOptions):
    """The classes of a composed domain, and which dict attribute holds its subjects."""

    classes: list[PartOptions] = Field(min_length=1)
    subjects: str | None = Field(default=None, description="'alias.attribute' of a dict")
    infer_access: bool = Field(
        default=True, description="probe unmarked methods to tell reads from writes"
    )

    @field_validator("classes")
    @classmethod
    def _unique_aliases(cls, value: list[PartOptions]) -> list[PartOptions]:
        aliases = [part.alias for part in value]
        doubled = sorted({alias for alias in aliases if aliases.count(alias) > 1})
        if doubled:
            raise ValueError(f"aliases used twice: {', '.join(doubled)}")
        return value


class ComposedDomain(AdaptedDomain):
    """Classes run side by side; the playbook's options say which (bound on `environment`)."""

    options_model = ComposeOptions

    def __init__(self, name: str | None = None, policy: str | None = None) -> None:
        super().__init__(name or "compose", policy, None)
        self._named_by_parts = name is None  # then named by its parts' aliases: fs+chat+desk

    def _configure(self, options: DomainOptions) -> list[Part]:
        if not isinstance(options, ComposeOptions):
            raise DomainError(f"domain {self.name!r}: give its classes as options.classes")
        parts = []
        for spec in options.classes:
            found = import_object(spec.class_path)
            if not isinstance(found, type):
                raise DomainError(f"domain {self.name!r}: {spec.class_path!r} is not a class")
            prefix = spec.prefix if isinstance(spec.prefix, str) else ""
            if spec.prefix is True:
                prefix = f"{spec.alias}_"
            own = ClassDomainOptions.model_validate(
                spec.model_dump(exclude={"class_path", "alias", "prefix"})
            )
            parts.append(Part(found, spec.alias, own, prefix=prefix))
        if options.subjects is not None:
            self._subject_table = options.subjects
        if self._named_by_parts:
            self.name = "+".join(part.target for part in parts)  # type: ignore[misc]
        return parts

    def _build_root(self, parts: list[Part]) -> object:
        return Composite(**{part.target: instantiate(part, self.name) for part in parts})
