"""Which JSON value a line of pretty-printed JSON shows, as a JSONPath (pure Python).

The body viewer shows JSON as ``json.dumps(value, indent=2)`` lines
(:func:`workbench.core.bodies.json_pretty.pretty_json_lines`). :func:`locate_line` walks
the parsed value the way those lines are written (a scalar or an empty container is one
line; a non-empty container is its opening line, its members, and its closing line) and
says which value line ``n`` belongs to: its path parts, the JSONPath text
(``$.data[3].deviceId``, RFC 9535 normalised-path style for odd keys: ``$['a.b']``) and the
value itself. Subtrees before the line are counted, not printed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

PathPart = str | int

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
