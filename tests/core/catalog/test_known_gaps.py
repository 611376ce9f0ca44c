"""Known gaps of vendor documents (known_gaps.toml): a field the vendor's code sends but its
document lacks is said as a documented gap with its source; anything else stays a deviation.
And a stream answer (plgd's list calls) is checked message by message."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest

from tests.core.catalog.reference import PLGD
from workbench.core.catalog.cache import open_catalog
from workbench.core.catalog.document import builtin_path
from workbench.core.catalog.gaps import GAP_PREFIX, is_gap, known_documents
from workbench.core.catalog.model import Operation
from workbench.core.catalog.parse import follow, parse_catalog, pointer_get
from workbench.core.catalog.validate import check_response

pytestmark = pytest.mark.needs_shared  # reads ../shared/reference (tests/conftest.py)

BUILTIN = "builtin:plgd-http-gateway.swagger.yaml"

# what plgd-dev/hub's HTTP gateway sends for one device (grpc-gateway/pb/devices.proto and
# http-gateway/serverMux/jsonMarshaler.go at 334f508f; see tests/contract/test_plgd_hub_code.py)
DEVICE: dict[str, Any] = {
    "id": "4629b3cb-3a6e-477c-5d50-ccb28ad7c349",
    "types": ["oic.d.cloudDevice", "oic.wk.d"],
    "name": "CloudServer",
    "metadata": {
        "connection": {
            "status": "ONLINE",
            "id": "10.0.0.2:40000",
            "connectedAt": "1733400000000000000",
            "protocol": "COAPS_TCP",
            "serviceId": "f8b2d56b-0fc1-4e82-b887-573a4c3015b7",
        },
        "twinSynchronization": {
            "state": "IN_SYNC",
            "syncingAt": "1733400000000000000",
            "inSyncAt": "1733400000048000000",
            "commandMetadata": {"connectionId": "10.0.0.2:40000", "sequence": "0"},
            "forceSynchronizationAt": "0",
        },
        "twinEnabled": True,
    },
    "manufacturerName": [{"language": "en", "value": "plugged"}],
    "modelNumber": "12-d21d4-23jzi2",
    "interfaces": ["oic.if.r", "oic.if.baseline"],
    "protocolIndependentId": "cd5f73ed-51e0-4ad7-59f9-bfb0f7b4b747",
    "data": {"resourceId": {"deviceId": "4629b3cb", "href": "/oic/d"}, "status": "OK"},
    "ownershipStatus": "OWNED",
}


def operation(opened: Any, path: str) -> Operation:
    return next(o for o in opened.catalog.operations if o.method == "GET" and o.path == path)


@pytest.fixture(scope="module")
def plgd() -> Any:
    return open_catalog(BUILTIN)


def test_every_known_gap_is_a_field_the_document_really_lacks() -> None:
    [known] = [k for k in known_documents() if k.title == "plgd HTTP Gateway"]
    data = builtin_path("plgd-http-gateway.swagger.yaml").read_bytes()
    assert (
        known.sha256
        == hashlib.sha256(data).hexdigest()
        == hashlib.sha256(PLGD.read_bytes()).hexdigest()
    )
    doc = open_catalog(BUILTIN).document()
    assert (doc["info"]["title"], doc["info"]["version"]) == (known.title, known.version)
    assert len(known.gaps) >= 10
    for (pointer, field), gap in known.gaps.items():
        schema, _ = follow(doc, pointer_get(doc, pointer), pointer)
        assert schema.get("type") == "object" and schema.get("properties"), pointer
        assert field not in schema["properties"], (pointer, field)
        assert "@334f508f" in gap.source and gap.source.startswith("plgd-dev/hub "), gap


def test_the_hubs_device_is_labelled_and_an_unknown_field_is_still_a_deviation(plgd) -> None:
    op = operation(plgd, "/api/v1/devices/{deviceId}")
    device = copy.deepcopy(DEVICE)
    device["metadata"]["sleepMode"] = "deep"  # no field of the hub's either
    device["bogus"] = 1
    findings = check_response(plgd.document(), op, 200, json.dumps(device).encode())
    gaps = [f for f in findings if is_gap(f)]
    assert sorted(f.split("`")[1] for f in gaps) == [
        "data",
        "metadata.connection",
        "metadata.twinSynchronization.forceSynchronizationAt",
        "ownershipStatus",
    ]
    assert all(
        "is not in the vendor's document, but the hub's code sends it (plgd-dev/hub " in f
        for f in gaps
    )
    assert any("grpc-gateway/pb/devices.proto@334f508f" in f for f in gaps)
    assert sorted(f for f in findings if not is_gap(f)) == [
        "field `bogus` not in the documented schema",
        "field `metadata.sleepMode` not in the documented schema",
    ]


def test_another_version_of_the_document_gets_no_labels(plgd) -> None:
    op = operation(plgd, "/api/v1/devices/{deviceId}")
    doc = copy.deepcopy(plgd.document())
    doc["info"]["version"] = "2.8.0"  # its gaps have not been checked
    findings = check_response(doc, op, 200, json.dumps(DEVICE).encode())
    assert findings and not any(f.startswith(GAP_PREFIX) for f in findings)
    assert "field `metadata.connection` not in the documented schema" in findings


def test_a_device_stream_is_checked_message_by_message(plgd) -> None:
    op = operation(plgd, "/api/v1/devices")
    offline = copy.deepcopy(DEVICE)
    offline["metadata"]["twinEnabled"] = "yes"  # wrong type, in one message of three
    lines = [{"result": DEVICE}, {"result": offline}, {"result": DEVICE}]
    # as the hub writes it: a blank line after each message
    body = "".join(json.dumps(x) + "\n\n" for x in lines).encode()
    findings = check_response(plgd.document(), op, 200, body, "application/json")
    assert (
        "message `result.metadata.twinEnabled`: the value is not of type 'boolean' "
        "(in 1 of 3 stream messages)" in findings
    )
    connection = [f for f in findings if "`result.metadata.connection`" in f]
    assert len(connection) == 1 and is_gap(connection[0])
    assert connection[0].endswith("(in 3 of 3 stream messages)")
    assert check_response(plgd.document(), op, 200, b'{"result": {}}\n\nnot json\n') == [
        "the documented body is JSON; the server sent something else"
    ]
    # one message is a plain JSON body
    assert (
        check_response(plgd.document(), op, 200, json.dumps({"result": {"id": "x"}}).encode()) == []
    )


RESOURCE = {
    "types": ["oic.r.switch.binary"],
    "data": {
        "resourceId": {"deviceId": "4629b3cb", "href": "/switches/1"},
        "content": {"value": False},
        "status": "OK",
        "auditContext": {"userId": "u", "owner": "u"},
        "resourceTypes": ["oic.r.switch.binary"],
    },
}


def test_the_documents_impossible_oneof_is_a_documented_gap(plgd) -> None:
    op = operation(plgd, "/api/v1/devices/{deviceId}/resources/{resourceHref}")
    [known] = [k for k in known_documents() if k.title == "plgd HTTP Gateway"]
    for defect in known.defects:
        assert defect.keyword in pointer_get(plgd.document(), defect.schema)
    findings = check_response(plgd.document(), op, 200, json.dumps(RESOURCE).encode())
    assert findings and all(is_gap(f) for f in findings), findings
    assert any(f.startswith(f"{GAP_PREFIX}`data.content`: the document's oneOf") for f in findings)
    # the same answer against an unlabelled version: jsonschema's words, a deviation
    doc = copy.deepcopy(plgd.document())
    doc["info"]["version"] = "0.0.1"
    plain = check_response(doc, op, 200, json.dumps(RESOURCE).encode())
    assert any("`data.content`" in f and "is valid under each of" in f for f in plain)
    assert not any(is_gap(f) for f in plain)


def test_a_document_that_only_claims_the_title_and_version_is_checked_safely() -> None:
    doc = {
        "openapi": "3.0.1",
        "info": {"title": "plgd HTTP Gateway", "version": "2.7.19"},
        "paths": {
            "/x": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "x",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "object", "properties": {"a": {}}}
                                }
                            },
                        }
                    }
                }
            }
        },
    }
    catalog, _ = parse_catalog(doc, source="claims.json", sha256="0" * 64)
    [op] = catalog.operations
    assert check_response(doc, op, 200, b'{"a": 1, "connection": 2}') == [
        "field `connection` not in the documented schema"
    ]
