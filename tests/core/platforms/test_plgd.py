"""The plgd adapter over real HTTP against the emulated hub: the tree to depth 3, status
filters, batches, cancellation, error nodes with words, the C2C view, onboarding nodes, a
100,000-device stream; and the incremental NDJSON / JSON-array parsers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from workbench.core.errors import ResponseError, TransportError, WorkbenchError
from workbench.core.platforms import plgd
from workbench.core.platforms.base import DeviceNode, adapter_for, walk
from workbench.core.platforms.ndjson import Line, Malformed, parse_array, parse_lines, unwrap
from workbench.core.profiles import Profile, get_profile, load_profile
from workbench.core.requests import RequestSpec

CONF, CONF_SECRET = "workbench-demo-confidential", "plgd-demo-client-secret-3391"


def gw_of(base: str) -> str:
    """The emulated hub's HTTP gateway: another origin (localhost, same port), as the hub
    configuration's httpGatewayAddress says."""
    return base.replace("://127.0.0.1:", "://localhost:") + "/plgd"


def gw(server) -> str:
    return gw_of(server.base_url)


# ---------------------------------------------------------------------------- helpers
def token(base: str) -> str:
    r = httpx.post(
        f"{base}/plgd/auth/realms/shared/protocol/openid-connect/token",
        data={"grant_type": "client_credentials", "client_id": CONF, "client_secret": CONF_SECRET},
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def bearer_client(base: str) -> httpx.Client:
    return httpx.Client(headers={"Authorization": f"bearer {token(base)}"}, timeout=60)


def profile_file(tmp_path: Path, urls: dict[str, str], name: str = "plgd-test") -> Profile:
    lines = ["version = 1", 'platform = "plgd"', "[urls]"]
    lines += [f'{k} = "{v}"' for k, v in urls.items()]
    lines += [
        "[auth]",
        'flow = "oauth2_client_credentials"',
        f'token_url = "{next(iter(urls.values()))}/auth/oauth/token"',
        f'client_id = "{CONF}"',
        'client_secret = { env = "PLGD_TEST_SECRET" }',
    ]
    path = tmp_path / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n")
    return load_profile(path)


def demo_profile(
    base: str, monkeypatch: pytest.MonkeyPatch, name: str = "demo-plgd-m2m"
) -> Profile:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", base)
    return get_profile(name)


def adapter(
    server, monkeypatch, page_size: int = 100, client: httpx.Client | None = None, **kwargs
) -> plgd.Adapter:
    a = adapter_for(
        demo_profile(server.base_url, monkeypatch),
        client or bearer_client(server.base_url),
        page_size=page_size,
        **kwargs,
    )
    assert isinstance(a, plgd.Adapter)
    return a


def flat(batches: Iterator[list[DeviceNode]]) -> list[DeviceNode]:
    return [n for b in batches for n in b]


def root(a: plgd.Adapter, node_id: str) -> DeviceNode:
    return next(n for n in a.roots() if n.id == node_id)


def admin(server, path: str, body: dict) -> None:
    r = httpx.post(f"{server.base_url}/_emulator/{path}", json=body)
    assert r.status_code == 200, r.text


def raw_devices(server, client: httpx.Client, **params: str) -> list[dict]:
    r = client.get(f"{gw(server)}/api/v1/devices", params=params)
    return [json.loads(line)["result"] for line in r.text.splitlines() if line.strip()]


# ---------------------------------------------------------------------------- roots and URLs
def test_roots_name_the_gateway_c2c_and_onboarding(emulator, monkeypatch):
    from workbench.core.session import Session

    # a logged-in session: its login found the gateway, so the gateway group has no warning
    session = Session(demo_profile(emulator.base_url, monkeypatch), persist=False)
    session.login()
    a = adapter(emulator, monkeypatch, client=session.client())
    roots = a.roots()
    assert [n.id for n in roots] == ["plgd:gateway", "plgd:c2c", "plgd:onboarding"]
    assert [n.kind for n in roots] == ["group", "group", "info"]
    base = emulator.base_url
    # the gateway comes from the hub configuration's httpGatewayAddress (+ /api/v1)
    config = httpx.get(f"{base}/plgd/.well-known/configuration").json()
    assert a.gateway == config["httpGatewayAddress"] + "/api/v1" == f"{gw_of(base)}/api/v1"
    assert roots[0].request.url == f"{gw_of(base)}/api/v1/devices" and roots[0].hint is None
    assert roots[1].request.url == f"{base}/plgd/c2c/api/v1/devices"
    assert roots[2].request.url == f"{base}/plgd/.well-known/configuration"
    assert all(n.expandable for n in roots)
    # without a session behind the client, the gateway's origin is not one the profile names
    bare = adapter(emulator, monkeypatch)
    assert "not where the session sends the token" in bare.roots()[0].hint


def test_no_c2c_group_without_a_c2c_url(emulator, tmp_path):
    p = profile_file(tmp_path, {"hub": f"{emulator.base_url}/plgd"})
    a = plgd.Adapter(p, bearer_client(emulator.base_url))
    assert [n.id for n in a.roots()] == ["plgd:gateway", "plgd:onboarding"]


def test_gateway_falls_back_to_hub_api_v1_when_the_configuration_is_unreadable(emulator, tmp_path):
    # a hub URL whose /.well-known/configuration does not exist (404 text/plain)
    p = profile_file(tmp_path, {"hub": f"{emulator.base_url}/plgd/nohub"})
    a = plgd.Adapter(p, httpx.Client())
    group = a.roots()[0]
    assert a.gateway == f"{emulator.base_url}/plgd/nohub/api/v1"
    assert "hub configuration could not be read" in group.hint and "404" in group.hint


def test_explicit_gateway_url_wins_and_foreign_gateway_origin_is_flagged(emulator, tmp_path):
    p = profile_file(tmp_path, {"hub": f"{emulator.base_url}/plgd", "gateway": gw(emulator)})
    assert plgd.Adapter(p, httpx.Client()).gateway == f"{gw(emulator)}/api/v1"

    class Foreign(plgd.Adapter):
        def configuration(self, *, refresh: bool = False):
            return {"httpGatewayAddress": "https://api.hub.example"}

    a = Foreign(profile_file(tmp_path, {"hub": f"{emulator.base_url}/plgd"}, "x"), httpx.Client())
    assert a.gateway == "https://api.hub.example/api/v1"
    assert "not where the session sends the token" in a.roots()[0].hint


# ---------------------------------------------------------------------------- the tree
def test_tree_to_depth_3_devices_resource_links_and_content(emulator, monkeypatch):
    a = adapter(emulator, monkeypatch, page_size=10)
    client = bearer_client(emulator.base_url)
    pairs = [(level, n) for level, n in walk(a, 3) if not n.id.startswith("plgd:onboarding")]
    gateway = [(lv, n) for lv, n in pairs if n.id == "plgd:gateway" or ":c2c" not in n.id]
    devices = [n for lv, n in gateway if n.kind == "device"]
    resources = [n for lv, n in gateway if n.kind == "resource"]
    assert {lv for lv, n in gateway if n.kind == "device"} == {2}
    assert {lv for lv, n in gateway if n.kind == "resource"} == {3}

    raw = raw_devices(emulator, client)
    assert [d.id for d in devices] == [f"plgd:device:{d['id']}" for d in raw]
    assert len(devices) == 25
    for node, dev in zip(devices, raw, strict=True):
        assert node.detail == dev
        assert node.label == f"{dev['name']} ({dev['id']})"
        assert node.status == dev["metadata"]["connection"]["status"].lower()
        assert node.request.method == "GET" and node.request.url.endswith(
            f"/plgd/api/v1/devices/{dev['id']}"
        )
    assert {n.status for n in devices} == {"online", "offline"}

    # resource links of one device == its resource-links answer (one bare object)
    first = devices[1]
    did = first.detail["id"]
    links = json.loads(
        client.get(f"{gw(emulator)}/api/v1/devices/{did}/resource-links").text.splitlines()[0]
    )["resources"]
    mine = [n for n in resources if n.ref["device_id"] == did]
    assert [n.label for n in mine] == [link["href"] for link in links]
    light = next(n for n in mine if n.label == "/light/1")
    assert light.badge == "core.light rw"
    assert next(n for n in mine if n.label == "/oic/p").badge == "oic.wk.p r"
    assert light.request.url == f"{gw(emulator)}/api/v1/devices/{did}/resources/light/1"
    assert light.request.params == [("onlyContent", "true")]
    assert light.detail is None and not light.expandable

    # depth 3: the content, fetched on demand with the node's own request
    content = a.content(light)
    direct = client.get(
        f"{gw(emulator)}/api/v1/devices/{did}/resources/light/1",
        params={"onlyContent": "true"},
    ).json()
    assert content == direct == light.detail
    assert set(content) == {"name", "power", "state"}


def test_device_request_and_detail_round_trip(emulator, monkeypatch):
    a = adapter(emulator, monkeypatch)
    device = flat(a.children(root(a, "plgd:gateway")))[3]
    fetched = a.content(device)
    assert fetched["id"] == device.detail["id"] and fetched["name"] == device.detail["name"]


# ---------------------------------------------------------------------------- status filters
def test_status_filter_words():
    assert plgd.status_filter("online") == plgd.status_filter("ONLINE") == "ONLINE"
    assert plgd.status_filter("Offline") == "OFFLINE"
    assert (
        plgd.status_filter(None) is None
        and plgd.status_filter("all") is None
        and plgd.status_filter("") is None
    )
    with pytest.raises(WorkbenchError, match="unknown device status"):
        plgd.status_filter("sleeping")
    assert plgd.device_status({"metadata": {"connection": {"status": "ONLINE"}}}) == "online"
    assert plgd.device_status({"metadata": {"status": {"value": "OFFLINE"}}}) == "offline"
    assert plgd.device_status({}) is None


def test_status_filtered_groups(emulator, monkeypatch):
    a = adapter(emulator, monkeypatch)
    everything = flat(a.children(a.devices_group()))
    online_group = a.devices_group("online")
    assert (
        online_group.request.params == [("status", "ONLINE")]
        and "online only" in online_group.label
    )
    online = flat(a.children(online_group))
    offline = flat(a.children(a.devices_group("offline")))
    assert online and offline
    assert {n.status for n in online} == {"online"} and {n.status for n in offline} == {"offline"}
    assert sorted(n.id for n in online + offline) == sorted(n.id for n in everything)
    # the adapter-wide filter applies to the root group
    b = adapter(emulator, monkeypatch, status="offline")
    assert [n.id for n in flat(b.children(b.roots()[0]))] == [n.id for n in offline]


# ---------------------------------------------------------------------------- batches
@pytest.mark.parametrize(
    ("page", "sizes"), [(7, [7, 7, 7, 4]), (5, [5] * 5), (25, [25]), (100, [25])]
)
def test_batches_follow_page_size(emulator, monkeypatch, page, sizes):
    a = adapter(emulator, monkeypatch, page_size=page)
    assert [len(b) for b in a.children(root(a, "plgd:gateway"))] == sizes


def test_empty_hub_yields_no_children(make_emulator, monkeypatch):
    server = make_emulator(devices=0)
    a = adapter(server, monkeypatch)
    assert list(a.children(root(a, "plgd:gateway"))) == []
    assert list(a.children(root(a, "plgd:c2c"))) == []


def test_batches_arrive_while_the_stream_is_still_open(tmp_path):
    """The first batch is handed out before the server has sent the rest."""
    sent: list[int] = []

    def body() -> Iterator[bytes]:
        for i in range(10):
            sent.append(i)
            yield (json.dumps({"result": {"id": f"dev-{i}", "name": f"d{i}"}}) + "\n").encode()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/.well-known/configuration"):
            return httpx.Response(200, json={"id": "hub"})
        return httpx.Response(200, content=body(), headers={"content-type": "application/json"})

    p = profile_file(tmp_path, {"hub": "http://127.0.0.1:9/plgd"})
    a = plgd.Adapter(p, httpx.Client(transport=httpx.MockTransport(handler)), page_size=3)
    gen = a.children(a.devices_group())
    first = next(gen)
    assert [n.label for n in first] == ["d0 (dev-0)", "d1 (dev-1)", "d2 (dev-2)"]
    assert len(sent) <= 4  # the rest is still unsent
    assert [len(b) for b in gen] == [3, 3, 1]
    assert len(sent) == 10


# ---------------------------------------------------------------------------- cancellation
def test_cancel_between_batches_stops_and_closes_the_stream(emulator, monkeypatch):
    a = adapter(emulator, monkeypatch, page_size=5)
    cancel = threading.Event()
    got = []
    for batch in a.children(root(a, "plgd:gateway"), cancel):
        got.append(batch)
        if len(got) == 2:
            cancel.set()
    assert [len(b) for b in got] == [5, 5]
    # a cancelled event before the start gives nothing at all
    assert list(a.children(root(a, "plgd:gateway"), cancel)) == []


def test_cancel_mid_stream_of_a_big_hub_is_quick(make_emulator, monkeypatch):
    server = make_emulator(devices=100_000)
    a = adapter(server, monkeypatch, page_size=1000)
    cancel = threading.Event()
    start = time.perf_counter()
    seen = 0
    for batch in a.children(root(a, "plgd:gateway"), cancel):
        seen += len(batch)
        cancel.set()
    elapsed = time.perf_counter() - start
    assert seen == 1000
    assert elapsed < 5, elapsed  # far less than reading 100,000 devices
    # the connection was closed, not left half-read: the next listing starts from the top
    again = next(a.children(root(a, "plgd:gateway")))
    assert again[0].label.endswith("0000 (" + again[0].detail["id"] + ")")


# ---------------------------------------------------------------------------- error nodes
def test_expired_token_becomes_an_error_node_with_words(fresh_emulator, monkeypatch):
    a = adapter(fresh_emulator, monkeypatch)
    admin(fresh_emulator, "tokens/expire", {"platform": "plgd"})
    for group in ("plgd:gateway", "plgd:c2c"):
        batches = list(a.children(root(a, group)))
        assert len(batches) == 1 and len(batches[0]) == 1
        err = batches[0][0]
        assert err.kind == "error" and err.badge == "401"
        assert "not authenticated" in err.error
        assert "log in again" in err.hint
        assert err.ref["retry"]["ref"]["list"] in ("devices", "c2c-devices")
    gateway_err = flat(a.children(root(a, "plgd:gateway")))[0]
    assert "code 16 UNAUTHENTICATED" in gateway_err.error


def test_session_renews_an_expired_token_and_the_tree_goes_on(fresh_emulator, monkeypatch):
    from workbench.core.session import Session

    session = Session(demo_profile(fresh_emulator.base_url, monkeypatch), persist=False)
    session.login()
    with session.client() as client:
        a = adapter_for(session.profile, client, page_size=10)
        assert len(flat(a.children(root(a, "plgd:gateway")))) == 25
        admin(fresh_emulator, "tokens/expire", {"platform": "plgd"})
        nodes = flat(
            a.children(root(a, "plgd:gateway"))
        )  # the 401 is retried once with a new token
        assert len(nodes) == 25 and all(n.kind == "device" for n in nodes)
        assert session.stats["retries_401"] == 1
        device = nodes[0]
        assert {n.label for n in flat(a.children(device))} >= {
            "/oic/d",
            "/oic/p",
            "/CoapCloudConfResURI",
        }


def test_maintenance_page_is_explained(fresh_emulator, monkeypatch):
    client = bearer_client(fresh_emulator.base_url)
    admin(fresh_emulator, "faults/plgd", {"maintenance": True})
    a = adapter(fresh_emulator, monkeypatch, client=client)
    roots = a.roots()
    # the configuration is an HTML page too: the gateway falls back to hub + /api/v1 and says so
    # the configuration is unreadable in maintenance: the hub URL + /api/v1 is the fallback
    assert a.gateway == f"{fresh_emulator.base_url}/plgd/api/v1"
    assert "could not be read" in roots[0].hint and "HTML page" in roots[0].hint
    for group in roots[:2]:
        [err] = flat(a.children(group))
        assert err.kind == "error" and err.badge == "503"
        assert "HTML page instead of the API" in err.error and "Down for maintenance" in err.error
        assert "maintenance" in err.hint and "120 s" in err.hint
    [err] = flat(a.children(roots[2]))  # onboarding: the configuration cannot be read
    assert err.kind == "error" and "cannot read the hub configuration" in err.error
    # the fault goes away: retrying the error node lists the devices
    gateway_err = flat(a.children(roots[0]))[0]
    admin(fresh_emulator, "faults/plgd", {"maintenance": False})
    again = flat(a.children(gateway_err))
    assert len(again) == 25 and {n.kind for n in again} == {"device"}


def test_invalid_json_is_explained_and_does_not_kill_the_tree(fresh_emulator, monkeypatch):
    a = adapter(fresh_emulator, monkeypatch)
    a.roots()  # resolve the gateway before the fault
    resource = DeviceNode(
        id="r",
        kind="resource",
        label="/light/1",
        request=RequestSpec(
            url=f"{a.gateway}/devices/x/resources/light/1", params=[("onlyContent", "true")]
        ),
    )
    admin(fresh_emulator, "faults/plgd", {"invalid_json": True})
    [err] = flat(a.children(root(a, "plgd:gateway")))
    assert err.kind == "error" and err.error.startswith("line 1 is not JSON")
    assert "\x1b" not in err.error and "\\x1b" in err.error
    assert "not JSON" in err.hint
    [c2c_err] = flat(a.children(root(a, "plgd:c2c")))
    assert c2c_err.kind == "error" and "not JSON" in c2c_err.error
    with pytest.raises(ResponseError, match="not valid JSON"):
        a.content(resource)


def test_broken_stream_keeps_what_arrived_and_retry_fetches_the_rest(fresh_emulator, monkeypatch):
    a = adapter(fresh_emulator, monkeypatch, page_size=10)
    group = root(a, "plgd:gateway")
    admin(fresh_emulator, "faults/plgd", {"truncate": True})
    nodes = flat(a.children(group))
    devices = [n for n in nodes if n.kind == "device"]
    assert nodes[-1].kind == "error" and "the stream broke after" in nodes[-1].error
    assert 0 < len(devices) < 25
    # words count messages; the retry skips lines (the hub writes a blank line after each)
    assert f"the stream broke after {len(devices)} messages" in nodes[-1].error
    assert nodes[-1].ref["retry"]["skip"] >= len(devices)
    admin(fresh_emulator, "faults/plgd", {"truncate": False})
    rest = flat(a.children(nodes[-1]))
    assert all(n.kind == "device" for n in rest)
    ids = [n.id for n in devices + rest]
    assert len(ids) == len(set(ids)) == 25


def test_unknown_device_and_offline_device_errors(emulator, monkeypatch):
    a = adapter(emulator, monkeypatch)
    ghost = DeviceNode(
        id="plgd:device:ghost",
        kind="device",
        label="ghost",
        expandable=True,
        ref={"list": "links", "device_id": "00000000-0000-0000-0000-000000000000"},
    )
    [err] = flat(a.children(ghost))
    assert err.badge == "404" and "not found" in err.error and "code 5 NOT_FOUND" in err.error
    with pytest.raises(ResponseError) as info:
        a.content(
            DeviceNode(
                id="x",
                kind="resource",
                label="x",
                request=a.resource_spec("00000000-0000-0000-0000-000000000000", "/light/1"),
            )
        )
    assert info.value.status == 404 and "not found" in info.value.message
    # reading an offline device past its twin (shadow=false) -> 503 code 14 "device offline"
    offline = flat(a.children(a.devices_group("offline")))[0]
    spec = a.resource_spec(offline.detail["id"], "/oic/d")
    spec.params.append(("shadow", "false"))
    with pytest.raises(ResponseError) as info:
        a.content(DeviceNode(id="y", kind="resource", label="/oic/d", request=spec))
    assert (
        info.value.status == 503
        and "device offline" in info.value.message
        and "offline" in info.value.hint
    )


def test_error_lines_in_a_stream_become_error_nodes_and_the_stream_goes_on(tmp_path):
    lines = [
        {"result": {"id": "a", "name": "A"}},
        {"error": {"code": 7, "message": "access to device b denied", "details": []}},
        "this is { not json",
        {"result": {"name": "no id"}},
        {"something": "else"},
        {"result": {"id": "c", "name": "C", "metadata": {"connection": {"status": "OFFLINE"}}}},
        {"error": {"code": 14, "message": "device offline"}},
    ]
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=text, headers={"content-type": "application/json"})

    p = profile_file(tmp_path, {"hub": "http://127.0.0.1:9/plgd", "gateway": "http://127.0.0.1:9"})
    a = plgd.Adapter(p, httpx.Client(transport=httpx.MockTransport(handler)))
    nodes = flat(a.children(a.devices_group()))
    assert [n.kind for n in nodes] == [
        "device",
        "error",
        "error",
        "error",
        "error",
        "device",
        "error",
    ]
    assert len({n.id for n in nodes}) == len(nodes)
    assert "permission denied" in nodes[1].error and "code 7" in nodes[1].error
    assert nodes[2].error.startswith("line 3 is not JSON")
    assert "device without an id" in nodes[3].error
    assert "not a stream message" in nodes[4].error
    assert nodes[5].status == "offline"
    assert "device offline" in nodes[6].error and "online" in nodes[6].hint
    assert all(
        "retry" not in n.ref for n in nodes if n.kind == "error"
    )  # per-line errors: no replay


