"""The IoTConnect device tree (entities -> devices -> child devices) against the emulator over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from workbench.core.platforms.base import DeviceNode, adapter_for, walk
from workbench.core.platforms.iotconnect import UNKNOWN_DEVICE, Adapter
from workbench.core.profiles import get_profile
from workbench.core.session import Session


class Counting:
    """An httpx event hook that records the URL of every request sent."""

    def __init__(self) -> None:
        self.urls: list[httpx.URL] = []

    def __call__(self, request: httpx.Request) -> None:
        self.urls.append(request.url)

    def pages(self, path_end: str) -> list[int]:
        return [int(u.params["pageNumber"]) for u in self.urls if u.path.endswith(path_end)]


def session_for(server: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Session]:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", server.base_url)
    profile = get_profile("demo-iotconnect")
    session = Session(profile, prompter=None, persist=False)
    session.login()
    return profile, session


@pytest.fixture
def counted() -> Counting:
    return Counting()


def adapter_on(
    server: Any, monkeypatch: pytest.MonkeyPatch, hook: Counting | None = None, **kwargs: Any
) -> Iterator[Adapter]:
    profile, session = session_for(server, monkeypatch)
    client = session.client(event_hooks={"request": [hook]} if hook else {})
    try:
        yield Adapter(profile, client, **kwargs)
    finally:
        client.close()
        session.close()


@pytest.fixture
def demo(emulator, monkeypatch) -> Iterator[Adapter]:
    yield from adapter_on(emulator, monkeypatch, page_size=7)


def raw_world(server: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(entities, every device) straight from the emulator, independent of the adapter.

    The list items are the spec's DeviceList (no entityGuid / parentDeviceGuid): each device
    also gets ``_info``, its DeviceInformation (which has both), for the tests' bookkeeping."""
    base = server.base_url + "/iotconnect"
    with httpx.Client(timeout=30) as c:
        basic = c.get(f"{base}/auth/api/v2/Auth/basic-token").json()["data"]
        token = c.post(
            f"{base}/auth/api/v2/Auth/login",
            headers={"Authorization": f"Basic {basic}", "solution-key": "demo-solution-key-5c1e"},
            json={"username": "demo@iotconnect.example", "password": "IoTC-demo-pass-7319"},
        ).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        entities = c.get(f"{base}/user/api/v2/Entity/lookup", headers=h).json()["data"]
        r = c.get(f"{base}/device/api/v2/Device", headers=h, params={"pageSize": 1000})
        devices = r.json()["data"] if r.status_code == 200 else []
        for d in devices:
            info = c.get(f"{base}/device/api/v2/Device/uniqueId/{d['uniqueId']}", headers=h)
            d["_info"] = info.json()["data"][0]
    return entities, devices


def entity_of(d: dict[str, Any]) -> str:
    return str(d["_info"]["entityGuid"])


def parent_of_device(d: dict[str, Any]) -> str | None:
    return d["_info"]["parentDeviceGuid"]  # type: ignore[no-any-return]  # JSON


def list_item(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != "_info"}


def flatten(batches: Iterator[list[DeviceNode]]) -> list[DeviceNode]:
    return [n for batch in batches for n in batch]


def fault(server: Any, body: dict[str, Any]) -> None:
    path = "faults/reset" if body == {} else "faults/iotconnect"
    r = httpx.post(f"{server.base_url}/_emulator/{path}", json=body, timeout=10)
    assert r.status_code == 200, r.text


# --------------------------------------------------------------------------- the tree


def test_adapter_for_picks_this_module(emulator, monkeypatch):
    profile, session = session_for(emulator, monkeypatch)
    with session.client() as client:
        assert isinstance(adapter_for(profile, client), Adapter)


def test_roots_are_the_root_entities(demo, emulator):
    entities, _ = raw_world(emulator)
    roots = demo.roots()
    expected = [e for e in entities if not e["parentEntityGuid"]]
    assert [r.label for r in roots] == [e["name"] for e in expected]
    assert all(r.kind == "entity" and r.expandable for r in roots)
    assert roots[0].detail["guid"] == expected[0]["guid"]
    assert roots[0].request is not None and roots[0].request.url.endswith(
        "/iotconnect/device/api/v2/Device"
    )
    assert ("EntityGuid", expected[0]["guid"]) in roots[0].request.params


