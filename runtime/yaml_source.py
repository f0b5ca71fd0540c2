"""YAML loading that remembers where every value came from, for `file:line: field` errors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from runtime.errors import PlaybookError

Loc = Sequence[str | int]


class YamlSource:
    """Parsed YAML data plus its node tree, so a pydantic error location maps to a line."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        try:
            self.root = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data: Any = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            raise PlaybookError(file, line, "", f"invalid YAML: {exc.problem}") from exc
        except yaml.YAMLError as exc:
            raise PlaybookError(file, None, "", f"invalid YAML: {exc}") from exc

    @classmethod
    def read(cls, path: Path) -> YamlSource:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise PlaybookError(str(path), None, "", "file not found") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise PlaybookError(str(path), None, "", f"cannot read file: {exc}") from exc
        return cls(str(path), text)

    def line_of(self, loc: Loc) -> int | None:
        """Line (1-based) of the deepest node along `loc` that exists in the file."""
        node = self.root
        if node is None:
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
