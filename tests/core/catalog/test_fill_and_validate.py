"""Device-tree node -> operations and values; requests and responses checked against schemas."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.core.catalog.reference import IOTC_DEVICE, PLGD, THINGER
from workbench.core.catalog.cache import open_catalog
from workbench.core.catalog.fill import (
    build_request,
    join_base,
    match_tail,
    node_values,
    operations_for,
)
from workbench.core.catalog.validate import check_request, check_response
from workbench.core.platforms.base import DeviceNode
from workbench.core.requests import RequestSpec

pytestmark = pytest.mark.needs_shared  # reads ../shared/reference (tests/conftest.py)


def node(kind: str, url: str, **kwargs) -> DeviceNode:
    return DeviceNode(
        id=f"x:{kind}:1", kind=kind, label="n", request=RequestSpec(url=url), **kwargs
    )


def test_match_tail_and_join_base() -> None:
    assert match_tail("/api/v1/devices/{deviceId}", "/plgd/api/v1/devices/abc") == (
        {"deviceId": "abc"},
        "/plgd",
    )
    assert match_tail("/api/v1/devices/{deviceId}", "/api/v1/things/abc") is None
    assert join_base("http://h/iotconnect/device/api/v2", "/api/v2/Device/x") == (
        "http://h/iotconnect/device/api/v2/Device/x"
    )
    assert join_base("https://h", "/v1/users/u") == "https://h/v1/users/u"


def test_plgd_device_node_fills_device_operations_and_the_gateway_base() -> None:
    catalog = open_catalog(str(PLGD)).catalog
    found = node_values(
        catalog, "plgd", node("device", "http://localhost:1/plgd/api/v1/devices/d-1")
    )
    assert found.values == {"deviceId": "d-1"}
    assert found.base_url == "http://localhost:1/plgd"
    assert found.matched is not None and found.matched.path == "/api/v1/devices/{deviceId}"
    ops = operations_for(catalog, found.values, first=found.matched)
    assert ops[0] is found.matched and all(op.path_parameters == ["deviceId"] for op in ops)
    spec = build_request(ops[0], found.base_url, found.values)
    assert spec.url.startswith("http://localhost:1/plgd/api/v1/devices/d-1")


def test_iotconnect_device_node_uses_the_platform_names() -> None:
    catalog = open_catalog(str(IOTC_DEVICE)).catalog
    device = node(
        "device",
        "http://h/iotconnect/device/api/v2/Device/uniqueId/pump-1",
        ref={"guid": "G-1", "uniqueId": "pump-1"},
        detail={"templateGuid": "T-1"},
    )
    found = node_values(catalog, "iotconnect", device)
    assert found.values["uniqueId"] == "pump-1"
    assert found.values["deviceGuid"] == "G-1"
    assert found.values["deviceTemplateGuid"] == "T-1"
    assert found.base_url == "http://h/iotconnect/device"
    paths = {op.path for op in operations_for(catalog, found.values)}
    assert "/api/v2/Device/{deviceGuid}/child-device" in paths
    assert "/api/v2/Device/{deviceGuid}/devicetemplate/{deviceTemplateGuid}" in paths


def test_thinger_device_node() -> None:
    catalog = open_catalog(str(THINGER)).catalog
    found = node_values(
        catalog, "thinger", node("device", "http://h/thinger/v1/users/demo/devices/pump")
    )
    assert found.values == {"user": "demo", "device": "pump"}
    assert any(
        op.path == "/v3/users/{user}/devices/{device}/resources"
        for op in operations_for(catalog, found.values)
    )


def test_request_warnings() -> None:
    opened = open_catalog(str(THINGER))
    op = next(
        o
        for o in opened.catalog.operations
        if o.path == "/v1/users/{user}/devices/{device}" and o.method == "PUT"
    )
    spec = build_request(op, "http://h", {"user": "demo"})
    warnings = check_request(opened.document(), op, spec)
    assert "path parameter `device` is not filled" in warnings
    bad = replace(spec, body=json.dumps({"enabled": "yes"}), params=[("bogus", "1")])
    warnings = check_request(opened.document(), op, bad)
    assert any("`enabled`" in w and "boolean" in w for w in warnings)
    assert "query parameter `bogus` is not documented for this operation" in warnings


def test_response_deviations_name_undocumented_fields_and_statuses() -> None:
    opened = open_catalog(str(IOTC_DEVICE))
    op = next(
        o for o in opened.catalog.operations if o.path == "/api/v2/Device/uniqueId/{uniqueId}"
    )
    doc = opened.document()
    assert check_response(doc, op, 418, b"{}")[0].startswith("status 418 is not documented")
    body = {"data": [{"uniqueId": "x", "IsAcquiredLater": True}], "status": 200}
    findings = check_response(doc, op, 200, json.dumps(body).encode(), "application/json")
    assert any("IsAcquiredLater" in f and "not in the documented schema" in f for f in findings), (
        findings
    )
    assert check_response(doc, op, 200, b"<html>", "text/html") == [
        "the documented body is JSON; the server sent text/html"
    ]


def test_findings_are_capped() -> None:
    opened = open_catalog(str(IOTC_DEVICE))
    op = next(
        o for o in opened.catalog.operations if o.path == "/api/v2/Device/uniqueId/{uniqueId}"
    )
    body = {"data": [{f"extra{i}": i for i in range(100)}]}
    findings = check_response(opened.document(), op, 200, json.dumps(body).encode())
    assert len(findings) <= 21 and findings[-1].startswith("and ")
