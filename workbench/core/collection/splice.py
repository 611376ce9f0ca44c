"""Saving a loaded collection without rewriting its file: the differences between what was
loaded and what is there now become byte-range edits of the loaded text, so comments, order
and formatting of everything that did not change are kept. A table whose layout is not the
simple one is written again whole (see docs/collections.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench.core.collection.model import request_data
from workbench.core.collection.save import (
    SUBTABLES,
    key_line,
    meta_text,
    request_key_text,
    request_text,
    subtable_key_text,
    subtable_text,
)
from workbench.core.errors import CollectionError
from workbench.core.toml_index import TomlIndex

if TYPE_CHECKING:
    from workbench.core.collection.collection import Collection


class Splicer:
    """Turns the differences between the loaded collection and the current one into
    byte-range edits of the loaded text."""

    def __init__(self, coll: Collection) -> None:
        self.coll = coll
        text = coll.loaded_text or ""
        self.nl = "\r\n" if "\r\n" in text else "\n"
        if text and not text.endswith("\n"):
            text += self.nl  # so that lines can be added after the last one
        self.text = text
        self.ix = TomlIndex(self.text)
        self.base = coll._base or {}
        self.edits: list[tuple[int, int, str]] = []

    def edit(self, start: int, end: int, text: str) -> None:
        self.edits.append((start, end, text.replace("\n", self.nl) if self.nl != "\n" else text))

    def run(self) -> str:
        data = self.coll.data()
        if data["meta"] != self.base.get("meta"):
            self._meta(data["meta"])
        if data["variables"] != self.base.get("variables"):
            self._variables(data["variables"])
        self._requests()
        return self._apply()

    def _apply(self) -> str:
        out: list[str] = []
        pos = 0
        for start, end, text in sorted(self.edits, key=lambda e: (e[0], e[1])):
            if start < pos:  # pragma: no cover - overlapping edits are a bug
                raise CollectionError(
                    "internal error: overlapping edits while saving", path=str(self.coll.path)
                )
            out.append(self.text[pos:start])
            out.append(text)
            pos = end
        out.append(self.text[pos:])
        return "".join(out)

    # -- helpers
    def _root_statements(self, first: str) -> list:
        return [s for s in self.ix.sections[0].statements if s.keys[0] == first]

    def _first_request_start(self) -> int | None:
        starts = [s.header_start for s in self.ix.sections if s.path and s.path[0] == "requests"]
        return min(starts) if starts else None

    def _eof_insert(self, block: str) -> None:
        """Append a block at the end of the file, after a blank line."""
        text = self.text
        prefix = ""
        if text and not text.endswith("\n"):
            prefix = "\n"
        if text.strip() and not (text + prefix).endswith("\n\n"):
            prefix += "\n"
        self.edit(len(text), len(text), prefix + block)

    def _insert_section(self, block: str) -> None:
        """A new top-level table: before the first request, else at the end of the file."""
        start = self._first_request_start()
        if start is None:
            self._eof_insert(block)
        else:
            start = self._lead_start(start)
            self.edit(start, start, block + "\n")

    def _delete_lines(self, st) -> None:
        self.edit(st.line_start, st.line_end, "")

    # -- metadata
    def _meta(self, meta: dict[str, Any]) -> None:
        sec = self.ix.section(("collection",))
        for st in self._root_statements("collection"):
            self._delete_lines(st)
        if sec is not None:
            edits = _statement_edits(
                sec.statements, self.base.get("meta", {}), meta, sec.content_end, key_line
            )
            if edits is None:  # not one `key = value` per key: write the table again
                edits = [(sec.header_start, sec.content_end, meta_text(meta))]
            for edit in edits:
                self.edit(*edit)
            return
        root_end = self.ix.sections[0].content_end
        headers = [s.header_start for s in self.ix.sections[1:]]
        if headers:
            at = self._lead_start(min(headers))
            self.edit(at, at, meta_text(meta) + "\n")
        else:
            self.edit(root_end, root_end, "\n" + meta_text(meta))

    # -- variables
    def _variables(self, new: dict[str, Any]) -> None:
        old = self.base.get("variables", {})
        sec = self.ix.section(("variables",))
        inline = [s for s in self._root_statements("variables") if s.keys == ("variables",)]
        if inline:
            st = inline[0]
            self.edit(st.start, st.end, key_line("variables", new))
            return
        dotted_root = [s for s in self._root_statements("variables") if len(s.keys) > 1]

        def defs(name: str) -> list:
            found = [s for s in dotted_root if s.keys[1] == name]
            if sec is not None:
                found += [s for s in sec.statements if s.keys[0] == name]
            return sorted(found, key=lambda s: s.start)

        added: list[str] = []
        for name in list(old) + [n for n in new if n not in old]:
            if name in old and name in new and old[name] == new[name]:
                continue
            statements = defs(name)
            subtables = [
                s
                for s in self.ix.sections
                if len(s.path) >= 2 and s.path[:2] == ("variables", name)
            ]
            if subtables and (name not in new or new[name] != old.get(name)):
                for s in subtables:
                    self._delete_block(self._lead_start(s.header_start), s.content_end)
                if name in new:
                    added.append(key_line(name, new[name]))
                continue
            if name not in new:
                for st in statements:
                    self._delete_lines(st)
            elif name not in old or not statements:
                added.append(key_line(name, new[name]))
            elif new[name] != old[name]:
                first, *rest = statements
                prefix = "variables." if first in dotted_root else ""
                self.edit(first.start, first.end, prefix + key_line(name, new[name]))
                for st in rest:
                    self._delete_lines(st)
        if not added:
            return
        if sec is not None:
            self.edit(sec.content_end, sec.content_end, "\n".join(added) + "\n")
        elif dotted_root:
            end = max(s.line_end for s in dotted_root)
            self.edit(end, end, "".join(f"variables.{line}\n" for line in added))
        else:
            self._insert_section("[variables]\n" + "\n".join(added) + "\n")

    # -- requests
    def _lead_start(self, start: int) -> int:
        """Comment lines directly above a header belong to it."""
        pos = start
        while pos > 0:
            prev = self.ix.line_start(pos - 1)
            if self.text[prev:pos].strip().startswith("#"):
                pos = prev
            else:
                break
        return pos

    def _next_line(self, pos: int) -> int:
        nxt = self.text.find("\n", pos)
        return len(self.text) if nxt < 0 else nxt + 1

    def _attached_end(self, end: int) -> int:
        """Comment lines right after a block belong to it, unless they lead into the next
        table or key (no blank line between)."""
        pos = end
        while pos < len(self.text) and self.text[pos : self._next_line(pos)].strip().startswith(
            "#"
        ):
            pos = self._next_line(pos)
        if pos < len(self.text) and self.text[pos : self._next_line(pos)].strip():
            return end
        return pos

    def _blank_after(self, end: int) -> int:
        pos = end
        while pos < len(self.text) and not self.text[pos : self._next_line(pos)].strip():
            pos = self._next_line(pos)
        return pos

    def _delete_block(self, start: int, end: int) -> None:
        """Delete a block and the blank lines after it (or, at the end of the file, before it).
        Comment lines after it stay: only the user knows what they are about."""
        end = self._blank_after(end)
        if end >= len(self.text):
            while start > 0:
                prev = self.ix.line_start(start - 1)
                if self.text[prev:start].strip():
                    break
                start = prev
        self.edit(start, end, "")

    def _request_sections(self, idx: int) -> list:
        return [
            s
            for s in self.ix.sections
            if len(s.path) >= 2 and s.path[0] == "requests" and s.path[1] == idx
        ]

    def _requests(self) -> None:
        base_reqs: list[dict[str, Any]] = self.base.get("requests", [])
        units: list[tuple[int | None, dict[str, Any]]] = []
        used: set[int] = set()
        for r in self.coll.requests:
            origin = (
                r.origin
                if (r.origin is not None and r.origin < len(base_reqs) and r.origin not in used)
                else None
            )
            if origin is not None:
                used.add(origin)
            units.append((origin, request_data(r)))
        if [o for o, _ in units] == list(range(len(base_reqs))) and all(
            d == base_reqs[o] for o, d in units
        ):
            return
        if self._root_statements("requests"):
            raise CollectionError(
                "this file writes its requests as an inline array; saving would reformat it",
                path=str(self.coll.path),
                hint="write the requests as [[requests]] tables",
            )
        spans = [self._runs(i) for i in range(len(base_reqs))]
        origins = [o for o, _ in units if o is not None]
        if origins != sorted(origins):
            self._reorder(units, spans, base_reqs)
            return
        for idx in range(len(base_reqs)):
            if idx not in used:
                for n, (start, end) in enumerate(spans[idx]):
                    self._delete_block(self._lead_start(start) if n == 0 else start, end)
        pending: list[str] = []
        anchor: int | None = None  # where the previous kept request ends
        for origin, data in units:
            if origin is None:
                pending.append(request_text(data))
                continue
            runs = spans[origin]
            if pending:
                self._insert_new(pending, anchor, self._lead_start(runs[0][0]))
                pending = []
            if data != base_reqs[origin]:
                self._update_request(origin, base_reqs[origin], data, runs)
            anchor = self._attached_end(runs[-1][1])
        if pending:
            self._insert_new(pending, anchor, None)

    def _runs(self, idx: int) -> list[tuple[int, int]]:
        """The contiguous runs (start, end) of request `idx`'s tables, in file order (more
        than one when another table sits between two of its tables)."""
        runs: list[tuple[int, int]] = []
        previous_was_ours = False
        for sec in self.ix.sections[1:]:
            ours = len(sec.path) >= 2 and sec.path[0] == "requests" and sec.path[1] == idx
            if ours and previous_was_ours:
                runs[-1] = (runs[-1][0], sec.content_end)
            elif ours:
                runs.append((sec.header_start, sec.content_end))
            previous_was_ours = ours
        return runs

    def _insert_new(self, blocks: list[str], after: int | None, before: int | None) -> None:
        body = "\n".join(blocks)
        if after is not None:
            self.edit(after, after, "\n" + body)
        elif before is not None:
            self.edit(before, before, body + "\n")
        else:
            self._eof_insert(body)

    def _update_request(
        self, idx: int, old: dict[str, Any], new: dict[str, Any], runs: list[tuple[int, int]]
    ) -> None:
        """Edit only the keys that changed (keeping the other lines and their comments);
        regenerate the whole table when its layout is not the simple one."""
        edits = self._key_edits(idx, old, new)
        if edits is None:
            self.edit(runs[0][0], runs[0][1], request_text(new))
            for start, end in runs[1:]:
                self._delete_block(start, end)
            return
        for edit in edits:
            self.edit(*edit)

    def _key_edits(
        self, idx: int, old: dict[str, Any], new: dict[str, Any]
    ) -> list[tuple[int, int, str]] | None:
        sections = self._request_sections(idx)
        main = next((s for s in sections if len(s.path) == 2), None)
        if main is None:
            return None
        edits: list[tuple[int, int, str]] = []
        old_main = {k: v for k, v in old.items() if k not in SUBTABLES}
        new_main = {k: v for k, v in new.items() if k not in SUBTABLES}
        if any(st.keys[0] in SUBTABLES for st in main.statements):
            return None  # capture / expect written inline: regenerate the table
        main_edits = _statement_edits(
            main.statements, old_main, new_main, main.content_end, request_key_text
        )
        if main_edits is None:
            return None
        edits += main_edits
        end_of_request = max(s.content_end for s in sections)
        appended: list[tuple[int, int, str]] = []
        for name in SUBTABLES:
            before, after = old.get(name), new.get(name)
            if before == after:
                continue
            own = [s for s in sections if len(s.path) >= 3 and s.path[2] == name]
            direct = next((s for s in own if len(s.path) == 3), None)
            if before is not None and after is not None and direct is not None and len(own) == 1:
                sub = _statement_edits(
                    direct.statements, before, after, direct.content_end, subtable_key_text
                )
                if sub is not None:
                    edits += sub
                    continue
            for sec in own:
                edits.append((sec.header_start, sec.content_end, ""))
            if after is not None:
                if direct is not None:
                    edits = [e for e in edits if e[0] != direct.header_start]
                    edits.append(
                        (direct.header_start, direct.content_end, subtable_text(name, after))
                    )
                else:
                    appended.append(
                        (end_of_request, end_of_request, "\n" + subtable_text(name, after))
                    )
        return edits + appended  # new tables go after the keys added to the last one

    def _reorder(self, units, spans, base_reqs) -> None:
        if any(len(s) != 1 for s in spans):
            raise CollectionError(
                "cannot reorder the requests of this file (their tables are interleaved with others)",
                path=str(self.coll.path),
            )
        region_start = self._lead_start(spans[0][0][0])
        region_end = spans[-1][0][1]
        others = [
            s
            for s in self.ix.sections[1:]
            if not (s.path and s.path[0] == "requests")
            and region_start <= s.header_start < region_end
        ]
        if others:
            raise CollectionError(
                "cannot reorder the requests of this file (other tables sit between them)",
                path=str(self.coll.path),
            )
        pieces = []
        for origin, data in units:
            if origin is None:
                pieces.append(request_text(data))
                continue
            start, end = spans[origin][0]
            lead = self._lead_start(start)
            if data == base_reqs[origin]:
                pieces.append(self.text[lead:end])
            else:
                pieces.append(self.text[lead:start] + request_text(data))
        self.edit(
            region_start, region_end, "\n".join(p if p.endswith("\n") else p + "\n" for p in pieces)
        )


def _statement_edits(
    statements: list,
    old: dict[str, Any],
    new: dict[str, Any],
    insert_at: int,
    text_for: Callable[[str, Any], str],
) -> list[tuple[int, int, str]] | None:
    """Per-key edits of a table written as one `key = value` per key; None for any other layout."""
    by_key: dict[str, Any] = {}
    for st in statements:
        if len(st.keys) != 1 or st.keys[0] in by_key:
            return None
        by_key[st.keys[0]] = st
    if set(by_key) != set(old):
        return None
    edits: list[tuple[int, int, str]] = []
    for key, st in by_key.items():
        if key not in new:
            edits.append((st.line_start, st.line_end, ""))
        elif new[key] != old[key]:
            edits.append((st.start, st.end, text_for(key, new[key])))
    added = [text_for(k, v) for k, v in new.items() if k not in old]
    if added:
        edits.append((insert_at, insert_at, "\n".join(added) + "\n"))
    return edits
