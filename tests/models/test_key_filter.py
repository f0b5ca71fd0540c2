"""The gateway's Bloom filter of cached request keys: no false negatives, few false hits."""

from __future__ import annotations

import hashlib
import sys

from agents.models.key_filter import KeyFilter


def _keys(start: int, count: int) -> list[str]:
    return [hashlib.sha256(str(n).encode()).hexdigest() for n in range(start, start + count)]


def test_every_added_key_is_found_across_growth() -> None:
    added = _keys(0, 150_000)  # past the first filter's capacity: it grows twice
    keys = KeyFilter(added[:1000])
    for key in added[1000:]:
        keys.add(key)
    assert all(key in keys for key in added)


def test_unseen_keys_are_rarely_reported() -> None:
    keys = KeyFilter(_keys(0, 60_000))
    unseen = _keys(1_000_000, 20_000)
    false_hits = sum(key in keys for key in unseen)
    assert false_hits / len(unseen) < 0.02


def test_an_empty_filter_reports_nothing() -> None:
    assert not any(key in KeyFilter() for key in _keys(0, 1000))


def test_memory_is_a_small_fraction_of_a_set_of_the_keys() -> None:
    added = _keys(0, 100_000)
    as_set = sys.getsizeof(set(added)) + sum(sys.getsizeof(key) for key in added)
    assert KeyFilter(added).nbytes * 20 < as_set
