"""IoTConnect: what the client sends and what the emulator answers, checked against the
vendor's own Swagger 2.0 documents (../shared/reference/iotconnect-{auth,device,user}.swagger.json,
Azure prod), independently of the emulator's code.

(1) Every request the client sends while logging in, refreshing, walking the device tree and
reading device details is recorded at the transport (tests/contract/wire.py) and must be an
operation of the spec: path template, method, required query and header parameters present, no
undocumented query parameter, a JSON body that validates against the documented body schema,
and the documented ``Authorization`` form.
(2) Every JSON answer the emulator gives on those documented operations validates against the
spec's response schema (Swagger 2.0 ``definitions`` resolved by specs.py).

Where the spec is silent or wrong, ALLOWED below names the source followed instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.specs import Operation, Spec, load
from tests.contract.wire import Exchange, Wire
from workbench.cli import main
from workbench.core.platforms.base import adapter_for, walk
from workbench.core.platforms.iotconnect import Adapter
from workbench.core.profiles import get_profile
from workbench.core.session import Session
from workbench.emulator.app import EmulatorServer

pytestmark = pytest.mark.needs_shared  # reads ../shared/reference (tests/conftest.py)

PROFILE = "demo-iotconnect"
# The emulator serves each IoTConnect host under /iotconnect/<host>/api/v2; the specs' paths
# start at /api/v2 (Azure prod: https://<host>.iotconnect.io/api/v2/...).
HOSTS = {
    "auth": "iotconnect-auth.swagger.json",
    "device": "iotconnect-device.swagger.json",
    "user": "iotconnect-user.swagger.json",
}
BEARER = re.compile(r"^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")

# Where the spec is silent (or its global security says something the operation cannot mean),
# the source followed instead. Keyed by (spec file, method, path template).
ALLOWED: dict[tuple[str, str, str], dict[str, str]] = {
    # The spec's only security definition is the global "Bearer" apiKey, but basic-token is
    # what a client calls BEFORE it has any token: developer.iotconnect.io ("Step 1: Obtain a
    # basic token") calls it with no Authorization header.
    ("iotconnect-auth.swagger.json", "get", "/api/v2/Auth/basic-token"): {
        "authorization": "none",
        "source": "https://developer.iotconnect.io/ (Step 1: Obtain a basic token)",
    },
    # The login sends the basic token of step 1, not a bearer token: developer.iotconnect.io
    # ("Step 2: ... in the request header, you need to submit a basic token ... and a
    # solution key"). The spec documents only the solution-key header.
    ("iotconnect-auth.swagger.json", "post", "/api/v2/Auth/login"): {
        "authorization": "basic",
        "source": "https://developer.iotconnect.io/ (Step 2: Get an access token)",
    },
    # The refresh is the way back from an EXPIRED access token, so it carries none; the body's
    # refreshtoken (RefreshTokenRequest, required) is the credential. Source: PLATFORMS.md
    # section 1 ("no Authorization header"), consistent with the spec's request schema.
    ("iotconnect-auth.swagger.json", "post", "/api/v2/Auth/refresh-token"): {
        "authorization": "none",
        "source": "../shared/PLATFORMS.md section 1, Auth step 3",
    },
}


def split(url: str, base: str) -> tuple[str, str] | None:
    """(host kind, spec-relative path) of an emulator URL, or None when it is not IoTConnect's."""
    m = re.match(re.escape(base) + r"/iotconnect/(auth|device|user)(/api/v2(?:/.*)?)$", url)
    return (m.group(1), m.group(2)) if m else None


def documented(wire: Wire, base: str) -> Iterator[tuple[Exchange, Spec, Operation | None, str]]:
    for e in wire.under(base + "/iotconnect/"):
        where = split(str(e.url.copy_with(query=None)), base)
        assert where is not None, f"not an IoTConnect API URL: {e}"
        spec = load(HOSTS[where[0]])
        yield e, spec, spec.operation(e.method, where[1]), where[1]


@pytest.fixture
def recorded(
    demo_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Wire, str]:
    """Login, the device tree (CLI), details, the flat listing, an unknown device and a refresh,
    all recorded."""
    wire = Wire().install(monkeypatch)
    assert main(["login", PROFILE]) == 0
    assert main(["devices", PROFILE, "--depth", "6", "--json"]) == 0
    capsys.readouterr()
    profile = get_profile(PROFILE)
    with Session(profile, persist=False) as session:
        session.login()
        with session.client() as client:
            adapter = adapter_for(profile, client)
            assert isinstance(adapter, Adapter)
            nodes = [n for _, n in walk(adapter, 6)]
            devices = [n for n in nodes if n.kind == "device"]
            children = [n for n in devices if (n.detail or {}).get("reportingTo")]
            assert devices and children, "the demo tree has devices and child devices"
            for node in devices[:4] + children[:2]:
                assert adapter.detail(node).kind == "device"
            flat = [n for batch in adapter.devices() for n in batch]
            assert len(flat) == 25
            everything = adapter.all_devices_node()  # the fallback root when entities fail
            assert [n for b in adapter.children(everything) for n in b]
            assert adapter.device("no-such-device-0001").kind == "error"  # 409
        session.force_refresh()
    return wire, demo_env.base_url


