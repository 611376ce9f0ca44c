"""The Ioto device tree against the emulated Ioto over real HTTP (and a few scripted answers)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from workbench.core.auth.base import TokenSet, load_flow
from workbench.core.http import make_client
from workbench.core.platforms import ioto as ioto_platform
from workbench.core.platforms.base import DeviceNode, adapter_for, walk
from workbench.core.profiles import Profile, get_profile, load_profile
from workbench.core.requests import RequestSpec, send
from workbench.core.secrets import SecretResolver
from workbench.core.session import Session
from workbench.emulator.app import EmulatorServer

STORE_KEYS = {"firmware", "humidity", "status", "temperature", "uptime"}
METRICS = {"temperature", "humidity", "cpu", "memory"}
ACCOUNT = "01JDEM0ACC0VNT0000000000AA"  # the emulated Demo Account (demo-ioto-cloudapi.toml)
DEMO_DEVICES = 17  # of the 25 devices of the default emulated cloud, in the Demo Account
# A devices group as the tree makes it when account/get cannot be read (scripted answers).
DEVICES = DeviceNode(
    id="ioto:devices",
    kind="group",
    label="All devices",
    expandable=True,
    ref={"op": "devices", "parent": "ioto:devices"},
)


@pytest.fixture
def sessions() -> Iterator[Callable[[str], Session]]:
    made: list[Session] = []

    def make(name: str) -> Session:
        session = Session(get_profile(name), resolver=SecretResolver(), persist=False)
        session.login()
        made.append(session)
        return session

    yield make
    for s in made:
        s.close()


def tree(
    sessions: Callable[[str], Session], name: str, page_size: int = 100, **client_kwargs: Any
) -> tuple[ioto_platform.Adapter, httpx.Client]:
    session = sessions(name)
    client = session.client(**client_kwargs)
    adapter = adapter_for(session.profile, client, page_size=page_size)
    assert isinstance(adapter, ioto_platform.Adapter)
    return adapter, client


def point_at(monkeypatch: pytest.MonkeyPatch, server: EmulatorServer) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", server.base_url)


def fault(server: EmulatorServer, **switches: Any) -> None:
    r = httpx.post(f"{server.base_url}/_emulator/faults/ioto", json=switches)
    assert r.status_code == 200, r.text


def request_of(node: DeviceNode) -> RequestSpec:
    assert node.request is not None, node
    return node.request


def all_children(adapter: ioto_platform.Adapter, node: DeviceNode) -> list[DeviceNode]:
    return [n for batch in adapter.children(node) for n in batch]


class Counter:
    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> None:
        self.paths.append(request.url.path)


class BadToken(httpx.Auth):
    """Signs like the profile's flow, with a token the API refuses."""

    def __init__(self, profile: Profile) -> None:
        self.flow = load_flow(profile)
        self.tokens = TokenSet(
            access_token="refused-token", extra={"origin": "https://manager.ioto.example"}
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.flow.apply(request, self.tokens)
        yield request


# --------------------------------------------------------------------------- the tree


def test_cognito_tree_to_depth_four(
    demo_env: EmulatorServer, sessions: Callable[[str], Session]
) -> None:
    adapter, client = tree(sessions, "demo-ioto", page_size=7)
    nodes = list(walk(adapter, 4))
    levels: dict[int, list[DeviceNode]] = {}
    for level, node in nodes:
        levels.setdefault(level, []).append(node)
    [account] = levels[1]
    assert (
        account.kind == "account" and account.label == "Demo Account" and account.badge == "owner"
    )
    assert account.request is not None and account.request.url.endswith("/ioto/api/account/get")
    account_id = account.detail["id"]
    devices = levels[2]
    assert devices and all(d.kind == "device" for d in devices)
    assert all(
        d.detail["accountId"] == account_id for d in devices
    )  # a user sees only their account
    assert len(devices) < 25 and len({d.id for d in devices}) == len(devices)
    groups = levels[3]
    assert [g.label for g in groups] == ["store", "metrics"] * len(devices)
    leaves = levels[4]
    stores = [n for n in leaves if n.kind == "resource"]
    metrics = [n for n in leaves if n.kind == "stats"]
    assert len(stores) == 5 * len(devices) and len(metrics) == 4 * len(devices)
    assert {n.label for n in stores} == STORE_KEYS and {n.label for n in metrics} == METRICS
    assert not any(n.kind == "error" for _, n in nodes)
    # depth 3 stops at the groups
    assert max(level for level, _ in walk(adapter, 3)) == 3


def test_node_requests_fetch_what_the_node_shows(
    demo_env: EmulatorServer, sessions: Callable[[str], Session]
) -> None:
    adapter, client = tree(sessions, "demo-ioto", page_size=5)
    [account] = adapter.roots()
    device = next(iter(adapter.children(account)))[0]
    spec = device.request
    assert spec is not None and spec.method == "POST" and spec.body_kind == "json"
    assert spec.url == f"{demo_env.base_url}/ioto/api/device/get"  # concrete URL, not a template
    assert json.loads(spec.body) == {"id": device.detail["id"]}
    assert device.label == device.detail["name"] and device.expandable
    assert send(client, spec).json()["data"] == device.detail
    store, metrics = all_children(adapter, device)
    items = all_children(adapter, store)
    temperature = next(n for n in items if n.label == "temperature")
    assert send(client, request_of(temperature)).json()["data"] == temperature.detail
    assert temperature.badge == str(temperature.detail["value"])
    cpu = next(n for n in all_children(adapter, metrics) if n.label == "cpu")
    series = send(client, request_of(cpu)).json()["data"]
    assert isinstance(series, list) and series[0]["metric"] == "cpu" and series[0]["points"]
    assert series[0]["dimensions"]["Device"] == device.detail["id"]


def test_cloudapi_tree_is_the_account(
    demo_env: EmulatorServer, sessions: Callable[[str], Session]
) -> None:
    counter = Counter()
    adapter, client = tree(
        sessions, "demo-ioto-cloudapi", page_size=10, event_hooks={"request": [counter]}
    )
    [root] = adapter.roots()
    assert root.kind == "account" and root.label == "Demo Account" and root.badge == "CloudAPI"
    assert root.request is not None and json.loads(root.request.body) == {"id": ACCOUNT}
    assert counter.paths == ["/ioto/api/tok/account/get"]
    batches = list(adapter.children(root))
    assert [len(b) for b in batches] == [10, DEMO_DEVICES - 10]
    devices = [n for b in batches for n in b]
    assert {n.detail["accountId"] for n in devices} == {ACCOUNT}
    # specs never hold /tok: the flow adds it when the request is signed
    assert all("/tok" not in request_of(n).url for n in devices)
    assert all(
        json.loads(request_of(n).body) == {"accountId": ACCOUNT, "id": n.detail["id"]}
        for n in devices
    )
    assert set(counter.paths) == {"/ioto/api/tok/account/get", "/ioto/api/tok/device/find"}
    assert send(client, request_of(devices[3])).json()["data"] == devices[3].detail
    leaves = [n for _, n in walk(adapter, 4) if _ == 4]
    assert len([n for n in leaves if n.kind == "resource"]) == DEMO_DEVICES * 5
    metric = next(n for n in leaves if n.kind == "stats")
    answer = send(client, request_of(metric)).json()
    assert answer["data"][0]["statistic"] == "current" and len(answer["data"][0]["points"]) == 1


# --------------------------------------------------------------------------- paging


@pytest.mark.parametrize(
    ("devices", "page", "sizes"),
    [  # clouds of 18, 36 and 19 devices hold 12, 24 and 13 in the Demo Account
        (18, 12, [12]),  # exactly one full page
        (36, 12, [12, 12]),  # an exact multiple
        (19, 12, [12, 1]),
        (0, 12, [0]),  # an empty cloud: one empty batch
    ],
)
def test_paging_at_the_boundaries(
    make_emulator: Callable[..., EmulatorServer],
    monkeypatch: pytest.MonkeyPatch,
    sessions: Callable[[str], Session],
    devices: int,
    page: int,
    sizes: list[int],
) -> None:
    server = make_emulator(devices=devices)
    point_at(monkeypatch, server)
    counter = Counter()
    adapter, _ = tree(
        sessions, "demo-ioto-cloudapi", page_size=page, event_hooks={"request": [counter]}
    )
    [root] = adapter.roots()
    batches = list(adapter.children(root))
    assert [len(b) for b in batches] == sizes
    ids = [n.detail["id"] for b in batches for n in b]
    assert len(set(ids)) == sum(sizes)
    assert len(counter.paths) == 1 + len(sizes)  # account/get; no extra page past the last


def test_short_and_empty_pages_are_followed_until_next_is_null(demo_env: EmulatorServer) -> None:
    """A filtered Ioto list may answer short or empty pages that still have a `next`."""
    pages = {
        None: {"data": [{"id": "A1", "name": "a1"}, {"id": "A2"}], "next": "c1", "prev": None},
        "c1": {"data": [], "next": "c2", "prev": "p1"},
        "c2": {"data": [{"id": "A3", "name": "a3"}], "next": None, "prev": "p2"},
    }
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=pages[request.url.params.get("next")])

    profile = get_profile("demo-ioto-cloudapi")
    adapter = ioto_platform.Adapter(
        profile, httpx.Client(transport=httpx.MockTransport(handler)), page_size=2
    )
    batches = list(adapter.children(DEVICES))
    assert [[n.label for n in b] for b in batches] == [["a1", "A2"], [], ["a3"]]
    # the paging options in the query string (the docs' "Query String Options"), not the body
    assert [r.url.params.get("next") for r in seen] == [None, "c1", "c2"]
    assert all(r.url.params["limit"] == "2" for r in seen)
    assert all(json.loads(r.content) == {"accountId": ACCOUNT} for r in seen)