def test_whole_tree_matches_the_emulator(demo, emulator):
    entities, devices = raw_world(emulator)
    assert len(devices) == 25
    parent_of: dict[str, str] = {}
    path: list[DeviceNode] = []
    nodes: list[DeviceNode] = []
    for level, node in walk(demo, 10):
        del path[level - 1 :]
        path.append(node)
        nodes.append(node)
        assert node.kind != "error", node.error
        if level > 1:
            parent_of[node.id] = path[-2].id
    by_guid = {d["guid"]: d for d in devices}
    device_nodes = [n for n in nodes if n.kind == "device"]
    # every device exactly once, every entity exactly once
    assert sorted(n.ref["guid"] for n in device_nodes) == sorted(by_guid)
    assert sorted(n.detail["guid"] for n in nodes if n.kind == "entity") == sorted(
        e["guid"] for e in entities
    )
    entity_ids = {e["guid"]: f"iotconnect:entity:{e['guid']}" for e in entities}
    for e in entities:  # sub-entities under their parent
        if e["parentEntityGuid"]:
            assert parent_of[entity_ids[e["guid"]]] == entity_ids[e["parentEntityGuid"]]
    for n in device_nodes:
        item = by_guid[n.ref["guid"]]
        if parent_of_device(item):  # child devices under their gateway (ChildDeviceList items)
            assert parent_of[n.id] == f"iotconnect:device:{parent_of_device(item)}"
            assert n.badge and "child" in n.badge
            assert n.detail["uniqueId"] == item["uniqueId"] and "childDeviceCount" not in n.detail
            assert n.detail["reportingTo"] == item["reportingTo"]
        else:  # other devices under their own entity (not an ancestor)
            assert parent_of[n.id] == entity_ids[entity_of(item)]
            assert n.detail == list_item(item)
        assert n.label == f"{item['displayName']} ({item['uniqueId']})"
        assert n.status == ("online" if item["isConnected"] else "offline")
        assert n.expandable == (item["childDeviceCount"] > 0)
        if item["childDeviceCount"]:
            k = item["childDeviceCount"]
            assert n.badge.startswith(f"gateway · {k} child{'ren' if k > 1 else ''}")
        assert n.request is not None and n.request.method == "GET"
        assert n.request.url.endswith(
            f"/iotconnect/device/api/v2/Device/uniqueId/{item['uniqueId']}"
        )


def test_depth_three_entity_device_child(demo, emulator):
    """entity -> gateway -> child devices, fetched lazily level by level."""
    entities, devices = raw_world(emulator)
    gateway = next(d for d in devices if d["childDeviceCount"] >= 2)
    entity = next(e for e in entities if e["guid"] == entity_of(gateway))
    node = demo.entity_node(entity)
    level2 = flatten(demo.children(node))
    gw = next(n for n in level2 if n.kind == "device" and n.ref["guid"] == gateway["guid"])
    assert gw.expandable and gw.badge.startswith("gateway")
    level3 = flatten(demo.children(gw))
    expected = [d for d in devices if parent_of_device(d) == gateway["guid"]]
    assert len(level3) == gateway["childDeviceCount"] == len(expected)
    assert {n.ref["uniqueId"] for n in level3} == {d["uniqueId"] for d in expected}
    assert all(n.kind == "device" and not n.expandable for n in level3)
    # the child request really fetches the child
    spec = level3[0].request
    r = demo.get(spec)
    assert r.status == 200 and r.json()["data"][0]["uniqueId"] == level3[0].ref["uniqueId"]


def test_entity_children_put_sub_entities_first(demo, emulator):
    entities, _ = raw_world(emulator)
    site = next(
        e
        for e in entities
        if e["parentEntityGuid"] and any(x["parentEntityGuid"] == e["guid"] for x in entities)
    )
    batches = list(demo.children(demo.entity_node(site)))
    subs = [e["name"] for e in entities if e["parentEntityGuid"] == site["guid"]]
    assert [n.label for n in batches[0]] == subs
    assert all(n.kind == "device" for b in batches[1:] for n in b)


# --------------------------------------------------------------------------- detail


def test_detail_fetches_device_information(demo, emulator):
    _, devices = raw_world(emulator)
    item = list_item(devices[3])
    node = demo.device_node(item)
    full = demo.detail(node)
    assert full.kind == "device" and full.id == node.id
    assert full.detail["uniqueId"] == item["uniqueId"]
    assert "cpId" in full.detail and "cpId" not in item  # DeviceInformation has more fields
    assert full.request.url.endswith("/Device/uniqueId/" + item["uniqueId"])
    assert full.detail["entityGuid"] and "entityGuid" not in item  # only the detail has it
    # the v2 spec reads a device by unique id only: a guid alone is not enough
    by_guid = demo.detail(DeviceNode(id="x", kind="device", label="x", ref={"guid": item["guid"]}))
    assert by_guid.kind == "error" and "unique id" in by_guid.error
    assert demo.device(item["uniqueId"]).label == node.label


