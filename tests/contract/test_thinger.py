"""Thinger.io: what the client sends and what the emulator answers, checked against the vendor's
own API description, ../shared/reference/thinger.openapi.json (the server's /v1/server/swagger.json,
exported from https://eu-central.aws.thinger.io), independently of the emulator's code.

(1) Every request the client sends while logging in, refreshing, walking the device tree and
reading stats, resources and bucket data is recorded at the transport (tests/contract/wire.py)
and must be an operation of the spec: path template and method, path parameters that match the
spec's patterns, no query parameter beyond ALLOWED_QUERY, and ``Authorization: Bearer <jwt>``.
(2) The spec gives no response schemas, only examples: every JSON answer of a documented read
whose example is a list of objects must carry the example's fields with the same JSON types
(the fields the spec's own create schema makes optional are listed in OPTIONAL_FIELDS).

Where the spec is silent, the ALLOWED tables name the source followed instead.
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
from workbench.core.platforms.thinger import Adapter
from workbench.core.profiles import get_profile
from workbench.core.session import Session
from workbench.emulator.app import EmulatorServer

pytestmark = pytest.mark.needs_shared  # reads ../shared/reference (tests/conftest.py)

PROFILE = "demo-thinger"
SPEC = "thinger.openapi.json"
BEARER = re.compile(r"^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")

# The spec documents no query parameter at all. The ones the client sends, and their source:
ALLOWED_QUERY: dict[tuple[str, str], set[str]] = {
    # Device list paging: Thinger's REST API documentation (../shared/seeds/004, "paged
    # ?count=&index="; ../shared/PLATFORMS.md section 5).
    ("get", "/v1/users/{user}/devices"): {"count", "index"},
    # Bucket reads: the same documentation ("GET /v1/users/{u}/buckets/{b}/data?items=&min_ts=
    # &max_ts=&sort="; PLATFORMS.md section 5).
    ("get", "/{version}/users/{user}/buckets/{bucket}/data"): {"items", "min_ts", "max_ts", "sort"},
}
# The token endpoint is the OAuth 2.0 password flow of the spec's securitySchemes
# (components.securitySchemes.oauth.flows.password.tokenUrl = .../oauth/token); its form body
# (RFC 6749 4.3 / 6) is not described in the spec, and it takes no bearer token.
TOKEN_ENDPOINT = ("post", "/oauth/token")
TOKEN_GRANTS = {
    "password": {"grant_type", "username", "password"},
    "refresh_token": {"grant_type", "refresh_token"},
}
# Fields of the examples that the spec's own POST schema for the same collection makes optional
# (CreateDevice: only "device" is required; asset_group / asset_type are optional properties).
OPTIONAL_FIELDS: dict[tuple[str, str], set[str]] = {
    ("get", "/v1/users/{user}/devices"): {"asset_group", "asset_type"},
}


def documented(wire: Wire, api: str) -> Iterator[tuple[Exchange, Spec, Operation | None, str]]:
    spec = load(SPEC)
    for e in wire.under(api + "/"):
        path = e.url.path[len("/thinger") :]
        yield e, spec, spec.operation(e.method, path), path


@pytest.fixture
def recorded(
    demo_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Wire, str]:
    wire = Wire().install(monkeypatch)
    assert main(["login", PROFILE]) == 0
    assert main(["devices", PROFILE, "--depth", "4", "--json"]) == 0
    capsys.readouterr()
    profile = get_profile(PROFILE)
    with Session(profile, persist=False) as session:
        session.login()
        with session.client() as client:
            adapter = adapter_for(profile, client)
            assert isinstance(adapter, Adapter)
            nodes = [n for _, n in walk(adapter, 4)]
            for node in nodes:
                if node.kind == "stats":
                    adapter.fetch_detail(node)
                request = node.request
                if node.kind in ("resource", "bucket") and request and request.method == "GET":
                    adapter.get(request)
            assert any(n.kind == "resource" for n in nodes)
        session.force_refresh()
    return wire, demo_env.base_url + "/thinger"


def pattern_of(param: dict[str, Any]) -> re.Pattern[str] | None:
    raw = (param.get("schema") or {}).get("pattern")
    if not isinstance(raw, str):
        return None
    return re.compile("^" + raw.replace("(?<", "(?P<") + "$")


def test_every_request_is_a_documented_operation(recorded: tuple[Wire, str]) -> None:
    wire, api = recorded
    problems: list[str] = []
    used: set[tuple[str, str]] = set()
    for e, spec, op, path in documented(wire, api):
        if op is None:
            problems.append(f"{SPEC}: no operation {e.method} {path} ({e})")
            continue
        key = (op.method, op.template)
        used.add(key)
        # path parameters match the spec's patterns
        names = re.findall(r"{([^}]+)}", op.template)
        pattern = re.escape(op.template)
        for name in names:
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]+)")
        m = re.fullmatch(pattern, path)
        assert m is not None
        for p in op.parameters(spec.doc, spec.path_item(op)):
            rx = pattern_of(p)
            if p.get("in") == "path" and rx and p["name"] in names and not rx.match(m[p["name"]]):
                problems.append(f"{e}: path parameter {p['name']} breaks {rx.pattern}")
        sent = {name for name, _ in e.url.params.multi_items()}
        extra = sent - spec.query_names(op) - ALLOWED_QUERY.get(key, set())
        if extra:
            problems.append(f"{e}: undocumented query parameters: {sorted(extra)}")
        authorization = e.headers.get("authorization")
        if key == TOKEN_ENDPOINT:
            form = dict(pair.split("=", 1) for pair in e.body.decode().split("&") if "=" in pair)
            wanted = TOKEN_GRANTS.get(form.get("grant_type", ""))
            if wanted is None or set(form) - {"client_id"} != wanted:
                problems.append(f"{e}: not an RFC 6749 password/refresh form: {sorted(form)}")
            if authorization and authorization.lower().startswith("bearer"):
                problems.append(f"{e}: the token endpoint takes no bearer token")
        elif not (authorization and BEARER.match(authorization)):
            problems.append(f"{e}: Authorization is not 'Bearer <jwt>': {authorization!r}")
    assert not problems, "\n".join(problems)
    expected = {
        TOKEN_ENDPOINT,
        ("get", "/v1/users/{user}/devices"),
        ("get", "/v2/users/{user}/devices/{device}/{resource}"),  # .../api and resource reads
        ("get", "/v1/users/{user}/devices/{device}/stats"),
        ("get", "/v1/users/{user}/devices/{device}/tokens"),
        ("get", "/v1/users/{user}/buckets"),
        ("get", "/{version}/users/{user}/buckets/{bucket}/data"),
    }
    assert expected <= used, expected - used


def example_items(spec: Spec, op: Operation) -> list[dict[str, Any]] | None:
    response = op.spec.get("responses", {}).get("200", {})
    media = response.get("content", {}).get("application/json", {})
    example = media.get("example")
    if isinstance(example, list) and example and all(isinstance(i, dict) for i in example):
        return example
    return None


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}[type(value)]


def test_list_answers_have_the_fields_of_the_spec_examples(recorded: tuple[Wire, str]) -> None:
    wire, api = recorded
    problems: list[str] = []
    checked = 0
    for e, spec, op, _ in documented(wire, api):
        if op is None or op.method != "get" or e.status != 200 or not e.is_json:
            continue
        examples = example_items(spec, op)
        if examples is None:
            continue
        answer = e.json()
        if not isinstance(answer, list):
            problems.append(f"{e}: the spec's example is a list, the answer is not")
            continue
        fields: dict[str, str] = {}
        for ex in examples:
            fields.update({k: json_type(v) for k, v in ex.items()})
        optional = OPTIONAL_FIELDS.get((op.method, op.template), set())
        for item in answer:
            missing = set(fields) - set(item) - optional
            if missing:
                problems.append(f"{e}: an item lacks {sorted(missing)}")
            for k, t in fields.items():
                if k in item and item[k] is not None and json_type(item[k]) != t:
                    problems.append(f"{e}: {k} is {json_type(item[k])}, the example has {t}")
            checked += 1
    assert not problems, "\n".join(problems[:20])
    assert checked >= 10