def test_unreachable_hub_gives_an_error_node(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    p = profile_file(tmp_path, {"hub": f"http://127.0.0.1:{port}/plgd"})
    a = plgd.Adapter(p, httpx.Client(timeout=5))
    [err] = flat(a.children(a.roots()[0]))
    assert err.kind == "error" and "refused" in err.error and err.ref["retry"]
    with pytest.raises(TransportError):
        a.content(
            DeviceNode(id="x", kind="resource", label="x", request=a.resource_spec("d", "/light/1"))
        )


def test_explain_words():
    msg, hint = plgd.explain(
        401,
        {"content-type": "application/json"},
        b'{"code":16,"message":"invalid token: expired","details":[]}',
    )
    assert (
        "not authenticated" in msg
        and "invalid token: expired" in msg
        and hint.startswith("log in again")
    )
    msg, hint = plgd.explain(403, {"content-type": "text/plain"}, b"resource /oic/d is read-only")
    assert "permission denied" in msg and "read-only" in msg
    msg, hint = plgd.explain(502, {"content-type": "application/json"}, b"{oops")
    assert "not valid JSON" in msg
    msg, _ = plgd.explain(500, {}, b"\x1b[31mred")
    assert "\x1b" not in msg


# ---------------------------------------------------------------------------- C2C view
def test_c2c_view_matches_the_gateway(emulator, monkeypatch):
    a = adapter(emulator, monkeypatch, page_size=10)
    client = bearer_client(emulator.base_url)
    batches = list(a.children(root(a, "plgd:c2c")))
    assert [len(b) for b in batches] == [10, 10, 5]
    c2c = flat(iter(batches))
    gateway = flat(a.children(root(a, "plgd:gateway")))
    assert [n.detail["device"]["di"] for n in c2c] == [n.detail["id"] for n in gateway]
    assert [n.status for n in c2c] == [n.status for n in gateway]
    assert [n.label for n in c2c] == [n.label for n in gateway]
    device = next(n for n in c2c if n.badge == "oic.d.light")
    assert (
        device.request.url
        == f"{emulator.base_url}/plgd/c2c/api/v1/devices/{device.ref['device_id']}"
    )
    resources = flat(a.children(device))
    assert [r.label for r in resources] == [
        link["href"].split(device.ref["device_id"], 1)[1] for link in device.detail["links"]
    ]
    light = next(r for r in resources if r.label == "/light/1")
    assert light.badge == "core.light rw"
    assert (
        light.request.url
        == f"{emulator.base_url}/plgd/c2c/api/v1/devices/{device.ref['device_id']}/light/1"
    )
    raw = a.content(light)
    direct = client.get(
        f"{gw(emulator)}/api/v1/devices/{device.ref['device_id']}/resources/light/1",
        params={"onlyContent": "true"},
    ).json()
    assert raw == direct


# ---------------------------------------------------------------------------- onboarding nodes
def test_onboarding_nodes(emulator, monkeypatch):
    a = adapter(emulator, monkeypatch)
    config = httpx.get(f"{emulator.base_url}/plgd/.well-known/configuration").json()
    secured, plain = flat(a.children(root(a, "plgd:onboarding")))
    assert (secured.label, plain.label) == ("secured device", "unsecured device")
    assert secured.request.method == "PUT" and secured.request.url.endswith(
        "/plgd/api/v1/devices/{{device_id}}/resources/CoapCloudConfResURI"
    )
    values = {n.label.split(":", 1)[0]: n for n in flat(a.children(secured))}
    assert values["apn"].label == f"apn: {config['deviceOauthClient']['providerName']}"
    assert values["cis"].label == f"cis: {config['coapGateway']}"
    assert values["sid"].label == f"sid: {config['id']}"
    assert values["at"].label == "at: (not available)" and values["at"].badge == "missing"
    assert "workbench-demo-device" in values["at"].hint
    plain_values = {n.label.split(":", 1)[0]: n for n in flat(a.children(plain))}
    assert plain_values["cis"].label == "cis: coap+tcp://127.0.0.1:5683"
    assert plain.detail["ca_pem"] is None and "BEGIN CERTIFICATE" in secured.detail["ca_pem"]


# ---------------------------------------------------------------------------- 100,000 devices
@pytest.mark.slow
def test_100000_devices_stream_in_batches_of_1000(make_emulator, monkeypatch):
    server = make_emulator(devices=100_000)
    a = adapter(server, monkeypatch, page_size=1000)
    start = time.perf_counter()
    first_batch_at = None
    sizes: list[int] = []
    online = 0
    last_label = ""
    for batch in a.children(root(a, "plgd:gateway")):
        if first_batch_at is None:
            first_batch_at = time.perf_counter() - start
        sizes.append(len(batch))
        online += sum(1 for n in batch if n.status == "online")
        last_label = batch[-1].label
    total = time.perf_counter() - start
    assert sizes == [1000] * 100
    assert sum(sizes) == 100_000
    assert "99999 (" in last_label
    assert 0.4 * 100_000 < online < 0.8 * 100_000
    assert (
        first_batch_at is not None and first_batch_at < total / 5
    )  # progressive, not all at the end
    assert total < 90, f"100,000 devices took {total:.1f} s"
    print(f"\n100,000 plgd devices: first batch {first_batch_at:.2f} s, all in {total:.1f} s")


# ---------------------------------------------------------------------------- the parsers
def test_parse_lines_is_incremental():
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for text in (
            '{"result": 1}',
            "",
            '{"result": 2}',
            "garbage\x1b[2J",
            '{"error": {"code": 16}}',
        ):
            consumed.append(text)
            yield text

    it = parse_lines(lines())
    first = next(it)
    assert first == Line(1, {"result": 1}) and len(consumed) == 1
    rest = list(it)
    assert rest[0] == Line(3, {"result": 2})
    assert isinstance(rest[1], Malformed) and rest[1].number == 4
    assert "\x1b" not in rest[1].excerpt and "\\x1b" in rest[1].excerpt
    assert rest[1].describe().startswith("line 4 is not JSON (Expecting value")
    assert rest[2] == Line(5, {"error": {"code": 16}})


def test_parse_lines_splits_multi_line_chunks_and_unwrap():
    items = list(parse_lines(['{"result": {"a": 1}}\n{"error": {"code": 5}}\r\n\n[1]']))
    assert [unwrap(i.value) for i in items if isinstance(i, Line)] == [
        ("result", {"a": 1}),
        ("error", {"code": 5}),
        ("other", [1]),
    ]
    assert unwrap({"result": None}) == ("result", None)
    assert unwrap({"result": {"x": 1}, "error": None}) == ("result", {"x": 1})


@pytest.mark.parametrize("step", [1, 3, 7, 1000])
def test_parse_array_across_chunk_boundaries(step):
    doc = json.dumps(
        [{"device": {"di": "a", "n": 'x,]"y'}}, 12345, "s]", [1, [2]], True, None, -1.5e3]
    )
    chunks = [doc[i : i + step] for i in range(0, len(doc), step)]
    values = [item.value for item in parse_array(chunks)]
    assert values == json.loads(doc)


def test_parse_array_is_incremental_and_reports_broken_arrays():
    pulled: list[str] = []

    def chunks() -> Iterator[str]:
        for c in ("[", '{"a": 1}', ", ", '{"b": 2}', "]"):
            pulled.append(c)
            yield c

    it = parse_array(chunks())
    assert next(it) == Line(1, {"a": 1})
    assert len(pulled) <= 3
    assert list(it) == [Line(2, {"b": 2})]

    assert list(parse_array(["[]"])) == [] and list(parse_array([" [ ", " ] "])) == []
    [bad] = list(parse_array(["<html>maintenance</html>"]))
    assert isinstance(bad, Malformed) and bad.reason == "not a JSON array"
    *good, cut = list(parse_array(['[{"a":1},{"b":', "2"]))
    assert [g.value for g in good] == [{"a": 1}] and isinstance(cut, Malformed)
    *good, broken = list(parse_array(["[1, 2 3]"]))
    assert [g.value for g in good] == [1, 2] and "expected ','" in broken.reason
    [empty] = list(parse_array([]))
    assert isinstance(empty, Malformed) and "empty" in empty.reason
