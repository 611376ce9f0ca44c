"""Collections written as TOML: a new document, one ``[[requests]]`` table, one key, and
the edits of a loaded file.

Everything here takes canonical data (see :mod:`workbench.core.collection.model`): what
is written is what loads back. New text is written in one stable layout (the ``*_text``
functions). A loaded file is edited through tomlkit (:func:`edited_text`): only the keys
and tables that changed are replaced, by values written in that same layout, so comments,
order and formatting of everything else are kept byte for byte.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from typing import Any

import tomlkit
from tomlkit.container import Container, OutOfOrderTableProxy
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Comment, InlineTable, Item, Null, Table, Whitespace
from tomlkit.toml_document import TOMLDocument

from workbench.core.collection.model import FORMAT_VERSION
from workbench.core.errors import CollectionError

INLINE_LIMIT = 100
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

# --- values -------------------------------------------------------------------------------


def format_key(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else format_string(key)


def _escape_basic(text: str, *, multiline: bool) -> str:
    out: list[str] = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"' and not multiline:
            out.append('\\"')
        elif ch == "\n" and multiline:
            out.append("\n")
        elif ch == "\t":
            out.append("\t" if multiline else "\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(
                {"\n": "\\n", "\r": "\\r", "\b": "\\b", "\f": "\\f"}.get(ch, f"\\u{ord(ch):04x}")
            )
        else:
            out.append(ch)
    result = "".join(out)
    if multiline:
        # no run of three quotes inside, and none touching the closing delimiter
        result = result.replace('"""', '""\\"')
        if result.endswith('"'):
            result = result[:-1] + '\\"'
    return result


def _literal_ok(text: str) -> bool:
    return not any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in text)


def format_string(text: str, *, multiline: bool = False) -> str:
    """A TOML string for `text`.

    Single line: a literal string ('...') when it needs no escaping and holds a double
    quote or a backslash, else a basic string. With `multiline` and a newline in the text:
    a multi-line basic string that starts on the next line.
    """
    if multiline and "\n" in text:
        return '"""\n' + _escape_basic(text, multiline=True) + '"""'
    if ('"' in text or "\\" in text) and "'" not in text and _literal_ok(text):
        return f"'{text}'"
    return '"' + _escape_basic(text, multiline=False) + '"'


