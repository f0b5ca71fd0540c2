"""Domains by name: the shipped ones, installed entry points, and import paths.

An import path may name a `Domain` subclass, or any plain class, which the generic adapter
turns into a domain (its public methods become tools, its attributes the state). `compose`
runs several such classes side by side, listed in its options (`domains.adapter.compose`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points

from domains.base import Domain
from runtime.errors import RegistryError
from runtime.registry import Registry, import_object

ENTRY_POINT_GROUP = "apigen_mt.domains"

DomainFactory = Callable[[], Domain]


def _lazy(module: str, attribute: str) -> DomainFactory:
    def build() -> Domain:
        domain_class = getattr(importlib.import_module(module), attribute)
        instance: Domain = domain_class()
        return instance

    return build


def default_domain_registry() -> Registry[DomainFactory]:
    """The shipped domains plus those installed packages declare as entry points."""
    registry: Registry[DomainFactory] = Registry("domain")
    registry.register("retail", _lazy("domains.retail", "RetailDomain"))
    registry.register("airline", _lazy("domains.airline", "AirlineDomain"))
    registry.register("compose", _lazy("domains.adapter.compose", "ComposedDomain"))
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        registry.register(entry.name, _entry_point_factory(entry.value), replace=True)
    return registry


def _entry_point_factory(path: str) -> DomainFactory:
    return lambda: _from_object(import_object(path), path)


def _from_object(obj: object, name: str) -> Domain:
    if isinstance(obj, Domain):
        return obj
    if isinstance(obj, type) and issubclass(obj, Domain):
        return obj()
    if isinstance(obj, type):
        from domains.adapter import ClassDomain

        return ClassDomain(obj)
    raise RegistryError(f"{name!r} is neither a Domain nor a class that can be adapted")


def resolve_domain(name: str, registry: Registry[DomainFactory] | None = None) -> Domain:
    """A domain instance for a playbook's `domain.name`."""
    registry = registry or default_domain_registry()
    if name in registry:
        return registry.get(name)()
    if ":" in name:
        return _from_object(import_object(name), name)
    known = ", ".join(registry.names())
    raise RegistryError(f"unknown domain {name!r} (known: {known}; or use 'pkg.module:Class')")
