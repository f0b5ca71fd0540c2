"""Load-time checks of what the agents' steps will need, so a bad input fails before a run.

The schema cannot see files or registries: a prompt file that is missing or does not parse,
a task file that is missing or malformed, a phase whose steps need a domain and have none,
a domain name nobody registered, a data folder that is not there. Each is reported as
`file:line: field.path: message`, before any store or run record exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from agents.resources import Templates, data_path
from agents.steps.load_task import LoadTaskParams, LoadTaskStep
from domains.base import Task
from domains.registry import resolve_domain
from runtime.errors import ApigenError, RegistryError
from runtime.playbook import DomainSection, Playbook, StepSpec
from runtime.steps import Step, StepRegistry
from runtime.yaml_source import Loc, YamlSource

_TASKS = TypeAdapter(list[Task])


def check_playbook(playbook: Playbook, source: YamlSource, steps: StepRegistry) -> None:
    """Every check below, in the order a reader of the playbook meets the fields."""
    check_domains(playbook, source, steps)
    check_prompts(playbook, source)
    check_task_files(playbook, source, steps)


def check_prompts(playbook: Playbook, source: YamlSource) -> None:
    """Each role's `prompt` is a `.j2` file that exists and parses, or inline Jinja that parses."""
    templates = Templates(playbook.base_dir or Path.cwd())
    for role, agent in playbook.agents.items():
        if agent.prompt is None:
            continue
        try:
            templates.get(agent.prompt, "")
        except ApigenError as exc:
            raise source.error(("agents", role, "prompt"), str(exc)) from None


def check_task_files(playbook: Playbook, source: YamlSource, steps: StepRegistry) -> None:
    """Each `load_task` file exists and holds a list of tasks."""
    for loc, spec, kind in _steps(playbook, steps):
        if not issubclass(kind, LoadTaskStep):
            continue
        params = LoadTaskParams.model_validate(spec.raw_params)
        path = playbook.resolve(params.path)
        try:
            _TASKS.validate_python(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise source.error((*loc, "path"), f"task file {path} not found") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise source.error(
                (*loc, "path"), f"task file {path}: {where}: {first['msg']}"
            ) from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise source.error((*loc, "path"), f"task file {path}: {exc}") from None


def check_domains(playbook: Playbook, source: YamlSource, steps: StepRegistry) -> None:
    """Phases whose steps need a domain have one; each named domain exists; data folders too."""
    for index, phase in enumerate(playbook.phases):
        section, section_loc = _domain_of(playbook, index)
        if section is None:
            needy = next(
                (
                    (loc, spec)
                    for loc, spec, kind in _steps(playbook, steps)
                    if loc[1] == index and kind.needs_domain
                ),
                None,
            )
            if needy is not None:
                loc, spec = needy
                raise source.error(
                    (*loc, "kind"),
                    f"step {spec.kind!r} needs a domain: set `domain:` for the playbook or"
                    f" for phase {phase.name!r}",
                )
            continue
        _check_section(section, section_loc, playbook, source)


def _check_section(
    section: DomainSection, loc: Loc, playbook: Playbook, source: YamlSource
) -> None:
    try:
        resolve_domain(section.name)
    except RegistryError as exc:
        raise source.error((*loc, "name"), str(exc)) from None
    path = data_path(section)
    if path is not None and not playbook.resolve(path).is_dir():
        raise source.error(
            (*loc, "options", "data", "path"),
            f"{playbook.resolve(path)}: data directory not found",
        )


def _domain_of(playbook: Playbook, index: int) -> tuple[DomainSection | None, Loc]:
    phase = playbook.phases[index]
    if phase.domain is not None:
        return phase.domain, ("phases", index, "domain")
    return playbook.domain, ("domain",)


def _steps(playbook: Playbook, steps: StepRegistry) -> Iterator[tuple[Loc, StepSpec, type[Step]]]:
    """(location, spec, step class) of every step and `on_fail` step (validated already)."""
    for p_index, phase in enumerate(playbook.phases):
        for s_index, spec in enumerate(phase.steps):
            yield ("phases", p_index, "steps", s_index), spec, steps.get(spec.kind)
        if phase.on_fail is not None:
            yield ("phases", p_index, "on_fail"), phase.on_fail, steps.get(phase.on_fail.kind)
