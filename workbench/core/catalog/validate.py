"""Checking a request before it is sent and a response after, against the documented operation.

Never blocking: both return a list of plain-words findings (at most MAX_FINDINGS, then "and
N more"). Schemas are checked with jsonschema (Draft 4, the dialect of Swagger 2.0 and close
to OAS 3.0's, with ``nullable`` / ``x-nullable`` honoured), the document registered with
``referencing`` so every ``$ref`` resolves. On top of the schema, a walk lists fields the
server sent (or the request carries) that the documented object does not name —
"field `IsAcquired` not in the documented schema" — since most vendor schemas allow extra
properties and a schema check alone would say nothing. A field the vendor's own code is known
to send (known_gaps.toml, :mod:`.gaps`) is said as a documented gap, with its source.

A response body that is a stream of JSON messages (plgd's list calls: grpc-gateway writes one
``{"result": ...}`` per line, a blank line after each) is checked message by message against
the documented schema, which is that of one message; each finding is said once, with how many
messages have it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from workbench.core.catalog.gaps import (
    Defect,
    defect_finding,
    gap_finding,
    gaps_for,
    known_for,
)
from workbench.core.catalog.model import Operation
from workbench.core.catalog.parse import escape_pointer, follow, pointer_get
from workbench.core.platforms.ndjson import Malformed, parse_lines
from workbench.core.requests import RequestSpec

MAX_FINDINGS = 20
MAX_CHECKED_BODY = 5 * 1024 * 1024
MAX_ITEMS_WALKED = 50  # array items looked at by the extra-field walk
MAX_STREAM_MESSAGES = 200  # messages of a stream body checked one by one
_DOC_URI = "urn:workbench:api-document"
_UNFILLED = re.compile(r"(?<!\{)\{([A-Za-z0-9_.\-]+)\}(?!\})")
# headers the session or the client adds itself
_SESSION_HEADERS = {"authorization", "content-type", "accept", "content-length", "host"}


def _validator(doc: Any, pointer: str) -> Any:
    from jsonschema import Draft4Validator, validators
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    original = Draft4Validator.VALIDATORS["type"]
    original_pattern = Draft4Validator.VALIDATORS["pattern"]

    def nullable_type(validator: Any, types: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if instance is None and (schema.get("nullable") or schema.get("x-nullable")):
            return
        yield from original(validator, types, instance, schema)

    def tolerant_pattern(validator: Any, pattern: Any, instance: Any, schema: Any) -> Iterator[Any]:
        # vendor patterns use PCRE syntax (Thinger's "(?<user>...)"): translated, and a
        # pattern Python cannot compile is skipped rather than failing the whole check
        if isinstance(pattern, str):
            pattern = (
                pattern.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!")
            )
        try:
            yield from original_pattern(validator, pattern, instance, schema)
        except re.error:
            return

    cls = validators.extend(  # type: ignore[no-untyped-call]
        Draft4Validator, {"type": nullable_type, "pattern": tolerant_pattern}
    )
    registry: Registry[Any] = Registry().with_resource(
        _DOC_URI, Resource.from_contents(doc, default_specification=DRAFT4)
    )
    return cls({"$ref": f"{_DOC_URI}#{pointer}"}, registry=registry)


def _where(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the body)"


def _properties(doc: Any, schema: Any, depth: int = 0) -> tuple[dict[str, Any], bool]:
    """(documented properties incl. allOf parts, whether extra fields are knowable)."""
    try:
        schema, _ = follow(doc, schema, "")
    except KeyError:
        return {}, False
    if not isinstance(schema, Mapping) or depth > 8:
        return {}, False
    extra = schema.get("additionalProperties")
    if "oneOf" in schema or "anyOf" in schema or isinstance(extra, Mapping) or extra is False:
        return {}, False  # (additionalProperties: false is reported by the schema check itself)
    props: dict[str, Any] = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        more, ok = _properties(doc, part, depth + 1)
        if not ok:
            return {}, False
        props.update(more)
    return props, bool(props)


def extra_fields(
    doc: Any, schema: Any, value: Any, where: str = "", depth: int = 0
) -> Iterator[str]:
    """Paths of object fields in `value` that `schema` does not document."""
    for path, _pointer, _key in located_extra_fields(doc, schema, value, where, depth):
        yield path


def located_extra_fields(
    doc: Any, schema: Any, value: Any, where: str = "", depth: int = 0, pointer: str = ""
) -> Iterator[tuple[str, str, str]]:
    """(path, JSON pointer of the object's schema, field name) of each field in `value` that
    `schema` (found at `pointer`, "" when unknown) does not document."""
    if depth > 12:
        return
    try:
        schema, pointer = follow(doc, schema, pointer)
    except KeyError:
        return
    if not isinstance(schema, Mapping):
        return
    if isinstance(value, Mapping):
        props, knowable = _properties(doc, schema)
        if not knowable:
            return
        own = schema.get("properties")
        for key, sub in value.items():
            path = f"{where}.{key}" if where else str(key)
            if key not in props:
                yield path, pointer, str(key)
            else:
                inner = (
                    f"{pointer}/properties/{escape_pointer(str(key))}"
                    if pointer and isinstance(own, Mapping) and key in own
                    else ""
                )
                yield from located_extra_fields(doc, props[key], sub, path, depth + 1, inner)
    elif isinstance(value, list) and "items" in schema:
        inner = f"{pointer}/items" if pointer else ""
        for i, item in enumerate(value[:MAX_ITEMS_WALKED]):
            yield from located_extra_fields(
                doc, schema["items"], item, f"{where}[{i}]", depth + 1, inner
            )


def _known_defects(doc: Any) -> list[tuple[Any, Defect]]:
    """(the schema, the defect) of each known defect of `doc` whose schema it has (a document
    that only claims the title and version may lack it)."""
    known = known_for(doc)
    out = []
    for defect in known.defects if known else ():
        try:
            out.append((pointer_get(doc, defect.schema), defect))
        except (KeyError, IndexError, ValueError):
            continue
    return out


def _without_value(message: str, instance: Any) -> str:
    """jsonschema's message without the leading repr of the value ("the value is not ...")."""
    shown = repr(instance)
    return "the value" + message[len(shown) :] if message.startswith(shown) else message


def _schema_findings(
    doc: Any,
    pointer: str,
    value: Any,
    what: str,
    validator: Any = None,
    *,
    show_values: bool = True,
) -> list[str]:
    findings: list[str] = []
    validator = validator or _validator(doc, pointer)
    defects = _known_defects(doc)
    for error in sorted(
        validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path))
    ):
        defect = next(
            (d for schema, d in defects if d.keyword == error.validator and error.schema == schema),
            None,
        )
        if defect is not None:
            findings.append(defect_finding(_where(error.absolute_path), defect))
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
            documented = set((error.schema or {}).get("properties") or {})
            where = _where(error.absolute_path)
            for key in error.instance:
                if key not in documented:
                    path = f"{where}.{key}" if error.absolute_path else str(key)
                    findings.append(f"field `{path}` not in the documented schema")
            continue
        message = error.message if show_values else _without_value(error.message, error.instance)
        message = message if len(message) <= 160 else message[:157] + "..."
        findings.append(f"{what} `{_where(error.absolute_path)}`: {message}")
        if len(findings) > MAX_FINDINGS:
            break
    schema = pointer_get(doc, pointer)
    gaps = gaps_for(doc)
    for path, owner, key in located_extra_fields(doc, schema, value, pointer=pointer):
        gap = gaps.get((owner, key))
        findings.append(
            gap_finding(path, gap) if gap else f"field `{path}` not in the documented schema"
        )
        if len(findings) > MAX_FINDINGS:
            break
    return findings