def test_unknown_device_is_a_409_error_node(demo):
    node = demo.device("no-such-device-4242")
    assert node.kind == "error" and node.badge == "409"
    assert node.error.startswith(UNKNOWN_DEVICE)
    assert node.request is not None and node.request.url.endswith(
        "/Device/uniqueId/no-such-device-4242"
    )
    by_uid = demo.detail(
        DeviceNode(id="x", kind="device", label="x", ref={"uniqueId": "no-such-device-0000"})
    )
    assert by_uid.kind == "error" and by_uid.badge == "409"


# --------------------------------------------------------------------------- paging


@pytest.mark.parametrize(("size", "pages"), [(25, 1), (5, 5), (1000, 1), (4, 7), (24, 2)])
def test_paging_boundaries(emulator, monkeypatch, counted, size, pages):
    for adapter in adapter_on(emulator, monkeypatch, counted, page_size=size):
        batches = list(adapter.devices())
    assert [len(b) for b in batches] == [min(size, 25 - i * size) for i in range(pages)]
    nodes = [n for b in batches for n in b]
    assert len({n.id for n in nodes}) == 25
    # the answer's count ends the listing: no extra request for a page past the end
    assert counted.pages("/Device") == list(range(1, pages + 1))


def test_page_size_is_capped_at_the_server_limit(emulator, monkeypatch):
    for adapter in adapter_on(emulator, monkeypatch, page_size=5000):
        assert adapter.page_size == 1000


def test_entity_listing_filters_to_direct_devices_across_pages(emulator, monkeypatch):
    entities, devices = raw_world(emulator)
    for adapter in adapter_on(emulator, monkeypatch, page_size=3):
        for e in entities:
            got = [
                n for b in adapter.children(adapter.entity_node(e)) for n in b if n.kind == "device"
            ]
            expected = [d for d in devices if entity_of(d) == e["guid"] and not parent_of_device(d)]
            assert sorted(n.ref["guid"] for n in got) == sorted(d["guid"] for d in expected), e[
                "name"
            ]


def test_an_entity_that_only_groups_others_costs_one_page(emulator, monkeypatch, counted):
    """The EntityGuid filter answers the whole subtree; counting the sub-entities' devices
    shows the root owns none, so its listing stops after the first page."""
    entities, devices = raw_world(emulator)
    root = next(e for e in entities if not e["parentEntityGuid"])
    assert not any(
        entity_of(d) == root["guid"] for d in devices
    )  # the emulator's root holds no devices
    for adapter in adapter_on(emulator, monkeypatch, counted, page_size=3):
        batches = list(adapter.children(adapter.entity_node(root)))
    assert [n.kind for b in batches for n in b] == ["entity"] * len(
        [e for e in entities if e["parentEntityGuid"] == root["guid"]]
    )
    listing = [
        u for u in counted.urls if u.path.endswith("/Device") and u.params.get("pageSize") == "3"
    ]
    assert [u.params["pageNumber"] for u in listing] == ["1"]  # not the 9 pages of the subtree
    counts = [u for u in counted.urls if u.params.get("pageSize") == "1"]
    assert len(counts) == len([e for e in entities if e["parentEntityGuid"] == root["guid"]])


def test_no_devices_is_an_empty_tree_not_an_error(make_emulator, monkeypatch, counted):
    server = make_emulator(devices=0)
    for adapter in adapter_on(server, monkeypatch, counted, page_size=10):
        assert list(adapter.devices()) == []
        nodes = [n for _, n in walk(adapter, 10)]
    assert nodes and all(n.kind == "entity" for n in nodes)
    assert len(nodes) == len(raw_world(server)[0])


def mock_adapter(handler, page_size: int) -> Adapter:
    profile = get_profile("demo-iotconnect")
    return Adapter(
        profile,
        httpx.Client(transport=httpx.MockTransport(handler)),
        page_size=page_size,
        sort_by=None,
    )


def item(i: int) -> dict[str, Any]:
    return {
        "guid": f"G{i}",
        "uniqueId": f"d{i}",
        "displayName": f"Device {i}",
        "isConnected": i % 2 == 0,
        "childDeviceCount": 0,
    }


