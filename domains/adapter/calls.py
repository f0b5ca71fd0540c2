"""One call on an arena: check a fork's changes out, mark, collect, restore.

`Session` is what `Arena.call` runs: it refills the arena's nodes from the fork's changed
records (building the fork's new nodes), lets the method run with write barriers on,
encodes the nodes the method marked and the new nodes they reach, stages the records that
differ, collects the nodes no longer reachable (`_Graph`: owners and incoming references,
searched only around what lost a reference), and puts the arena back as the base has it.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from domains.adapter.codec import is_node
from domains.adapter.graph import ROOT, _fresh, _volatile_key, child_id, refs_of
from domains.adapter.state import GRAPH, OBJECTS, VOLATILE, ObjectState
from domains.adapter.tracking import container_kind
from domains.state import Record, _Deleted, same_json
from runtime.errors import DomainError

if TYPE_CHECKING:
    from domains.adapter.graph import Arena

_NEW = "\x00new"
"""Ids of nodes created by the call, until `_name_new_nodes` names them."""


def _renamed(value: Any, rename: dict[str, str]) -> Any:
    """`value` with each `{"$ref": placeholder}` pointing at the node's final id."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and len(value) == 1:
            return {"$ref": rename.get(ref, ref)}
        return {key: _renamed(item, rename) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, rename) for item in value]
    return value


@dataclass
class Effect:
    """What a call changed: node ids, and the `Class.attr` / container ids that differ."""

    changed: list[str] = field(default_factory=list)
    fields: set[str] = field(default_factory=set)


class _Graph:
    """Edits to the `_graph` table during one call: owners and incoming reference counts."""

    def __init__(self, state: ObjectState) -> None:
        self.state = state
        self.entries: dict[str, Record | None] = {}

    def entry(self, oid: str) -> Record | None:
        if oid not in self.entries:
            found = self.state.get(GRAPH, oid)
            self.entries[oid] = (
                None if found is None else {"owner": found["owner"], "in": dict(found["in"])}
            )
        return self.entries[oid]

    def create(self, oid: str, owner: str) -> None:
        self.entries[oid] = {"owner": owner, "in": {}}

    def delete(self, oid: str) -> None:
        self.entries[oid] = None

    def owner(self, oid: str) -> str | None:
        found = self.entry(oid)
        return None if found is None else found["owner"]

    def add_in(self, target: str, source: str, count: int) -> None:
        found = self.entry(target)
        if found is not None:
            found["in"][source] = found["in"].get(source, 0) + count

    def remove_in(self, target: str, source: str, count: int) -> bool:
        """Drop references; True when `source` owned `target` and no longer holds it."""
        found = self.entry(target)
        if found is None:
            return False
        left = found["in"].get(source, 0) - count
        if left > 0:
            found["in"][source] = left
            return False
        found["in"].pop(source, None)
        return bool(found["owner"] == source)

    def reaches_root(self, start: str, avoid: set[str]) -> bool:
        current: str | None = start
        steps = 0
        while current is not None and current != ROOT:
            if current in avoid or self.entry(current) is None or steps > 100_000:
                return False
            current = self.owner(current)
            steps += 1
        return current == ROOT

    def stage(self) -> None:
        for oid, found in self.entries.items():
            old = self.state.get(GRAPH, oid)
            if found is None:
                if old is not None:
                    self.state.discard(GRAPH, oid)
            elif old is None or not same_json(old, found):
                self.state.insert(GRAPH, oid, found)


