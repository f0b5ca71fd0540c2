"""YAML loading that remembers where every value came from, for `file:line: field` errors.

It also refuses YAML that is valid but not a sane playbook before anything expands it: a
key given twice in one mapping, nesting deeper than `MAX_DEPTH`, and aliases that expand
(or recurse) past `MAX_VALUES` values (the "billion laughs" file).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from runtime.errors import PlaybookError

Loc = Sequence[str | int]

MAX_DEPTH = 50
"""Mappings and sequences nested deeper than this are refused (playbooks need about 8)."""
MAX_VALUES = 100_000
"""Values (scalars, mappings, sequences) a document may hold once its aliases are expanded."""


class YamlSource:
    """Parsed YAML data plus its node tree, so a pydantic error location maps to a line."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.overridden: set[str] = set()
        loader = _Loader(text)
        try:
            self.root: yaml.Node | None = loader.get_single_node()
            if self.root is not None:
                _check_expansion(self.root)
            self.data: Any = loader.construct_document(self.root) if self.root else None
        except _Refused as exc:
            raise PlaybookError(file, exc.line, format_loc(exc.loc), exc.message) from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            raise PlaybookError(file, line, "", f"invalid YAML: {exc.problem}") from exc
        except yaml.YAMLError as exc:
            raise PlaybookError(file, None, "", f"invalid YAML: {exc}") from exc
        finally:
            loader.dispose()

    @classmethod
    def read(cls, path: Path) -> YamlSource:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise PlaybookError(str(path), None, "", "file not found") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise PlaybookError(str(path), None, "", f"cannot read file: {exc}") from exc
        return cls(str(path), text)

    def override(self, values: dict[str, Any]) -> None:
        """Replace top-level keys (command-line flags): their errors name no line of the file."""
        if isinstance(self.data, dict):
            self.data.update(values)
            self.overridden.update(values)

    def line_of(self, loc: Loc) -> int | None:
        """Line (1-based) of the deepest node along `loc` that exists in the file."""
        node = self.root
        if node is None or (loc and loc[0] in self.overridden):
            return None
        line: int = node.start_mark.line + 1
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line

    def error(self, loc: Loc, message: str) -> PlaybookError:
        return PlaybookError(self.file, self.line_of(loc), format_loc(loc), message)


class _Refused(Exception):
    """YAML that parses but is refused; carries where."""

    def __init__(self, line: int | None, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.loc = loc
        self.message = message


class _Loader(yaml.SafeLoader):
    """The safe loader, composing with a depth bound and refusing duplicate keys."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._path: list[str | int] = []

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        part: object = index  # an int in a sequence, the key node in a mapping
        if isinstance(part, int):
            self._path.append(part)
        elif isinstance(part, yaml.ScalarNode):
            self._path.append(str(part.value))
        else:  # a mapping key, or the document root
            self._path.append("<key>" if parent is not None else "")
        try:
            if len(self._path) > MAX_DEPTH and self.check_event(yaml.CollectionStartEvent):
                event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
                line = event.start_mark.line + 1 if event.start_mark else None
                raise _Refused(line, self._path[1:4], f"nested deeper than {MAX_DEPTH} levels")
            node = super().compose_node(parent, index)
            if isinstance(node, yaml.MappingNode):
                self._refuse_duplicate_keys(node)
            return node
        finally:
            self._path.pop()

    def _refuse_duplicate_keys(self, node: yaml.MappingNode) -> None:
        first_line: dict[str, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            line = key_node.start_mark.line + 1
            key = str(key_node.value)
            if key in first_line:
                raise _Refused(
                    line,
                    [*self._path[1:], key],
                    f"duplicate key {key!r} (first on line {first_line[key]})",
                )
            first_line[key] = line


def _check_expansion(root: yaml.Node) -> None:
    """Refuse aliases that recurse, nest past `MAX_DEPTH` or expand past `MAX_VALUES` values."""
    shapes: dict[int, tuple[int, int]] = {}
    size, _ = _shape(root, 0, [], shapes, set())
    if size <= MAX_VALUES:
        return
    loc: list[str | int] = []
    node = root
    for part, child in _children(root):
        if shapes[id(child)][0] > MAX_VALUES:
            loc, node = [part], child
            break
    raise _Refused(
        node.start_mark.line + 1,
        loc,
        f"expands to more than {MAX_VALUES:,} values through YAML aliases",
    )


def _shape(
    node: yaml.Node,
    above: int,
    loc: list[str | int],
    shapes: dict[int, tuple[int, int]],
    open_nodes: set[int],
) -> tuple[int, int]:
    """(values under `node` with aliases expanded, its nesting height), memoised per node.

    `above` counts the collections enclosing this occurrence, so an alias used deep inside
    another is refused as the nesting it expands to, and recursion stays within MAX_DEPTH.
    """
    known = shapes.get(id(node))
    if known is None:
        if id(node) in open_nodes:
            raise _Refused(
                node.start_mark.line + 1, loc[:3], "a YAML alias refers to a node containing it"
            )
        if above >= MAX_DEPTH and isinstance(node, yaml.CollectionNode):
            raise _Refused(
                node.start_mark.line + 1, loc[:3], f"nested deeper than {MAX_DEPTH} levels"
            )
        open_nodes.add(id(node))
        size, height = 1, 0
        for part, child in _children(node):
            child_size, child_height = _shape(child, above + 1, [*loc, part], shapes, open_nodes)
            size = min(size + child_size, MAX_VALUES + 1)  # enough to refuse; keeps it small
            height = max(height, child_height)
        open_nodes.discard(id(node))
        known = (size, height + 1 if isinstance(node, yaml.CollectionNode) else 0)
        shapes[id(node)] = known
    if above + known[1] > MAX_DEPTH:
        raise _Refused(node.start_mark.line + 1, loc[:3], f"nested deeper than {MAX_DEPTH} levels")
    return known


def _children(node: yaml.Node) -> list[tuple[str | int, yaml.Node]]:
    """A node's children, mapping keys included (a key may be a collection too)."""
    if isinstance(node, yaml.MappingNode):
        return [
            pair
            for key, value in node.value
            for pair in ((f"{key.value}", key), (str(key.value), value))
        ]
    if isinstance(node, yaml.SequenceNode):
        return list(enumerate(node.value))
    return []


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == str(part):
                found: yaml.Node = value_node
                return found
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        item: yaml.Node | None = node.value[part] if 0 <= part < len(node.value) else None
        return item
    return None


def format_loc(loc: Loc) -> str:
    """`('phases', 0, 'steps', 1, 'kind')` -> `phases.0.steps.1.kind`."""
    return ".".join(str(part) for part in loc)