@pytest.mark.parametrize(
    ("total", "size", "requests"), [(6, 3, 3), (7, 3, 3), (0, 3, 1), (3, 5, 1)]
)
def test_paging_without_count_ends_at_204_or_a_short_page(total, size, requests):
    """Servers that leave out `count`: a short page ends the list; an exact multiple costs one
    more request, answered 204 (no content) as IoTConnect does past the end."""
    asked: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page, n = int(request.url.params["pageNumber"]), int(request.url.params["pageSize"])
        asked.append(page)
        items = [item(i) for i in range((page - 1) * n, min(page * n, total))]
        return (
            httpx.Response(200, json={"data": items, "status": 200})
            if items
            else httpx.Response(204)
        )

    nodes = flatten(mock_adapter(handler, size).devices())
    assert [n.ref["uniqueId"] for n in nodes] == [f"d{i}" for i in range(total)]
    assert asked == list(range(1, requests + 1))


def test_a_server_whose_entity_filter_is_direct_only_is_listed_in_full():
    """If a server's EntityGuid filter gives only the entity's own devices, nothing is cut short."""
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/Entity/lookup"):
            return httpx.Response(
                200,
                json={
                    "data": [
                        {"guid": "E1", "name": "Top", "parentEntityGuid": None},
                        {"guid": "E2", "name": "Sub", "parentEntityGuid": "E1"},
                    ]
                },
            )
        guid = request.url.params["EntityGuid"]
        asked.append(guid)
        page, n = int(request.url.params["pageNumber"]), int(request.url.params["pageSize"])
        own = [{**item(i), "entityName": {"E1": "Top", "E2": "Sub"}[guid]} for i in range(7)]
        items = own[(page - 1) * n : page * n]
        return (
            httpx.Response(200, json={"data": items, "count": 7}) if items else httpx.Response(204)
        )

    adapter = mock_adapter(handler, 3)
    top = adapter.roots()[0]
    nodes = flatten(adapter.children(top))
    assert [n.label for n in nodes if n.kind == "entity"] == ["Sub"]
    assert len([n for n in nodes if n.kind == "device"]) == 7
    assert asked == ["E1", "E1", "E1"]