def stream_messages(body: bytes) -> list[Any] | None:
    """The JSON messages of a stream body (NDJSON: one message a line, blank lines between
    them as grpc-gateway writes), or None when the body is not such a stream."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    messages: list[Any] = []
    for line in parse_lines(text.splitlines()):
        if isinstance(line, Malformed):
            return None
        messages.append(line.value)
    return messages if len(messages) > 1 else None


def _stream_findings(doc: Any, pointer: str, messages: list[Any]) -> list[str]:
    """Findings of each message, merged: each said once, with how many messages have it."""
    validator = _validator(doc, pointer)
    checked = messages[:MAX_STREAM_MESSAGES]
    counts: dict[str, int] = {}
    for message in checked:
        for finding in dict.fromkeys(
            _schema_findings(doc, pointer, message, "message", validator, show_values=False)
        ):
            counts[finding] = counts.get(finding, 0) + 1
    total = len(checked)
    findings = [f"{f} (in {n} of {total} stream messages)" for f, n in counts.items()]
    if len(messages) > total:
        findings.append(f"only the first {total} of {len(messages)} stream messages were checked")
    return findings


def _capped(findings: list[str]) -> list[str]:
    if len(findings) <= MAX_FINDINGS:
        return findings
    return [*findings[:MAX_FINDINGS], f"and {len(findings) - MAX_FINDINGS} more"]


def check_request(doc: Any, op: Operation, spec: RequestSpec) -> list[str]:
    """Warnings about `spec` (a request built from `op`, variables already rendered or not)."""
    findings: list[str] = []
    path = spec.url.split("?", 1)[0]
    for name in _UNFILLED.findall(path):
        findings.append(f"path parameter `{name}` is not filled")
    sent_query = {k for k, _ in spec.params}
    if "?" in spec.url:
        from urllib.parse import parse_qsl

        sent_query |= {k for k, _ in parse_qsl(spec.url.split("?", 1)[1], keep_blank_values=True)}
    sent_headers = {k.lower() for k, _ in spec.headers}
    documented_query = {p.name for p in op.parameters if p.location == "query"}
    for p in op.parameters:
        if p.required and p.location == "query" and p.name not in sent_query:
            findings.append(f"required query parameter `{p.name}` is missing")
        if (
            p.required
            and p.location == "header"
            and p.name.lower() not in sent_headers
            and p.name.lower() not in _SESSION_HEADERS
        ):
            findings.append(f"required header `{p.name}` is missing")
    for name in sorted(sent_query - documented_query):
        findings.append(f"query parameter `{name}` is not documented for this operation")
    if op.body_required and not spec.body.strip() and not spec.form:
        findings.append("the operation documents a required body; none is set")
    if op.body_pointer and spec.body_kind == "json" and spec.body.strip():
        if "{{" in spec.body:
            findings.append("body not checked: it still has {{variables}}")
        else:
            try:
                value = json.loads(spec.body)
            except ValueError:
                findings.append("the body is not valid JSON")
            else:
                findings.extend(_schema_findings(doc, op.body_pointer, value, "body"))
    return _capped(findings)


def check_response(
    doc: Any, op: Operation, status: int, body: bytes, content_type: str | None = None
) -> list[str]:
    """Deviations of a response from what `op` documents for its status."""
    documented = op.response_for(status)
    if documented is None:
        listed = ", ".join(r.status for r in op.responses) or "none"
        return [f"status {status} is not documented for this operation (documented: {listed})"]
    if documented.schema_pointer is None or not body.strip():
        return []
    if len(body) > MAX_CHECKED_BODY:
        return [f"body not checked: larger than {MAX_CHECKED_BODY // 2**20} MiB"]
    if content_type and "json" not in content_type.lower():
        return [f"the documented body is JSON; the server sent {content_type}"]
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        messages = stream_messages(body)
        if messages is None:
            return ["the documented body is JSON; the server sent something else"]
        # a stream (plgd's list calls): the documented schema is that of one message
        return _capped(_stream_findings(doc, documented.schema_pointer, messages))
    return _capped(_schema_findings(doc, documented.schema_pointer, value, "response"))
