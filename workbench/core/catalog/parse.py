"""Normalise an OpenAPI 3.x or Swagger 2.0 document into a model.Catalog.

Local ``$ref``s (``#/definitions/...``, ``#/components/...``, ``#/parameters/...``) are
followed for parameters, request bodies and responses; schemas themselves stay where they
are and are named by JSON pointer (validate.py resolves them with jsonschema/referencing).
A reference to another file is not followed: the operation keeps what it could read and the
catalog's ``problems`` say which references were skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from workbench.core.catalog.example import example_for
from workbench.core.catalog.model import Catalog, Operation, Parameter, Response
from workbench.core.errors import CatalogError

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MAX_DEPTH = 32  # chained $refs


def escape_pointer(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def pointer_get(doc: Any, pointer: str) -> Any:
    """The value at a JSON pointer ("" is the document); KeyError when absent."""
    node = doc
    if not pointer:
        return node
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, Mapping):
            node = node[part]
        else:
            raise KeyError(pointer)
    return node


def follow(doc: Any, node: Any, pointer: str) -> tuple[Any, str]:
    """Follow local $refs from (node, its pointer) to the referenced object and its pointer."""
    for _ in range(_MAX_DEPTH):
        if not (isinstance(node, Mapping) and isinstance(node.get("$ref"), str)):
            return node, pointer
        ref = node["$ref"]
        if not ref.startswith("#"):
            raise KeyError(f"external reference {ref!r} is not followed")
        pointer = ref[1:]
        try:
            node = pointer_get(doc, pointer)
        except (KeyError, IndexError, ValueError):
            raise KeyError(f"unresolvable reference {ref!r}") from None
    raise KeyError("too many chained references")


def spec_version(doc: Mapping[str, Any]) -> str:
    if isinstance(doc.get("openapi"), str) and doc["openapi"].startswith("3."):
        return str(doc["openapi"])
    if str(doc.get("swagger", "")) == "2.0":
        return "2.0"
    raise CatalogError(
        "not an OpenAPI 3.x or Swagger 2.0 document (no 'openapi: 3.x' or 'swagger: \"2.0\"')"
    )


def _type_of(schema: Any, doc: Any) -> str:
    try:
        schema, _ = follow(doc, schema, "")
    except KeyError:
        return "?"
    if not isinstance(schema, Mapping):
        return ""
    kind = schema.get("type")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}), doc) or 'any'}"
    if isinstance(kind, list):
        return "|".join(str(k) for k in kind)
    if isinstance(kind, str):
        fmt = schema.get("format")
        return f"{kind} ({fmt})" if isinstance(fmt, str) else kind
    if "$ref" in schema or "properties" in schema:
        return "object"
    return ""


def _hint(schema: Any) -> str:
    if not isinstance(schema, Mapping):
        return ""
    for key in ("example", "default", "x-example"):
        if key in schema and not isinstance(schema[key], (dict, list)):
            return str(schema[key])
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return "|".join(str(v) for v in enum[:6])
    return ""


def _text(value: Any, limit: int = 4000) -> str:
    return value[:limit] if isinstance(value, str) else ""


_HTML_TAG = re.compile(r"<[^>]{0,200}>")


def plain(text: str) -> str:
    """Vendor descriptions carry HTML (IoTConnect's do): tags out, entities of space in."""
    text = _HTML_TAG.sub(" ", text).replace("&nbsp;", " ").replace("&emsp;", " ")
    return re.sub(r"[ \t]+", " ", text).strip()


def _media_example(media: Mapping[str, Any]) -> Any:
    """An OpenAPI 3 media type's own example (``example``, or the first of ``examples``)."""
    if "example" in media:
        return media["example"]
    examples = media.get("examples")
    if isinstance(examples, Mapping):
        for entry in examples.values():
            if isinstance(entry, Mapping) and "value" in entry:
                return entry["value"]
    return None


class _Parser:
    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.version = spec_version(doc)
        # Thinger.io's document says swagger "2.0" but is written in OpenAPI 3 shapes
        # (components, requestBody, parameter schemas): read it by its shapes.
        self.v2 = self.version == "2.0" and "components" not in doc
        if self.version == "2.0" and not self.v2:
            self.version = "2.0 (written in OpenAPI 3 shapes)"
        self.problems: list[str] = []

    def base_path(self) -> str:
        if self.v2:
            base = self.doc.get("basePath")
            return base.rstrip("/") if isinstance(base, str) and base != "/" else ""
        servers = self.doc.get("servers")
        if isinstance(servers, list) and servers and isinstance(servers[0], Mapping):
            url = servers[0].get("url")
            if isinstance(url, str):
                from urllib.parse import urlsplit

                path = urlsplit(url).path if "://" in url else url
                return path.rstrip("/") if path.startswith("/") else ""
        return ""

    def parameters(self, raw: Any, pointer: str, op_id: str) -> list[tuple[Mapping[str, Any], str]]:
        """The parameter objects (refs followed) with their JSON pointers."""
        resolved: list[tuple[Mapping[str, Any], str]] = []
        if not isinstance(raw, list):
            return resolved
        for i, item in enumerate(raw):
            try:
                param, where = follow(self.doc, item, f"{pointer}/{i}")
            except KeyError as exc:
                self.problems.append(f"{op_id}: parameter {i}: {exc.args[0]}")
                continue
            if not isinstance(param, Mapping) or not isinstance(param.get("name"), str):
                continue
            resolved.append((param, where))
        return resolved

    def operation(
        self, path: str, method: str, op: Mapping[str, Any], item: Mapping[str, Any], pointer: str
    ) -> tuple[Operation, Mapping[str, Any]]:
        full_path = self.base_path() + path
        op_id = op.get("operationId")
        if not isinstance(op_id, str) or not op_id.strip():
            op_id = f"{method}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_')}"
        shared = self.parameters(
            item.get("parameters"), pointer.rsplit("/", 1)[0] + "/parameters", op_id
        )
        own = self.parameters(op.get("parameters"), f"{pointer}/parameters", op_id)
        merged: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
        for param, where in [*shared, *own]:  # an operation's own overrides the path item's
            merged[(str(param.get("in")), str(param["name"]))] = (param, where)
        params: list[Parameter] = []
        body_pointer: str | None = None
        body_required = False
        content_type: str | None = None
        form_fields: list[Parameter] = []
        media_example: Any = None
        for (location, name), (param, where) in merged.items():
            if location == "body":  # Swagger 2.0
                body_required = bool(param.get("required"))
                if "schema" in param:  # (IoTConnect documents a few body parameters without one)
                    body_pointer = f"{where}/schema"
                content_type = self._consumes(op)
                continue
            schema = param if self.v2 else param.get("schema", {})
            entry = Parameter(
                name=name,
                location=location,
                required=bool(param.get("required")) or location == "path",
                description=plain(_text(param.get("description"))),
                type=_type_of(schema, self.doc),
                example=_hint(param) or _hint(schema),
            )
            (form_fields if location == "formData" else params).append(entry)
        if form_fields:
            params.extend(form_fields)
            content_type = self._consumes(op) or "application/x-www-form-urlencoded"
        if not self.v2 and "requestBody" in op:
            try:
                body, where = follow(self.doc, op["requestBody"], f"{pointer}/requestBody")
            except KeyError as exc:
                self.problems.append(f"{op_id}: request body: {exc.args[0]}")
                body, where = {}, ""
            content = body.get("content") if isinstance(body, Mapping) else None
            if isinstance(content, Mapping) and content:
                content_type = next((c for c in content if "json" in c), next(iter(content)))
                media = content[content_type]
                if isinstance(media, Mapping) and "schema" in media:
                    body_pointer = f"{where}/content/{escape_pointer(content_type)}/schema"
                if isinstance(media, Mapping):
                    media_example = _media_example(media)
                body_required = bool(body.get("required"))
        responses: list[Response] = []
        raw_responses = op.get("responses")
        if isinstance(raw_responses, Mapping):
            for status, resp in raw_responses.items():
                where = f"{pointer}/responses/{escape_pointer(str(status))}"
                try:
                    resp, where = follow(self.doc, resp, where)
                except KeyError as exc:
                    self.problems.append(f"{op_id}: response {status}: {exc.args[0]}")
                    continue
                if not isinstance(resp, Mapping):
                    continue
                schema_pointer: str | None = None
                if self.v2 and "schema" in resp:
                    schema_pointer = f"{where}/schema"
                elif isinstance(resp.get("content"), Mapping):
                    content = resp["content"]
                    json_type = next((c for c in content if "json" in c), None)
                    if (
                        json_type
                        and isinstance(content[json_type], Mapping)
                        and "schema" in content[json_type]
                    ):
                        schema_pointer = f"{where}/content/{escape_pointer(json_type)}/schema"
                responses.append(
                    Response(str(status), plain(_text(resp.get("description"))), schema_pointer)
                )
        example = ""
        if media_example is not None:
            example = json.dumps(media_example, indent=2, ensure_ascii=False)
        elif body_pointer is not None:
            try:
                value = example_for(pointer_get(self.doc, body_pointer), self.doc)
                example = json.dumps(value, indent=2, ensure_ascii=False)
            except (KeyError, IndexError, ValueError, TypeError):
                example = ""
        tags = op.get("tags")
        return (
            Operation(
                method=method.upper(),
                path=full_path,
                operation_id=op_id,
                tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
                summary=plain(_text(op.get("summary"), 300)),
                description=plain(_text(op.get("description"))),
                parameters=tuple(params),
                body_pointer=body_pointer,
                body_required=body_required,
                body_content_type=content_type,
                body_example=example,
                responses=tuple(responses),
                deprecated=bool(op.get("deprecated")),
            ),
            op,
        )

    def _consumes(self, op: Mapping[str, Any]) -> str | None:
        for source in (op.get("consumes"), self.doc.get("consumes")):
            if isinstance(source, list) and source:
                return next(
                    (c for c in source if isinstance(c, str) and "json" in c), str(source[0])
                )
        return "application/json"


def parse_catalog(doc: Any, *, source: str, sha256: str) -> tuple[Catalog, list[str]]:
    """(the catalog, problems met while reading it). Raises CatalogError when it is no spec."""
    if not isinstance(doc, Mapping):
        raise CatalogError(
            f"{source}: not an OpenAPI/Swagger document (the top level is not a mapping)"
        )
    parser = _Parser(doc)
    paths = doc.get("paths")
    if not isinstance(paths, Mapping):
        raise CatalogError(f"{source}: the document has no 'paths'")
    operations: list[Operation] = []
    seen: dict[str, int] = {}
    for path, item in paths.items():
        if not isinstance(path, str) or not isinstance(item, Mapping):
            continue
        item_pointer = f"/paths/{escape_pointer(path)}"
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            operation, _ = parser.operation(path, method, op, item, f"{item_pointer}/{method}")
            count = seen.get(operation.operation_id, 0)
            seen[operation.operation_id] = count + 1
            if count:  # operationIds must be unique; some documents repeat them
                from dataclasses import replace

                operation = replace(operation, operation_id=f"{operation.operation_id}_{count + 1}")
            operations.append(operation)
    info = doc.get("info") if isinstance(doc.get("info"), Mapping) else {}
    assert isinstance(info, Mapping)
    catalog = Catalog(
        title=plain(_text(info.get("title"), 200)) or source,
        version=str(info.get("version", "")),
        spec_version=parser.version,
        source=source,
        sha256=sha256,
        operations=tuple(operations),
    )
    return catalog, parser.problems
