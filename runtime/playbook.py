"""The playbook schema (pydantic) and its loader with `file:line: field: message` errors.

A playbook is validated in full before anything runs: YAML syntax, the schema, every step's
parameters against its registered kind, and cross-references (models, phases).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from runtime.errors import RegistryError
from runtime.model_config import ModelConfig
from runtime.protocol import CheckedProtocol, ProtocolCatalog, check_protocol, resolve_protocol
from runtime.protocol_step import ProtocolParams, ProtocolStep
from runtime.steps import StepParams, StepRegistry
from runtime.yaml_source import Loc, YamlSource, format_loc

_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DomainSection(_Section):
    """Which domain the episodes act on, and its options (data source, seed, ...)."""

    name: str = Field(description="a registered domain name or an import path 'pkg.mod:Name'")
    options: dict[str, Any] = Field(default_factory=dict)


class AgentConfig(_Section):
    """A role (proposer, reviewer, human, assistant, ...): its model, prompt and parameters."""

    model: str = Field(default="default", description="a name from the `models` section")
    prompt: str | None = Field(
        default=None, description="Jinja2 template: a file path ending in .j2, or inline text"
    )
    params: dict[str, Any] = Field(default_factory=dict)


class StepSpec(BaseModel):
    """One protocol step: `kind` names a registered step kind; other keys are its params."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field(description="a registered step kind or an import path 'pkg.mod:Step'")
    name: str | None = Field(default=None, pattern=_NAME_PATTERN)

    @property
    def step_name(self) -> str:
        return self.name or self.kind.rsplit(":", 1)[-1]

    @property
    def raw_params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class PhaseInput(_Section):
    """Feed a phase from an earlier phase's items (e.g. verified blueprints)."""

    phase: str
    status: str = "accepted"


