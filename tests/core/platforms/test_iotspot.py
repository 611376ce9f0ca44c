"""The iotspot device-tree adapter (modelled API) against the emulated cloud over real HTTP:
workspace -> location -> desk to depth 3, page/pageSize paging to `total`, cancellation,
error nodes with words (401, 403 scope, faults, network) and retry after a failed page."""

from __future__ import annotations

import socket
import threading
from typing import Any

import httpx
import pytest

from workbench.core.platforms.base import DeviceNode, adapter_for, walk
from workbench.core.platforms.iotspot import MODEL_LABEL, Adapter
from workbench.core.profiles import AuthConfig, Profile, get_profile
from workbench.core.session import Session
from workbench.emulator.app import EmulatorServer

CLIENT_ID = "iotspot-demo-client"
CLIENT_SECRET = "iotspot+demo/secret=8852"
MODEL_TAG = "iotspot-emulator-model"


# -- helpers ---------------------------------------------------------------------------------
def api(server: EmulatorServer) -> str:
    return server.base_url + "/iotspot/api/v1"


def access_token(server: EmulatorServer, scope: str = "iotspot/openapi") -> str:
    r = httpx.post(
        server.base_url + "/iotspot/auth/oauth2/token",
        timeout=10,
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": scope,
        },
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def profile(
    server: EmulatorServer, scope: str = "iotspot/openapi", url: str | None = None
) -> Profile:
    return Profile(
        name="s",
        platform="iotspot",
        urls={"api": url or api(server)},
        auth=AuthConfig(flow="oauth2_client_credentials", params={"scope": scope}),
    )


class Recorder:
    def __init__(self, client: httpx.Client) -> None:
        self.urls: list[httpx.URL] = []
        client.event_hooks["request"].append(lambda req: self.urls.append(req.url))

    def pages(self, suffix: str) -> list[tuple[int, int]]:
        return [
            (int(u.params["page"]), int(u.params["pageSize"]))
            for u in self.urls
            if u.path.endswith(suffix)
        ]


def adapter(
    server: EmulatorServer, page_size: int = 100, scope: str = "iotspot/openapi"
) -> tuple[Adapter, Recorder]:
    client = httpx.Client(
        headers={"Authorization": f"Bearer {access_token(server, scope)}"}, timeout=10
    )
    return Adapter(profile(server, scope), client, page_size=page_size), Recorder(client)


