"""Which JSON value a line of pretty-printed JSON shows, as a JSONPath (pure Python).

The body viewer shows JSON as ``json.dumps(value, indent=2)`` lines
(:func:`workbench.core.bodies.json_pretty.pretty_json_lines`). :func:`locate_line` walks
the parsed value the way those lines are written (a scalar or an empty container is one
line; a non-empty container is its opening line, its members, and its closing line) and
says which value line ``n`` belongs to: its path parts, the JSONPath text
(``$.data[3].deviceId``, RFC 9535 normalised-path style for odd keys: ``$['a.b']``) and the
value itself. Subtrees before the line are counted, not printed.

:func:`locate_in_body` does it for raw body bytes; bodies over :data:`CHILD_THRESHOLD`
are parsed in a child process (``json.loads`` of 10 MB holds the GIL for ~0.2-1.4 s, which
would freeze the UI even from a worker thread), with a bounded wait.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from workbench.core.text import escape_control, escape_keep_newlines

PathPart = str | int

CHILD_THRESHOLD = 1024 * 1024
"""Bodies larger than this are parsed in a child process by :func:`locate_in_body`."""
CHILD_TIMEOUT = 60.0
"""Seconds the child process may take."""
MAX_VALUE_CHARS = 8 * 1024 * 1024
"""Characters of a located value's text kept (:func:`locate_in_body`)."""
_CHILD_CODE = (
    "import sys; sys.path[:0] = {paths!r}; "
    "from workbench.core.bodies.json_path import child_main; child_main()"
)

_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
# Characters written as \\uXXXX in a quoted key: C0/C1 controls, DEL, zero-width and bidi
# controls, separators, the BOM and lone surrogates (the unsafe set of workbench.core.text).
_UNSAFE_IN_KEY = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff'\\\\]"
)


@dataclass(frozen=True, slots=True)
class JsonLocation:
    """The value a line shows: ``parts`` from the root (keys and indexes), and the value."""

    parts: tuple[PathPart, ...]
    value: object

    @property
    def path(self) -> str:
        return json_path(self.parts)

    def value_text(self) -> str:
        """The value to copy: a string as its text, anything else as (pretty) JSON."""
        if isinstance(self.value, str):
            return self.value
        if isinstance(self.value, dict | list) and self.value:
            return json.dumps(self.value, indent=2, ensure_ascii=False)
        return json.dumps(self.value, ensure_ascii=False)


def _quote_char(match: re.Match[str]) -> str:
    ch = match.group()
    return _ESCAPES.get(ch) or f"\\u{ord(ch):04x}"


def json_path(parts: tuple[PathPart, ...] | list[PathPart]) -> str:
    """``$`` and the parts: ``.name`` for plain ASCII names, ``['odd key']`` for any other
    (``'``, ``\\`` and control/invisible characters escaped), ``[3]`` for indexes. The result
    is always display safe."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _SIMPLE_KEY.match(part):
            out.append(f".{part}")
        else:
            out.append("['" + _UNSAFE_IN_KEY.sub(_quote_char, part) + "']")
    return "".join(out)


def line_count(value: object) -> int:
    """How many lines ``value`` takes pretty-printed with indent=2."""
    count = 0
    stack = [value]
    while stack:
        node = stack.pop()
        if type(node) is dict and node:
            count += 2
            stack.extend(node.values())
        elif type(node) is list and node:
            count += 2
            stack.extend(node)
        else:
            count += 1
    return count


def locate_line(value: object, line: int) -> JsonLocation | None:
    """The value line ``line`` (0-based) of the pretty-printed ``value`` belongs to.

    A member's line (``"key": 3`` or ``"key": {``) and a container's closing line both
    locate that member / container. None when ``line`` is outside the text.
    """
    if line < 0:
        return None
    parts: list[PathPart] = []
    node = value
    offset = line  # the line within ``node``'s text
    while True:
        if offset == 0:
            return JsonLocation(tuple(parts), node)
        if not isinstance(node, dict | list) or not node:  # one line: past the end
            return None
        members = node.items() if isinstance(node, dict) else enumerate(node)
        offset -= 1  # the opening line
        for key, child in members:
            size = line_count(child)
            if offset < size:
                parts.append(key)
                node = child
                break
            offset -= size
        else:  # the closing line (or past the end of the text)
            return JsonLocation(tuple(parts), node) if offset == 0 else None


@dataclass(frozen=True, slots=True)
class Located:
    """What :func:`locate_in_body` found: the JSONPath, the value's text (see
    :meth:`JsonLocation.value_text`; display safe, cut to ``MAX_VALUE_CHARS``), its full
    length, or why not."""

    path: str = ""
    value: str = ""
    value_chars: int = 0
    error: str = ""
    escaped: bool = False
    """Control characters of the value were written as visible escapes."""


def _located(body: bytes, line: int) -> Located:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return Located(error="the body is not valid JSON")
    found = locate_line(value, line)
    if found is None:
        return Located(error=f"line {line + 1} shows no JSON value")
    return located_value(found)


def located_value(found: JsonLocation) -> Located:
    """What is copied for ``found``: its path and its value's text, display safe and capped."""
    text = found.value_text()
    # never put raw control characters on a clipboard (a paste could run them): escaped
    # as the viewer shows them; a string keeps no raw newline, pretty JSON keeps its own
    safe = escape_control(text) if isinstance(found.value, str) else escape_keep_newlines(text)
    return Located(found.path, safe[:MAX_VALUE_CHARS], len(safe), escaped=safe != text)


def locate_in_body(body: bytes, line: int) -> Located:
    """The JSONPath and value of pretty line ``line`` of JSON ``body`` (blocking: call it
    from a worker thread). Never raises; ``error`` says what went wrong."""
    if len(body) <= CHILD_THRESHOLD or not sys.executable:
        return _located(body, line)
    package_root = str(Path(__file__).resolve().parents[3])
    command = [sys.executable, "-c", _CHILD_CODE.format(paths=[package_root])]
    try:
        done = subprocess.run(
            command,
            input=line.to_bytes(8, "big") + body,
            capture_output=True,
            timeout=CHILD_TIMEOUT,
            check=False,
        )
        answer = json.loads(done.stdout)
        return Located(
            answer["path"],
            answer["value"],
            int(answer["value_chars"]),
            answer["error"],
            bool(answer["escaped"]),
        )
    except subprocess.TimeoutExpired:
        return Located(error=f"finding the JSON value took more than {CHILD_TIMEOUT:g} s")
    except (OSError, ValueError, KeyError, TypeError) as err:
        return Located(error=f"could not find the JSON value: {type(err).__name__}")


def child_main() -> None:  # pragma: no cover - runs in the child process
    """The child: 8-byte line number and the body on stdin; a JSON :class:`Located` out."""
    data = sys.stdin.buffer.read()
    found = _located(data[8:], int.from_bytes(data[:8], "big"))
    out = {
        "path": found.path,
        "value": found.value,
        "value_chars": found.value_chars,
        "error": found.error,
        "escaped": found.escaped,
    }
    sys.stdout.write(json.dumps(out))
