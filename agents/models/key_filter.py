"""A Bloom filter over request keys: which requests the store may hold answers for.

The gateway asks it before querying the cache: almost every request of a run is new, and
"surely not stored" costs no query. Unlike a set of keys, its memory does not grow by a
hundred-odd bytes per model call, so hours-long runs keep a flat footprint; the price is
a rare false "maybe" (about 1 in 100), which costs one query that finds nothing.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

_HASHES = 7  # optimal for ~1% false positives at 9.6 bits per key
_WORDS = struct.Struct(f">{_HASHES}I")
"""A key's bit positions: the first seven 32-bit words of its digest, each one independent."""
_BITS_PER_KEY = 10
_FIRST_CAPACITY = 1 << 16


class _Bloom:
    """One fixed-size filter; positions come from the key's own (uniform) hex digest, split
    into words by one C call (big-integer arithmetic per position cost 3% of a run's CPU)."""

    __slots__ = ("bits", "capacity", "count", "size")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = capacity * _BITS_PER_KEY
        self.bits = bytearray((self.size + 7) // 8)
        self.count = 0

    @staticmethod
    def positions(key: str) -> tuple[int, ...]:
        """Bit i of the key is word i of its digest, reduced modulo the size."""
        return _WORDS.unpack(bytes.fromhex(key[: _HASHES * 8]))

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
        """Remember `key` (a hex digest of at least 56 characters, as sha256's 64)."""
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