class PhaseConfig(_Section):
    """A phase: which episodes to run and the protocol each follows."""

    name: str = Field(pattern=_NAME_PATTERN)
    episodes: int | None = Field(default=None, ge=0, description="number of episodes")
    input: PhaseInput | None = None
    trials: int = Field(default=1, ge=1, description="episodes per input item (pass^k)")
    steps: list[StepSpec] = Field(min_length=1)
    on_fail: StepSpec | None = Field(
        default=None, description="step run after a failed attempt, before the next one"
    )
    max_attempts: int = Field(default=1, ge=1)
    concurrency: int | None = Field(default=None, ge=1)
    domain: DomainSection | None = None

    @field_validator("domain", mode="before")
    @classmethod
    def _domain_shorthand(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class TimeoutsConfig(_Section):
    """Upper bounds for every wait, in seconds."""

    ask_s: float = Field(default=120.0, gt=0)
    episode_s: float = Field(default=900.0, gt=0)
    shutdown_s: float = Field(default=30.0, gt=0)


class ExportSpec(_Section):
    """An export run at the end of a run."""

    format: str
    path: str
    include_rejected: bool = False


class ExecutorConfig(_Section):
    """Where episodes run: in this process (`local`) or on a Ray cluster (`ray`)."""

    kind: Literal["local", "ray"] = "local"
    address: str | None = Field(
        default=None,
        description="ray: 'auto', a 'ray://host:port' address, or none to start a local cluster",
    )
    workers: int = Field(default=2, ge=1, description="ray: worker actors")
    episodes_per_worker: int = Field(
        default=16, ge=1, description="ray: episodes sent to a worker per batch"
    )
    num_cpus: int | None = Field(default=None, ge=1, description="ray: CPUs of a local cluster")
    batch_timeout_s: float = Field(
        default=3600.0, gt=0, description="ray: bound on one batch, worker death included"
    )


class Playbook(_Section):
    """The whole playbook."""

    name: str = Field(pattern=_NAME_PATTERN)
    description: str = ""
    domain: DomainSection | None = None
    seed: int = 0
    store: str | None = Field(
        default=None, description="run directory (default: runs/<name>); holds store.sqlite"
    )
    concurrency: int = Field(default=64, ge=1, description="episodes in flight at once")
    mailbox_size: int = Field(default=64, ge=1)
    timeouts: TimeoutsConfig = Field(default_factory=TimeoutsConfig)
    models: dict[str, ModelConfig] = Field(default_factory=lambda: {"default": ModelConfig()})
    agents: dict[str, AgentConfig] = Field(default_factory=dict)
    phases: list[PhaseConfig] = Field(min_length=1)
    export: list[ExportSpec] = Field(default_factory=list)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    plugins: list[str] = Field(
        default_factory=list, description="modules to import so they can register extensions"
    )

    @field_validator("domain", mode="before")
    @classmethod
    def _domain_shorthand(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @property
    def run_dir(self) -> Path:
        return Path(self.store or f"runs/{self.name}")

    @property
    def store_path(self) -> Path:
        return self.run_dir / "store.sqlite"

    def content_hash(self) -> str:
        """Hash of the validated playbook: the same content always names the same run.

        The store location and the executor are left out: a run directory can be moved, and
        a run started in process can be resumed on Ray (or the reverse).
        """
        data = self.model_dump(mode="json", exclude={"store", "executor"})
        canonical = json.dumps(data, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def run_id(self) -> str:
        return f"{self.name}-{self.content_hash()[:12]}"

    @property
    def simulated(self) -> bool:
        return any(model.provider == "simulated" for model in self.models.values())


def load_playbook(
    path: str | Path, steps: StepRegistry, protocols: ProtocolCatalog | None = None
) -> Playbook:
    """Read, validate and cross-check a playbook file; raise `PlaybookError` at the first fault."""
    source = YamlSource.read(Path(path))
    return parse_playbook(source, steps, protocols)


def parse_playbook(
    source: YamlSource, steps: StepRegistry, protocols: ProtocolCatalog | None = None
) -> Playbook:
    """Validate already-read YAML (also used to re-validate a stored playbook snapshot).

    With `protocols`, protocol steps are resolved (`use:`) and checked against the role
    kinds: a protocol that cannot run is refused here, before anything is written.
    """
    if not isinstance(source.data, dict):
        raise source.error((), "a playbook must be a mapping of sections")
    try:
        playbook = Playbook.model_validate(source.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise source.error(first["loc"], first["msg"]) from None
    _check_references(playbook, source)
    validate_steps(playbook, source, steps, protocols)
    return playbook


def _check_references(playbook: Playbook, source: YamlSource) -> None:
    for role, agent in playbook.agents.items():
        if agent.model not in playbook.models:
            raise source.error(
                ("agents", role, "model"),
                f"unknown model {agent.model!r} (models: {', '.join(sorted(playbook.models))})",
            )
    seen: set[str] = set()
    for index, phase in enumerate(playbook.phases):
        if phase.name in seen:
            raise source.error(("phases", index, "name"), f"duplicate phase name {phase.name!r}")
        if (phase.episodes is None) == (phase.input is None):
            raise source.error(
                ("phases", index), "a phase needs exactly one of `episodes` or `input`"
            )
        if phase.input is not None and phase.input.phase not in seen:
            raise source.error(
                ("phases", index, "input", "phase"),
                f"input phase {phase.input.phase!r} must be an earlier phase",
            )
        seen.add(phase.name)


def validate_steps(
    playbook: Playbook,
    source: YamlSource,
    steps: StepRegistry,
    protocols: ProtocolCatalog | None = None,
) -> None:
    """Check every step kind exists and its params validate against the kind's model (a
    protocol step's against the role kinds too, when `protocols` is given)."""
    for p_index, phase in enumerate(playbook.phases):
        names: set[str] = set()
        specs: list[tuple[Loc, StepSpec]] = [
            (("phases", p_index, "steps", s_index), spec)
            for s_index, spec in enumerate(phase.steps)
        ]
        if phase.on_fail is not None:
            specs.append((("phases", p_index, "on_fail"), phase.on_fail))
        for loc, spec in specs:
            if protocols is not None and _is_protocol(spec, steps):
                _check_protocol_step(spec, steps, source, loc, protocols)
            else:
                step_params(spec, steps, source, loc)
            if loc[2] == "steps":
                if spec.step_name in names:
                    raise source.error(
                        (*loc, "name"), f"duplicate step name {spec.step_name!r} in this phase"
                    )
                names.add(spec.step_name)


def _is_protocol(spec: StepSpec, steps: StepRegistry) -> bool:
    try:
        kind = steps.get(spec.kind)
    except RegistryError:
        return False
    return isinstance(kind, type) and issubclass(kind, ProtocolStep)


def _check_protocol_step(
    spec: StepSpec, steps: StepRegistry, source: YamlSource, loc: Loc, protocols: ProtocolCatalog
) -> None:
    """Resolve `use:` in place (the stored playbook holds the whole protocol), validate the
    parameters, then check the protocol against the role kinds."""
    try:
        resolved = resolve_protocol(spec.raw_params, protocols.library)
    except RegistryError as exc:
        raise source.error((*loc, "use"), str(exc)) from None
    extra = spec.__pydantic_extra__
    assert extra is not None
    extra.clear()
    extra.update(resolved)
    params = step_params(spec, steps, source, loc)
    assert isinstance(params, ProtocolParams)
    checked = check_protocol(params, protocols.kinds)
    if not isinstance(checked, CheckedProtocol):
        raise source.error((*loc, *checked.loc), checked.message)


def step_params(spec: StepSpec, steps: StepRegistry, source: YamlSource, loc: Loc) -> StepParams:
    """Resolve a step's kind and validate its params, with errors located in the file."""
    try:
        kind = steps.get(spec.kind)
    except RegistryError as exc:
        raise source.error((*loc, "kind"), str(exc)) from None
    params_model = getattr(kind, "params_model", None)
    if not (isinstance(params_model, type) and issubclass(params_model, StepParams)):
        raise source.error((*loc, "kind"), f"{spec.kind!r} is not a step kind")
    try:
        return params_model.model_validate(spec.raw_params)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise source.error((*loc, *first["loc"]), first["msg"]) from None


def playbook_json_schema(steps: StepRegistry) -> dict[str, Any]:
    """JSON Schema of playbooks, with each registered step kind's params spelled out."""
    schema = Playbook.model_json_schema()
    variants: list[dict[str, Any]] = []
    for kind_name in steps.names():
        params = steps.get(kind_name).params_model.model_json_schema()
        nested = params.pop("$defs", {})
        schema.setdefault("$defs", {}).update(nested)
        properties = {
            "kind": {"const": kind_name},
            "name": {"type": "string", "pattern": _NAME_PATTERN},
            **params.get("properties", {}),
        }
        variants.append(
            {
                "type": "object",
                "title": f"step: {kind_name}",
                "properties": properties,
                "required": ["kind", *params.get("required", [])],
                "additionalProperties": False,
            }
        )
    generic = dict(schema["$defs"]["StepSpec"])
    generic["properties"] = {
        **generic["properties"],
        "kind": {"type": "string", "pattern": "^[A-Za-z_][\\w.]*:[\\w.]+$"},
    }
    schema["$defs"]["StepSpec"] = {"anyOf": [*variants, generic], "title": "StepSpec"}
    return schema


__all__ = [
    "AgentConfig",
    "DomainSection",
    "ExportSpec",
    "PhaseConfig",
    "PhaseInput",
    "Playbook",
    "StepSpec",
    "TimeoutsConfig",
    "format_loc",
    "load_playbook",
    "parse_playbook",
    "playbook_json_schema",
]