def test_a_repeated_cursor_stops_with_words(demo_env: EmulatorServer) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [{"id": "X"}], "next": "same"})

    adapter = ioto_platform.Adapter(
        get_profile("demo-ioto-cloudapi"), httpx.Client(transport=httpx.MockTransport(handler))
    )
    batches = list(adapter.children(DEVICES))
    assert len(batches) == 3 and batches[-1][0].kind == "error" and "again" in batches[-1][0].label


def test_page_size_is_capped(demo_env: EmulatorServer, sessions: Callable[[str], Session]) -> None:
    adapter, _ = tree(sessions, "demo-ioto-cloudapi", page_size=50_000)
    assert adapter.page_size == ioto_platform.MAX_PAGE
    [[store, _]] = adapter.children(
        DeviceNode("x", "device", "x", ref={"op": "device", "deviceId": "D"})
    )
    assert store.request is not None
    assert store.request.params == [("limit", str(ioto_platform.MAX_PAGE))]
    assert "limit" not in json.loads(store.request.body)


def test_cancellation_stops_between_pages(
    demo_env: EmulatorServer, sessions: Callable[[str], Session]
) -> None:
    counter = Counter()
    adapter, _ = tree(
        sessions, "demo-ioto-cloudapi", page_size=5, event_hooks={"request": [counter]}
    )
    [root] = adapter.roots()
    counter.paths.clear()  # account/get
    cancel = threading.Event()
    pages = adapter.children(root, cancel)
    assert len(next(pages)) == 5
    cancel.set()
    assert list(pages) == []
    assert len(counter.paths) == 1
    # already cancelled: nothing is fetched at all
    assert list(adapter.children(root, cancel)) == []
    assert len(counter.paths) == 1
    # walk honours it too
    assert list(walk(adapter, 4, cancel=cancel)) == []


