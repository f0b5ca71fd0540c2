"""The playbook schema (pydantic) and its loader with `file:line: field: message` errors.

A playbook is validated in full before anything runs: YAML syntax, the schema, every step's
parameters against its registered kind, and cross-references (models, phases). Numbers are
strict (`concurrency: true` or `4.0` is an error, not 1 or 4) and bounded, so a typo cannot
ask for a trillion episodes.

Relative paths in a playbook (`store`, prompt files, task files, domain data) are relative to
the playbook's own folder; `Playbook.resolve` applies that rule.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator
from pydantic_core import ErrorDetails

from runtime.errors import RegistryError
from runtime.model_config import MAX_SEED, MIN_SEED, ModelConfig
from runtime.protocol import CheckedProtocol, ProtocolCatalog, check_protocol, resolve_protocol
from runtime.protocol_step import ProtocolParams, ProtocolStep
from runtime.secrets import redact_playbook
from runtime.steps import StepParams, StepRegistry
from runtime.yaml_source import Loc, YamlSource, format_loc

_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MAX_EPISODES = 1_000_000
MAX_TRIALS = 1_000
MAX_CONCURRENCY = 100_000
DAY_S = 86_400.0


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DomainSection(_Section):
    """Which domain the episodes act on, and its options (data source, seed, ...)."""

    name: str = Field(description="a registered domain name or an import path 'pkg.mod:Name'")
    options: dict[str, Any] = Field(default_factory=dict)


class AgentConfig(_Section):
    """A role (proposer, reviewer, human, assistant, ...): its model, prompt and parameters."""

    model: str = Field(default="default", description="a name from the `models` section")
    prompt: str | None = Field(
        default=None,
        description="Jinja2 template: inline text, or (a value without whitespace or Jinja "
        "delimiters) a file relative to the playbook, which must end in .j2 and exist",
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
    episodes: int | None = Field(
        default=None, ge=0, le=MAX_EPISODES, description="number of episodes (0 to 1,000,000)"
    )
    input: PhaseInput | None = None
    trials: int = Field(
        default=1, ge=1, le=MAX_TRIALS, description="episodes per input item (pass^k; 1 to 1,000)"
    )
    steps: list[StepSpec] = Field(min_length=1)
    on_fail: StepSpec | None = Field(
        default=None, description="step run after a failed attempt, before the next one"
    )
    max_attempts: int = Field(default=1, ge=1, le=100, description="attempts per item (1 to 100)")
    concurrency: int | None = Field(
        default=None,
        ge=1,
        le=MAX_CONCURRENCY,
        description="episodes of this phase in flight (1 to 100,000; default: the playbook's)",
    )
    domain: DomainSection | None = None

    @field_validator("domain", mode="before")
    @classmethod
    def _domain_shorthand(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class TimeoutsConfig(_Section):
    """Upper bounds for every wait, in seconds."""

    ask_s: float = Field(
        default=120.0, gt=0, le=DAY_S, description="one actor request (at most a day)"
    )
    episode_s: float = Field(
        default=900.0, gt=0, le=7 * DAY_S, description="one episode, attempts included (a week)"
    )
    shutdown_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="after SIGINT or SIGTERM: time to abandon in-flight episodes and mark the "
        "run interrupted (at most an hour; keep it under the scheduler's grace period)",
    )


class ExportSpec(_Section):
    """An export run at the end of a run."""

    format: str = Field(description="a registered export format (sharegpt, openai, tau, hf, ...)")
    path: str = Field(description="output path, relative to the run directory")
    include_rejected: bool = False


class ExecutorConfig(_Section):
    """Where episodes run: in this process (`local`) or on a Ray cluster (`ray`)."""

    kind: Literal["local", "ray"] = "local"
    address: str | None = Field(
        default=None,
        description="ray: 'auto', a 'ray://host:port' address, or none to start a local cluster",
    )
    workers: int = Field(default=2, ge=1, le=10_000, description="ray: worker actors")
    episodes_per_worker: int = Field(
        default=16, ge=1, le=100_000, description="ray: episodes sent to a worker per batch"
    )
    num_cpus: int | None = Field(
        default=None, ge=1, le=100_000, description="ray: CPUs of a local cluster"
    )
    batch_timeout_s: float = Field(
        default=3600.0,
        gt=0,
        le=7 * DAY_S,
        description="ray: bound on one batch, worker death included",
    )


class Playbook(_Section):
    """The whole playbook."""

    name: str = Field(pattern=_NAME_PATTERN)
    description: str = ""
    domain: DomainSection | None = None
    seed: int = Field(
        default=0,
        ge=MIN_SEED,
        le=MAX_SEED,
        description="every episode's randomness derives from it (a signed 64-bit integer)",
    )
    store: str | None = Field(
        default=None,
        description="run directory holding store.sqlite, relative to the playbook's folder "
        "(default: runs/<name> in the working directory)",
    )
    concurrency: int = Field(
        default=64, ge=1, le=MAX_CONCURRENCY, description="episodes in flight (1 to 100,000)"
    )
    mailbox_size: int = Field(default=64, ge=1, le=1_000_000)
    timeouts: TimeoutsConfig = Field(default_factory=TimeoutsConfig)
    models: dict[str, ModelConfig] = Field(default_factory=lambda: {"default": ModelConfig()})
    agents: dict[str, AgentConfig] = Field(default_factory=dict)
    phases: list[PhaseConfig] = Field(min_length=1)
    export: list[ExportSpec] = Field(default_factory=list)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    plugins: list[str] = Field(
        default_factory=list, description="modules to import so they can register extensions"
    )

    _base_dir: Path | None = PrivateAttr(default=None)

    @field_validator("domain", mode="before")
    @classmethod
    def _domain_shorthand(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @property
    def base_dir(self) -> Path | None:
        """The folder relative paths in this playbook are relative to (None: the working one)."""
        return self._base_dir

    def located(self, base_dir: Path | None) -> Playbook:
        """Set the folder relative paths resolve against (the playbook file's); returns self."""
        self._base_dir = base_dir
        return self

    def resolve(self, path: str | Path) -> Path:
        """A path written in this playbook: absolute as is, else under `base_dir`."""
        candidate = Path(path).expanduser()
        if candidate.is_absolute() or self._base_dir is None:
            return candidate
        return self._base_dir / candidate

    @property
    def run_dir(self) -> Path:
        """`store` (relative to the playbook), else `runs/<name>` in the working directory."""
        return self.resolve(self.store) if self.store else Path("runs") / self.name

    @property
    def store_path(self) -> Path:
        return self.run_dir / "store.sqlite"

    def content_hash(self) -> str:
        """Hash of the validated playbook: the same content always names the same run.

        The store location and the executor are left out: a run directory can be moved, and
        a run started in process can be resumed on Ray (or the reverse).
        """
        data = self.stored_form()
        data.pop("store", None)
        data.pop("executor", None)
        canonical = json.dumps(data, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def stored_form(self) -> dict[str, Any]:
        """The playbook as a run record keeps it: JSON data with secrets masked.

        The content hash is taken over this form too, so a rotated password names the same
        run, and a stored playbook re-validates to its own run id.
        """
        return redact_playbook(self.model_dump(mode="json"))

    def stored_json(self) -> str:
        return json.dumps(self.stored_form())

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
    return parse_playbook(source, steps, protocols).located(Path(path).absolute().parent)


def parse_playbook(
    source: YamlSource, steps: StepRegistry | None, protocols: ProtocolCatalog | None = None
) -> Playbook:
    """Validate already-read YAML (also used to re-validate a stored playbook snapshot).

    Without `steps`, step kinds and their params are left unchecked (and unimported): what
    reading a stored run needs, whose step kinds may live in plugins nobody loaded. With
    `protocols`, protocol steps are resolved (`use:`) and checked against the role kinds: a
    protocol that cannot run is refused here, before anything is written.
    """
    if not isinstance(source.data, dict):
        raise source.error((), "a playbook must be a mapping of sections")
    try:
        playbook = Playbook.model_validate(source.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise source.error(first["loc"], error_message(first)) from None
    _check_references(playbook, source)
    if steps is not None:
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
    protocol step's against the role kinds too, when `protocols` is given), and that what
    each step needs (a blueprint, ...) comes from its phase's input or an earlier step."""
    produced: dict[str, frozenset[str]] = {}
    for p_index, phase in enumerate(playbook.phases):
        names: set[str] = set()
        available = produced.get(phase.input.phase, frozenset()) if phase.input else frozenset()
        made: frozenset[str] = frozenset()
        specs: list[tuple[Loc, StepSpec]] = [
            (("phases", p_index, "steps", s_index), spec)
            for s_index, spec in enumerate(phase.steps)
        ]
        if phase.on_fail is not None:
            specs.append((("phases", p_index, "on_fail"), phase.on_fail))
        for loc, spec in specs:
            if protocols is not None and _is_protocol(spec, steps):
                checked = _check_protocol_step(spec, steps, source, loc, protocols)
                _check_needs_of_protocol(checked, available, phase, source, loc)
                gives = checked.produces
            else:
                step_params(spec, steps, source, loc)
                gives = _check_needs_of_step(steps.get(spec.kind), available, phase, source, loc)
            if loc[2] == "steps":
                if spec.step_name in names:
                    raise source.error(
                        (*loc, "name"), f"duplicate step name {spec.step_name!r} in this phase"
                    )
                names.add(spec.step_name)
                available |= gives
                made |= gives
        produced[phase.name] = made


def _missing(data: str, phase: PhaseConfig) -> str:
    """Why `data` is not there, and how to provide it."""
    if phase.input is not None:
        where = f"its input phase {phase.input.phase!r} makes none"
    else:
        where = "the phase has no `input` and no earlier step makes one"
    return (
        f"needs a {data}, but {where} (feed the phase from a phase that makes {data}s, or put "
        f"a step that makes one, such as load_task, before it)"
    )


def _check_needs_of_protocol(
    checked: CheckedProtocol,
    available: frozenset[str],
    phase: PhaseConfig,
    source: YamlSource,
    loc: Loc,
) -> None:
    unmet = checked.unmet_need(available)
    if unmet is not None:
        role, data = unmet
        kind = checked.kinds[role].name
        raise source.error((*loc, "roles", role), f"a {kind} role {_missing(data, phase)}")


def _check_needs_of_step(
    kind: Any, available: frozenset[str], phase: PhaseConfig, source: YamlSource, loc: Loc
) -> frozenset[str]:
    """What a step of `kind` gives later steps; refused when it needs what is not there."""
    needs: frozenset[str] = getattr(kind, "needs", frozenset())
    for data in sorted(needs - available):
        raise source.error((*loc, "kind"), f"step {kind.__name__} {_missing(data, phase)}")
    produces: frozenset[str] = getattr(kind, "produces", frozenset())
    return produces


def _is_protocol(spec: StepSpec, steps: StepRegistry) -> bool:
    try:
        kind = steps.get(spec.kind)
    except RegistryError:
        return False
    return isinstance(kind, type) and issubclass(kind, ProtocolStep)


def _check_protocol_step(
    spec: StepSpec, steps: StepRegistry, source: YamlSource, loc: Loc, protocols: ProtocolCatalog
) -> CheckedProtocol:
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
    return checked


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
        raise source.error((*loc, *first["loc"]), error_message(first)) from None


def error_message(error: ErrorDetails) -> str:
    """A pydantic error's message, without the "Value error, " of our own validators."""
    message = error["msg"]
    return message.removeprefix("Value error, ")


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
