"""A domain shipped as a Python package: its tools, rules, graph, patterns, tables, policy.md.

Retail and airline differ only in these parts and in what a subject's context holds, so
both are a `PackagedDomain` that names its parts.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from functools import cached_property
from importlib.resources import files
from typing import Any, ClassVar

from pydantic import BaseModel

from domains.base import ApiGraph, Domain, DomainOptions, PolicyRule, TaskPattern
from domains.data import load_tables
from domains.environment import Environment
from domains.state import Tables
from domains.tools import Tool


class PackagedDomain(Domain):
    """Subclasses set the class attributes; data comes from `data.path` or the generator."""

    package: ClassVar[str]
    """The package holding `policy.md`."""
    tool_list: ClassVar[tuple[Tool[Any], ...]]
    rule_list: ClassVar[Sequence[PolicyRule]]
    graph: ClassVar[ApiGraph]
    pattern_list: ClassVar[Sequence[TaskPattern]]
    schemas: ClassVar[Mapping[str, type[BaseModel]]]
    subject_table: ClassVar[str] = "users"
    sequential_tool_calls = True
    write_vocabulary: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    """Per write tool, the word stems an agent uses when it lists that write to confirm it."""

    @cached_property
    def _tools(self) -> dict[str, Tool[Any]]:
        return {found.name: found for found in self.tool_list}

    @property
    def tools(self) -> Mapping[str, Tool[Any]]:
        return self._tools

    @cached_property
    def policy(self) -> str:
        """The agent-facing policy (`policy.md` of the package)."""
        return files(self.package).joinpath("policy.md").read_text(encoding="utf-8")

    @property
    def rules(self) -> Sequence[PolicyRule]:
        return self.rule_list

    @property
    def api_graph(self) -> ApiGraph:
        return self.graph

    @property
    def patterns(self) -> Sequence[TaskPattern]:
        return self.pattern_list

    def write_words(self, tool_name: str) -> tuple[str, ...]:
        return self.write_vocabulary.get(tool_name) or super().write_words(tool_name)

    def load_tables(self, options: DomainOptions) -> Tables:
        """tau-bench JSON files from `data.path`, else the seeded generator."""
        if options.data.path is not None:
            return load_tables(options.data.path, self.schemas)
        return self.generate(options.data.seed, options.data.scale)

    @abstractmethod
    def generate(self, seed: int, scale: float) -> Tables:
        """Synthetic tables at `scale` times the spec's size, the same for the same seed."""

    def subjects(self, env: Environment) -> list[str]:
        """Every record id of the subject table."""
        return env.state.keys(self.subject_table)
