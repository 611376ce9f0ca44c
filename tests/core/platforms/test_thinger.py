"""The Thinger.io device-tree adapter against the emulated cloud over real HTTP: the tree to
depth 3, count/index paging at its boundaries, cancellation, error nodes for every failure,
masked device tokens, lazily loaded stats, buckets, and 100,000 devices in pages."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from workbench.core.platforms.base import DeviceNode, adapter_for, walk
from workbench.core.platforms.thinger import OFFLINE_TEXT, Adapter, mask_secrets
from workbench.core.profiles import AuthConfig, Profile, get_profile
from workbench.core.session import Session
from workbench.emulator.app import EmulatorServer

USER = "demo"
PASSWORD = "thinger-demo-pass-1157"
NODEMCU_KINDS = {
    "location": "output",
    "temperature": "output",
    "relay": "input",
    "rgb": "input",
    "command": "input",
    "io": "input-output",
    "reset": "run",
}


# -- helpers ---------------------------------------------------------------------------------
def api(server: EmulatorServer) -> str:
    return server.base_url + "/thinger"


def access_token(server: EmulatorServer) -> str:
    r = httpx.post(
        api(server) + "/oauth/token",
        data={"grant_type": "password", "username": USER, "password": PASSWORD},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def profile(server: EmulatorServer, **variables: str) -> Profile:
    return Profile(
        name="t",
        platform="thinger",
        urls={"api": api(server)},
        auth=AuthConfig(flow="oauth2_password"),
        variables=dict(variables),
    )


class Recorder:
    """Remembers every request URL a client sends."""

    def __init__(self, client: httpx.Client) -> None:
        self.urls: list[httpx.URL] = []
        client.event_hooks["request"].append(lambda req: self.urls.append(req.url))

    def device_pages(self) -> list[tuple[int, int]]:
        return [
            (int(u.params["count"]), int(u.params["index"]))
            for u in self.urls
            if u.path.endswith("/devices") and "count" in u.params
        ]


def bearer_client(server: EmulatorServer) -> httpx.Client:
    return httpx.Client(headers={"Authorization": f"Bearer {access_token(server)}"}, timeout=10)


def adapter(server: EmulatorServer, page_size: int = 10, **kw: Any) -> tuple[Adapter, Recorder]:
    client = bearer_client(server)
    return Adapter(profile(server), client, page_size=page_size, **kw), Recorder(client)


def root(a: Adapter, label: str) -> DeviceNode:
    return next(n for n in a.roots() if n.label == label)


def batches(
    a: Adapter, node: DeviceNode, cancel: threading.Event | None = None
) -> list[list[DeviceNode]]:
    return list(a.children(node, cancel))


def flat(bs: list[list[DeviceNode]]) -> list[DeviceNode]:
    return [n for b in bs for n in b]


def emulator_devices(server: EmulatorServer) -> list[dict[str, Any]]:
    r = httpx.get(
        f"{api(server)}/v1/users/{USER}/devices",
        headers={"Authorization": f"Bearer {access_token(server)}"},
        timeout=10,
    )
    assert r.status_code == 200
    return r.json()


def set_faults(server: EmulatorServer, **faults: Any) -> None:
    r = httpx.post(f"{server.base_url}/_emulator/faults/thinger", json=faults, timeout=10)
    assert r.status_code == 200, r.text


def reset_faults(server: EmulatorServer) -> None:
    assert httpx.post(f"{server.base_url}/_emulator/faults/reset", timeout=10).status_code == 200


@pytest.fixture(scope="module")
def tree(emulator: EmulatorServer) -> list[tuple[int, DeviceNode]]:
    a, _ = adapter(emulator, page_size=10)
    return list(walk(a, 3))


# -- the tree --------------------------------------------------------------------------------
def test_roots_are_account_devices_and_buckets(emulator: EmulatorServer) -> None:
    a, rec = adapter(emulator)
    roots = a.roots()
    assert [(n.kind, n.label) for n in roots] == [
        ("account", "Thinger.io user demo"),
        ("group", "devices"),
        ("group", "buckets"),
    ]
    assert roots[0].detail["user_from"] == "token usr claim"
    devices = roots[1]
    assert devices.expandable and devices.request is not None
    assert devices.request.url == f"{api(emulator)}/v1/users/demo/devices"
    assert ("count", "10") in devices.request.params and ("index", "0") in devices.request.params
    assert rec.urls == []  # the user came from the token: no request needed


def test_tree_to_depth_3_matches_the_emulator(
    emulator: EmulatorServer, tree: list[tuple[int, DeviceNode]]
) -> None:
    devices = [n for lvl, n in tree if n.kind == "device"]
    expected = emulator_devices(emulator)  # 25 unless another test added some
    assert len(expected) >= 25
    assert [n.detail["device"] for n in devices] == [d["device"] for d in expected]
    for node, rec in zip(devices, expected, strict=True):
        assert node.status == ("online" if rec["connection"]["active"] else "offline")
        assert node.badge == rec["type"]
        assert node.id == f"thinger:device:{rec['device']}"
        assert node.request is not None and node.request.method == "GET"
        assert node.request.url == f"{api(emulator)}/v1/users/demo/devices/{rec['device']}"
        assert node.expandable
    nodemcu = devices[0]
    assert nodemcu.label == "nodemcu (NodeMCU)" and nodemcu.status == "online"
    assert max(lvl for lvl, _ in tree) == 3
    assert all(
        lvl == 1
        for lvl, n in tree
        if n.kind in ("account", "group")
        and n.id in ("thinger:account", "thinger:devices", "thinger:buckets")
    )


def children_of(tree: list[tuple[int, DeviceNode]], node_id: str) -> list[DeviceNode]:
    out: list[DeviceNode] = []
    start = next(i for i, (_, n) in enumerate(tree) if n.id == node_id)
    level = tree[start][0]
    for lvl, n in tree[start + 1 :]:
        if lvl <= level:
            break
        if lvl == level + 1:
            out.append(n)
    return out


def test_nodemcu_resources_have_their_kinds_and_requests(
    emulator: EmulatorServer, tree: list[tuple[int, DeviceNode]]
) -> None:
    kids = children_of(tree, "thinger:device:nodemcu")
    resources = [n for n in kids if n.kind == "resource"]
    assert {n.label: n.badge for n in resources} == NODEMCU_KINDS
    by_name = {n.label: n for n in resources}
    v2 = f"{api(emulator)}/v2/users/demo/devices/nodemcu"
    for name, node in by_name.items():
        assert node.request is not None and node.request.url == f"{v2}/{name}"
        assert node.detail["kind"] == NODEMCU_KINDS[name]
    assert by_name["temperature"].request.method == "GET"
    assert by_name["reset"].request.method == "GET"  # a run resource runs on GET
    relay = by_name["relay"].request
    assert relay.method == "POST" and relay.body_kind == "json"
    assert json.loads(relay.body) == {"in": None}
    assert by_name["io"].request.method == "POST"
    assert [n.kind for n in kids if n.kind != "resource"] == ["stats", "group"]
    assert [n.label for n in kids if n.kind != "resource"] == ["stats", "tokens"]


def test_the_requests_nodes_carry_really_work(emulator: EmulatorServer) -> None:
    a, _ = adapter(emulator)
    device = next(n for n in flat(batches(a, root(a, "devices"))) if n.label.startswith("nodemcu"))
    kids = flat(batches(a, device))
    temperature = next(n for n in kids if n.label == "temperature")
    assert temperature.request is not None
    assert a.get(temperature.request).json() == {"out": 21.0}
    assert a.get(device.request).json()["device"] == "nodemcu"  # type: ignore[arg-type]


def test_generated_devices_list_kinds_from_the_api_description(
    emulator: EmulatorServer, tree: list[tuple[int, DeviceNode]]
) -> None:
    online = [
        n
        for _, n in tree
        if n.kind == "device" and n.status == "online" and n.label != "nodemcu (NodeMCU)"
    ]
    assert online
    device = online[0].detail["device"]
    r = httpx.get(
        f"{api(emulator)}/v2/users/demo/devices/{device}/api",
        headers={"Authorization": f"Bearer {access_token(emulator)}"},
        timeout=10,
    )
    kinds = {1: "run", 2: "input", 3: "output", 4: "input-output", 5: "stream"}
    expected = {name: kinds[desc["fn"]] for name, desc in r.json().items()}
    got = {n.label: n.badge for n in children_of(tree, online[0].id) if n.kind == "resource"}
    assert got == expected


def test_an_offline_device_gives_an_error_node_and_keeps_stats_and_tokens(
    emulator: EmulatorServer, tree: list[tuple[int, DeviceNode]]
) -> None:
    offline = [n for _, n in tree if n.kind == "device" and n.status == "offline"]
    assert offline, "the emulator's 25 devices include offline ones"
    for device in offline:
        kids = children_of(tree, device.id)
        assert [n.kind for n in kids] == ["error", "stats", "group"]
        err = kids[0]
        assert err.label == OFFLINE_TEXT and err.error == OFFLINE_TEXT
        assert err.status == "offline" and err.badge == "offline"
        assert err.request is not None and err.request.url.endswith(
            f"/devices/{device.detail['device']}/api"
        )
        assert err.ref["retry"]["type"] == "resources"


def test_an_unknown_device_is_not_called_offline(emulator: EmulatorServer) -> None:
    a, _ = adapter(emulator)
    ghost = DeviceNode(
        id="thinger:device:ghost",
        kind="device",
        label="ghost",
        expandable=True,
        ref={"type": "device", "device": "ghost"},
    )
    first = flat(batches(a, ghost))[0]
    assert first.kind == "error" and first.badge == "404"
    assert "device not found" in first.label and "offline" not in first.label


# -- the user --------------------------------------------------------------------------------
def test_user_from_variables_argument_and_token(emulator: EmulatorServer) -> None:
    client = bearer_client(emulator)
    assert Adapter(profile(emulator), client).user() == "demo"
    from_vars = Adapter(profile(emulator, user="alice"), client)
    assert from_vars.user() == "alice" and from_vars.user_source == "profile variables"
    from_arg = Adapter(profile(emulator, user="alice"), client, user="bob")
    assert from_arg.user() == "bob" and from_arg.user_source == "argument"
    # The query-parameter form of the token works too.
    query = httpx.Client(params={"authorization": access_token(emulator)}, timeout=10)
    assert Adapter(profile(emulator), query).user() == "demo"


def test_no_token_and_no_user_is_an_error_root_with_a_hint(emulator: EmulatorServer) -> None:
    roots = Adapter(profile(emulator), httpx.Client(timeout=10)).roots()
    assert [n.kind for n in roots] == ["error"]
    assert "cannot find out the Thinger user" in roots[0].label
    assert roots[0].hint and "[variables] user" in roots[0].hint


def test_through_a_session_and_adapter_for(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", emulator.base_url)
    prof = get_profile("demo-thinger")
    session = Session(prof, persist=False)
    session.login()
    with session.client() as client:
        a = adapter_for(prof, client, page_size=7)
        assert isinstance(a, Adapter)
        assert a.roots()[0].label == "Thinger.io user demo"
        devices = flat(batches(a, root(a, "devices")))
        assert [n.detail["device"] for n in devices] == [
            d["device"] for d in emulator_devices(emulator)
        ]
        nodemcu = next(n for n in devices if n.id == "thinger:device:nodemcu")
        assert {
            n.label: n.badge for n in flat(batches(a, nodemcu)) if n.kind == "resource"
        } == NODEMCU_KINDS


# -- paging ----------------------------------------------------------------------------------
def test_paging_at_the_boundaries(make_emulator) -> None:
    server = make_emulator(devices=20)
    expected = [d["device"] for d in emulator_devices(server)]
    assert len(expected) == 20
    for size, sizes, requests in [
        (20, [20], [(20, 0), (20, 20)]),  # page size == device count: one more (empty) page ends it
        (10, [10, 10], [(10, 0), (10, 10), (10, 20)]),  # a divisor
        (5, [5, 5, 5, 5], [(5, 0), (5, 5), (5, 10), (5, 15), (5, 20)]),
        (7, [7, 7, 6], [(7, 0), (7, 7), (7, 14)]),  # a short page ends it without another request
        (21, [20], [(21, 0)]),
        (1, [1] * 20, [(1, i) for i in range(21)]),
    ]:
        a, rec = adapter(server, page_size=size)
        bs = batches(a, root(a, "devices"))
        assert [len(b) for b in bs] == sizes, size
        assert [n.detail["device"] for n in flat(bs)] == expected
        assert rec.device_pages() == requests, size


def test_no_devices(make_emulator) -> None:
    server = make_emulator(devices=0)
    a, rec = adapter(server, page_size=10)
    bs = batches(a, root(a, "devices"))
    assert [[(n.kind, n.label) for n in b] for b in bs] == [[("info", "no devices")]]
    assert rec.device_pages() == [(10, 0)]


def test_cancel_between_pages(emulator: EmulatorServer) -> None:
    a, rec = adapter(emulator, page_size=10)
    cancel = threading.Event()
    gen = a.children(root(a, "devices"), cancel)
    first = next(gen)
    assert len(first) == 10
    cancel.set()
    assert list(gen) == []
    assert rec.device_pages() == [(10, 0)]
    # Set before the first page: nothing is fetched.
    a2, rec2 = adapter(emulator, page_size=10)
    assert batches(a2, root(a2, "devices"), cancel) == []
    assert rec2.device_pages() == []


def test_cancel_between_resources_and_stats(emulator: EmulatorServer) -> None:
    a, _ = adapter(emulator)
    cancel = threading.Event()
    node = DeviceNode(
        id="thinger:device:nodemcu",
        kind="device",
        label="nodemcu",
        expandable=True,
        ref={"type": "device", "device": "nodemcu"},
    )
    gen = a.children(node, cancel)
    assert {n.kind for n in next(gen)} == {"resource"}
    cancel.set()
    assert list(gen) == []


# -- errors ----------------------------------------------------------------------------------
def only_error(bs: list[list[DeviceNode]]) -> DeviceNode:
    nodes = flat(bs)
    assert len(nodes) == 1 and nodes[0].kind == "error", [n.label for n in nodes]
    assert nodes[0].error
    return nodes[0]


def test_faults_become_error_nodes_with_words(fresh_emulator: EmulatorServer) -> None:
    server = fresh_emulator
    a, _ = adapter(server)  # logged in before the faults
    devices = root(a, "devices")

    set_faults(server, invalid_json=True)
    err = only_error(batches(a, devices))
    assert "not valid JSON" in err.label and err.hint
    reset_faults(server)

    set_faults(server, maintenance=True)
    err = only_error(batches(a, devices))
    assert "maintenance" in err.label and "503" in err.label and err.badge == "503"
    assert err.hint == "the server asks to retry in 120 s"
    reset_faults(server)

    set_faults(server, error_rate=1.0)
    err = only_error(batches(a, devices))
    assert "server error (500)" in err.label and "Internal Server Error" in err.label
    assert err.ref["retry"] == {"type": "devices", "index": 0, "parent": "thinger:devices"}
    # Stats, tokens, resources and buckets fail the same way, never with an exception.
    node = DeviceNode(
        id="thinger:device:nodemcu",
        kind="device",
        label="nodemcu",
        expandable=True,
        ref={"type": "device", "device": "nodemcu"},
    )
    kids = flat(batches(a, node))
    assert kids[0].kind == "error" and "500" in kids[0].label
    stats = next(n for n in kids if n.kind == "stats")
    assert only_error(batches(a, stats)).badge == "500"
    assert a.fetch_detail(stats).kind == "error"
    assert only_error(batches(a, next(n for n in kids if n.label == "tokens"))).badge == "500"
    assert only_error(batches(a, root(a, "buckets"))).badge == "500"
    reset_faults(server)

    set_faults(server, truncate=True)
    err = only_error(batches(a, devices))
    assert "could not load devices" in err.label and err.hint
    reset_faults(server)

    assert len(flat(batches(a, devices))) == 25


def test_a_failed_page_keeps_earlier_batches_and_retries_from_there(
    fresh_emulator: EmulatorServer,
) -> None:
    server = fresh_emulator
    a, rec = adapter(server, page_size=10)
    gen = a.children(root(a, "devices"))
    first = next(gen)
    set_faults(server, error_rate=1.0)
    failed = next(gen)
    assert list(gen) == []
    err = failed[0]
    assert len(failed) == 1 and err.kind == "error" and "devices 11-20" in err.label
    assert err.ref["retry"]["index"] == 10
    assert err.request is not None and ("index", "10") in err.request.params
    reset_faults(server)
    rest = flat(list(a.retry(err)))
    ids = [n.detail["device"] for n in first + rest]
    assert ids == [d["device"] for d in emulator_devices(server)]
    # 25 devices: page 11-20 again, then the short page 21-25 ends the list.
    assert rec.device_pages() == [(10, 0), (10, 10), (10, 10), (10, 20)]


def test_expired_token_says_log_in_again(fresh_emulator: EmulatorServer) -> None:
    a, _ = adapter(fresh_emulator)
    devices = root(a, "devices")
    assert (
        httpx.post(
            f"{fresh_emulator.base_url}/_emulator/tokens/expire",
            json={"platform": "thinger"},
            timeout=10,
        ).status_code
        == 200
    )
    err = only_error(batches(a, devices))
    assert (
        err.badge == "401" and "not authorised (401)" in err.label and "token expired" in err.label
    )
    assert err.hint and err.hint.startswith("log in again")


def test_a_session_heals_an_expired_token(
    fresh_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    prof = get_profile("demo-thinger")
    session = Session(prof, persist=False)
    session.login()
    with session.client() as client:
        a = Adapter(prof, client, page_size=25)
        devices = root(a, "devices")
        # Thinger access tokens are {exp, iat, usr}: one renewed in the same second as the login
        # would be the very same string, so let the clock move on first.
        time.sleep(1.05)
        httpx.post(
            f"{fresh_emulator.base_url}/_emulator/tokens/expire",
            json={"platform": "thinger"},
            timeout=10,
        )
        assert len(flat(batches(a, devices))) == 25


def test_forbidden_for_another_user(emulator: EmulatorServer) -> None:
    a, _ = adapter(emulator, user="someone-else")
    err = only_error(batches(a, root(a, "devices")))
    assert err.badge == "403" and "forbidden (403)" in err.label and err.hint


def test_network_failure_is_an_error_node(emulator: EmulatorServer) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    prof = Profile(
        name="t",
        platform="thinger",
        urls={"api": f"http://127.0.0.1:{port}/thinger"},
        auth=AuthConfig(flow="oauth2_password"),
        variables={"user": "demo"},
    )
    a = Adapter(prof, httpx.Client(timeout=2))
    err = only_error(batches(a, root(a, "devices")))
    assert "could not load devices 1-100" in err.label and "refused" in err.label and err.hint


# -- stats, tokens, buckets ------------------------------------------------------------------
def test_stats_detail_is_fetched_lazily(emulator: EmulatorServer) -> None:
    a, rec = adapter(emulator)
    node = DeviceNode(
        id="thinger:device:nodemcu",
        kind="device",
        label="nodemcu",
        expandable=True,
        ref={"type": "device", "device": "nodemcu"},
    )
    stats = next(n for n in flat(batches(a, node)) if n.kind == "stats")
    assert stats.detail is None
    assert not any(u.path.endswith("/stats") for u in rec.urls)
    assert a.fetch_detail(stats) is stats
    assert stats.detail["connected"] is True and stats.detail["ip_address"] == "83.52.36.133"
    lines = [n.label for n in flat(batches(a, stats))]
    assert "connected: True" in lines and any(line.startswith("rx_bytes: ") for line in lines)


def test_device_tokens_are_masked(fresh_emulator: EmulatorServer) -> None:
    server = fresh_emulator
    a, _ = adapter(server)
    r = httpx.post(
        f"{api(server)}/v1/users/demo/devices/nodemcu/tokens",
        headers={"Authorization": f"Bearer {access_token(server)}"},
        json={"token_name": "dashboard", "token_resources": ["temperature"]},
        timeout=10,
    )
    assert r.status_code == 200
    secret = r.json()["token"]
    node = DeviceNode(
        id="thinger:device:nodemcu",
        kind="device",
        label="nodemcu",
        expandable=True,
        ref={"type": "device", "device": "nodemcu"},
    )
    group = next(n for n in flat(batches(a, node)) if n.label == "tokens")
    tokens = flat(batches(a, group))
    assert [(n.kind, n.label) for n in tokens] == [("token", "dashboard")]
    token = tokens[0]
    assert token.detail["token"] == secret[:6] + "…"
    assert token.detail["resources"] == ["temperature"] and token.badge == "no expiry"
    assert secret not in repr(token) and secret not in json.dumps(token.to_json())
    # A device without tokens says so.
    other = DeviceNode(
        id="thinger:device:x",
        kind="device",
        label="x",
        expandable=True,
        ref={"type": "device", "device": emulator_devices(server)[1]["device"]},
    )
    group = next(n for n in flat(batches(a, other)) if n.label == "tokens")
    assert [(n.kind, n.label) for n in flat(batches(a, group))] == [("info", "no device tokens")]


def test_mask_secrets_is_recursive() -> None:
    doc = {"token": "abcdefghijkl", "nested": [{"token": "zyxwvutsrq", "name": "n"}], "tokens": 3}
    assert mask_secrets(doc) == {
        "token": "abcdef…",
        "nested": [{"token": "zyxwvu…", "name": "n"}],
        "tokens": 3,
    }


def test_buckets(emulator: EmulatorServer) -> None:
    a, _ = adapter(emulator)
    buckets = flat(batches(a, root(a, "buckets")))
    assert [n.detail["bucket"] for n in buckets] == [
        "temperature_log",
        "energy_meter",
        "door_events",
    ]
    assert all(n.kind == "bucket" and not n.expandable for n in buckets)
    first = buckets[0]
    assert first.label == "temperature_log (Temperature log)"
    assert first.request is not None and first.request.method == "GET"
    assert first.request.url == f"{api(emulator)}/v1/users/demo/buckets/temperature_log/data"
    assert first.request.params == [("items", "10")]
    data = a.get(first.request).json()
    assert len(data) == 10 and {"ts", "val"} <= set(data[0])


# -- scale -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_100000_devices_stream_in_pages_of_1000(make_emulator) -> None:
    server = make_emulator(devices=100_000)
    a, rec = adapter(server, page_size=1000)
    start = time.perf_counter()
    count = 0
    sizes: list[int] = []
    seen_first: str | None = None
    last: str | None = None
    gen: Iterator[list[DeviceNode]] = a.children(root(a, "devices"))
    for batch in gen:
        sizes.append(len(batch))
        count += len(batch)
        seen_first = seen_first or batch[0].detail["device"]
        last = batch[-1].detail["device"]
    elapsed = time.perf_counter() - start
    assert count == 100_000
    assert sizes == [1000] * 100
    assert seen_first == "nodemcu" and last is not None and last.endswith("99999")
    assert len(rec.device_pages()) == 101  # 100 full pages and the empty one that ends the list
    assert elapsed < 60


# -- private servers: the token's svr claim ---------------------------------------------------
def svr_token(server: EmulatorServer, svr: str) -> str:
    """A user token naming a private server, signed as the emulated server signs its tokens."""
    import jwt as pyjwt

    from workbench.emulator.jwt_keys import THINGER_HS256_SECRET

    now = int(time.time())
    claims = {"exp": now + 600, "iat": now, "usr": USER, "svr": svr}
    return pyjwt.encode(claims, THINGER_HS256_SECRET, algorithm="HS256")


def svr_adapter(server: EmulatorServer, svr: str) -> Adapter:
    client = httpx.Client(headers={"Authorization": f"Bearer {svr_token(server, svr)}"}, timeout=10)
    return Adapter(profile(server), client, page_size=10)


def test_the_token_svr_claim_names_the_server_shown_on_the_account(emulator) -> None:
    host = httpx.URL(emulator.base_url).netloc.decode()  # 127.0.0.1:<port>: this server
    a = svr_adapter(emulator, host)
    roots = a.roots()
    assert [n.kind for n in roots] == ["account", "group", "group"]
    assert roots[0].detail["server"] == host and roots[0].detail["server_from"] == "token svr claim"
    assert roots[0].label == f"Thinger.io user demo on {host}"
    assert [n for batch in a.children(roots[1]) for n in batch]  # the devices of that server


def test_a_token_of_another_server_says_where_it_belongs(emulator) -> None:
    a = svr_adapter(emulator, "iot.example-factory.com")
    roots = a.roots()
    first = roots[0]
    assert first.kind == "error" and "iot.example-factory.com" in first.error
    assert a.api in first.error
    assert first.hint and 'api = "https://iot.example-factory.com"' in first.hint
    # requests still go only to the profile's own API (never re-pointed by a claim)
    devices = next(n for n in roots if n.label == "devices")
    assert devices.request is not None and devices.request.url.startswith(a.api)


def test_without_svr_there_is_no_server_node(emulator) -> None:
    a, _ = adapter(emulator)
    roots = a.roots()
    assert roots[0].kind == "account" and "server" not in roots[0].detail
