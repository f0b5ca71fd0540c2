"""Resolving a playbook's `domain.name`: shipped names, import paths, plain classes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from domains.adapter import ClassDomain
from domains.base import Domain, DomainOptions, SubjectContext
from domains.environment import Environment
from domains.registry import DomainFactory, default_domain_registry, resolve_domain
from domains.state import Tables
from domains.tools import Tool
from runtime.errors import RegistryError
from runtime.registry import Registry


class TinyDomain(Domain):
    """A domain with one table and no tools."""

    name = "tiny"

    @property
    def tools(self) -> Mapping[str, Tool[Any]]:
        return {}

    @property
    def policy(self) -> str:
        return "Be tiny."

    def load_tables(self, options: DomainOptions) -> Tables:
        return {"things": {"a": {"size": 1}}}

    def subjects(self, env: Environment) -> list[str]:
        return env.state.keys("things")

    def subject_context(self, env: Environment, subject_id: str) -> SubjectContext:
        return SubjectContext(subject_id)


TINY = TinyDomain()
NOT_A_CLASS = 42


def test_an_import_path_to_a_domain_subclass_gives_an_instance_of_it() -> None:
    domain = resolve_domain(f"{__name__}:TinyDomain")
    assert isinstance(domain, TinyDomain)
    assert domain.subjects(domain.environment()) == ["a"]


def test_an_import_path_to_a_domain_instance_gives_that_instance() -> None:
    assert resolve_domain(f"{__name__}:TINY") is TINY


def test_an_import_path_to_a_plain_class_gives_an_adapted_domain() -> None:
    domain = resolve_domain("examples.todo_domain:TodoList")
    assert isinstance(domain, ClassDomain)
    assert domain.name == "TodoList"
    assert "add_todo" in domain.tools


def test_an_import_path_to_something_else_is_refused() -> None:
    with pytest.raises(RegistryError, match="is neither a Domain nor a class"):
        resolve_domain(f"{__name__}:NOT_A_CLASS")


def test_an_import_path_to_a_missing_module_names_the_module() -> None:
    with pytest.raises(RegistryError, match="cannot import module 'no_such_module'"):
        resolve_domain("no_such_module:Domain")


def test_an_unknown_name_lists_the_known_domains() -> None:
    with pytest.raises(RegistryError, match=r"unknown domain 'shop' \(known: .*airline.*retail"):
        resolve_domain("shop")


def test_retail_and_airline_are_shipped_names() -> None:
    names = default_domain_registry().names()
    assert "retail" in names
    assert "airline" in names


def test_a_name_registered_in_a_given_registry_resolves_there() -> None:
    registry: Registry[DomainFactory] = Registry("domain")
    registry.register("tiny", TinyDomain)
    assert isinstance(resolve_domain("tiny", registry), TinyDomain)
    with pytest.raises(RegistryError, match=r"\(known: tiny;"):
        resolve_domain("retail", registry)
