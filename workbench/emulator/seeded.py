"""Deterministic seeded world helpers: realistic names, lazily generated device lists.

Devices are generated from their index on demand, so `--devices 100000` costs nothing
at start-up; mutations (create, delete, claim, ...) live in a small overlay.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

ADJECTIVES = (
    "north",
    "south",
    "east",
    "west",
    "upper",
    "lower",
    "main",
    "rear",
    "front",
    "cold",
    "warm",
    "dry",
    "roof",
    "basement",
    "lab",
    "dock",
    "yard",
    "hall",
    "lobby",
    "garage",
)
PLACES = (
    "boiler",
    "pump",
    "chiller",
    "meter",
    "gateway",
    "sensor",
    "valve",
    "fan",
    "door",
    "tank",
    "compressor",
    "light",
    "thermostat",
    "scale",
    "tracker",
    "camera",
    "relay",
    "inverter",
    "charger",
    "beacon",
)
CITIES = (
    "Amsterdam",
    "Rotterdam",
    "Eindhoven",
    "Berlin",
    "Munich",
    "Madrid",
    "Valencia",
    "Chicago",
    "Austin",
    "Pune",
    "Ahmedabad",
    "Brno",
    "Lyon",
    "Oslo",
    "Dublin",
)


def rng_for(seed: int, *parts: object) -> random.Random:
    """A Random seeded from the world seed and any identifying parts (stable across runs)."""
    digest = hashlib.sha256(repr((seed, *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def stable_uuid(seed: int, *parts: object) -> str:
    digest = hashlib.sha256(repr((seed, *parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def device_slug(seed: int, platform: str, index: int) -> str:
    """e.g. 'roof-pump-0007' — unique per index."""
    r = rng_for(seed, platform, "name", index)
    return f"{r.choice(ADJECTIVES)}-{r.choice(PLACES)}-{index:04d}"


def is_online(seed: int, platform: str, index: int, ratio: float = 0.6) -> bool:
    return rng_for(seed, platform, "online", index).random() < ratio


class LazyList(Generic[T]):
    """A list of `count` generated items plus an overlay of added / removed / changed ones.

    Items are identified by a key (`key_of(item)`). Generated items are made by
    `factory(index)` when asked for and never stored unless changed.
    """

    def __init__(self, count: int, factory: Callable[[int], T], key_of: Callable[[T], str]) -> None:
        self.count = count
        self.factory = factory
        self.key_of = key_of
        self.removed: set[str] = set()
        self.changed: dict[str, T] = {}
        self.added: list[T] = []
        self._index: dict[str, int] | None = None  # key -> generated index, built on demand

    def __iter__(self) -> Iterator[T]:
        for i in range(self.count):
            item = self.factory(i)
            key = self.key_of(item)
            if key in self.removed:
                continue
            yield self.changed.get(key, item)
        for item in self.added:
            if self.key_of(item) not in self.removed:
                yield self.changed.get(self.key_of(item), item)

    def __len__(self) -> int:
        return self.count + len(self.added) - len(self.removed)

    def page(self, offset: int, limit: int) -> list[T]:
        """Items [offset, offset+limit) without generating the ones before (when nothing was removed)."""
        if not self.removed:
            out: list[T] = []
            for i in range(max(offset, 0), min(offset + limit, self.count)):
                item = self.factory(i)
                out.append(self.changed.get(self.key_of(item), item))
            if offset + limit > self.count:
                start = max(offset - self.count, 0)
                end = offset + limit - self.count
                out.extend(self.changed.get(self.key_of(a), a) for a in self.added[start:end])
            return out
        items: list[T] = []
        for n, item in enumerate(self):
            if n >= offset + limit:
                break
            if n >= offset:
                items.append(item)
        return items

    def _build_index(self) -> dict[str, int]:
        if self._index is None:
            self._index = {self.key_of(self.factory(i)): i for i in range(self.count)}
        return self._index

    def get(self, key: str, index_hint: Callable[[str], int | None] | None = None) -> T | None:
        """Find by key. `index_hint(key)` may map a key to its generated index cheaply."""
        if key in self.removed:
            return None
        if key in self.changed:
            return self.changed[key]
        for item in self.added:
            if self.key_of(item) == key:
                return item
        idx = index_hint(key) if index_hint else self._build_index().get(key)
        if idx is not None and 0 <= idx < self.count:
            item = self.factory(idx)
            if self.key_of(item) == key:
                return item
        return None

    def add(self, item: T) -> None:
        key = self.key_of(item)
        if key in self.removed:
            # Re-adding a removed key: it must not show twice (once generated, once added).
            self.removed.discard(key)
            self.added = [a for a in self.added if self.key_of(a) != key]
            if self.get(key) is not None:  # a generated item has this key: replace it in place
                self.changed[key] = item
                return
        self.added.append(item)

    def remove(self, key: str) -> None:
        self.removed.add(key)
        self.changed.pop(key, None)

    def update(self, item: T) -> None:
        self.changed[self.key_of(item)] = item