def test_every_request_is_a_documented_operation(recorded: tuple[Wire, str]) -> None:
    wire, base = recorded
    problems: list[str] = []
    used: set[tuple[str, str, str]] = set()
    for e, spec, op, path in documented(wire, base):
        if op is None:
            problems.append(f"{spec.name}: no operation {e.method} {path} ({e})")
            continue
        key = (spec.name, op.method, op.template)
        used.add(key)
        params = op.parameters(spec.doc, spec.path_item(op))
        sent = [name for name, _ in e.url.params.multi_items()]
        missing = spec.required_query(op) - set(sent)
        extra = set(sent) - spec.query_names(op)
        if missing:
            problems.append(f"{e}: required query parameters missing: {sorted(missing)}")
        if extra:
            problems.append(f"{e}: undocumented query parameters: {sorted(extra)}")
        if len(sent) != len(set(sent)):
            problems.append(f"{e}: a query parameter is sent twice: {sent}")
        for p in params:
            if p.get("in") == "header" and p.get("required") and p["name"] not in e.headers:
                problems.append(f"{e}: required header {p['name']!r} missing")
            if p.get("in") == "body":
                body = e.request_json()
                errors = spec.validate(body, p.get("schema"))
                problems += [f"{e}: request body: {m}" for m in errors]
        authorization = e.headers.get("authorization")
        form = ALLOWED.get(key, {}).get("authorization", "bearer")
        if form == "bearer" and not (authorization and BEARER.match(authorization)):
            problems.append(f"{e}: Authorization is not 'Bearer <jwt>': {authorization!r}")
        if form == "basic" and not (authorization or "").startswith("Basic "):
            problems.append(f"{e}: the login should send 'Basic <basic token>'")
        if form == "none" and authorization is not None:
            problems.append(f"{e}: sends an Authorization header the operation does not take")
    assert not problems, "\n".join(problems)
    # the flows really exercised the operations the adapter and the auth flow rely on
    expected = {
        ("iotconnect-auth.swagger.json", "get", "/api/v2/Auth/basic-token"),
        ("iotconnect-auth.swagger.json", "post", "/api/v2/Auth/login"),
        ("iotconnect-auth.swagger.json", "post", "/api/v2/Auth/refresh-token"),
        ("iotconnect-user.swagger.json", "get", "/api/v2/Entity/lookup"),
        ("iotconnect-device.swagger.json", "get", "/api/v2/Device"),
        ("iotconnect-device.swagger.json", "get", "/api/v2/Device/{deviceGuid}/child-device"),
        ("iotconnect-device.swagger.json", "get", "/api/v2/Device/uniqueId/{uniqueId}"),
    }
    assert expected <= used, expected - used


def test_an_entity_is_listed_with_the_documented_entity_guid_filter(
    recorded: tuple[Wire, str],
) -> None:
    wire, base = recorded
    listings = [
        e
        for e in wire.under(base + "/iotconnect/device/api/v2/Device")
        if e.url.path.endswith("/Device")
    ]
    filtered = [e for e in listings if "EntityGuid" in e.url.params]
    assert filtered, "entity listings use the EntityGuid query parameter"
    guids = {g["guid"] for e in wire.under(base + "/iotconnect/user/") for g in e.json()["data"]}
    assert {e.url.params["EntityGuid"] for e in filtered} <= guids


def test_every_json_answer_matches_the_documented_schema(recorded: tuple[Wire, str]) -> None:
    wire, base = recorded
    problems: list[str] = []
    checked = 0
    for e, spec, op, _ in documented(wire, base):
        if op is None or not e.is_json or e.status >= 400:
            continue  # error answers: the spec gives 401/409 without a schema
        schema = spec.response_schema(op, e.status)
        if e.status == 204:
            problems.append(f"{e}: a 204 with a body")
            continue
        errors = spec.validate(e.json(), schema)
        problems += [f"{e}: {m}" for m in errors[:5]]
        checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 20


def test_204_answers_have_no_body(recorded: tuple[Wire, str]) -> None:
    wire, base = recorded
    for e, _, op, _ in documented(wire, base):
        if e.status == 204:
            assert op is not None and e.response_body == b"", str(e)


def test_the_list_items_have_only_the_spec_fields(recorded: tuple[Wire, str]) -> None:
    """DeviceList / ChildDeviceList have additionalProperties: false; spelled out here because
    these two absences are what the entity tree must never rely on."""
    wire, base = recorded
    seen: dict[str, Any] = {}
    for e, _, op, _ in documented(wire, base):
        listing = op and op.method == "get" and op.template.endswith(("/Device", "/child-device"))
        if listing and e.status == 200:
            for item in e.json()["data"]:
                seen[item["guid"]] = item
    assert seen
    assert not any("entityGuid" in i or "parentDeviceGuid" in i for i in seen.values())