def test_a_subtree_filter_is_split_by_entity_name_and_same_names_are_flagged():
    """A server whose EntityGuid filter answers the whole subtree: each entity keeps the devices
    whose entityName is its own; a sub-entity with the same name gets an info node."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Entity/lookup"):
            return httpx.Response(
                200,
                json={
                    "data": [
                        {"guid": "E1", "name": "Plant", "parentEntityGuid": None},
                        {"guid": "E2", "name": "Hall", "parentEntityGuid": "E1"},
                        {"guid": "E3", "name": "Plant", "parentEntityGuid": "E2"},
                    ]
                },
            )
        guid = request.url.params["EntityGuid"]
        names = {"E1": ["Plant", "Hall", "Plant"], "E2": ["Hall", "Plant"], "E3": ["Plant"]}
        items = [{**item(i), "entityName": n} for i, n in enumerate(names[guid])]
        n = int(request.url.params["pageSize"])
        page = items[(int(request.url.params["pageNumber"]) - 1) * n :][:n]
        return httpx.Response(200, json={"data": page, "count": len(items)})

    adapter = mock_adapter(handler, 10)
    plant = adapter.roots()[0]
    nodes = flatten(adapter.children(plant))
    assert [n.kind for n in nodes] == ["entity", "info", "device", "device"]
    assert "same name" in nodes[1].label
    hall = nodes[0]
    hall_nodes = flatten(adapter.children(hall))
    assert [n.kind for n in hall_nodes] == ["entity", "device"]
    assert hall_nodes[1].detail["entityName"] == "Hall"


def test_a_server_that_ignores_page_number_does_not_loop():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [item(0), item(1)], "status": 200})

    batches = list(mock_adapter(handler, 2).devices())
    assert len(batches) == 2 and batches[-1][0].kind == "error"
    assert "twice" in batches[-1][0].error


# --------------------------------------------------------------------------- errors


def test_not_signed_in_is_a_401_error_node(emulator, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DEMO_URL", emulator.base_url)
    adapter = Adapter(get_profile("demo-iotconnect"), httpx.Client(timeout=10))
    roots = adapter.roots()
    assert roots[0].kind == "error" and roots[0].badge == "401"
    assert "401" in roots[0].error and roots[0].hint == "log in again"
    assert roots[1].label == "All devices"  # the fallback root
    batch = flatten(adapter.children(roots[1]))
    assert batch[0].kind == "error" and batch[0].badge == "401"


def test_forbidden_and_network_errors_have_words(monkeypatch):
    def forbidden(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"status": 403, "message": "Access denied", "error": []})

    roots = mock_adapter(forbidden, 10).roots()
    assert (
        roots[0].badge == "403"
        and "forbidden" in roots[0].error
        and "Access denied" in roots[0].error
    )

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    roots = mock_adapter(down, 10).roots()
    assert roots[0].kind == "error" and roots[0].error.startswith("network error")

    def envelope(request: httpx.Request) -> httpx.Response:  # 200 whose body says 500
        return httpx.Response(
            200, json={"status": 500, "message": "Something went wrong", "data": None}
        )

    batch = flatten(mock_adapter(envelope, 10).devices())
    assert batch[0].kind == "error" and batch[0].badge == "500"


@pytest.mark.parametrize(
    ("switches", "badge", "words"),
    [
        ({"invalid_json": True}, "error", "not valid JSON"),
        ({"maintenance": True}, "503", "maintenance"),
        ({"error_rate": 1.0}, "500", "server had a problem"),
    ],
)
def test_faults_become_error_nodes(fresh_emulator, monkeypatch, switches, badge, words):
    for adapter in adapter_on(fresh_emulator, monkeypatch, page_size=10):
        fault(fresh_emulator, switches)
        roots = adapter.roots()
        assert roots[0].kind == "error" and words in roots[0].error
        assert roots[0].badge == badge
        batch = flatten(adapter.devices())
        assert len(batch) == 1 and batch[0].kind == "error" and words in batch[0].error
        assert batch[0].ref["retry"]["listing"]["page"] == 1
        assert "\x1b" not in batch[0].error and "\x00" not in batch[0].error
        detail = adapter.device("front-gateway-0000")
        assert detail.kind == "error"
        fault(fresh_emulator, {})
        # retrying the failed roots and listing works once the fault is gone
        assert [n.kind for n in flatten(adapter.children(roots[0]))] == ["entity"]
        assert len(flatten(adapter.children(batch[0]))) == 25


def test_a_failed_page_keeps_earlier_batches_and_retries_from_there(
    fresh_emulator, monkeypatch, counted
):
    for adapter in adapter_on(fresh_emulator, monkeypatch, counted, page_size=10):
        listing = adapter.devices()
        first = next(listing)
        assert len(first) == 10
        fault(fresh_emulator, {"error_rate": 1.0})
        failed = next(listing)
        assert len(failed) == 1 and failed[0].kind == "error" and failed[0].badge == "500"
        assert failed[0].ref["retry"]["listing"]["page"] == 2
        assert failed[0].request is not None and ("pageNumber", "2") in failed[0].request.params
        assert list(listing) == []  # the listing stops at the failure
        fault(fresh_emulator, {})
        rest = list(adapter.children(failed[0]))
    assert [len(b) for b in rest] == [10, 5]
    ids = [n.id for n in first] + [n.id for b in rest for n in b]
    assert len(set(ids)) == 25
    assert counted.pages("/Device") == [1, 2, 2, 3]


def test_cancellation_between_pages(emulator, monkeypatch, counted):
    cancel = threading.Event()
    for adapter in adapter_on(emulator, monkeypatch, counted, page_size=5):
        got = []
        for batch in adapter.devices(cancel):
            got.append(batch)
            if len(got) == 2:
                cancel.set()
    assert len(got) == 2
    assert counted.pages("/Device") == [1, 2]  # no page fetched after the cancel


# --------------------------------------------------------------------------- scale


@pytest.mark.slow
def test_100000_devices_stream_in_batches(make_emulator, monkeypatch, counted):
    server = make_emulator(devices=100_000)
    cancel = threading.Event()
    for adapter in adapter_on(server, monkeypatch, counted, page_size=1000, sort_by=None):
        start = time.perf_counter()
        sizes: list[int] = []
        first_at = None
        for batch in adapter.devices(cancel):
            if first_at is None:
                first_at = time.perf_counter() - start
            sizes.append(len(batch))
        elapsed = time.perf_counter() - start
        # the tree path: cancelling an entity listing stops after the current page
        entity = next(r for r in adapter.roots() if r.kind == "entity")
        cancel2 = threading.Event()
        seen = 0
        for batch in adapter.children(entity, cancel2):
            seen += len(batch)
            cancel2.set()
    assert sum(sizes) == 100_000
    assert len(sizes) == 100 and max(sizes) == 1000
    assert first_at is not None and first_at < 5  # the first batch arrives long before the end
    assert elapsed < 60
    assert seen >= 1