def format_value(value: Any, *, multiline: bool = False) -> str:
    """An inline TOML value (strings, integers, floats, booleans, arrays, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = repr(value)
        return text if any(c in text for c in ".eEn") else text + ".0"
    if isinstance(value, str):
        return format_string(value, multiline=multiline)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = ", ".join(
            f"{format_key(k)} = {format_value(v, multiline=multiline)}" for k, v in value.items()
        )
        return "{ " + items + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def format_pairs(pairs: list[tuple[str, str]] | list[list[str]]) -> str:
    """An array of [name, value] pairs, one per line (small git diffs)."""
    if not pairs:
        return "[]"
    lines = [f"  [{format_value(k)}, {format_value(v)}]," for k, v in pairs]
    return "[\n" + "\n".join(lines) + "\n]"


# --- new text -----------------------------------------------------------------------------


def key_line(key: str, value: Any, *, multiline: bool = False) -> str:
    """``key = value`` as TOML."""
    return f"{format_key(key)} = {format_value(value, multiline=multiline)}"


def meta_text(meta: dict[str, Any]) -> str:
    return "\n".join(["[collection]", *(key_line(k, v) for k, v in meta.items())]) + "\n"


def variables_text(variables: dict[str, Any]) -> str:
    return "\n".join(["[variables]", *(key_line(k, v) for k, v in variables.items())]) + "\n"


REQUEST_KEY_ORDER = ("name", "method", "url", "profile", "query", "headers", "body")
SUBTABLES = ("capture", "expect")


def request_key_text(key: str, value: Any) -> str:
    """One key of a request table, as written (may span lines for pairs and bodies)."""
    if key in ("query", "headers"):
        return f"{key} = {format_pairs(value)}"
    if key == "body":
        ((kind, inner),) = value.items()
        if kind == "form" and isinstance(inner, list):
            return f"body = {{ form = {format_value(inner)} }}"
        if kind == "multipart" and inner:  # one part a line
            items = "".join(f"\n  {format_value(part)}," for part in inner)
            return f"body = {{ multipart = [{items}\n] }}"
        return f"body = {{ {kind} = {format_value(inner, multiline=True)} }}"
    return key_line(key, value)


def subtable_key_text(key: str, value: Any) -> str:
    """One key of [requests.capture] / [requests.expect]; a long inline table becomes
    one dotted line per entry (one check per line)."""
    text = key_line(key, value)
    if isinstance(value, dict) and value and len(text) > INLINE_LIMIT:
        return "\n".join(
            f"{format_key(key)}.{format_key(k)} = {format_value(v)}" for k, v in value.items()
        )
    return text


def subtable_text(name: str, data: dict[str, Any]) -> str:
    return (
        "\n".join([f"[requests.{name}]", *(subtable_key_text(k, v) for k, v in data.items())])
        + "\n"
    )


def request_text(data: dict[str, Any]) -> str:
    """The [[requests]] table (and its capture/expect sub-tables) for canonical request data."""
    lines = [
        "[[requests]]",
        *(request_key_text(k, data[k]) for k in REQUEST_KEY_ORDER if k in data),
    ]
    text = "\n".join(lines) + "\n"
    for name in SUBTABLES:
        if name in data:
            text += "\n" + subtable_text(name, data[name])
    return text


def document_text(data: dict[str, Any]) -> str:
    """A new TOML document for a collection's canonical data (``Collection.data()``)."""
    parts = [f"version = {FORMAT_VERSION}\n", meta_text(data["meta"])]
    if data["variables"]:
        parts.append(variables_text(data["variables"]))
    parts.extend(request_text(r) for r in data["requests"])
    return "\n".join(parts)


# --- edits of a loaded file (tomlkit) -----------------------------------------------------


def edited_text(
    text: str,
    base: dict[str, Any],
    data: dict[str, Any],
    origins: list[int | None],
    *,
    reads_back: Callable[[str], bool],
    path: str,
) -> str:
    """`text` (the loaded file, whose canonical data is `base`) edited to hold `data`.

    ``origins[i]`` is the index in `base` of request ``i`` of `data` (None: a new one).
    Keys that changed are replaced one by one; when that does not read back as `data`
    (`reads_back`), each changed table is written again whole. Comment lines directly
    above a ``[[requests]]`` header belong to that request (they move and go with it);
    the comment lines that end the file stay at its end."""
    body, tail = _split_tail(text)
    nl = "\r\n" if "\r\n" in text else "\n"
    if body and not body.endswith("\n"):
        body += nl  # so that lines can be added after the last one
    unchanged = origins == list(range(len(base["requests"]))) and all(
        d == base["requests"][i] for i, d in enumerate(data["requests"])
    )
    if (
        not unchanged
        and "requests" in tomllib.loads(body)
        and not isinstance(tomlkit.parse(body).item("requests"), AoT)
    ):
        raise CollectionError(
            "this file writes its requests as an inline array; saving would reformat it",
            path=path,
            hint="write the requests as [[requests]] tables",
        )
    for whole in (False, True):
        try:
            out = _Edit(body, base, data, origins, nl, whole=whole).run()
        except (TOMLKitError, ValueError, TypeError, KeyError, IndexError):
            continue
        if tail:
            out = (out.rstrip("\r\n") + nl if out.strip() else "") + tail
        if reads_back(out):
            return out
    raise CollectionError(
        "cannot save the edits into this file's layout",
        path=path,
        hint="write [collection], [variables] and each [[requests]] as plain tables",
    )


