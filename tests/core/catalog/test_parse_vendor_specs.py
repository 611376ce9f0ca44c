"""The vendors' own documents (Swagger 2.0, OAS 3.0.1, Thinger's 2.0-labelled OAS 3 shapes)
parse into operations with $refs followed; the shipped plgd copy is the vendor's."""

from __future__ import annotations

import json

import pytest

from tests.core.catalog.reference import ALL, IOTC_DEVICE, PLGD, THINGER
from workbench.core.catalog.cache import open_catalog
from workbench.core.catalog.document import builtin_path
from workbench.core.catalog.parse import pointer_get

pytestmark = pytest.mark.needs_shared  # reads ../shared/reference (tests/conftest.py)


def test_reference_documents_are_there() -> None:
    missing = [p.name for p in ALL if not p.exists()]
    assert missing == [], f"../shared/reference is missing {missing}"


@pytest.mark.parametrize(
    ("path", "spec", "at_least"),
    [
        (IOTC_DEVICE, "2.0", 150),
        (THINGER, "2.0 (written in OpenAPI 3 shapes)", 200),
        (PLGD, "3.0.1", 20),
    ],
)
def test_vendor_documents_parse(path, spec, at_least) -> None:
    opened = open_catalog(str(path))
    catalog = opened.catalog
    assert catalog.spec_version == spec
    assert len(catalog.operations) >= at_least
    ids = [op.operation_id for op in catalog.operations]
    assert len(ids) == len(set(ids)), "operationIds are unique"
    # every schema pointer resolves in the document
    doc = opened.document()
    for op in catalog.operations:
        if op.body_pointer:
            pointer_get(doc, op.body_pointer)
        for response in op.responses:
            if response.schema_pointer:
                pointer_get(doc, response.schema_pointer)


def test_swagger2_body_parameter_refs_and_example() -> None:
    catalog = open_catalog(str(IOTC_DEVICE)).catalog
    post = [op for op in catalog.operations if op.method == "POST" and op.path == "/api/v2/Device"]
    assert post, "POST /api/v2/Device is documented"
    op = post[0]
    assert op.body_pointer is not None and op.body_pointer.endswith("/schema")
    example = json.loads(op.body_example)
    assert isinstance(example, dict) and example, "an example body from the #/definitions schema"


def test_oas3_refs_in_responses_and_path_parameters() -> None:
    catalog = open_catalog(str(PLGD)).catalog
    op = next(
        o
        for o in catalog.operations
        if o.path == "/api/v1/devices/{deviceId}" and o.method == "GET"
    )
    assert op.path_parameters == ["deviceId"]
    assert any(p.name == "deviceId" and p.location == "path" and p.required for p in op.parameters)
    assert op.response_for(200) is not None


def test_thinger_request_body_from_media_examples() -> None:
    catalog = open_catalog(str(THINGER)).catalog
    op = next(
        o
        for o in catalog.operations
        if o.path == "/v1/users/{user}/devices/{device}" and o.method == "PUT"
    )
    assert json.loads(op.body_example)["asset_group"] == "AssetGroup"


def test_shipped_plgd_document_is_the_vendors() -> None:
    assert builtin_path("plgd-http-gateway.swagger.yaml").read_bytes() == PLGD.read_bytes()
    assert "Apache License" in builtin_path("LICENSE-plgd-hub.txt").read_text()


def test_warm_open_comes_from_the_pre_parsed_cache() -> None:
    cold = open_catalog(str(IOTC_DEVICE))
    warm = open_catalog(str(IOTC_DEVICE))
    assert not cold.from_cache and warm.from_cache
    assert warm.catalog.to_json() == cold.catalog.to_json()
