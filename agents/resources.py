"""Run-wide resources the agents' steps share: domain environments, roles, prompt templates.

A run hook builds them once per run (loading or generating domain data is the expensive
part) and puts them in the run's `Resources`, where every step finds them by type.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import anyio.to_thread
import jinja2

from domains.base import Domain
from domains.environment import Environment
from domains.registry import resolve_domain
from runtime.engine import RunContext
from runtime.errors import ApigenError
from runtime.log import get_logger
from runtime.playbook import AgentConfig, DomainSection, Playbook

_log = get_logger("agents.resources")

PROMPTS_DIR = Path(__file__).parent / "prompts"


@dataclass(frozen=True)
class DomainHandle:
    """A loaded domain and its base environment (never written: episodes fork it)."""

    domain: Domain
    base: Environment
    options: dict[str, Any]


@dataclass
class DomainCatalog:
    """The domain each phase acts on (a phase's own `domain` wins over the playbook's)."""

    by_phase: dict[str, DomainHandle] = field(default_factory=dict)

    def for_phase(self, phase: str) -> DomainHandle:
        handle = self.by_phase.get(phase)
        if handle is None:
            raise ApigenError(f"phase {phase!r} has no domain: set `domain:` in the playbook")
        return handle


@dataclass(frozen=True)
class PlaybookFile:
    """Where the running playbook lives: relative paths in it resolve against its folder."""

    path: Path | None

    def resolve(self, relative: str) -> Path:
        candidate = Path(relative)
        if candidate.is_absolute() or self.path is None:
            return candidate
        return self.path.parent / candidate


@dataclass(frozen=True)
class AgentRoster:
    """Role -> agent config; roles the playbook leaves out use the `default` model."""

    agents: dict[str, AgentConfig]
    default_model: str

    def role(self, name: str) -> AgentConfig:
        found = self.agents.get(name)
        return found if found is not None else self._default

    @cached_property
    def _default(self) -> AgentConfig:
        """The config of every role the playbook leaves out (one, not one per episode)."""
        return AgentConfig(model=self.default_model)


def prompt_file(value: str) -> str | None:
    """The file a role's `prompt` names, or None when the value is inline Jinja text.

    A value without whitespace or Jinja delimiters is a file path (no real prompt is one
    word), and it must end in `.j2`: `prompt: x.jinja` is an error, not a one-word prompt.
    """
    text = value.strip()
    if any(mark in text for mark in ("{{", "{%", "{#")) or any(ch.isspace() for ch in text):
        return None
    if not text.endswith(".j2"):
        raise ApigenError(
            f"{value!r} looks like a file path but does not end in .j2 (prompt files are"
            " Jinja2 templates named *.j2; inline prompts contain whitespace)"
        )
    return text


class Templates:
    """Jinja2 prompt templates: the shipped defaults, or a playbook's file or inline text."""

    def __init__(self, base_dir: Path) -> None:
        self._base_dir = base_dir
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(PROMPTS_DIR)]),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._cache: dict[str, jinja2.Template] = {}

    def get(self, override: str | None, default_name: str) -> jinja2.Template:
        """`override` is a path ending in .j2 (relative to the playbook) or inline text."""
        key = override or f"<default>{default_name}"
        template = self._cache.get(key)
        if template is None:
            template = self._load(override, default_name)
            self._cache[key] = template
        return template

    def path_of(self, override: str) -> Path | None:
        """The prompt file `override` names (relative to the playbook), or None if inline."""
        name = prompt_file(override)
        if name is None:
            return None
        path = Path(name).expanduser()
        return path if path.is_absolute() else self._base_dir / path

    def _load(self, override: str | None, default_name: str) -> jinja2.Template:
        if override is None:
            return self._compile(default_name, None)
        path = self.path_of(override)
        if path is None:
            return self._compile("inline prompt", override)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ApigenError(f"prompt file {path} not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ApigenError(f"prompt file {path}: cannot read it: {exc}") from None
        return self._compile(str(path), text)

    def _compile(self, name: str, text: str | None) -> jinja2.Template:
        """A template from `text` (or the shipped `name`), with syntax errors located."""
        try:
            if text is None:
                return self._env.get_template(name)
            return self._env.from_string(text)
        except jinja2.TemplateSyntaxError as exc:
            raise ApigenError(
                f"{name} line {exc.lineno}: Jinja syntax error: {exc.message}"
            ) from None
        except jinja2.TemplateError as exc:
            raise ApigenError(f"prompt template {name!r}: {exc}") from exc

    def render(self, override: str | None, default_name: str, **values: Any) -> str:
        try:
            return self.get(override, default_name).render(**values)
        except jinja2.TemplateError as exc:
            name = override if override and prompt_file(override) else default_name
            raise ApigenError(f"prompt template {name!r}: {exc}") from exc


def _domain_sections(playbook: Playbook) -> dict[str, DomainSection]:
    sections: dict[str, DomainSection] = {}
    for phase in playbook.phases:
        section = phase.domain or playbook.domain
        if section is not None:
            sections[phase.name] = section
    return sections


_LOADED: OrderedDict[str, DomainHandle] = OrderedDict()
_KEEP_LOADED = 4
"""Base environments kept per process: they are never written (episodes fork them), so a
process that runs many batches (a Ray worker, a test session) loads each domain once."""


def data_path(section: DomainSection) -> str | None:
    """The `options.data.path` of a domain section (the shipped domains' data folder)."""
    data = section.options.get("data")
    path = data.get("path") if isinstance(data, dict) else None
    return path if isinstance(path, str) else None


def resolved_options(section: DomainSection, playbook: Playbook) -> dict[str, Any]:
    """A section's options with `data.path` resolved against the playbook's folder."""
    path = data_path(section)
    if path is None:
        return dict(section.options)
    data = {**section.options["data"], "path": str(playbook.resolve(path))}
    return {**section.options, "data": data}


def _data_version(options: dict[str, Any]) -> str:
    """Modification times of a data directory's files: edited data is loaded afresh."""
    data = options.get("data")
    path = data.get("path") if isinstance(data, dict) else None
    if not isinstance(path, str) or not Path(path).is_dir():
        return ""
    return ":".join(str(entry.stat().st_mtime_ns) for entry in sorted(Path(path).iterdir()))


async def load_domains(playbook: Playbook) -> DomainCatalog:
    """Load each distinct domain section once (in a worker thread: generation is CPU work)."""
    catalog = DomainCatalog()
    for phase, section in _domain_sections(playbook).items():
        options = resolved_options(section, playbook)
        key = json.dumps([section.name, options], sort_keys=True, default=str)
        key += _data_version(options)
        handle = _LOADED.get(key)
        if handle is None:
            domain = resolve_domain(section.name)
            base = await anyio.to_thread.run_sync(domain.environment, options)
            handle = DomainHandle(domain, base, options)
            _log.info("domain.loaded", domain=domain.name, phase=phase)
            _LOADED[key] = handle
            while len(_LOADED) > _KEEP_LOADED:
                _LOADED.popitem(last=False)
        _LOADED.move_to_end(key)
        catalog.by_phase[phase] = handle
    return catalog


@asynccontextmanager
async def agent_resources_hook(context: RunContext) -> AsyncIterator[None]:
    """Provide the domain catalog, the agent roster, the playbook's location and templates."""
    playbook = context.playbook
    context.resources.provide(DomainCatalog, await load_domains(playbook))
    default_model = "default" if "default" in playbook.models else next(iter(playbook.models))
    context.resources.provide(AgentRoster, AgentRoster(dict(playbook.agents), default_model))
    located = PlaybookFile(Path(context.playbook_path) if context.playbook_path else None)
    context.resources.provide(PlaybookFile, located)
    base_dir = located.path.parent if located.path else Path.cwd()
    context.resources.provide(Templates, Templates(base_dir))
    yield
