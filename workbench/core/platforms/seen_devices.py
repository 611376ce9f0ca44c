"""Devices seen while reading a parent's listing, kept briefly so that its sub-groups'
listings are answered without asking the server again.

IoTConnect's ``GET /Device?EntityGuid=<guid>`` may answer with the entity's whole subtree
(the vendor's spec is silent; our emulator models that worst case). The tree shows an
entity's OWN devices, so expanding a site reads its areas' devices too; expanding an area
right after would fetch them again. While a parent's listing is read, the list items of its
sub-entities are kept, page by page, in ``marshal`` form (about 0.8 kB a device against ~3 kB
as parsed dicts; it encodes and decodes several times faster than JSON or pickle; only this
process's own data is ever decoded, never a file or anything a server sent as bytes), and
committed only when the listing was read to its end (a stopped, failed or cut-short listing
keeps nothing: a partial list must never pass for a whole one).

A kept listing is used once (taking it removes it: a reload always asks the server), only
within ``ttl`` seconds, and all kept listings together stay under ``budget`` bytes (the
oldest go first). Nothing secret is kept: these are device list items.
"""

from __future__ import annotations

import marshal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

TTL = 30.0  # seconds a kept listing stays usable
BUDGET = 40_000_000  # bytes kept at most, all listings together (~50,000 IoTConnect devices)


@dataclass
class Kept:
    chunks: list[bytes]  # marshalled lists of items, in listing order
    at: float
    size: int

    def items(self) -> Iterator[dict[str, Any]]:
        for chunk in self.chunks:
            yield from marshal.loads(chunk)


@dataclass
class Collector:
    """Gathers the items of some sub-groups (group key -> the id they are kept under) while
    one listing is read; `commit()` hands them to the store once the listing is complete."""

    store: SeenDevices
    groups: dict[str, str]  # e.g. lower-cased entity name -> entity guid
    chunks: dict[str, list[bytes]] = field(default_factory=dict)
    size: int = 0
    over: bool = False  # more than the store's budget (or not storable): nothing will be kept

    def add_page(self, found: dict[str, list[dict[str, Any]]]) -> None:
        """One page's items of each group (in listing order)."""
        if self.over:
            return
        for group, items in found.items():
            try:
                chunk = marshal.dumps(items)
            except ValueError:  # nested deeper than marshal goes
                self.drop()
                return
            self.size += len(chunk)
            if self.size > self.store.budget:
                self.drop()
                return
            self.chunks.setdefault(group, []).append(chunk)

    def drop(self) -> None:
        self.over = True
        self.chunks.clear()

    def commit(self) -> None:
        if not self.over:
            self.store.put({self.groups[g]: self.chunks.get(g, []) for g in self.groups})


class SeenDevices:
    """The kept listings of one adapter (thread-safe: listings run in worker threads)."""

    def __init__(
        self, ttl: float = TTL, budget: int = BUDGET, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.budget = budget
        self.clock = clock
        self._kept: OrderedDict[str, Kept] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def collector(self, groups: dict[str, str]) -> Collector:
        return Collector(self, dict(groups))

    def put(self, listings: dict[str, list[bytes]]) -> None:
        now = self.clock()
        with self._lock:
            for key, chunks in listings.items():
                old = self._kept.pop(key.lower(), None)
                if old is not None:
                    self._size -= old.size
                kept = Kept(chunks, now, sum(map(len, chunks)))
                self._kept[key.lower()] = kept
                self._size += kept.size
            while self._size > self.budget and self._kept:
                _, dropped = self._kept.popitem(last=False)
                self._size -= dropped.size

    def take(self, key: str) -> Kept | None:
        """The kept listing for `key`, removed from the store; None when nothing (fresh
        enough) is kept."""
        with self._lock:
            kept = self._kept.pop(key.lower(), None)
            if kept is None:
                return None
            self._size -= kept.size
        if self.clock() - kept.at > self.ttl:
            return None
        return kept
