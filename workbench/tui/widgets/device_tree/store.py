"""The compact store of a listing's children (no widgets): a million devices in well under
300 MiB, with DeviceNode objects made only for the rows something asks for.

A batch of DeviceNodes is packed into a Chunk (in the fetch worker, off the UI thread):
the lower-cased labels as a list (what the filter scans), the kinds, the ids joined into
one string (to find a row by id) and every node's fields pickled, zlib-compressed by
blocks of rows. A ChildStore is a list of chunks that reads like a sequence of
DeviceNodes: indexing or slicing it unpacks only the blocks of rows concerned (the nodes
made lately are kept, so the same row gives the same DeviceNode object while it is on
screen), and
``match`` / Matches filter over the lower-cased labels without making any node. A batch that cannot
be pickled (an adapter's private data that pickle refuses) is kept as its DeviceNodes.
"""

from __future__ import annotations

import pickle
import zlib
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields
from itertools import accumulate, compress, count, repeat
from operator import attrgetter, contains
from typing import Any, overload

from workbench.core.platforms.base import DeviceNode
from workbench.core.requests import RequestSpec

ID_SEP = "\x00"  # joins the ids of a chunk (an id holding it is found by unpacking)
BLOCK = 128  # rows compressed together (making one row unpacks its block, not its batch)
DECODED_BLOCKS = 64  # unpacked blocks kept (a window of 500 rows spans about four)
MADE_NODES = 4_096  # DeviceNodes kept made, so the same row gives the same object on screen
_FIELDS = tuple(f.name for f in fields(DeviceNode))
_REQUEST = _FIELDS.index("request")
_REQUEST_FIELDS = tuple(f.name for f in fields(RequestSpec) if f.init)
_other_fields = attrgetter(*(name for name in _FIELDS if name != "request"))
_request_fields = attrgetter(*_REQUEST_FIELDS)
_PROTOCOL = pickle.HIGHEST_PROTOCOL


def _row(node: DeviceNode) -> bytes:
    """One node as bytes: its fields but the request pickled, and its RequestSpec as a tuple
    of its fields (a slotted dataclass pickles through Python code: ten times slower)."""
    if type(node) is not DeviceNode:
        raise TypeError("not a plain DeviceNode")
    request = node.request
    if request is None:
        return pickle.dumps((_other_fields(node), None), _PROTOCOL)
    if type(request) is not RequestSpec:
        raise TypeError("not a plain RequestSpec")
    return pickle.dumps((_other_fields(node), _request_fields(request)), _PROTOCOL)


def _node(data: bytes) -> DeviceNode:
    other, request = pickle.loads(data)
    spec = None if request is None else RequestSpec(*request)
    args: list[Any] = [*other[:_REQUEST], spec, *other[_REQUEST:]]
    return DeviceNode(*args)


class Chunk:
    """One batch of rows, packed: per BLOCK rows, their pickled fields one after the other,
    zlib-compressed, and where each row ends in its block. `nodes` is set instead of
    `blocks` when a node cannot be packed (pickle refused it, or a subclass)."""

    __slots__ = ("blocks", "ends", "ids", "kinds", "lower", "n", "nodes", "text")

    def __init__(self, nodes: Sequence[DeviceNode]) -> None:
        self.n = len(nodes)
        self.lower = [node.label.lower() for node in nodes]
        self.text = "\n".join(self.lower)  # every label in one string: a quick "any match here?"
        kinds = _KINDS
        self.kinds = [kinds.get(kind) or _intern(kind) for kind in map(attrgetter("kind"), nodes)]
        self.ids = ID_SEP + ID_SEP.join(node.id for node in nodes) + ID_SEP
        self.nodes: list[DeviceNode] | None = None
        self.blocks: list[bytes] = []
        self.ends: array[int] = array("I")
        try:
            rows = [_row(node) for node in nodes]
        except Exception:  # an adapter's ref/detail pickle cannot take: keep the nodes
            self.nodes = list(nodes)
            return
        for b in range(0, self.n, BLOCK):
            block = rows[b : b + BLOCK]
            self.ends.extend(accumulate(map(len, block)))
            self.blocks.append(zlib.compress(b"".join(block), 1))

    def block(self, b: int) -> bytes:
        return zlib.decompress(self.blocks[b])

    def row(self, k: int, block: bytes) -> DeviceNode:
        """Row k made from its (decompressed) block."""
        start = self.ends[k - 1] if k % BLOCK else 0
        return _node(block[start : self.ends[k]])

    def unpack(self) -> list[DeviceNode]:
        """The chunk's rows as new DeviceNodes (equal to the ones packed)."""
        if self.nodes is not None:
            return list(self.nodes)
        out: list[DeviceNode] = []
        for b in range(len(self.blocks)):
            data = self.block(b)
            out.extend(self.row(k, data) for k in range(b * BLOCK, min(b * BLOCK + BLOCK, self.n)))
        return out

    def nbytes(self) -> int:
        """Roughly what the chunk holds (for benchmarks)."""
        size = sum(map(len, self.blocks)) + len(self.ids) + len(self.text)
        size += 4 * self.n + 8 * self.n * 2
        return size + sum(len(s) + 49 for s in self.lower)


