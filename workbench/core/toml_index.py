"""Where things are in a TOML document, for file:line:column error messages.

`tomllib` gives values but no positions. :class:`TomlIndex` scans a document that
`tomllib` has already accepted and records ``positions``: key path -> (line, column),
e.g. ``("requests", 2, "body", "json")`` (arrays of tables and array elements are indexed
from 0). :func:`decode_error` gives the words and the position of a `tomllib` error.
Profiles and collections both locate their errors with this module.
"""

from __future__ import annotations

import bisect
import json
import re
import tomllib
from typing import Any

from workbench.core.errors import ConfigError

Path = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_WS = " \t"
_ESCAPES = {
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "f": "\f",
    "r": "\r",
    '"': '"',
    "\\": "\\",
    "e": "\x1b",
}


class TomlIndex:
    """Positions and spans of a (valid) TOML document."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.positions: dict[Path, tuple[int, int]] = {}
        self._line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
        _Scanner(self).run()

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def locate(self, path: Path) -> tuple[int | None, int | None]:
        """(line, column) of the longest prefix of `path` that has a position."""
        for n in range(len(path), 0, -1):
            pos = self.positions.get(tuple(path[:n]))
            if pos is not None:
                return pos
        return None, None


class _Scanner:
    def __init__(self, index: TomlIndex) -> None:
        self.ix = index
        self.s = index.text
        self.i = 0
        self.table: Path = ()
        self.aot_last: dict[Path, int] = {}
        self.aot_count: dict[Path, int] = {}

    # -- low level
    def peek(self, n: int = 0) -> str:
        j = self.i + n
        return self.s[j] if j < len(self.s) else ""

    def skip_ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in _WS:
            self.i += 1

    def skip_comment(self) -> None:
        if self.peek() == "#":
            while self.i < len(self.s) and self.s[self.i] != "\n":
                self.i += 1

    def skip_ws_nl_comments(self) -> None:
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in _WS or c in "\r\n":
                self.i += 1
            elif c == "#":
                self.skip_comment()
            else:
                return

    def to_line_end(self) -> None:
        """Skip trailing blanks, a comment and the newline."""
        self.skip_ws()
        self.skip_comment()
        if self.peek() == "\r":
            self.i += 1
        if self.peek() == "\n":
            self.i += 1

    def record(self, path: Path, offset: int) -> None:
        self.ix.positions.setdefault(path, self.ix.line_col(offset))

    # -- keys
    def key_part(self) -> str:
        c = self.peek()
        if c == '"':
            return self.basic_string()
        if c == "'":
            end = self.s.index("'", self.i + 1)
            value = self.s[self.i + 1 : end]
            self.i = end + 1
            return value
        m = _BARE_KEY.match(self.s, self.i)
        if not m:
            raise ValueError(f"cannot read a key at offset {self.i}")
        self.i = m.end()
        return m.group()

    def dotted_key(self) -> list[tuple[str, int]]:
        parts = []
        while True:
            self.skip_ws()
            start = self.i
            parts.append((self.key_part(), start))
            self.skip_ws()
            if self.peek() == ".":
                self.i += 1
                continue
            return parts

    # -- strings
    def basic_string(self) -> str:
        assert self.peek() == '"'
        self.i += 1
        out: list[str] = []
        while True:
            c = self.s[self.i]
            if c == '"':
                self.i += 1
                return "".join(out)
            if c == "\\":
                out.append(self.escape())
                continue
            out.append(c)
            self.i += 1

    def escape(self) -> str:
        nxt = self.s[self.i + 1]
        if nxt in _ESCAPES:
            self.i += 2
            return _ESCAPES[nxt]
        if nxt in "uU":
            n = 4 if nxt == "u" else 8
            code = int(self.s[self.i + 2 : self.i + 2 + n], 16)
            self.i += 2 + n
            return chr(code)
        if nxt == "x":
            code = int(self.s[self.i + 2 : self.i + 4], 16)
            self.i += 4
            return chr(code)
        # line-ending backslash (multi-line strings): skip the whitespace and newlines
        self.i += 1
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1
        return ""

    def skip_string(self) -> None:
        s, i = self.s, self.i
        for quote in ('"""', "'''"):
            if s.startswith(quote, i):
                j = i + 3
                while True:
                    if quote == '"""' and s[j] == "\\":
                        j += 2
                        continue
                    if s.startswith(quote, j):
                        j += 3
                        extra = 0  # up to two more quotes belong to the content
                        while extra < 2 and j < len(s) and s[j] == quote[0]:
                            j += 1
                            extra += 1
                        self.i = j
                        return
                    j += 1
        if s[i] == '"':
            self.basic_string()
            return
        self.i = s.index("'", i + 1) + 1

    # -- values
    def value(self, path: Path) -> None:
        c = self.peek()
        if c in "\"'":
            self.skip_string()
        elif c == "{":
            self.inline_table(path)
        elif c == "[":
            self.array(path)
        else:
            m = re.compile(r"[^\s,\]}#]+").match(self.s, self.i)
            self.i = m.end() if m else self.i + 1
            # a date-time written with a space: 1979-05-27 07:32:00
            if m and re.fullmatch(r"\d{4}-\d{2}-\d{2}", m.group()):
                t = re.compile(r" \d{2}:\d{2}[^\s,\]}#]*").match(self.s, self.i)
                if t:
                    self.i = t.end()

    def inline_table(self, path: Path) -> None:
        self.i += 1
        while True:
            self.skip_ws_nl_comments()
            if self.peek() == "}":
                self.i += 1
                return
            if self.peek() == ",":
                self.i += 1
                continue
            parts = self.dotted_key()
            sub = path
            for name, offset in parts:
                sub = (*sub, name)
                self.record(sub, offset)
            self.skip_ws()
            self.i += 1  # '='
            self.skip_ws()
            self.value(sub)

    def array(self, path: Path) -> None:
        self.i += 1
        n = 0
        while True:
            self.skip_ws_nl_comments()
            c = self.peek()
            if c == "]":
                self.i += 1
                return
            if c == ",":
                self.i += 1
                continue
            self.record((*path, n), self.i)
            self.value((*path, n))
            n += 1

    # -- document
    def resolve(self, keys: list[str], is_array: bool) -> Path:
        resolved: Path = ()
        for n, key in enumerate(keys):
            resolved = (*resolved, key)
            last = n == len(keys) - 1
            if last and is_array:
                idx = self.aot_count.get(resolved, 0)
                self.aot_count[resolved] = idx + 1
                self.aot_last[resolved] = idx
                resolved = (*resolved, idx)
            elif resolved in self.aot_last:
                resolved = (*resolved, self.aot_last[resolved])
        return resolved

    def header(self) -> None:
        is_array = self.s.startswith("[[", self.i)
        self.i += 2 if is_array else 1
        parts = self.dotted_key()
        self.skip_ws()
        self.i += 2 if is_array else 1
        path = self.resolve([p for p, _ in parts], is_array)
        # record each prefix at its key's position (array indices at the last key)
        for n, (_, offset) in enumerate(parts, 1):
            self.record(self._resolved_prefix(path, n), offset)
        self.record(path, parts[-1][1])
        self.to_line_end()
        self.table = path

    @staticmethod
    def _resolved_prefix(path: Path, n_keys: int) -> Path:
        """The prefix of `path` holding `n_keys` string keys (and the indices after them)."""
        out: list[str | int] = []
        count = 0
        for part in path:
            if isinstance(part, str):
                if count == n_keys:
                    break
                count += 1
            out.append(part)
        return tuple(out)

    def statement(self) -> None:
        parts = self.dotted_key()
        path = self.table
        for name, offset in parts:
            path = (*path, name)
            self.record(path, offset)
        self.skip_ws()
        self.i += 1  # '='
        self.skip_ws()
        self.value(path)
        self.to_line_end()

    def run(self) -> None:
        while True:
            self.skip_ws_nl_comments()
            if self.i >= len(self.s):
                return
            if self.peek() == "[":
                self.header()
            else:
                self.statement()


