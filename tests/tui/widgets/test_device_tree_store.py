"""The device tree's compact store (store.py) as pure unit tests: append, insert, slice,
filter, remove, and that a node made from the store equals the DeviceNode that went in."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from workbench.core.platforms.base import DeviceNode, error_node
from workbench.core.requests import RequestSpec
from workbench.tui.widgets.device_tree.model import Listing
from workbench.tui.widgets.device_tree.store import MADE_NODES, ChildStore, Matches, pack


def device(i: int, **kw: Any) -> DeviceNode:
    return DeviceNode(
        id=f"dev:{i}",
        kind="device",
        label=f"Sensor-{i:06d}",
        status="online" if i % 2 else "offline",
        badge="MQTT",
        expandable=True,
        detail={"id": i, "name": f"Sensor-{i:06d}", "tags": ["a", 1, None, 2.5]},
        request=RequestSpec("GET", f"https://fake.example/devices/{i}", params=[("a", "b")]),
        ref={"deviceId": i, "cursor": (i, "x")},
        **kw,
    )


def batches(n: int, size: int) -> list[list[DeviceNode]]:
    return [[device(i) for i in range(s, min(s + size, n))] for s in range(0, n, size)]


def store_of(n: int, size: int = 100) -> ChildStore:
    store = ChildStore()
    for batch in batches(n, size):
        store.append(pack(batch))
    return store


def test_materialised_nodes_equal_the_ones_added() -> None:
    hostile = DeviceNode(
        id="x\x00y\u202e",
        kind="device",
        label="evil\x1b[2J\ud800\nname",
        detail={"\x00": "\ud800", "n": [1, 2]},
        request=RequestSpec("POST", "https://h/p", body_kind="json", body='{"a": 1}'),
    )
    nodes = [device(1), device(2), error_node("p", "failed", status=503, retry={"page": 3})]
    nodes.append(hostile)
    store = ChildStore()
    store.append(pack(nodes))
    assert list(store) == nodes
    assert [store[i] for i in range(len(nodes))] == nodes
    assert store[-1] == hostile and store[-1].ref == {}
    assert store[0].ref == {"deviceId": 1, "cursor": (1, "x")}  # a tuple stays a tuple
    assert store[0] is not nodes[0]  # made from the packed row


def test_append_len_and_slices_across_chunks() -> None:
    store = store_of(1050, 100)
    assert len(store) == 1050 and bool(store) and not ChildStore()
    assert [n.id for n in store[95:105]] == [f"dev:{i}" for i in range(95, 105)]
    assert [n.id for n in store[1040:]] == [f"dev:{i}" for i in range(1040, 1050)]
    assert store[2000:3000] == [] and store[5:5] == []
    assert [n.id for n in store[0:10:3]] == ["dev:0", "dev:3", "dev:6", "dev:9"]
    assert store[-1].id == "dev:1049"
    with pytest.raises(IndexError):
        store[1050]
    assert store.append(pack([device(5000)])) == 1050
    assert len(store) == 1051 and store[1050].id == "dev:5000"


def test_the_same_row_gives_the_same_node_while_it_is_shown() -> None:
    store = store_of(300, 100)
    first = store[150]
    assert store[150] is first and store[100:200][50] is first
    for c in range(MADE_NODES + 2):  # other rows made meanwhile: a new, equal node
        store.append([device(10_000 + c)])
        _ = store[len(store) - 1]
    again = store[150]
    assert again == first


def test_insert_at_a_retry_point_splits_a_chunk() -> None:
    store = store_of(300, 100)
    assert store.insert(150, [device(900), device(901)]) == 150
    assert [n.id for n in store[148:154]] == [
        "dev:148",
        "dev:149",
        "dev:900",
        "dev:901",
        "dev:150",
        "dev:151",
    ]
    assert len(store) == 302
    assert store.insert(0, [device(902)]) == 0 and store[0].id == "dev:902"
    assert store.insert(10_000, [device(903)]) == 303 and store[-1].id == "dev:903"
    assert [n.id for n in store] == (
        ["dev:902"]
        + [f"dev:{i}" for i in range(150)]
        + ["dev:900", "dev:901"]
        + [f"dev:{i}" for i in range(150, 300)]
        + ["dev:903"]
    )


def test_remove_by_identity_then_by_equality() -> None:
    store = store_of(300, 100)
    err = error_node("devs", "page 2 failed", status=500, retry={"page": 2})
    twin = error_node("devs", "page 2 failed", status=500, retry={"page": 2})
    store.insert(200, [err])
    store.insert(100, [twin])  # same id, equal: which one goes depends on identity
    shown = store[201]
    assert shown == err
    assert store.remove(shown) == 201
    assert len(store) == 301 and store[100] == twin and store[200].id == "dev:199"
    assert store.remove(twin) == 100  # not shown (a copy): the first equal row with its id
    assert store.remove(twin) is None
    assert [n.id for n in store] == [f"dev:{i}" for i in range(300)]
    store.delete(0)
    assert store[0].id == "dev:1" and len(store) == 299


def test_filter_runs_over_the_packed_labels() -> None:
    store = store_of(2500, 1000)
    rows = store.match("sensor-0012")
    assert list(rows) == list(range(1200, 1300))
    assert len(store.match("sensor-")) == 2500 and len(store.match("nothing")) == 0
    assert store.any_match("sensor-002499") and not store.any_match("sensor-9")
    view = Matches(store, "sensor-0012", at_once=len(store))
    assert view.complete and list(view.indices) == list(rows)
    assert len(view) == 100
    assert [n.label for n in view[:3]] == ["Sensor-001200", "Sensor-001201", "Sensor-001202"]
    assert view[-1].label == "Sensor-001299"
    assert [n.label for n in view[0:6:5]] == ["Sensor-001200", "Sensor-001205"]


def test_find_ids_and_kinds() -> None:
    store = store_of(500, 100)
    odd = DeviceNode(id="a\x00b", kind="error", label="odd")
    store.append([odd])
    assert store.find_ids({"dev:7", "dev:450", "nope"}) == [7, 450]
    assert store.find_ids({"a\x00b"}) == [500]
    assert store.find_ids({"dev:4"}) == [4]  # not dev:40..dev:49
    assert store.find_ids(set()) == []
    assert store.kinds(3) == ["device"] * 3 and store.kinds(1000)[-1] == "error"


def test_a_batch_pickle_refuses_is_kept_as_nodes() -> None:
    lock_node = DeviceNode(id="l", kind="device", label="Locked", ref={"lock": threading.Lock()})
    chunk = pack([device(1), lock_node])
    assert not chunk.blocks and chunk.nodes is not None
    store = ChildStore()
    store.append(chunk)
    assert store[1] is lock_node and store.match("locked")[0] == 1


def test_the_store_is_far_smaller_than_the_nodes() -> None:
    store = store_of(10_000, 1000)
    assert store.nbytes() < 10_000 * 300  # ~1.2 KB a DeviceNode with its detail and request


def test_listing_adds_at_the_retry_point_and_counts_its_kinds() -> None:
    listing = Listing(key="devs", parent=None)
    assert listing.noun() == "nodes"
    listing.add([device(i) for i in range(10)])
    listing.insert_at = 5
    assert listing.add(pack([device(100), device(101)])) == 5 and listing.insert_at == 7
    assert listing.add([device(102)]) == 7
    assert [n.id for n in listing.children[4:9]] == [
        "dev:4",
        "dev:100",
        "dev:101",
        "dev:102",
        "dev:5",
    ]
    version = listing.version
    assert listing.remove(listing.children[5]) == 5 and listing.version == version + 1
    assert listing.remove(device(999)) is None and listing.version == version + 1
    assert listing.noun() == "devices"


def test_a_row_is_made_alone_not_its_whole_batch() -> None:
    store = store_of(5000, 1000)
    assert store.decoded_rows() == 0  # packing made nothing
    picked = store.rows([5, 1999, 4321])
    assert [n.id for n in picked] == ["dev:5", "dev:1999", "dev:4321"]
    assert store.decoded_rows() == 3
    assert picked == [device(5), device(1999), device(4321)]
    assert [n.id for n in store.rows([4999, 0])] == ["dev:4999", "dev:0"]  # any order
    with pytest.raises(IndexError):
        store.rows([5000])


def test_matches_are_found_as_far_as_asked_then_counted_on() -> None:
    store = store_of(10_000, 1000)
    view = Matches(store, "sensor-")  # a big listing: nothing scanned yet
    assert len(view) == 0 and not view.complete
    assert not view.scan(501)  # a window and one more: the first chunk suffices
    assert len(view) == 1000 and view[500].label == "Sensor-000500"
    assert not view.scan(chunks=3) and len(view) == 4000
    assert view.scan() and len(view) == 10_000 and view.complete
    rare = Matches(store, "sensor-00999")  # one chunk holds them: the others ruled out quickly
    assert rare.scan(501) and [n.label for n in rare] == [f"Sensor-00999{d}" for d in range(10)]
    assert len(Matches(store, "sensor-0099", at_once=10_000)) == 100  # small: all at once


def test_matches_take_in_the_rows_leading_to_deeper_matches() -> None:
    store = store_of(3000, 1000)
    view = Matches(store, "sensor-0015", extra=[2999, 7, 1510, 7], at_once=3000)
    assert list(view.indices) == [7, *range(1500, 1600), 2999]
    lazy = Matches(store, "sensor-0015", extra=[2999, 7])
    assert lazy.scan(chunks=1) is False and list(lazy.indices) == [7]  # chunk 0: the extra row
    lazy.scan()
    assert list(lazy.indices) == list(view.indices[:1]) + list(range(1500, 1600)) + [2999]


def test_a_needle_spanning_two_labels_matches_neither() -> None:
    store = ChildStore([device(1), device(2)])
    assert len(store.match("000001\nsensor")) == 0  # (the labels' joined text is only a hint)
    assert not store.any_match("000001\nsensor") and store.any_match("r-000002")