def _split_tail(text: str) -> tuple[str, str]:
    """The text and the blank and comment lines that end it."""
    lines = text.splitlines(keepends=True)
    n = len(lines)
    while n and (not lines[n - 1].strip() or lines[n - 1].lstrip().startswith("#")):
        n -= 1
    body, tail = "".join(lines[:n]), "".join(lines[n:])
    if not tail:
        return text, ""
    try:  # a comment-like last line inside a multi-line string is not a comment
        if tomllib.loads(body) != tomllib.loads(text):
            return text, ""
    except tomllib.TOMLDecodeError:
        return text, ""
    return body, tail


def _item(text: str, nl: str) -> Item:
    """The value of the one ``key = value`` in `text`, as a tomlkit item."""
    doc = tomlkit.parse(text.replace("\n", nl) + nl)
    return doc.body[0][1]


def _new_table(text: str, nl: str) -> Table:
    """The one table (or the one [[requests]] table) in `text`."""
    doc = tomlkit.parse(text.replace("\n", nl))
    item = doc.body[0][1]
    if isinstance(item, AoT):
        item = item[0]
    if not isinstance(item, Table):  # pragma: no cover - the writer writes tables
        raise TypeError("not a table")
    return item


def _last_body(container: Container) -> Container:
    """The container whose body ends `container` as written (its last sub-table's)."""
    while True:
        items = [item for _, item in container.body if not isinstance(item, Null)]
        if not items:
            break
        last = items[-1]
        if isinstance(last, AoT) and len(last):
            last = last[-1]
        if not isinstance(last, Table):
            break
        container = last.value
    return container


def _pop_comments(container: Container) -> str:
    """Remove the comment lines that end `container` and return them."""
    lines: list[str] = []
    body = container.body
    while body and isinstance(body[-1][1], Null):  # what tomlkit leaves of a removed key
        body.pop()
    while body and body[-1][0] is None and isinstance(body[-1][1], Comment):
        lines.insert(0, body.pop()[1].as_string())
    return "".join(lines)


def _ends_blank(text: str) -> bool:
    """True when `text` is empty or ends with a blank line."""
    return not text or text.endswith(("\n\n", "\r\n\r\n"))


