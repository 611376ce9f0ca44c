"""IoTConnect: an entity's devices seen while its parent's listing was read answer the entity's
own listing once, soon after, without asking the server again (the EntityGuid filter may
answer with the whole subtree: a site's listing holds its areas' devices)."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest

from tests.core.platforms.test_iotconnect import Counting, adapter_on, flatten, item, mock_adapter
from workbench.core.platforms.base import DeviceNode
from workbench.core.platforms.iotconnect import Adapter
from workbench.core.platforms.seen_devices import SeenDevices


def site_and_area(adapter: Adapter) -> tuple[DeviceNode, DeviceNode]:
    root = adapter.roots()[0]
    for site in flatten(adapter.children(root)):
        if site.kind == "entity" and adapter._sub_entities(site.ref["entity"]):  # noqa: SLF001
            return site, next(n for n in flatten(adapter.children(site)) if n.kind == "entity")
    raise AssertionError("no site with areas in the demo world")


def device_ids(nodes: list[DeviceNode]) -> list[str]:
    return [n.id for n in nodes if n.kind == "device"]


def listed_pages(counted: Counting, guid: str) -> int:
    return sum(
        1 for u in counted.urls if u.path.endswith("/Device") and u.params.get("EntityGuid") == guid
    )


def fresh_listing(server: Any, monkeypatch: pytest.MonkeyPatch, node: DeviceNode) -> list[str]:
    for other in adapter_on(server, monkeypatch, page_size=1000):
        other.entities()
        return device_ids(flatten(other.children(node)))
    raise AssertionError


def test_an_area_right_after_its_site_costs_no_request_and_lists_the_same(
    make_emulator, monkeypatch
) -> None:
    server = make_emulator(devices=400)
    counted = Counting()
    for adapter in adapter_on(server, monkeypatch, counted, page_size=1000):
        site, area = site_and_area(adapter)  # the site's listing was read to its end
        before = len(counted.urls)
        got = device_ids(flatten(adapter.children(area)))
        assert counted.urls[before:] == []  # not one request: all seen in the site's listing
        assert got and got == fresh_listing(server, monkeypatch, area)
        # used once: the next expansion (a reload) asks the server
        again = device_ids(flatten(adapter.children(area)))
        assert listed_pages(counted, area.ref["entity"]) > 0
        assert again == got


def test_a_kept_listing_goes_stale(make_emulator, monkeypatch) -> None:
    server = make_emulator(devices=200)
    counted = Counting()
    now = [1000.0]
    for adapter in adapter_on(server, monkeypatch, counted, page_size=1000):
        adapter.seen = SeenDevices(clock=lambda: now[0])
        _, area = site_and_area(adapter)
        now[0] += 31  # past the 30 s it is kept for
        flatten(adapter.children(area))
        assert listed_pages(counted, area.ref["entity"]) > 0


def mock_world(
    entities: list[tuple[str, str, str | None]],
    listings: dict[str, list[str]],
    asked: list[str],
    indent: int | None = None,
) -> Any:
    """A handler for an entity lookup (guid, name, parent) and paged device listings whose
    items carry the entity names of `listings[guid]`; each listing request is noted in
    `asked` as "guid:pageSize"."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Entity/lookup"):
            rows = [{"guid": g, "name": n, "parentEntityGuid": p} for g, n, p in entities]
            return httpx.Response(200, json={"data": rows})
        guid, size = request.url.params["EntityGuid"], int(request.url.params["pageSize"])
        asked.append(f"{guid}:{size}")
        items = [{**item(i), "entityName": n} for i, n in enumerate(listings[guid])]
        page = items[(int(request.url.params["pageNumber"]) - 1) * size :][:size]
        body = json.dumps({"data": page, "count": len(items), "status": 200}, indent=indent)
        return httpx.Response(
            200, content=body.encode(), headers={"content-type": "application/json"}
        )

    return handler


PLANT_HALL = [("E1", "Plant", None), ("E2", "Hall", "E1")]


def spread_handler(asked: list[str]) -> Any:
    """Plant > Hall; Plant's listing (the subtree, 3 a page) has Plant's own devices up to its
    last page, so it is read to the end."""
    return mock_world(PLANT_HALL, {"E1": ["Hall", "Hall", "Plant"] * 3, "E2": ["Hall"] * 6}, asked)


@pytest.mark.parametrize("stop", [False, True])
def test_a_stopped_listing_keeps_nothing(stop: bool) -> None:
    asked: list[str] = []
    adapter = mock_adapter(spread_handler(asked), 3)
    plant = adapter.roots()[0]
    cancel = threading.Event()
    batches = adapter.children(plant, cancel)
    hall = next(batches)[0]
    next(batches)  # Plant's first page of devices
    if stop:
        cancel.set()
    list(batches)
    asked.clear()
    flatten(adapter.children(hall))
    assert asked == (["E2:3", "E2:3"] if stop else [])


def test_nothing_is_kept_over_the_budget(make_emulator, monkeypatch) -> None:
    server = make_emulator(devices=200)
    counted = Counting()
    for adapter in adapter_on(server, monkeypatch, counted, page_size=1000):
        adapter.seen = SeenDevices(budget=2000)  # a couple of list items
        _, area = site_and_area(adapter)
        flatten(adapter.children(area))
        assert listed_pages(counted, area.ref["entity"]) > 0


def test_same_named_sub_entities_are_never_answered_from_the_parent() -> None:
    """Plant > Hall A, Hall A' (both named "Hall"): the items cannot be told apart by name."""
    asked: list[str] = []
    entities = [*PLANT_HALL, ("E3", "Hall", "E1")]
    listings = {"E1": ["Plant", "Hall", "Hall"], "E2": ["Hall"], "E3": ["Hall"]}
    adapter = mock_adapter(mock_world(entities, listings, asked), 10)
    nodes = flatten(adapter.children(adapter.roots()[0]))
    flatten(adapter.children(nodes[0]))
    assert asked[-1] == "E2:10"


def test_a_unique_sub_entity_is_answered_from_a_mock_parent() -> None:
    """The kept items are the parent page's items, as the server sent them."""
    asked: list[str] = []
    names = ["Plant" if i % 3 == 0 else "Hall" for i in range(9)]
    handler = mock_world(PLANT_HALL, {"E1": names, "E2": ["Hall"] * 6}, asked, indent=3)
    adapter = mock_adapter(handler, 100)
    nodes = flatten(adapter.children(adapter.roots()[0]))
    hall = flatten(adapter.children(nodes[0]))
    assert asked == ["E1:100", "E2:1"]  # the count of E2's subtree, then nothing more for Hall
    assert [n.detail for n in hall] == [
        {**item(i), "entityName": "Hall"} for i in range(9) if i % 3
    ]