_DECODE_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def decode_error(exc: tomllib.TOMLDecodeError) -> tuple[str, int | None, int | None]:
    """The words of a `tomllib` error without its position, and the (line, column) of it."""
    text = str(exc)
    m = _DECODE_POSITION.search(text)
    words = _DECODE_POSITION.sub("", text).strip()
    if m is None:
        return words, None, None
    return words, int(m.group(1)), int(m.group(2))


def key_words(path: Path) -> str:
    """A key path in words: ``requests[0].expect."$.a"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + (part if _BARE_KEY.fullmatch(part) else json.dumps(part))
    return out


# --- limits checked before parsing ---------------------------------------------------------

MAX_TOML_BYTES = 16 * 1024 * 1024  # characters of a profile or collection file
MAX_TOML_DEPTH = 48  # tables, dotted key parts, arrays and inline tables inside each other
MAX_KEY_CHARS = 1024  # one key (all its dotted parts), or one [table] header
MAX_KEY_PARTS = 32  # dotted parts of one key or header
MAX_TOML_KEYS = 100_000  # keys and headers in one file

_SPECIAL = re.compile(r"""[\[\]{}"'#=,\n]""")


class TomlLimitError(ValueError):
    """A document over one of the limits; ``words``, ``line`` and ``column`` say which, where."""

    def __init__(self, words: str, line: int, column: int) -> None:
        super().__init__(f"{words} (at line {line}, column {column})")
        self.words = words
        self.line = line
        self.column = column


def check_limits(text: str) -> None:
    """Raise TomlLimitError when `text` is too big, too deeply nested, or has a key too long,
    with too many dotted parts, or too many keys — a cheap scan done *before* tomllib or
    tomlkit parse it (they recurse on nesting and slow down badly on huge dotted keys).

    It follows strings and comments well enough to find brackets and keys; what it does not
    understand it leaves to the parser, which reports it with its own words.
    """
    if len(text) > MAX_TOML_BYTES:
        raise TomlLimitError(f"the file is larger than {MAX_TOML_BYTES // (1024 * 1024)} MiB", 1, 1)
    _LimitScan(text).run()


