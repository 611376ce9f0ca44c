"""An example value from a JSON schema (a request body to start from).

The schema's own ``example`` / ``default`` / first ``enum`` value wins; otherwise a value of
the schema's type. Depth, width and reference cycles are bounded, so a recursive or huge
schema still yields a small example.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 6
MAX_PROPERTIES = 40

_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "ipv4": "192.0.2.1",
    "byte": "",
}


def _resolve(doc: Any, schema: Any, seen: frozenset[str]) -> tuple[Any, frozenset[str]]:
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if ref in seen or not ref.startswith("#"):
            return None, seen
        seen = seen | {ref}
        node: Any = doc
        for raw in ref[1:].lstrip("/").split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                return None, seen
            node = node[part]
        schema = node
    return schema, seen


def example_for(
    schema: Any, doc: Any, *, depth: int = 0, seen: frozenset[str] = frozenset()
) -> Any:
    """A JSON value that fits `schema` (as far as a generator can tell), refs looked up in `doc`."""
    schema, seen = _resolve(doc, schema, seen)
    if not isinstance(schema, Mapping) or depth > MAX_DEPTH:
        return None
    for key in ("example", "default", "x-example"):
        if key in schema:
            return schema[key]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    for combo in ("allOf",):
        parts = schema.get(combo)
        if isinstance(parts, list) and parts:
            merged: dict[str, Any] = {}
            for part in parts:
                value = example_for(part, doc, depth=depth + 1, seen=seen)
                if isinstance(value, dict):
                    merged.update(value)
            return merged
    for combo in ("oneOf", "anyOf"):
        parts = schema.get(combo)
        if isinstance(parts, list) and parts:
            return example_for(parts[0], doc, depth=depth + 1, seen=seen)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and isinstance(schema.get("properties"), Mapping):
        kind = "object"
    if kind == "object":
        props = schema.get("properties")
        out: dict[str, Any] = {}
        if isinstance(props, Mapping):
            for name, sub in list(props.items())[:MAX_PROPERTIES]:
                if isinstance(sub, Mapping) and sub.get("readOnly"):
                    continue
                out[str(name)] = example_for(sub, doc, depth=depth + 1, seen=seen)
        return out
    if kind == "array":
        item = example_for(schema.get("items", {}), doc, depth=depth + 1, seen=seen)
        return [] if item is None else [item]
    if kind == "string":
        fmt = schema.get("format")
        return _FORMATS.get(fmt, "string") if isinstance(fmt, str) else "string"
    if kind == "integer":
        return int(schema.get("minimum", 0) or 0)
    if kind == "number":
        return schema.get("minimum", 0) or 0
    if kind == "boolean":
        return False
    return None
