"""Copy-on-write state of an object graph: one table of nodes, plus two hidden tables.

`objects` holds one record per object or container (`domains.adapter.graph`); it is the
logical state: the fingerprint, `diff()`, `snapshot()` and whether a call changed anything
look at it only. `_graph` (who references whom, for garbage collection) and `_volatile`
(values kept from call to call but left out of the fingerprint: generators, clocks) are
bookkeeping that travels with every fork.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from domains.state import (
    _MODULUS,
    BaseData,
    Change,
    RecordChange,
    State,
    Tables,
    _Deleted,
    copy_json,
    record_hash,
    same_json,
)

if TYPE_CHECKING:
    from domains.adapter.graph import Arena

OBJECTS: Final = "objects"
GRAPH: Final = "_graph"
VOLATILE: Final = "_volatile"
HIDDEN: Final = frozenset({GRAPH, VOLATILE})


def _same(left: Change | None, right: Change | None) -> bool:
    """Equal records; a deletion equals an absence."""
    if left is None or isinstance(left, _Deleted):
        return right is None or isinstance(right, _Deleted)
    return same_json(left, right)


class ObjectState(State):
    """A `State` whose identity is its `objects` table; forks share one `Arena`."""

    __slots__ = ("arena",)

    def __init__(
        self,
        base: BaseData,
        arena: Arena,
        changes: dict[tuple[str, str], Change] | None = None,
    ) -> None:
        super().__init__(base, changes)
        self.arena = arena

    def fork(self) -> ObjectState:
        if self._staged is not None:
            raise RuntimeError("cannot fork a state in the middle of a tool call")
        return ObjectState(self._base, self.arena, dict(self._changes))

    def _is_change(self, address: tuple[str, str], staged: Change) -> bool:
        """Only a change to `objects` counts as a change (the rest is bookkeeping)."""
        return address[0] == OBJECTS and not _same(self._committed(address), staged)

    def discard(self, table: str, key: str) -> None:
        """Delete a record, or forget one staged in this transaction that never existed."""
        staged = self._stage()
        if self._committed((table, key)) is None:
            staged.pop((table, key), None)
        else:
            staged[(table, key)] = self._deleted()

    @staticmethod
    def _deleted() -> Change:
        from domains.state import DELETED

        return DELETED

    def changes_of(self, table: str) -> Iterator[tuple[str, Change]]:
        """This view's committed changes to `table` (records, or deletions)."""
        for (changed_table, key), change in self._changes.items():
            if changed_table == table:
                yield key, change

    def fingerprint(self) -> str:
        """Hash of the `objects` table: the shared base hash plus this view's changes."""
        total = self.arena.base_hash()
        base = self._base.tables[OBJECTS]
        for (table, key), change in self._changes.items():
            if table != OBJECTS:
                continue
            if key in base:
                total -= self._base.record_hash(table, key)
            if not isinstance(change, _Deleted):
                total += record_hash(table, key, change)
        return f"{total % _MODULUS:064x}"

    def diff(self) -> list[RecordChange]:
        return [change for change in super().diff() if change.table == OBJECTS]

    def snapshot(self) -> Tables:
        return {OBJECTS: {key: copy_json(record) for key, record in self.items(OBJECTS)}}
