"""Devices seen while reading a parent's listing, kept briefly so that its sub-groups'
listings are answered without asking the server again.

IoTConnect's ``GET /Device?EntityGuid=<guid>`` may answer with the entity's whole subtree
(the vendor's spec is silent; our emulator models that worst case). The tree shows an
entity's OWN devices, so expanding a site reads its areas' devices too; expanding an area
right after would fetch them again. While a parent's listing is read, the list items of its
sub-entities are kept as their JSON text (about 1.2 kB a device, not ~3 kB as parsed dicts),
and committed only when the listing was read to its end (a stopped, failed or cut-short
listing keeps nothing: a partial list must never pass for a whole one).

A kept listing is used once (taking it removes it: a reload always asks the server), only
within ``ttl`` seconds, and all kept text together stays under ``budget`` characters (the
oldest listings go first). Nothing secret is kept: these are device list items.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TTL = 30.0  # seconds a kept listing stays usable
BUDGET = 48_000_000  # characters of JSON text kept at most, all listings together

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def parse_list_with_spans(
    text: str, key: str = "data"
) -> tuple[dict[str, Any], list[tuple[int, int]]] | None:
    """Parse a JSON object like ``json.loads`` and also return where each item of its `key`
    array lies in `text` (start, end). None when `text` is not a JSON object (the caller then
    parses it the usual way, with the usual error words) or `key` is not an array."""
    try:
        return _parse(text, key)
    except (ValueError, IndexError, RecursionError):
        return None


def _skip(text: str, i: int) -> int:
    match = _WS.match(text, i)
    return match.end() if match else i


def _parse(text: str, key: str) -> tuple[dict[str, Any], list[tuple[int, int]]] | None:
    out: dict[str, Any] = {}
    spans: list[tuple[int, int]] | None = None
    i = _skip(text, 0)
    if text[i] != "{":
        return None
    i = _skip(text, i + 1)
    if text[i] == "}":
        return None
    while True:
        if text[i] != '"':
            return None
        name, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        if text[i] != ":":
            return None
        i = _skip(text, i + 1)
        if name == key and text[i] == "[":
            items: list[Any] = []
            spans = []
            i = _skip(text, i + 1)
            if text[i] == "]":
                i += 1
            else:
                while True:
                    item, end = _DECODER.raw_decode(text, i)
                    items.append(item)
                    spans.append((i, end))
                    i = _skip(text, end)
                    if text[i] == ",":
                        i = _skip(text, i + 1)
                    elif text[i] == "]":
                        i += 1
                        break
                    else:
                        return None
            value: Any = items
        else:
            value, i = _DECODER.raw_decode(text, i)
            if name == key:
                spans = None  # a later non-array value wins, as in json.loads
        out[name] = value
        i = _skip(text, i)
        if text[i] == ",":
            i = _skip(text, i + 1)
        elif text[i] == "}":
            break
        else:
            return None
    if _skip(text, i + 1) != len(text) or spans is None:
        return None
    return out, spans


@dataclass
class Kept:
    texts: list[str]  # the JSON text of each list item, in listing order
    at: float
    size: int


@dataclass
class Collector:
    """Gathers the items of some sub-groups (group key -> the id they are kept under) while
    one listing is read; `commit()` hands them to the store once the listing is complete."""

    store: SeenDevices
    groups: dict[str, str]  # e.g. lower-cased entity name -> entity guid
    texts: dict[str, list[str]] = field(default_factory=dict)
    size: int = 0
    over: bool = False  # more than the store's budget: nothing will be kept

    def add(self, group: str, text: str) -> None:
        if self.over:
            return
        self.size += len(text)
        if self.size > self.store.budget:
            self.over = True
            self.texts.clear()
            return
        self.texts.setdefault(group, []).append(text)

    def commit(self) -> None:
        if not self.over:
            self.store.put({self.groups[g]: self.texts.get(g, []) for g in self.groups})


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

    def put(self, listings: dict[str, list[str]]) -> None:
        now = self.clock()
        with self._lock:
            for key, texts in listings.items():
                old = self._kept.pop(key.lower(), None)
                if old is not None:
                    self._size -= old.size
                kept = Kept(texts, now, sum(map(len, texts)))
                self._kept[key.lower()] = kept
                self._size += kept.size
            while self._size > self.budget and self._kept:
                _, dropped = self._kept.popitem(last=False)
                self._size -= dropped.size

    def take(self, key: str) -> list[str] | None:
        """The kept item texts for `key`, removed from the store; None when nothing (fresh
        enough) is kept."""
        with self._lock:
            kept = self._kept.pop(key.lower(), None)
            if kept is None:
                return None
            self._size -= kept.size
        if self.clock() - kept.at > self.ttl:
            return None
        return kept.texts

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._size = 0
