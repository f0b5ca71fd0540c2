"""Render environment changes as a git-style diff that reviewers (and people) can read."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence

from domains.state import Record, RecordChange


def _lines(record: Record | None) -> list[str]:
    if record is None:
        return []
    return json.dumps(record, indent=2, sort_keys=True).splitlines()


def render_diff(changes: Sequence[RecordChange], context: int = 2) -> str:
    """One unified-diff hunk per changed record, headed by `table/key`."""
    parts: list[str] = []
    for change in changes:
        address = f"{change.table}/{change.key}"
        before = "/dev/null" if change.before is None else f"a/{address}"
        after = "/dev/null" if change.after is None else f"b/{address}"
        hunk = difflib.unified_diff(
            _lines(change.before), _lines(change.after), before, after, n=context, lineterm=""
        )
        parts.append("\n".join(hunk))
    return "\n".join(parts)
