"""A bounded memo of a pure function's results, keyed on plain values.

The engine memoises what it decides from plain values (never from a patient or
findings object): the entries are few in practice (a service or a cohort meets
the same facts again and again), but never unbounded. When full, the oldest
entry goes first. Safe to share between threads: a race while evicting only
leaves the memo an entry or two above its bound for a moment.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Generic, TypeVar

__all__ = ["BoundedMemo"]

K = TypeVar("K")
V = TypeVar("V")


class BoundedMemo(Generic[K, V]):
    """Results by key, at most about ``bound`` of them (the oldest out first).

    Read with ``memo.entries.get(key)`` (a plain dict lookup on the hot path),
    write with :meth:`put`.

    Example:
        >>> memo: BoundedMemo[str, int] = BoundedMemo(2)
        >>> memo.put("a", 1), memo.put("b", 2), memo.put("c", 3)
        (1, 2, 3)
        >>> sorted(memo.entries)
        ['b', 'c']
    """

    __slots__ = ("bound", "entries")

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self.entries: dict[K, V] = {}

    def put(self, key: K, value: V) -> V:
        """Remember a value (evicting the oldest entry when full) and return it."""
        entries = self.entries
        if len(entries) >= self.bound:
            # Another thread changing the memo meanwhile: its eviction stands for ours.
            with suppress(KeyError, RuntimeError, StopIteration):
                del entries[next(iter(entries))]
        entries[key] = value
        return value

    def clear(self) -> None:
        """Forget every entry."""
        self.entries.clear()
