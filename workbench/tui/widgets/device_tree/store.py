"""The compact store of a listing's children (no widgets): a million devices in well under
300 MiB, with DeviceNode objects made only for the rows something asks for.

A batch of DeviceNodes is packed into a Chunk (in the fetch worker, off the UI thread):
the lower-cased labels as a list (what the filter scans), the kinds, the ids joined into
one string (to find a row by id) and every field of every node pickled and zlib-compressed
into one bytes object. A ChildStore is a list of chunks that reads like a sequence of
DeviceNodes: indexing or slicing it unpacks only the chunks concerned (a few are kept
decoded, so the same row gives the same DeviceNode object while it is on screen), and
``match`` filters over the lower-cased labels without making any node. A batch that cannot
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
from itertools import compress, count, repeat
from operator import contains
from typing import overload

from workbench.core.platforms.base import DeviceNode

ID_SEP = "\x00"  # joins the ids of a chunk (an id holding it is found by unpacking)
DECODED_CHUNKS = 8  # chunks kept unpacked (a window of 500 spans one or two)
_FIELDS = tuple(f.name for f in fields(DeviceNode))


class Chunk:
    """One batch of rows, packed. `nodes` is set instead of `packed` when pickle refused it."""

    __slots__ = ("ids", "kinds", "lower", "n", "nodes", "packed")

    def __init__(self, nodes: Sequence[DeviceNode]) -> None:
        self.n = len(nodes)
        self.lower = [node.label.lower() for node in nodes]
        self.kinds = [_intern(node.kind) for node in nodes]
        self.ids = ID_SEP + ID_SEP.join(node.id for node in nodes) + ID_SEP
        self.nodes: list[DeviceNode] | None = None
        self.packed: bytes | None = None
        try:
            rows = [tuple(getattr(node, name) for name in _FIELDS) for node in nodes]
            self.packed = zlib.compress(pickle.dumps(rows, pickle.HIGHEST_PROTOCOL), 1)
        except Exception:  # an adapter's ref/detail pickle cannot take: keep the nodes
            self.nodes = list(nodes)

    def unpack(self) -> list[DeviceNode]:
        """The chunk's rows as new DeviceNodes (equal to the ones packed)."""
        if self.nodes is not None:
            return list(self.nodes)
        assert self.packed is not None
        rows = pickle.loads(zlib.decompress(self.packed))
        return [DeviceNode(*row) for row in rows]

    def nbytes(self) -> int:
        """Roughly what the chunk holds (for benchmarks)."""
        size = len(self.packed or b"") + len(self.ids) + 8 * self.n * 2
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
        self._decoded: OrderedDict[Chunk, list[DeviceNode]] = OrderedDict()
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
            rows = self._rows_of(self.chunks[c])
            self._replace(c, [pack(rows[:offset]), chunk, pack(rows[offset:])])
        else:
            self.chunks.insert(c, chunk)
            self._reindex()
        return at

    def delete(self, index: int) -> None:
        """Remove row `index`."""
        c, offset = self._locate(index)
        rows = self._rows_of(self.chunks[c])
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
        for chunk, rows in self._decoded.items():
            for i, row in enumerate(rows):
                if row is node:
                    return self._starts[self.chunks.index(chunk)] + i
        for index in self.find_ids({node.id}):
            if self[index] == node:
                return index
        return None

    def _replace(self, c: int, new: list[Chunk]) -> None:
        self._decoded.pop(self.chunks[c], None)
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
        return self._rows_of(self.chunks[c])[offset]

    def __iter__(self) -> Iterator[DeviceNode]:
        for chunk in self.chunks:  # (one chunk unpacked at a time, not kept)
            rows = self._decoded.get(chunk)
            yield from rows if rows is not None else chunk.unpack()

    def rows_between(self, start: int, stop: int) -> list[DeviceNode]:
        """Rows start..stop-1 as DeviceNodes (only their chunks are unpacked)."""
        out: list[DeviceNode] = []
        if start >= stop:
            return out
        c = bisect_right(self._starts, start) - 1
        while c < len(self.chunks) and self._starts[c] < stop:
            first = self._starts[c]
            rows = self._rows_of(self.chunks[c])
            out.extend(rows[max(start - first, 0) : stop - first])
            c += 1
        return out

    def rows(self, indices: Iterable[int]) -> list[DeviceNode]:
        """The rows at these (ascending) indices."""
        out: list[DeviceNode] = []
        c = 0
        starts = self._starts
        for index in indices:
            while c + 1 < len(starts) and starts[c + 1] <= index:
                c += 1
            out.append(self._rows_of(self.chunks[c])[index - starts[c]])
        return out

    def _locate(self, index: int) -> tuple[int, int]:
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("ChildStore index out of range")
        c = bisect_right(self._starts, index) - 1
        return c, index - self._starts[c]

    def _rows_of(self, chunk: Chunk) -> list[DeviceNode]:
        """The chunk's DeviceNodes: the same objects while it stays decoded."""
        rows = self._decoded.get(chunk)
        if rows is None:
            rows = chunk.unpack()
            self._decoded[chunk] = rows
            while len(self._decoded) > DECODED_CHUNKS:
                self._decoded.popitem(last=False)
        else:
            self._decoded.move_to_end(chunk)
        return rows

    # --- searching it without making nodes --------------------------------------------------

    def match(self, needle: str) -> array[int]:
        """Indices of the rows whose lower-cased label contains `needle`."""
        out: array[int] = array("q")
        for start, chunk in zip(self._starts, self.chunks, strict=True):
            out.extend(compress(count(start), map(contains, chunk.lower, repeat(needle))))
        return out

    def any_match(self, needle: str) -> bool:
        return any(any(map(contains, chunk.lower, repeat(needle))) for chunk in self.chunks)

    def find_ids(self, ids: set[str]) -> list[int]:
        """Indices of the rows whose id is one of `ids`, ascending."""
        found: list[int] = []
        if not ids:
            return found
        plain = {i for i in ids if ID_SEP not in i}
        odd = ids - plain
        for start, chunk in zip(self._starts, self.chunks, strict=True):
            hits = [i for i in plain if f"{ID_SEP}{i}{ID_SEP}" in chunk.ids]
            if hits or (odd and any(i in chunk.ids for i in odd)):
                rows = self._rows_of(chunk)
                found.extend(start + k for k, row in enumerate(rows) if row.id in ids)
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
        """How many DeviceNodes the store holds made (the decoded chunks' rows)."""
        return sum(len(rows) for rows in self._decoded.values())


class Selection(Sequence[DeviceNode]):
    """Some rows of a ChildStore (a filter's matches), read as a sequence of DeviceNodes."""

    def __init__(self, store: ChildStore, indices: array[int]) -> None:
        self.store = store
        self.indices = indices

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