class _LimitScan:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        # open '[' (arrays) and '{' (inline tables) of values, with the nesting inside them
        self.stack: list[tuple[str, int]] = []
        self.table = 0  # nesting of the current [table] header
        self.current = 0  # nesting of the value being read
        self.keys = 0
        self._line_starts: list[int] | None = None

    def where(self, offset: int) -> tuple[int, int]:
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in re.finditer(r"\n", self.s)]
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def fail(self, words: str, offset: int) -> None:
        line, column = self.where(offset)
        raise TomlLimitError(words, line, column)

    def run(self) -> None:
        s = self.s
        n = len(s)
        expect_key = True  # at the start of a line outside values, or after '{' / ','
        while self.i < n:
            if expect_key:
                self.key()
                expect_key = False
                continue
            m = _SPECIAL.search(s, self.i)
            if m is None:
                return
            c = m.group()
            self.i = m.end()
            if c in "\"'":
                self.string(m.start())
            elif c == "#":
                nl = s.find("\n", self.i)
                self.i = n if nl < 0 else nl
            elif c in "[{":
                self.current += 1
                self.stack.append((c, self.current))
                self.deep(m.start())
                expect_key = c == "{"
            elif c in "]}":
                if self.stack:
                    self.stack.pop()
                self.current = self.stack[-1][1] if self.stack else self.table
            elif c == ",":
                expect_key = bool(self.stack) and self.stack[-1][0] == "{"
            elif c == "\n":
                expect_key = not self.stack
            # '=' in a value context: nothing to do

    def deep(self, offset: int) -> None:
        if self.current > MAX_TOML_DEPTH:
            self.fail(
                f"nested deeper than {MAX_TOML_DEPTH} levels (tables, dotted keys, arrays, "
                "inline tables)",
                offset,
            )

    def key(self) -> None:
        """A key (up to '='), a [table] header, or a blank / comment line."""
        s = self.s
        n = len(s)
        while self.i < n and s[self.i] in " \t\r\n" and (s[self.i] != "\n" or not self.stack):
            self.i += 1
        if self.i >= n or s[self.i] in "#}\n":
            return
        start = self.i
        header = not self.stack and s[self.i] == "["
        parts = 1
        while self.i < n:
            c = s[self.i]
            if c in "\"'":
                self.i += 1
                self.string(self.i - 1)
                continue
            if c == ".":
                parts += 1
            elif (
                (c == "=" and not header)
                or c in "\n#"
                or (header and c == "]" and s[self.i + 1 : self.i + 2] != "]")
            ):
                break
            self.i += 1
            if self.i - start > MAX_KEY_CHARS:
                self.fail(f"a key longer than {MAX_KEY_CHARS} characters", start)
            if parts > MAX_KEY_PARTS:
                self.fail(f"a key of more than {MAX_KEY_PARTS} dotted parts", start)
        if header:
            while self.i < n and s[self.i] == "]":
                self.i += 1
            self.table = self.current = parts
        else:
            if self.i < n and s[self.i] == "=":
                self.i += 1
            self.current = (self.stack[-1][1] if self.stack else self.table) + parts
        self.deep(start)
        self.keys += 1
        if self.keys > MAX_TOML_KEYS:
            self.fail(f"more than {MAX_TOML_KEYS} keys", start)

    def string(self, start: int) -> None:
        """Skip the string whose opening quote is at `start` (self.i is just after it)."""
        s = self.s
        q = s[start]
        if s.startswith(q * 3, start):
            end = s.find(q * 3, start + 3)
            while q == '"' and end > 0 and _escaped(s, end):
                end = s.find(q * 3, end + 1)
            if end < 0:
                self.i = len(s)
                return
            end += 3
            while end < len(s) and s[end] == q:  # up to two quotes may end the content
                end += 1
            self.i = end
            return
        j = start + 1
        while True:
            k = s.find(q, j)
            nl = s.find("\n", j)
            if k < 0 or (0 <= nl < k):
                self.i = len(s) if nl < 0 else nl  # unterminated: the parser will say so
                return
            if q == '"' and _escaped(s, k):
                j = k + 1
                continue
            self.i = k + 1
            return


def _escaped(s: str, k: int) -> bool:
    """Whether the character at `k` is escaped by an odd run of backslashes."""
    b = k - 1
    while b >= 0 and s[b] == "\\":
        b -= 1
    return (k - 1 - b) % 2 == 1


def load_checked(text: str, path: str, error: type[ConfigError], what: str) -> dict[str, Any]:
    """``text`` parsed by tomllib after :func:`check_limits`; either problem raised as
    ``error`` (ProfileError, CollectionError) with the file, line and column. ``what`` names
    the kind of file in the hint ("a profile", "a collection")."""
    try:
        check_limits(text)
    except TomlLimitError as exc:
        raise error(
            f"not loaded: {exc.words}",
            path=path,
            line=exc.line,
            column=exc.column,
            hint=f"{what} this big or this deeply nested is not one workbench wrote",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        words, line, column = decode_error(exc)
        raise error(f"not valid TOML: {words}", path=path, line=line, column=column) from None