class _Edit:
    def __init__(
        self,
        text: str,
        base: dict[str, Any],
        data: dict[str, Any],
        origins: list[int | None],
        nl: str,
        *,
        whole: bool,
    ) -> None:
        self.doc: TOMLDocument = tomlkit.parse(text)
        self.base = base
        self.data = data
        self.origins = origins
        self.nl = nl
        self.whole = whole
        # comment lines directly above a request's header, by id() of its table: they
        # are put back in front of the header (as its indent) once the edits are done
        self.leads: dict[int, str] = {}

    def run(self) -> str:
        doc = self.doc
        aot = doc.item("requests") if "requests" in doc else None
        if aot is not None and not isinstance(aot, AoT):
            # an inline array of requests: `edited_text` let it through unchanged
            self._meta_and_variables()
            return self._text()
        keys = [k.key for k, _ in doc.body if k is not None]
        detached = False
        tables: list[Table] = []
        if aot is not None:
            tables = list(aot)
            for prev, table in zip(tables, tables[1:], strict=False):
                self.leads[id(table)] = _pop_comments(_last_body(prev.value))
            if keys and keys[-1] == "requests":
                # take the array out while the tables before it are edited; its first
                # request takes the comment lines directly above it along
                doc.remove("requests")
                detached = True
                self.leads[id(tables[0])] = _pop_comments(_last_body(doc))
        self._meta_and_variables()
        new_tables = self._requests(tables)
        if aot is None or detached:
            if new_tables:
                before = doc.as_string()
                aot = AoT([])
                doc.append("requests", aot)
                self._arrange(aot, new_tables, before)
        elif [id(t) for t in new_tables] != [id(t) for t in tables]:
            if new_tables:
                self._arrange(aot, new_tables, None)
                last = _last_body(new_tables[-1].value)
                if not _ends_blank(new_tables[-1].as_string()):  # a table follows the array
                    last.append(None, Whitespace(self.nl))
            else:
                doc.remove("requests")
        else:
            self._restore_leads(new_tables)
        return self._text()

    def _text(self) -> str:
        text = self.doc.as_string()
        return text.rstrip("\r\n") + self.nl if text.strip() else ""

    def _meta_and_variables(self) -> None:
        meta, variables = self.data["meta"], self.data["variables"]
        if meta != self.base["meta"]:
            self._table("collection", self.base["meta"], meta, meta_text)
        if variables != self.base["variables"]:
            self._table("variables", self.base["variables"], variables, variables_text)

    # -- [collection] / [variables]
    def _table(
        self,
        name: str,
        old: dict[str, Any],
        new: dict[str, Any],
        whole_text: Callable[[dict[str, Any]], str],
    ) -> None:
        doc = self.doc
        if name in doc and not self.whole:
            table = doc[name]
            if not isinstance(table, Table | OutOfOrderTableProxy):  # dotted keys: a proxy
                raise TypeError(f"[{name}] is not a table")
            for key in [*old, *(k for k in new if k not in old)]:
                if key not in new:
                    del table[key]
                elif old.get(key) != new[key]:
                    table[key] = _item(key_line(key, new[key]), self.nl)
            return
        if name in doc:
            doc.remove(name)
        if new or name == "collection":
            table = _new_table(whole_text(new), self.nl)
            if not _ends_blank(doc.as_string()):
                table.trivia.indent = self.nl
            doc.append(name, table)

    # -- [[requests]]
    def _requests(self, tables: list[Table]) -> list[Table]:
        base_reqs: list[dict[str, Any]] = self.base["requests"]
        out: list[Table] = []
        for origin, data in zip(self.origins, self.data["requests"], strict=True):
            if origin is None:
                out.append(_new_table(request_text(data), self.nl))
                continue
            table = tables[origin]
            if data != base_reqs[origin]:
                if self.whole:
                    fresh = _new_table(request_text(data), self.nl)
                    fresh.trivia.indent = table.trivia.indent
                    self.leads[id(fresh)] = self.leads.pop(id(table), "")
                    table = fresh
                else:
                    self._edit_request(table, base_reqs[origin], data)
            out.append(table)
        return out

    def _edit_request(self, table: Table, old: dict[str, Any], new: dict[str, Any]) -> None:
        for key in REQUEST_KEY_ORDER:
            if old.get(key) == new.get(key):
                continue
            if key not in new:
                del table[key]
            else:
                table[key] = _item(request_key_text(key, new[key]), self.nl)
        for name in SUBTABLES:
            before, after = old.get(name), new.get(name)
            if before == after:
                continue
            if after is None:
                del table[name]
            elif before is None:
                fresh = _new_table(subtable_text(name, after), self.nl)
                table.append(name, fresh)
            elif isinstance(table.item(name), InlineTable):  # expect = { ... }
                table[name] = _item(key_line(name, after), self.nl)
            else:
                sub = table[name]
                if not isinstance(sub, Table | OutOfOrderTableProxy):
                    raise TypeError(f"{name} is not a table")
                for key in [*before, *(k for k in after if k not in before)]:
                    if key not in after:
                        del sub[key]
                    elif before.get(key) != after[key]:
                        sub[key] = _item(key_line(key, after[key]), self.nl)

    def _restore_leads(self, tables: list[Table]) -> None:
        for table in tables:
            table.trivia.indent = self.leads.pop(id(table), "") + table.trivia.indent

    def _arrange(self, aot: AoT, tables: list[Table], before: str | None) -> None:
        """Put `tables` into `aot` (after the text `before`, None: where the array is), with
        a blank line before each request that does not follow one."""
        indents = [t.trivia.indent for t in tables]
        del aot[:]
        for table, indent in zip(tables, indents, strict=True):
            aot.append(table)
            table.trivia.indent = indent
        self._restore_leads(tables)
        for n, table in enumerate(tables):
            prev = before if n == 0 else tables[n - 1].as_string()
            if prev is None or _ends_blank(prev) or table.trivia.indent.startswith(("\n", "\r")):
                continue
            table.trivia.indent = self.nl + table.trivia.indent