# --------------------------------------------------------------------------- errors


def test_forbidden_becomes_an_error_node(demo_env: EmulatorServer) -> None:
    for name in ("demo-ioto-cloudapi", "demo-ioto"):
        profile = get_profile(name)
        adapter = ioto_platform.Adapter(profile, make_client(profile, auth=BadToken(profile)))
        # the account cannot be read: say so, and still offer the devices
        err, group = adapter.roots()
        assert err.kind == "error" and err.label.startswith("account: forbidden: ")
        assert err.ref["retry"] == {"op": "roots"}
        [[node]] = list(adapter.children(group))
        assert node.kind == "error" and node.badge == "403"
        assert node.label.startswith("forbidden: ")
        assert "invalid" in node.label and node.hint and "log in" in node.hint
        assert node.request is not None and node.request.url.endswith("/device/find")
        assert node.ref["retry"]["cursor"] is None


def test_unknown_device_is_not_found(
    demo_env: EmulatorServer, sessions: Callable[[str], Session]
) -> None:
    adapter, _ = tree(sessions, "demo-ioto")
    gone = DeviceNode("x", "device", "gone", ref={"op": "device", "deviceId": "ZZZZ000000"})
    store, metrics = all_children(adapter, gone)
    assert list(adapter.children(store)) == [[]]  # a find of nothing is an empty list
    assert store.request is not None
    got = send(
        adapter.client, ioto_platform.Adapter.spec(adapter, "device/get", {"id": "ZZZZ000000"})
    )
    assert got.status == 404 and got.text() == "Unknown device"


