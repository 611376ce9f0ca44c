"""plgd's Device answers against the hub's CODE, where the gateway document is silent or stale.

The document (``plgd-http-gateway.swagger.yaml``) documents ``Device.metadata.status`` while
its own example, and the hub's code since v2.6.0, send ``metadata.connection``. Vendor code
wins, so these facts come from plgd-dev/hub at commit 334f508f4cd2f75ac74c5d607b7c517111f450bb
(2025-07-03) and grpc-ecosystem/grpc-gateway v2.26.3 (the version the hub's go.mod pins):

- grpc-gateway/pb/devices.proto ``Device`` (fields 1-11), ``GetDevicesRequest.Status``;
- resource-aggregate/pb/commands.proto ``Connection``, ``TwinSynchronization``;
- resource-aggregate/pb/events.proto ``ResourceChanged``, ``EventMetadata``;
  resource-aggregate/pb/resources.proto ``AuditContext``, ``ResourceId``;
- http-gateway/serverMux/jsonMarshaler.go: protojson (camelCase, enum names, 64-bit integers as
  strings, EmitUnpopulated), then every "", [], {} and null is removed at any depth except
  inside a resource's decoded content; "0" and false stay, so the unpopulated scalars are sent;
- resource-aggregate/events/deviceMetadataSnapshotTaken.go updateDeviceConnection: the
  connection id is always set; going offline empties serviceId and keeps the protocol, the
  last connectedAt and the local endpoints;
- resource-directory/service/deviceDirectory.go ToProto: ownershipStatus is OWNED, data is the
  /oic/d ResourceChanged;
- runtime/handler.go ForwardResponseStream (grpc-gateway): each message is {"result": ...}
  followed by the marshaler's delimiter "\\n", after jsoniter's Encode already ended it with
  "\\n" (json-iterator/go adapter.go): a blank line follows every message;
- runtime/query.go (grpc-gateway): an enum query value is its exact name, else its number.

Bite check (done 2026-12-05): against the emulator before commit 2666abf (``serviceId: ""``
and ``localEndpoints: []`` when offline, no connection id, no forceSynchronizationAt,
``status=1`` read as ONLINE, one newline per message) the four tests that ask the emulator
failed; test_the_checker_catches_the_old_shapes shows the checker refuses those shapes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.contract.test_plgd import hub_configuration, machine_token
from workbench.emulator.app import EmulatorServer

DEVICE = {
    "id",
    "types",
    "name",
    "metadata",
    "manufacturerName",
    "modelNumber",
    "interfaces",
    "protocolIndependentId",
    "data",
    "ownershipStatus",
    "endpoints",
}
METADATA = {"connection", "twinSynchronization", "twinEnabled"}
CONNECTION = {"status", "id", "connectedAt", "protocol", "serviceId", "localEndpoints"}
TWIN = {"state", "syncingAt", "inSyncAt", "commandMetadata", "forceSynchronizationAt"}
COMMAND_METADATA = {"connectionId", "sequence"}
RESOURCE_CHANGED = {
    "resourceId",
    "content",
    "status",
    "auditContext",
    "eventMetadata",
    "etag",
    "resourceTypes",
    "openTelemetryCarrier",
}
AUDIT_CONTEXT = {"userId", "correlationId", "owner"}
EVENT_METADATA = {"version", "timestamp", "connectionId", "sequence", "hubId"}
OWNERSHIP = {"UNKNOWN", "UNOWNED", "OWNED", "UNSUPPORTED"}
CONNECTION_STATUS = {"OFFLINE", "ONLINE"}
PROTOCOL = {"UNKNOWN", "COAP", "COAPS", "COAP_TCP", "COAPS_TCP", "C2C"}
TWIN_STATE = {"OUT_OF_SYNC", "DISABLED", "SYNCING", "IN_SYNC"}


def empties(value: Any, where: str = "") -> Iterator[str]:
    """Paths of "", [], {} or null: the hub's JSON marshaler removes them (not in content)."""
    if value is None or value == "" or value == [] or value == {}:
        yield where or "(the body)"
    elif isinstance(value, dict):
        for key, sub in value.items():
            if key != "content":
                yield from empties(sub, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from empties(sub, f"{where}[{i}]")


def int64(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit()


def device_problems(d: dict[str, Any]) -> list[str]:
    problems = [f"`{p}` is empty: the hub drops it" for p in empties(d)]
    meta, data = d.get("metadata") or {}, d.get("data") or {}
    conn, twin = meta.get("connection") or {}, meta.get("twinSynchronization") or {}
    for name, got, known in (
        ("Device", d, DEVICE),
        ("metadata", meta, METADATA),
        ("metadata.connection", conn, CONNECTION),
        ("metadata.twinSynchronization", twin, TWIN),
        (
            "twinSynchronization.commandMetadata",
            twin.get("commandMetadata") or {},
            COMMAND_METADATA,
        ),
        ("data", data, RESOURCE_CHANGED),
        ("data.auditContext", data.get("auditContext") or {}, AUDIT_CONTEXT),
        ("data.eventMetadata", data.get("eventMetadata") or {}, EVENT_METADATA),
    ):
        problems += [
            f"{name}.{k} is no field of the hub's message" for k in sorted(set(got) - known)
        ]
    # scalars EmitUnpopulated always sends (an enum name, "0", false survive the stripping)
    for name, value, ok in (
        ("ownershipStatus", d.get("ownershipStatus"), d.get("ownershipStatus") in OWNERSHIP),
        ("connection.status", conn.get("status"), conn.get("status") in CONNECTION_STATUS),
        ("connection.protocol", conn.get("protocol"), conn.get("protocol") in PROTOCOL),
        ("connection.connectedAt", conn.get("connectedAt"), int64(conn.get("connectedAt"))),
        ("twinSynchronization.state", twin.get("state"), twin.get("state") in TWIN_STATE),
        *(
            (f"twinSynchronization.{k}", twin.get(k), int64(twin.get(k)))
            for k in ("syncingAt", "inSyncAt", "forceSynchronizationAt")
        ),
        ("twinEnabled", meta.get("twinEnabled"), isinstance(meta.get("twinEnabled"), bool)),
    ):
        if not ok:
            problems.append(f"{name} = {value!r}: not what the hub's code sends")
    # updateDeviceConnection: the id is always set; serviceId only while online
    if not conn.get("id"):
        problems.append("connection.id is missing (the hub always sets the connection id)")
    if conn.get("status") == "OFFLINE" and "serviceId" in conn:
        problems.append("an offline connection has a serviceId (the hub empties it)")
    if conn.get("status") == "ONLINE" and not conn.get("serviceId"):
        problems.append("an online connection without serviceId")
    if d.get("ownershipStatus") != "OWNED":
        problems.append("ownershipStatus is not OWNED (resource-directory always says OWNED)")
    if (data.get("resourceId") or {}).get("href") != "/oic/d":
        problems.append("data is not the /oic/d ResourceChanged")
    return problems


@pytest.fixture(scope="module")
def gateway(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    config = hub_configuration(f"{emulator.base_url}/plgd")
    with httpx.Client(
        base_url=config["httpGatewayAddress"],
        headers={"Authorization": f"Bearer {machine_token(emulator.base_url)}"},
        timeout=30,
    ) as client:
        yield client


def messages(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def test_the_device_list_and_one_device_are_the_hubs_device_message(
    gateway: httpx.Client,
) -> None:
    listed = [m["result"] for m in messages(gateway.get("/api/v1/devices"))]
    assert len(listed) == 25
    assert {d["metadata"]["connection"]["status"] for d in listed} == CONNECTION_STATUS
    for d in listed:
        assert device_problems(d) == [], d["id"]
        one = gateway.get(f"/api/v1/devices/{d['id']}")
        assert one.status_code == 200 and one.json() == d  # the stream's result, unwrapped


def test_the_checker_catches_the_old_shapes() -> None:
    """The shapes the emulator sent before (and the document's schema) are refused."""
    good: dict[str, Any] = {
        "id": "d",
        "types": ["oic.wk.d"],
        "metadata": {
            "connection": {
                "status": "OFFLINE",
                "id": "10.0.0.2:40000",
                "connectedAt": "1",
                "protocol": "COAPS_TCP",
            },
            "twinSynchronization": {
                "state": "OUT_OF_SYNC",
                "syncingAt": "1",
                "inSyncAt": "2",
                "forceSynchronizationAt": "0",
                "commandMetadata": {"connectionId": "10.0.0.2:40000", "sequence": "0"},
            },
            "twinEnabled": True,
        },
        "data": {"resourceId": {"deviceId": "d", "href": "/oic/d"}, "status": "OK"},
        "ownershipStatus": "OWNED",
    }
    assert device_problems(good) == []
    old = json.loads(json.dumps(good))
    old["metadata"]["connection"].update(serviceId="", localEndpoints=[])
    del old["metadata"]["connection"]["id"]
    del old["metadata"]["twinSynchronization"]["forceSynchronizationAt"]
    problems = device_problems(old)
    assert any("serviceId` is empty" in p for p in problems)
    assert any("localEndpoints` is empty" in p for p in problems)
    assert any("connection.id is missing" in p for p in problems)
    assert any("forceSynchronizationAt" in p for p in problems)
    documented = json.loads(json.dumps(good))
    documented["metadata"] = {"status": {"value": "ONLINE"}}  # the document's schema
    assert any("metadata.status is no field" in p for p in device_problems(documented))


def test_streams_follow_each_message_with_a_blank_line(gateway: httpx.Client) -> None:
    for path in ("/api/v1/devices", "/api/v1/resource-links", "/api/v1/resources"):
        text = gateway.get(path).text
        chunks = text.split("\n\n")
        assert chunks[-1] == "" and all(c and "\n" not in c for c in chunks[:-1]), path
        assert all(set(json.loads(c)) == {"result"} for c in chunks[:-1]), path


def test_resource_links_and_resources_drop_empty_values(gateway: httpx.Client) -> None:
    for path in ("/api/v1/resource-links", "/api/v1/resources"):
        for message in messages(gateway.get(path)):
            assert list(empties(message)) == [], (path, message)


def test_status_filter_reads_the_hubs_enum(gateway: httpx.Client) -> None:
    def statuses(value: str) -> set[str]:
        got = messages(gateway.get("/api/v1/devices", params={"status": value}))
        return {m["result"]["metadata"]["connection"]["status"] for m in got}

    # GetDevicesRequest.Status: ONLINE = 0, OFFLINE = 1
    assert statuses("0") == statuses("ONLINE") == {"ONLINE"}
    assert statuses("1") == statuses("OFFLINE") == {"OFFLINE"}
    for bad in ("online", "Offline", "2"):
        answer = gateway.get("/api/v1/devices", params={"status": bad})
        assert answer.status_code == 400 and answer.json()["code"] == 3, bad