_KINDS: dict[str, str] = {}


def _intern(kind: str) -> str:
    return _KINDS.setdefault(kind, kind) if len(_KINDS) < 256 else kind


def pack(nodes: Sequence[DeviceNode]) -> Chunk:
    """A batch as a Chunk (the fetch worker calls this, so the UI thread does not)."""
    return Chunk(nodes)


class ChildStore(Sequence[DeviceNode]):
    """A listing's children: chunks of packed rows, read as a sequence of DeviceNodes."""

    def __init__(self, nodes: Iterable[DeviceNode] = ()) -> None:
        self.chunks: list[Chunk] = []
        self._starts: list[int] = []  # index of each chunk's first row
        self._len = 0
        self._made: OrderedDict[tuple[Chunk, int], DeviceNode] = OrderedDict()
        self._blocks: OrderedDict[tuple[Chunk, int], bytes] = OrderedDict()
        batch = list(nodes)
        if batch:
            self.append(batch)

    # --- changing it ------------------------------------------------------------------------

    def append(self, batch: Sequence[DeviceNode] | Chunk) -> int:
        """Add a batch (nodes or a packed Chunk) at the end; returns the index it went to."""
        return self.insert(self._len, batch)

    def insert(self, at: int, batch: Sequence[DeviceNode] | Chunk) -> int:
        """Add a batch before row `at` (clamped to 0..len); returns the index it went to."""
        chunk = batch if isinstance(batch, Chunk) else pack(batch)
        at = max(0, min(at, self._len))
        if not chunk.n:
            return at
        if at == self._len:
            self.chunks.append(chunk)
            self._starts.append(self._len)
            self._len += chunk.n
            return at
        c = bisect_right(self._starts, at) - 1
        offset = at - self._starts[c]
        if offset:  # split the chunk the row is in
            rows = self._all_of(self.chunks[c])
            self._replace(c, [pack(rows[:offset]), chunk, pack(rows[offset:])])
        else:
            self.chunks.insert(c, chunk)
            self._reindex()
        return at

    def delete(self, index: int) -> None:
        """Remove row `index`."""
        c, offset = self._locate(index)
        rows = self._all_of(self.chunks[c])
        del rows[offset]
        self._replace(c, [pack(rows)] if rows else [])

    def remove(self, node: DeviceNode) -> int | None:
        """Remove `node` (the very object a lookup gave, else the first equal row with its id);
        returns its index, or None when it is not here."""
        index = self.index_of(node)
        if index is not None:
            self.delete(index)
        return index

    def index_of(self, node: DeviceNode) -> int | None:
        for (chunk, k), made in self._made.items():
            if made is node:
                return self._starts[self.chunks.index(chunk)] + k
        for index in self.find_ids({node.id}):
            if self[index] == node:
                return index
        return None

    def _all_of(self, chunk: Chunk) -> list[DeviceNode]:
        """Every row of a chunk (the made ones as they are), for repacking it."""
        rows = chunk.unpack()
        return [self._made.get((chunk, k)) or row for k, row in enumerate(rows)]

    def _replace(self, c: int, new: list[Chunk]) -> None:
        old = self.chunks[c]
        for cache in (self._made, self._blocks):
            for key in [key for key in cache if key[0] is old]:
                del cache[key]
        self.chunks[c : c + 1] = [chunk for chunk in new if chunk.n]
        self._reindex()

    def _reindex(self) -> None:
        self._starts = []
        total = 0
        for chunk in self.chunks:
            self._starts.append(total)
            total += chunk.n
        self._len = total

    # --- reading it -------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    @overload
    def __getitem__(self, index: int) -> DeviceNode: ...

    @overload
    def __getitem__(self, index: slice) -> list[DeviceNode]: ...

    def __getitem__(self, index: int | slice) -> DeviceNode | list[DeviceNode]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._len)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return self.rows_between(start, stop)
        c, offset = self._locate(index)
        return self._node_at(self.chunks[c], offset)

    def __iter__(self) -> Iterator[DeviceNode]:
        for chunk in self.chunks:  # (one chunk unpacked at a time, nothing kept)
            yield from chunk.unpack()

    def rows_between(self, start: int, stop: int) -> list[DeviceNode]:
        """Rows start..stop-1 as DeviceNodes (only their blocks are unpacked)."""
        return self.rows(range(max(start, 0), min(stop, self._len)))

    def rows(self, indices: Iterable[int]) -> list[DeviceNode]:
        """The rows at these (ascending) indices."""
        out: list[DeviceNode] = []
        c = 0
        starts = self._starts
        for index in indices:
            if not 0 <= index < self._len:
                raise IndexError("ChildStore index out of range")
            if index < starts[c]:
                c = 0
            while c + 1 < len(starts) and starts[c + 1] <= index:
                c += 1
            out.append(self._node_at(self.chunks[c], index - starts[c]))
        return out

    def starts(self, c: int) -> int:
        """The index of chunk c's first row."""
        return self._starts[c]

    def _locate(self, index: int) -> tuple[int, int]:
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("ChildStore index out of range")
        c = bisect_right(self._starts, index) - 1
        return c, index - self._starts[c]

    def _node_at(self, chunk: Chunk, k: int) -> DeviceNode:
        """Row k of a chunk as a DeviceNode: the same object while it stays made."""
        made = self._made
        node = made.get((chunk, k))
        if node is not None:
            made.move_to_end((chunk, k))
            return node
        if chunk.nodes is not None:
            return chunk.nodes[k]
        key = (chunk, k // BLOCK)
        data = self._blocks.get(key)
        if data is None:
            data = self._blocks[key] = chunk.block(k // BLOCK)
            if len(self._blocks) > DECODED_BLOCKS:
                self._blocks.popitem(last=False)
        else:
            self._blocks.move_to_end(key)
        node = made[(chunk, k)] = chunk.row(k, data)
        if len(made) > MADE_NODES:
            made.popitem(last=False)
        return node

    # --- searching it without making nodes --------------------------------------------------

    def match(self, needle: str) -> array[int]:
        """Indices of the rows whose lower-cased label contains `needle` (all at once)."""
        return Matches(self, needle, at_once=self._len).indices

    def any_match(self, needle: str) -> bool:
        return any(
            needle in chunk.text and any(map(contains, chunk.lower, repeat(needle)))
            for chunk in self.chunks
        )

    def find_ids(self, ids: set[str]) -> list[int]:
        """Indices of the rows whose id is one of `ids`, ascending."""
        found: list[int] = []
        if not ids:
            return found
        plain = {i for i in ids if ID_SEP not in i}
        odd = ids - plain
        for start, chunk in zip(self._starts, self.chunks, strict=True):
            if not any(f"{ID_SEP}{i}{ID_SEP}" in chunk.ids for i in plain) and not (
                odd and any(i in chunk.ids for i in odd)
            ):
                continue
            if chunk.ids.count(ID_SEP) == chunk.n + 1:  # no id holds the separator
                row_ids = chunk.ids[1:-1].split(ID_SEP)
            else:
                row_ids = [row.id for row in chunk.unpack()]
            found.extend(start + k for k, rid in enumerate(row_ids) if rid in ids)
        return found

    def kinds(self, limit: int) -> list[str]:
        """The kinds of the first `limit` rows."""
        out: list[str] = []
        for chunk in self.chunks:
            out.extend(chunk.kinds[: limit - len(out)])
            if len(out) >= limit:
                break
        return out

    def nbytes(self) -> int:
        return sum(chunk.nbytes() for chunk in self.chunks)

    def decoded_rows(self) -> int:
        """How many DeviceNodes the store holds made (the rows recently asked for)."""
        return len(self._made)


class Matches(Sequence[DeviceNode]):
    """The rows of a store whose lower-cased label contains `needle`, plus `extra` rows (the
    ones leading to matches further down), in order, found chunk by chunk: ``scan`` finds
    as many as a window needs, and the rest can be counted later, a few chunks at a time.
    A store of at most `at_once` rows is scanned whole at once. ``len`` is what has been
    found so far; ``complete`` says whether that is all."""

    def __init__(
        self, store: ChildStore, needle: str, extra: Iterable[int] = (), at_once: int = 0
    ) -> None:
        self.store = store
        self.needle = needle
        self.indices: array[int] = array("q")
        self._extra = sorted(set(extra))
        self._next = 0  # the next chunk to scan
        if len(store) <= at_once:
            self.scan()

    @property
    def complete(self) -> bool:
        return self._next >= len(self.store.chunks)

    def scan(self, want: int | None = None, chunks: int | None = None) -> bool:
        """Scan on until `want` rows are found, `chunks` more chunks were scanned, or the
        end; returns whether the scan is complete."""
        store, needle, out = self.store, self.needle, self.indices
        stop = len(store.chunks) if chunks is None else min(self._next + chunks, len(store.chunks))
        while self._next < stop and (want is None or len(out) < want):
            c = self._next
            self._next += 1
            chunk, first = store.chunks[c], store.starts(c)
            # most chunks hold no match of a rare needle: one C-speed search rules them out
            hits: list[int] = []
            if needle in chunk.text:
                hits = list(compress(count(first), map(contains, chunk.lower, repeat(needle))))
            if self._extra:
                lo = bisect_right(self._extra, first - 1)
                hi = bisect_right(self._extra, first + chunk.n - 1)
                if lo < hi:
                    hits = sorted({*hits, *self._extra[lo:hi]})
            out.extend(hits)
        return self.complete

    def __len__(self) -> int:
        return len(self.indices)

    @overload
    def __getitem__(self, index: int) -> DeviceNode: ...

    @overload
    def __getitem__(self, index: slice) -> list[DeviceNode]: ...

    def __getitem__(self, index: int | slice) -> DeviceNode | list[DeviceNode]:
        if isinstance(index, slice):
            if index.step not in (None, 1):
                return [self.store[i] for i in self.indices[index]]
            return self.store.rows(self.indices[index])
        return self.store[self.indices[index]]