def test_network_failure_becomes_an_error_node(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("WORKBENCH_DEMO_URL", f"http://127.0.0.1:{port}")
    profile = get_profile("demo-ioto-cloudapi")
    adapter = ioto_platform.Adapter(profile, make_client(profile, timeout=5))
    err, group = adapter.roots()
    assert err.kind == "error" and err.label.startswith("account: network: ")
    [[node]] = list(adapter.children(group))
    assert node.kind == "error" and node.label.startswith("network: ") and node.hint


def test_maintenance_and_garbage_become_error_nodes(
    fresh_emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    sessions: Callable[[str], Session],
) -> None:
    point_at(monkeypatch, fresh_emulator)
    adapter, _ = tree(sessions, "demo-ioto-cloudapi")
    [root] = adapter.roots()
    fault(fresh_emulator, maintenance=True)
    [[node]] = list(adapter.children(root))
    assert node.kind == "error" and node.badge == "503"
    assert node.label.startswith("service unavailable (HTTP 503)") and "HTML" in node.label
    assert "maintenance" in (node.hint or "")
    fault(fresh_emulator, maintenance=False, invalid_json=True)
    [[node]] = list(adapter.children(root))
    assert node.kind == "error" and node.label.startswith("the answer is not JSON")
    assert "\x1b" not in node.label and "\x00" not in node.label
    fault(fresh_emulator, invalid_json=False)
    assert sum(len(b) for b in adapter.children(root)) == DEMO_DEVICES


def test_failed_page_keeps_loaded_batches_and_retries(
    fresh_emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    sessions: Callable[[str], Session],
) -> None:
    point_at(monkeypatch, fresh_emulator)
    adapter, _ = tree(sessions, "demo-ioto-cloudapi", page_size=10)
    [root] = adapter.roots()
    pages = adapter.children(root)
    first = next(pages)
    assert len(first) == 10
    fault(fresh_emulator, maintenance=True)
    [err] = next(pages)
    assert err.kind == "error" and err.ref["retry"]["cursor"]
    assert list(pages) == []
    still_down = list(adapter.children(err))
    assert still_down[0][0].kind == "error"
    fault(fresh_emulator, maintenance=False)
    rest = list(adapter.children(err))
    assert [len(b) for b in rest] == [DEMO_DEVICES - 10]
    ids = [n.detail["id"] for n in first] + [n.detail["id"] for b in rest for n in b]
    assert len(set(ids)) == DEMO_DEVICES


# --------------------------------------------------------------------------- scale


@pytest.mark.slow
def test_100000_devices_stream_in_batches(
    make_emulator: Callable[..., EmulatorServer],
    monkeypatch: pytest.MonkeyPatch,
    sessions: Callable[[str], Session],
) -> None:
    server = make_emulator(devices=100_000)
    point_at(monkeypatch, server)
    adapter, _ = tree(sessions, "demo-ioto-cloudapi", page_size=1000)
    [root] = adapter.roots()
    start = time.perf_counter()
    sizes: list[int] = []
    first_at = None
    ids: set[str] = set()
    for batch in adapter.children(root):
        if first_at is None:
            first_at = time.perf_counter() - start
        sizes.append(len(batch))
        ids.update(n.id for n in batch)
    assert sizes == [1000] * 66 + [667]  # the Demo Account's 66,667 of the 100,000
    assert len(ids) == 66_667
    assert first_at is not None and first_at < 2.0  # the first page shows long before the last


def test_spec_is_a_plain_request_spec(demo_env: EmulatorServer) -> None:
    adapter = ioto_platform.Adapter(get_profile("demo-ioto"), httpx.Client())
    spec = adapter.spec("device/get", {"id": "X"})
    assert isinstance(spec, RequestSpec) and spec.variables() == []
    assert spec.url == f"{demo_env.base_url}/ioto/api/device/get"


# --------------------------------------------------------------------------- the account id


def _no_account_profile(tmp_path: Path) -> Profile:
    path = tmp_path / "cloudapi-no-account.toml"
    path.write_text(
        "version = 1\nplatform = 'ioto'\n[urls]\napi = '{{demo_url}}/ioto/api'\n"
        "[auth]\nflow = 'ioto_cloudapi'\n"
        "token = { demo = 'ioto-cloudapi-demo-token-9d2f6a' }\n"
    )
    return load_profile(path)


def test_the_account_id_given_at_login_scopes_the_tree(
    demo_env: EmulatorServer, tmp_path: Path
) -> None:
    profile = _no_account_profile(tmp_path)
    session = Session(
        profile, resolver=SecretResolver(values={"account_id": ACCOUNT}), persist=False
    )
    session.login()  # the login screen's field (or a prompt): kept with the tokens
    with session.client() as client:
        adapter = adapter_for(profile, client, page_size=100)
        [root] = adapter.roots()
        assert root.kind == "account" and root.label == "Demo Account"
        [devices] = list(adapter.children(root))
        assert len(devices) == DEMO_DEVICES
        assert json.loads(request_of(devices[0]).body)["accountId"] == ACCOUNT
    session.close()


def test_a_missing_account_id_is_explained_in_the_tree(
    demo_env: EmulatorServer, tmp_path: Path
) -> None:
    profile = _no_account_profile(tmp_path)
    # no account id anywhere: the unattended login fails, and the root says why
    session = Session(profile, resolver=SecretResolver(), persist=False)
    with session.client() as client:
        [err] = adapter_for(profile, client).roots()
    assert err.kind == "error" and "account id" in err.label and "accountId" in (err.hint or "")
    bare = ioto_platform.Adapter(profile, httpx.Client())  # no session, no account id
    [err] = bare.roots()
    assert err.label == "account: no account id (accountId) for the CloudAPI token"
