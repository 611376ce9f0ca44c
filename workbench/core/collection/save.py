"""Collections written as TOML text: the whole document, one ``[[requests]]`` table, one key.

Everything here takes canonical data (see :mod:`.collection_model`): what is written is
what loads back. Keeping the rest of a loaded file as it was is :mod:`.collection_splice`.
"""

from __future__ import annotations

from typing import Any

from workbench.core.collection.model import FORMAT_VERSION
from workbench.core.toml_index import format_key, format_pairs, format_value

_INLINE_LIMIT = 100


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
        return f"body = {{ {kind} = {format_value(inner, multiline=True)} }}"
    return key_line(key, value)


def subtable_key_text(key: str, value: Any) -> str:
    """One key of [requests.capture] / [requests.expect]; a long inline table becomes
    one dotted line per entry (one check per line)."""
    text = key_line(key, value)
    if isinstance(value, dict) and value and len(text) > _INLINE_LIMIT:
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