class Session:
    """One call on one state view: checkout, marks, collection, restore."""

    def __init__(self, arena: Arena, state: ObjectState) -> None:
        self.arena = arena
        self.state = state
        self.temp: dict[str, object] = {}
        self.temp_ids: dict[int, str] = {}
        self.patched: set[str] = set()
        self.dirty: dict[int, object] = {}
        self.volatile_set: set[str] = set()
        self.allocated: set[str] = set()

    def mark(self, obj: object) -> None:
        self.dirty[id(obj)] = obj

    def node(self, oid: str) -> object:
        found = self.temp.get(oid)
        if found is None:
            found = self.arena.objects.get(oid)
        if found is None:
            raise DomainError(f"no node {oid!r} in the state")
        return found

    def id_of(self, obj: object) -> str | None:
        key = id(obj)
        found = self.temp_ids.get(key)
        if found is not None:
            return found
        found = self.arena.ids.get(key)
        if found is not None and self.temp.get(found, obj) is obj:
            return found
        return None

    def checkout(self) -> None:
        """Bring the arena to this view: its changed records refilled, its new ones built."""
        arena = self.arena
        changes = [
            (oid, record)
            for oid, record in self.state.changes_of(OBJECTS)
            if not isinstance(record, _Deleted)
        ]
        for oid, record in changes:
            base_node = arena.objects.get(oid)
            if base_node is None or not arena.same_shape(base_node, record):
                shell = arena.shell(record)
                self.temp[oid] = shell
                self.temp_ids[id(shell)] = oid
        for oid, record in changes:
            node = self.node(oid)
            arena.fill(node, record, self.node)
            if oid in self.temp:
                excluded = arena.excluded.get(oid, {})
                if container_kind(node) is None:
                    vars(node).update({a: _fresh(v) for a, v in excluded.items()})
            else:
                self.patched.add(oid)
        for key, change in self.state.changes_of(VOLATILE):
            if isinstance(change, _Deleted):
                continue
            record = change
            holder = self.temp.get(record["id"]) or arena.objects.get(record["id"])
            if holder is not None:
                vars(holder)[record["attr"]] = arena.codec.decode(record["value"], None)
                self.volatile_set.add(key)

    def restore(self) -> None:
        """Undo the checkout and the call on the arena's own nodes; drop the rest."""
        arena = self.arena
        touched = set(arena.objects) if arena.compare_all else set(self.patched)
        for obj in self.dirty.values():
            oid = arena.ids.get(id(obj))
            if oid is not None and arena.objects.get(oid) is obj:
                touched.add(oid)
        for oid in sorted(touched):
            node = arena.objects[oid]
            arena.fill(node, arena.records[oid], arena.objects.__getitem__)
            arena.reset_hidden(node, oid)
        for key in self.volatile_set.union(arena.opaque):
            record = arena.volatile.get(key)
            if record is not None:
                holder = arena.objects[record["id"]]
                vars(holder)[record["attr"]] = arena.codec.decode(record["value"], None)
        for oid, attr in arena.resettable:
            if oid not in touched:
                vars(arena.objects[oid])[attr] = _fresh(arena.excluded[oid][attr])

    # -- collection --------------------------------------------------------------------------

    def _fresh_id(self, candidate: str) -> str:
        found = candidate
        number = 1
        while found in self.allocated or self.state.get(OBJECTS, found) is not None:
            number += 1
            found = f"{candidate}#{number}"
        self.allocated.add(found)
        return found

    def collect(self) -> Effect:
        """Encode the changed nodes and the new nodes they reach; stage the differences."""
        arena, state = self.arena, self.state
        start = sorted({oid for obj in self.dirty.values() if (oid := self.id_of(obj))})
        if arena.compare_all:
            live = {oid for oid in arena.objects if state.get(OBJECTS, oid) is not None}
            start = sorted(live.union(self.temp))
        queue: deque[str] = deque(start)
        new_nodes: dict[str, object] = {}
        new_ids: dict[int, str] = {}
        owners: dict[str, str] = {}
        births: dict[str, tuple[str, str]] = {}
        encoded: dict[str, Record] = {}
        volatiles: dict[str, dict[str, Any]] = {}
        kept: dict[str, dict[str, Any]] = {}

        def node_of(oid: str) -> object:
            return new_nodes[oid] if oid in new_nodes else self.node(oid)

        while queue:
            oid = queue.popleft()
            if oid in encoded:
                continue

            def ref(child: object, label: str, _from: str = oid) -> str:
                found = self.id_of(child) or new_ids.get(id(child))
                if found is None:
                    found = f"{_NEW}{len(new_nodes)}"  # named once garbage has freed ids
                    births[found] = (_from, label)
                    new_ids[id(child)] = found
                    new_nodes[found] = child
                    owners[found] = _from
                    queue.append(found)
                return found

            record, volatile, excluded = arena.encode_node(node_of(oid), oid, ref)
            encoded[oid] = record
            volatiles[oid] = volatile
            if oid in new_nodes and excluded:
                kept[oid] = {a: copy.deepcopy(v) if is_node(v) else v for a, v in excluded.items()}

        graph = _Graph(state)
        for oid, owner in owners.items():
            graph.create(oid, owner)
        effect = Effect()
        orphans: set[str] = set()
        for oid, record in encoded.items():
            old = state.get(OBJECTS, oid)
            if old is not None and same_json(old, record):
                continue
            state.insert(OBJECTS, oid, record)
            effect.changed.append(oid)
            effect.fields.update(changed_fields(oid, old, record))
            before, after = refs_of(old), refs_of(record)
            for target, count in (after - before).items():
                graph.add_in(target, oid, count)
            for target, count in (before - after).items():
                if graph.remove_in(target, oid, count):
                    orphans.add(target)
        deleted = self._collect_garbage(orphans, graph) if orphans else set()
        rename = self._name_new_nodes(births, deleted, effect, graph) if births else {}
        for placeholder, excluded in kept.items():
            if placeholder in rename:
                arena.excluded.setdefault(rename[placeholder], excluded)
        graph.stage()
        self._stage_volatile({rename.get(k, k): v for k, v in volatiles.items()}, deleted)
        effect.changed = [rename.get(oid, oid) for oid in effect.changed if oid not in deleted]
        effect.changed += sorted(oid for oid in deleted if not oid.startswith(_NEW))
        effect.fields = {rename.get(name, name) for name in effect.fields}
        return effect

    def _name_new_nodes(
        self, births: dict[str, tuple[str, str]], deleted: set[str], effect: Effect, graph: _Graph
    ) -> dict[str, str]:
        """Give the call's new nodes their ids (the path they were first met at, free now
        that garbage is gone) and rewrite the records and the graph that name them."""
        rename: dict[str, str] = {}
        for placeholder, (parent, label) in births.items():
            if placeholder not in deleted:
                rename[placeholder] = self._fresh_id(child_id(rename.get(parent, parent), label))
        state = self.state
        for oid in effect.changed:
            if oid in deleted:
                continue
            record = state.get(OBJECTS, oid)
            assert record is not None
            final = rename.get(oid, oid)
            if final != oid:
                state.discard(OBJECTS, oid)
            state.insert(OBJECTS, final, _renamed(record, rename))
        entries: dict[str, Record | None] = {}
        for oid, entry in graph.entries.items():
            key = rename.get(oid, oid)
            if entry is None:
                entries.setdefault(key, None)
                continue
            entries[key] = {
                "owner": rename.get(entry["owner"], entry["owner"]),
                "in": {rename.get(source, source): n for source, n in entry["in"].items()},
            }
        graph.entries = {key: entry for key, entry in entries.items() if not key.startswith(_NEW)}
        return rename

    def _collect_garbage(self, orphans: set[str], graph: _Graph) -> set[str]:
        """Re-own orphans still reachable; delete the nodes that are not. Returns deleted ids.

        An orphan is adopted by a referrer whose owner chain reaches the root; what is left
        is searched with the nodes its members own: the part reachable from outside it
        lives, the rest is deleted.
        """
        unresolved = set(orphans)
        progress = True
        while unresolved and progress:
            progress = False
            for oid in sorted(unresolved):
                found = graph.entry(oid)
                referrers = sorted(found["in"]) if found is not None else []
                for referrer in referrers:
                    if graph.reaches_root(referrer, unresolved | {oid}):
                        found["owner"] = referrer  # type: ignore[index]
                        unresolved.discard(oid)
                        progress = True
                        break
        if not unresolved:
            return set()
        candidates: set[str] = set()
        stack = list(unresolved)
        while stack:
            oid = stack.pop()
            if oid in candidates:
                continue
            candidates.add(oid)
            for target in refs_of(self.state.get(OBJECTS, oid)):
                if graph.owner(target) == oid:
                    stack.append(target)
        live: dict[str, str] = {}
        frontier: list[str] = []
        for oid in sorted(candidates):
            found = graph.entry(oid)
            outside = sorted(r for r in (found["in"] if found else {}) if r not in candidates)
            if outside:
                live[oid] = outside[0]
                frontier.append(oid)
        while frontier:
            oid = frontier.pop()
            for target in sorted(refs_of(self.state.get(OBJECTS, oid))):
                if target in candidates and target not in live:
                    live[target] = oid
                    frontier.append(target)
        for oid, owner in live.items():
            found = graph.entry(oid)
            if found is not None:
                found["owner"] = owner
        dead = candidates - set(live)
        for oid in sorted(dead):
            for target, count in refs_of(self.state.get(OBJECTS, oid)).items():
                if target not in dead:
                    graph.remove_in(target, oid, count)
            self.state.discard(OBJECTS, oid)
            graph.delete(oid)
        return dead

    def _stage_volatile(self, volatiles: dict[str, dict[str, Any]], deleted: set[str]) -> None:
        arena, state = self.arena, self.state
        wanted: dict[str, Record] = {}
        for oid, values in volatiles.items():
            for attr, value in values.items():
                wanted[_volatile_key(oid, attr)] = {"id": oid, "attr": attr, "value": value}
        for key in self.volatile_set.union(arena.opaque):
            if key in wanted:
                continue
            record = state.get(VOLATILE, key)
            if record is None or record["id"] in deleted:
                continue
            if state.get(OBJECTS, record["id"]) is None:
                continue
            holder = self.node(record["id"])
            value = vars(holder).get(record["attr"])
            encoded = arena.codec.encode(value, None, f"{record['id']}.{record['attr']}")
            wanted[key] = {**record, "value": encoded}
        for key, record in wanted.items():
            if record["id"] in deleted:
                continue
            old = state.get(VOLATILE, key)
            if old is None or not same_json(old, record):
                state.insert(VOLATILE, key, record)
        for oid in deleted:
            for attr in arena._volatile_attrs(oid):
                state.discard(VOLATILE, _volatile_key(oid, attr))


def changed_fields(oid: str, old: Record | None, new: Record | None) -> Iterator[str]:
    """`Class.attr` for each attribute of an object that differs; the id of a container."""
    if new is None or "$object" not in new:
        yield oid
        return
    owner = str(new["$object"]).rpartition(":")[2]
    for name in set(new) | set(old or {}):
        if name == "$object":
            continue
        if old is None or name not in old or name not in new or not same_json(old[name], new[name]):
            yield f"{owner}.{name}"
