"""A Bloom filter over request keys: which requests the store may hold answers for.

The gateway asks it before querying the cache: almost every request of a run is new, and
"surely not stored" costs no query. Unlike a set of keys, its memory does not grow by a
hundred-odd bytes per model call, so hours-long runs keep a flat footprint; the price is
a rare false "maybe" (about 1 in 100), which costs one query that finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

_HASHES = 7  # optimal for ~1% false positives at 9.6 bits per key
_BITS_PER_KEY = 10
_FIRST_CAPACITY = 1 << 16


class _Bloom:
    """One fixed-size filter; positions come from the key's own (uniform) hex digest."""

    __slots__ = ("bits", "capacity", "count", "size")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = capacity * _BITS_PER_KEY
        self.bits = bytearray((self.size + 7) // 8)
        self.count = 0

    def positions(self, key: str) -> range:
        """Bit i of the key is `(first + i * step) % size`: a range reduced modulo size."""
        first, step = int(key[:16], 16), int(key[16:32], 16) | 1
        return range(first, first + _HASHES * step, step)

    def add(self, key: str) -> None:
        bits, size = self.bits, self.size
        for position in self.positions(key):
            bit = position % size
            bits[bit >> 3] |= 1 << (bit & 7)
        self.count += 1

    def __contains__(self, key: str) -> bool:
        bits, size = self.bits, self.size
        for position in self.positions(key):  # a plain loop: asked on every model call
            bit = position % size
            if not bits[bit >> 3] & (1 << (bit & 7)):
                return False
        return True


class KeyFilter:
    """Request keys (sha256 hex digests) seen so far; grows by filters of doubling capacity."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._filters = [_Bloom(_FIRST_CAPACITY)]
        for key in keys:
            self.add(key)

    def add(self, key: str) -> None:
        """Remember `key` (a hex digest of at least 32 characters)."""
        newest = self._filters[-1]
        if newest.count >= newest.capacity:
            newest = _Bloom(newest.capacity * 2)
            self._filters.append(newest)
        newest.add(key)

    def __contains__(self, key: str) -> bool:
        """False: `key` was surely never added. True: it probably was."""
        return any(key in bloom for bloom in self._filters)

    @property
    def nbytes(self) -> int:
        """Memory held by the bit arrays."""
        return sum(len(bloom.bits) for bloom in self._filters)
