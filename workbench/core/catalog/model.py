"""The catalog data model: operations of an OpenAPI 3.x / Swagger 2.0 document, normalised.

A Catalog holds plain data only (strings, tuples, JSON-able dicts), so the pre-parsed form
is a JSON file (cache.py) that loads in a few milliseconds. Schemas are not copied into the
operations: an operation names them by JSON pointer into the document (``body_pointer``,
``Response.schema_pointer``), and validate.py resolves them against the document on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = 1  # bump when the pre-parsed JSON shape changes


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: str  # path | query | header | cookie | formData
    required: bool = False
    description: str = ""
    type: str = ""  # a short type for display ("string", "integer", "array of string", ...)
    example: str = ""  # a value shown as a hint (example / default / first enum)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": self.location,
            "required": self.required,
            "description": self.description,
            "type": self.type,
            "example": self.example,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Parameter:
        return cls(
            name=data["name"],
            location=data["in"],
            required=data["required"],
            description=data["description"],
            type=data["type"],
            example=data["example"],
        )


@dataclass(frozen=True, slots=True)
class Response:
    status: str  # "200", "4XX", "default"
    description: str = ""
    schema_pointer: str | None = None  # JSON pointer to the body schema in the document

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "description": self.description,
            "schema": self.schema_pointer,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Response:
        return cls(
            status=data["status"], description=data["description"], schema_pointer=data["schema"]
        )


@dataclass(frozen=True, slots=True)
class Operation:
    method: str  # upper case
    path: str  # the full path as documented, with {name} placeholders (basePath included)
    operation_id: str  # the document's, or "<method>_<path>" when it has none (unique)
    tags: tuple[str, ...] = ()
    summary: str = ""
    description: str = ""
    parameters: tuple[Parameter, ...] = ()
    body_pointer: str | None = None  # JSON pointer to the request body's schema
    body_required: bool = False
    body_content_type: str | None = None
    body_example: str = ""  # a JSON text generated from the schema (example.py)
    responses: tuple[Response, ...] = ()
    deprecated: bool = False

    @property
    def path_parameters(self) -> list[str]:
        """The {names} in the path, in order."""
        out: list[str] = []
        rest = self.path
        while "{" in rest and "}" in rest:
            start = rest.index("{")
            end = rest.index("}", start)
            out.append(rest[start + 1 : end])
            rest = rest[end + 1 :]
        return out

    def response_for(self, status: int) -> Response | None:
        """The documented response for a status: exact, then NXX, then default."""
        by = {r.status.upper(): r for r in self.responses}
        return by.get(str(status)) or by.get(f"{str(status)[0]}XX") or by.get("DEFAULT")

    def search_text(self) -> str:
        return " ".join(
            [self.method, self.path, self.operation_id, self.summary, *self.tags]
        ).lower()

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "operationId": self.operation_id,
            "tags": list(self.tags),
            "summary": self.summary,
            "description": self.description,
            "parameters": [p.to_json() for p in self.parameters],
            "body": self.body_pointer,
            "bodyRequired": self.body_required,
            "bodyContentType": self.body_content_type,
            "bodyExample": self.body_example,
            "responses": [r.to_json() for r in self.responses],
            "deprecated": self.deprecated,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Operation:
        return cls(
            method=data["method"],
            path=data["path"],
            operation_id=data["operationId"],
            tags=tuple(data["tags"]),
            summary=data["summary"],
            description=data["description"],
            parameters=tuple(Parameter.from_json(p) for p in data["parameters"]),
            body_pointer=data["body"],
            body_required=data["bodyRequired"],
            body_content_type=data["bodyContentType"],
            body_example=data["bodyExample"],
            responses=tuple(Response.from_json(r) for r in data["responses"]),
            deprecated=data["deprecated"],
        )


@dataclass(frozen=True, slots=True)
class Catalog:
    title: str
    version: str  # the API's version (info.version)
    spec_version: str  # "2.0", "3.0.1", ...
    source: str  # where the document came from (path or URL), for messages
    sha256: str  # of the document's bytes (the cache key)
    operations: tuple[Operation, ...] = ()
    by_id: dict[str, Operation] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_id.update({op.operation_id: op for op in self.operations})

    def find(self, operation_id: str) -> Operation | None:
        return self.by_id.get(operation_id)

    def tags(self) -> list[str]:
        return sorted({t for op in self.operations for t in op.tags} or {""})

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "title": self.title,
            "version": self.version,
            "specVersion": self.spec_version,
            "source": self.source,
            "sha256": self.sha256,
            "operations": [op.to_json() for op in self.operations],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Catalog:
        if data.get("format") != FORMAT_VERSION:
            raise ValueError("pre-parsed catalog of another format")
        return cls(
            title=data["title"],
            version=data["version"],
            spec_version=data["specVersion"],
            source=data["source"],
            sha256=data["sha256"],
            operations=tuple(Operation.from_json(o) for o in data["operations"]),
        )