def everything(server: EmulatorServer, path: str) -> list[dict[str, Any]]:
    r = httpx.get(
        api(server) + path,
        params={"pageSize": 1000},
        timeout=10,
        headers={"Authorization": f"Bearer {access_token(server)}"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return body["items"]


def flat(bs: list[list[DeviceNode]]) -> list[DeviceNode]:
    return [n for b in bs for n in b]


def node_for(kind: str, ident: str) -> DeviceNode:
    ref = (
        {"type": "locations", "workspace": ident}
        if kind == "workspace"
        else {"type": "desks", "location": ident}
    )
    return DeviceNode(
        id=f"iotspot:{kind}:{ident}", kind="entity", label=ident, expandable=True, ref=ref
    )


def set_faults(server: EmulatorServer, **faults: Any) -> None:
    assert (
        httpx.post(
            f"{server.base_url}/_emulator/faults/iotspot", json=faults, timeout=10
        ).status_code
        == 200
    )


def reset_faults(server: EmulatorServer) -> None:
    assert httpx.post(f"{server.base_url}/_emulator/faults/reset", timeout=10).status_code == 200


def only_error(nodes: list[DeviceNode]) -> DeviceNode:
    assert len(nodes) == 1 and nodes[0].kind == "error", [n.label for n in nodes]
    assert nodes[0].error
    return nodes[0]


# -- the tree --------------------------------------------------------------------------------
def test_tree_to_depth_3_matches_the_emulator(emulator: EmulatorServer) -> None:
    a, _ = adapter(emulator, page_size=2)
    tree = list(walk(a, 3))
    model = tree[0][1]
    assert (
        tree[0][0] == 1
        and model.kind == "info"
        and model.label == MODEL_LABEL
        and model.badge == "model"
    )
    assert "not publicly documented" in model.detail["note"]

    workspaces = everything(emulator, "/workspaces")
    assert [n.detail["id"] for lvl, n in tree if lvl == 1 and n.kind == "entity"] == [
        w["id"] for w in workspaces
    ]
    expected: list[tuple[int, str]] = []
    for w in workspaces:
        expected.append((1, w["id"]))
        for loc in everything(emulator, f"/workspaces/{w['id']}/locations"):
            expected.append((2, loc["id"]))
            expected.extend(
                (3, d["id"]) for d in everything(emulator, f"/locations/{loc['id']}/desks")
            )
    assert [(lvl, n.detail["id"]) for lvl, n in tree[1:]] == expected
    assert sum(1 for _, n in tree if n.kind == "device") == 25

    desks = {d["id"]: d for d in everything(emulator, "/desks")}
    for lvl, node in tree:
        if node.kind != "device":
            continue
        desk = desks[node.detail["id"]]
        assert lvl == 3 and not node.expandable
        assert node.status == ("online" if desk["sensor"]["online"] else "offline")
        assert node.badge == desk["occupancy"]["status"]
        assert node.detail["model"] == MODEL_TAG
        assert node.label == f"{desk['name']} ({desk['id']})"
        assert node.request is not None and node.request.method == "GET"
        assert node.request.url == f"{api(emulator)}/desks/{desk['id']}"
    assert {n.status for _, n in tree if n.kind == "device"} == {"online", "offline"}
    first_ws = tree[1][1]
    assert (
        first_ws.request is not None
        and first_ws.request.url == f"{api(emulator)}/workspaces/{first_ws.detail['id']}"
    )
    assert first_ws.detail["model"] == MODEL_TAG and first_ws.expandable
    location = tree[2][1]
    assert (
        location.request is not None
        and location.request.url == f"{api(emulator)}/locations/{location.detail['id']}"
    )
    assert location.badge == f"{location.detail['deskCount']} desks"


def test_a_desk_request_really_fetches_the_desk(emulator: EmulatorServer) -> None:
    a, _ = adapter(emulator)
    desk = flat(list(a.children(node_for("location", "loc-01-01"))))[0]
    assert desk.request is not None
    record = a.get(desk.request)
    assert record.json()["id"] == desk.detail["id"]
    assert record.header("X-Emulator-Model")


def test_through_a_session_and_adapter_for(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", emulator.base_url)
    prof = get_profile("demo-iotspot")
    session = Session(prof, persist=False)
    session.login()
    with session.client() as client:
        a = adapter_for(prof, client, page_size=3)
        assert isinstance(a, Adapter)
        desks = [n for _, n in walk(a, 3) if n.kind == "device"]
        assert len(desks) == 25


# -- paging ----------------------------------------------------------------------------------
def test_paging_until_total_at_the_boundaries(emulator: EmulatorServer) -> None:
    # 25 desks: 3 workspaces, 2 locations each, locations of 4 desks (the last has 5).
    for size, requests in [
        (3, [(1, 3)]),
        (1, [(1, 1), (2, 1), (3, 1)]),
        (2, [(1, 2), (2, 2)]),
        (100, [(1, 100)]),
    ]:
        a, rec = adapter(emulator, page_size=size)
        roots = a.roots()
        assert [n.detail["id"] for n in roots[1:]] == ["ws-01", "ws-02", "ws-03"]
        assert rec.pages("/workspaces") == requests, size
    for size, sizes, requests in [
        (4, [4], [(1, 4)]),
        (2, [2, 2], [(1, 2), (2, 2)]),
        (1, [1, 1, 1, 1], [(1, 1), (2, 1), (3, 1), (4, 1)]),
        (3, [3, 1], [(1, 3), (2, 3)]),
    ]:
        a, rec = adapter(emulator, page_size=size)
        bs = list(a.children(node_for("location", "loc-01-01")))
        assert [len(b) for b in bs] == sizes, size
        assert [n.detail["id"] for n in flat(bs)] == [f"desk-{i:06d}" for i in range(1, 5)]
        assert rec.pages("/locations/loc-01-01/desks") == requests, size


def test_empty_lists(make_emulator) -> None:
    server = make_emulator(devices=0)
    a, rec = adapter(server, page_size=10)
    roots = a.roots()
    assert [n.detail["id"] for n in roots[1:]] == ["ws-01"]
    locations = flat(list(a.children(roots[1])))
    assert [n.detail["deskCount"] for n in locations] == [0, 0]
    assert [(n.kind, n.label) for n in flat(list(a.children(locations[0])))] == [
        ("info", "no desks")
    ]
    assert rec.pages(f"/locations/{locations[0].detail['id']}/desks") == [(1, 10)]


def test_page_size_is_capped_at_the_apis_maximum(emulator: EmulatorServer) -> None:
    a, rec = adapter(emulator, page_size=5000)
    assert a.page_size == 1000
    assert len(a.roots()) == 4
    assert rec.pages("/workspaces") == [(1, 1000)]


def test_100000_desks_page_through_a_big_location(make_emulator) -> None:
    server = make_emulator(devices=100_000)
    a, rec = adapter(server, page_size=100)
    workspaces = a.roots()[1:]
    assert len(workspaces) == 6
    locations = flat(list(a.children(workspaces[0])))
    assert len(locations) == 20
    big = locations[0]
    count = big.detail["deskCount"]
    bs = list(a.children(big))
    assert sum(len(b) for b in bs) == count and count > 800
    assert all(len(b) == 100 for b in bs[:-1])
    assert len(rec.pages(f"/locations/{big.detail['id']}/desks")) == -(-count // 100)


def test_cancel_between_pages(emulator: EmulatorServer) -> None:
    a, rec = adapter(emulator, page_size=1)
    cancel = threading.Event()
    gen = a.children(node_for("location", "loc-01-01"), cancel)
    assert len(next(gen)) == 1
    cancel.set()
    assert list(gen) == []
    assert rec.pages("/desks") == [(1, 1)]


# -- errors ----------------------------------------------------------------------------------
def test_expired_token_says_log_in_again(fresh_emulator: EmulatorServer) -> None:
    a, _ = adapter(fresh_emulator)
    httpx.post(
        f"{fresh_emulator.base_url}/_emulator/tokens/expire",
        json={"platform": "iotspot"},
        timeout=10,
    )
    roots = a.roots()
    assert roots[0].label == MODEL_LABEL
    err = only_error(roots[1:])
    assert (
        err.badge == "401" and "not authorised (401)" in err.label and "Unauthorized" in err.label
    )
    assert err.hint and err.hint.startswith("log in again")
    assert err.ref["retry"] == {"type": "workspaces", "page": 1, "parent": "iotspot:workspaces"}


def test_a_token_without_the_scope_is_forbidden(emulator: EmulatorServer) -> None:
    a, _ = adapter(emulator, scope="iotspot/outlook")
    err = only_error(a.roots()[1:])
    assert err.badge == "403" and "forbidden (403)" in err.label
    # the hint names what the token really carries (its scope claim), not what was asked for
    assert err.hint and "carries the scopes iotspot/outlook -" in err.hint
    assert "ask iotspot which scope the open API needs" in err.hint


def test_the_info_node_shows_the_granted_scopes(emulator: EmulatorServer) -> None:
    a, _ = adapter(emulator)  # asks for iotspot/openapi
    info = a.roots()[0]
    assert info.detail["scope asked for"] == "iotspot/openapi"
    granted = info.detail["scopes granted (the token's scope claim)"]
    assert granted == ["iotspot/outlook", "iotspot/production"]


def test_faults_become_error_nodes_and_retry_recovers(fresh_emulator: EmulatorServer) -> None:
    server = fresh_emulator
    a, _ = adapter(server)
    for faults, words, badge in [
        ({"invalid_json": True}, "not valid JSON", "error"),
        ({"maintenance": True}, "down for maintenance (503", "503"),
        ({"error_rate": 1.0}, "server error (500)", "500"),
    ]:
        set_faults(server, **faults)
        err = only_error(a.roots()[1:])
        assert words in err.label and err.badge == badge and err.hint, err.label
        assert only_error(flat(list(a.children(node_for("workspace", "ws-01")))))
        reset_faults(server)
    assert [n.detail["id"] for n in flat(list(a.retry(err)))] == ["ws-01", "ws-02", "ws-03"]


def test_a_failed_page_keeps_earlier_batches_and_retries_from_there(
    fresh_emulator: EmulatorServer,
) -> None:
    server = fresh_emulator
    a, rec = adapter(server, page_size=1)
    gen = a.children(node_for("location", "loc-01-01"))
    first = next(gen)
    set_faults(server, error_rate=1.0)
    err = only_error(next(gen))
    assert list(gen) == []
    assert "desks (page 2)" in err.label and err.ref["retry"]["page"] == 2
    assert err.request is not None and ("page", "2") in err.request.params
    reset_faults(server)
    rest = flat(list(a.retry(err)))
    assert [n.detail["id"] for n in first + rest] == [f"desk-{i:06d}" for i in range(1, 5)]
    assert rec.pages("/desks") == [(1, 1), (2, 1), (2, 1), (3, 1), (4, 1)]


def test_network_failure_is_an_error_node() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    a = Adapter(
        profile(None, url=f"http://127.0.0.1:{port}/iotspot/api/v1"),  # type: ignore[arg-type]
        httpx.Client(timeout=2),
    )
    roots = a.roots()
    assert roots[0].label == MODEL_LABEL
    err = only_error(roots[1:])
    assert "could not load workspaces" in err.label and "refused" in err.label and err.hint


def test_html_instead_of_json_is_named(fresh_emulator: EmulatorServer) -> None:
    a, _ = adapter(fresh_emulator)
    set_faults(fresh_emulator, maintenance=True)  # an HTML page with a 503
    err = only_error(a.roots()[1:])
    assert "Down for maintenance" in err.label and err.hint == "the server asks to retry in 120 s"
    reset_faults(fresh_emulator)
    # A 200 with an HTML page (a login portal in the way) is named as such.
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>portal</body></html>"
    portal = httpx.Client(
        transport=httpx.MockTransport(
            lambda req: httpx.Response(200, content=page, headers={"Content-Type": "text/html"})
        )
    )
    err = only_error(Adapter(profile(fresh_emulator), portal).roots()[1:])
    assert "HTML page instead of JSON" in err.label and "Sign in" in err.label
    assert err.hint and "API URL" in err.hint
