"""The vendors' API specs (Swagger 2.0 / OpenAPI 3.x) as the tests' source of truth.

`load(name)` reads a spec from ``<repo>/../shared/reference/`` (a missing file FAILS the test:
the contract tests never skip). `Spec.operation(method, path)` finds the documented operation a
concrete request path matches (templates such as ``/Device/{deviceGuid}/child-device``), and
`Spec.validate_response(op, status, body)` checks a JSON answer against the documented schema
(``definitions`` of Swagger 2.0 and ``components`` of OAS 3 resolved by `referencing`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class Operation:
    method: str  # lower case
    template: str  # the spec's path template, e.g. "/Device/{deviceGuid}"
    spec: dict[str, Any]  # the operation object

    def parameters(self, doc: dict[str, Any], path_item: dict[str, Any]) -> list[dict[str, Any]]:
        params = list(path_item.get("parameters", [])) + list(self.spec.get("parameters", []))
        return [resolve(doc, p) for p in params]


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow one local ``$ref`` (``#/definitions/X``, ``#/components/schemas/X``)."""
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


class Spec:
    def __init__(self, name: str, doc: dict[str, Any]) -> None:
        self.name = name
        self.doc = doc
        self.swagger2 = str(doc.get("swagger", "")).startswith("2")
        self._matchers: list[tuple[re.Pattern[str], str]] = []
        for template in doc.get("paths", {}):
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template.rstrip("/")))
            self._matchers.append((re.compile(f"^{pattern}/?$", re.IGNORECASE), template))
        # the most literal template wins ("/device/lookup" before "/device/{id}")
        self._matchers.sort(key=lambda m: (m[1].count("{"), -len(m[1])))
        self._registry: Registry[Any] = Registry().with_resource(
            "urn:spec", Resource.from_contents(_as_schema_doc(doc), default_specification=DRAFT4)
        )

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation documented for ``method`` on the concrete ``path`` (spec-relative)."""
        for pattern, template in self._matchers:
            if pattern.match(path):
                item = self.doc["paths"][template]
                op = item.get(method.lower())
                if op is not None:
                    return Operation(method.lower(), template, op)
        return None

    def path_item(self, op: Operation) -> dict[str, Any]:
        item: dict[str, Any] = self.doc["paths"][op.template]
        return item

    def required_query(self, op: Operation) -> set[str]:
        return {
            p["name"]
            for p in op.parameters(self.doc, self.path_item(op))
            if p.get("in") == "query" and p.get("required")
        }

    def query_names(self, op: Operation) -> set[str]:
        return {
            p["name"] for p in op.parameters(self.doc, self.path_item(op)) if p.get("in") == "query"
        }

    def response_schema(self, op: Operation, status: int) -> dict[str, Any] | None:
        responses = op.spec.get("responses", {})
        response = responses.get(str(status)) or responses.get(status) or responses.get("default")
        if response is None:
            return None
        response = resolve(self.doc, response)
        if self.swagger2:
            schema = response.get("schema")
        else:
            content = response.get("content", {})
            media = content.get("application/json") or next(iter(content.values()), {})
            schema = media.get("schema")
        return schema  # type: ignore[no-any-return]  # a JSON object from the spec

    def validate(self, instance: Any, schema: dict[str, Any] | None) -> list[str]:
        """Every place ``instance`` breaks ``schema``, in words (empty when it conforms)."""
        if schema is None:
            return [f"{self.name}: no documented schema to validate against"]
        schema = _rebase(schema)
        validator = jsonschema.Draft4Validator(schema, registry=self._registry)
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in validator.iter_errors(instance)
        ]


def _as_schema_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The spec with OAS 3 ``nullable`` turned into JSON Schema unions, so Draft 4 reads it."""
    return _nullable(json.loads(json.dumps(doc)))


def _nullable(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if (node.get("nullable") or node.get("x-nullable")) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


def _rebase(schema: dict[str, Any]) -> dict[str, Any]:
    """Local ``#/...`` refs point into the registered spec document."""
    text = json.dumps(_nullable(schema)).replace('"$ref": "#/', '"$ref": "urn:spec#/')
    rebased: dict[str, Any] = json.loads(text)
    return rebased


@cache
def load(name: str) -> Spec:
    """The spec file ``name`` from ../shared/reference; missing means the test FAILS."""
    path = REFERENCE / name
    if not path.is_file():
        pytest.fail(f"vendor spec missing: {path} (the contract tests need ../shared/reference)")
    text = path.read_text("utf-8")
    doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return Spec(name, doc)
