"""plgd against the vendor's own documents, not against our emulator's code.

(1) Every request the workbench's plgd client sends (recorded at the httpx transport of the
    session's clients) during `workbench login` + `workbench devices` + a resource read is an
    operation of plgd's HTTP gateway spec (``plgd-http-gateway.swagger.yaml``: path template,
    method, required and documented query parameters, the bearer header), or one of the
    authority's Keycloak / OIDC endpoints in the commented allow-list below
    (``plgd-try-cloud.md``). The token goes to the hub's origin and the gateway's, nowhere else.
(2) Every JSON answer of the emulated hub on the documented read operations validates against
    the spec's response schema (NDJSON streams line by line).

Where the spec is wrong or silent, an entry below names the source followed instead.
A missing spec fails (tests/contract/specs.py), it never skips.

Bite check (done 2026-12-05): with ``Session.token_origins`` reduced to the profile's origins
(no discovered gateway), test_login_devices_and_read_match_the_spec and
test_token_goes_only_to_the_hub_and_the_gateway fail: every gateway call is 401 and the device
groups are error nodes.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.authkit import BrowserRun, RecordingServer, Seen, play_browser, write_profile
from tests.contract.specs import Spec, load
from workbench.cli import main
from workbench.core.auth.callback import PasteOffer
from workbench.core.profiles import Origin
from workbench.emulator.app import EmulatorServer

pytestmark = pytest.mark.needs_shared  # reads ../shared/reference (tests/conftest.py)

SPEC = "plgd-http-gateway.swagger.yaml"

# --- allow-list: what the gateway spec does not describe -----------------------------------
# The authority is not part of the HTTP gateway spec. try.plgd.cloud's authority is the
# Keycloak realm https://auth.plgd.cloud/realms/shared; plgd-try-cloud.md names its OIDC
# discovery document and the /protocol/openid-connect/{auth,token} endpoints (Keycloak's
# standard paths). Requests under the authority must be one of these, with these fields
# (query for GET, form for POST). The ID token of the login is checked against the realm's
# signing keys, read from the discovery document's `jwks_uri` (Keycloak's standard
# /protocol/openid-connect/certs; OpenID Connect Discovery 1.0, section 3):
KEYCLOAK: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/.well-known/openid-configuration"): (),
    ("GET", "/protocol/openid-connect/auth"): (
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
    ),
    ("POST", "/protocol/openid-connect/token"): ("grant_type",),
    ("GET", "/protocol/openid-connect/certs"): (),
}
# The spec declares {resourceHref} as one path parameter, but OCF hrefs have several segments
# (/light/1). The hub takes everything after /resources/ as the href: plgd-dev/hub
# http-gateway/service/requestHandler.go (snapshot 334f508f), "/" + strings.Join(paths[2:], "/").
RESOURCE_HREF = re.compile(r"^(/api/v1/devices/[^/]+/resources)/(.+)$")
# Error answers: the gateway writes the bare google.rpc.Status {"code","message","details"}
# (plgd-dev/hub http-gateway/serverMux/writeError.go, protojson), not the {"error": ...}
# wrapper the spec's components.responses show; they are checked against schemas/Error.
ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}
# schemas/Resource.content is oneOf [ResourceContent (any object), ResourceCreatedContent (an
# object whose properties are all optional)]: every object matches both, so no content can
# pass a strict oneOf; the spec's own Resource example fails it too. Read as anyOf: the one
# error allowed is "valid under each of" at a resource's content.
BOTH_CONTENTS = re.compile(r"(^|/)content: .* is valid under each of .*ResourceC")


def problems_of(spec: Spec, doc: Any, schema: dict[str, Any] | None) -> list[str]:
    return [p for p in spec.validate(doc, schema) if not BOTH_CONTENTS.search(p)]


def test_the_oneof_allowance_is_needed_for_the_specs_own_example() -> None:
    spec = load(SPEC)
    resource = spec.doc["components"]["schemas"]["Resource"]
    errors = spec.validate(resource["example"], {"$ref": "#/components/schemas/Resource"})
    assert errors and all(BOTH_CONTENTS.search(e) for e in errors)


# --- recording what the client sends ---------------------------------------------------------
@dataclass
class Sent:
    method: str
    url: httpx.URL
    headers: dict[str, str]
    body: bytes

    @property
    def origin(self) -> Origin:
        return Origin.of(str(self.url))

    def carries(self, token: str) -> bool:
        return (
            token in self.headers.get("authorization", "")
            or token in str(self.url)
            or token.encode() in self.body
        )


class Recorder(httpx.BaseTransport):
    """The session's transport: every request exactly as it goes on the wire."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list[Sent] = []
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        with self.lock:
            self.sent.append(
                Sent(
                    request.method,
                    request.url,
                    {k.lower(): v for k, v in request.headers.items()},
                    body,
                )
            )
        return self.inner.handle_request(request)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Every client the session makes (the flow's and the API's) sends through a Recorder."""
    from workbench.core.http import make_client

    rec = Recorder()

    def recording_client(profile: Any = None, **kwargs: Any) -> httpx.Client:
        return make_client(profile, transport=rec, **kwargs)

    # the session's module-level name: both its flow client and its API clients come from it
    monkeypatch.setattr("workbench.core.session.make_client", recording_client)
    return rec


@pytest.fixture
def browser_for_no_browser(monkeypatch: pytest.MonkeyPatch) -> BrowserRun:
    """`login --no-browser` on a terminal prints the URL and offers paste-back; here a person
    (a thread) opens the URL and logs in, and the loopback listener takes the callback."""
    run = BrowserRun()

    def offer_paste(offer: PasteOffer) -> None:
        threading.Thread(
            target=play_browser, args=(offer.authorization_url, run), daemon=True
        ).start()

    monkeypatch.setattr("workbench.commands.browser_login.terminal_attached", lambda: True)
    monkeypatch.setattr("workbench.commands.browser_login.read_paste", offer_paste)
    return run


def plgd_profile(directory: Path, name: str, hub: str, extra: str = "") -> Path:
    """A plgd profile that names only its hub (no C2C: the C2C API is not in this spec)."""
    return write_profile(
        directory,
        name,
        f'version = 1\nplatform = "plgd"\n[urls]\nhub = "{hub}"\n[auth]\nflow = "plgd_hub"\n{extra}',
    )


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def walk(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for node in nodes:
        yield node
        yield from walk(node.get("children") or [])


def hub_configuration(hub: str) -> dict[str, Any]:
    config: dict[str, Any] = httpx.get(hub + "/.well-known/configuration").json()
    return config


# --- checking one request against the spec / the realm ----------------------------------------
def spec_path(path: str) -> str:
    m = RESOURCE_HREF.match(path)
    return f"{m.group(1)}/{{href}}" if m else path


def check_gateway_request(spec: Spec, sent: Sent, path: str) -> list[str]:
    """Problems of one request to the gateway (path relative to the gateway's base)."""
    concrete = path
    m = RESOURCE_HREF.match(path)
    if m:  # one segment for the spec's {resourceHref} (see RESOURCE_HREF)
        concrete = f"{m.group(1)}/{m.group(2).replace('/', '%2F')}"
    op = spec.operation(sent.method, concrete)
    if op is None:
        return [f"{sent.method} {path}: no such operation in {SPEC}"]
    problems = []
    query = set(parse_qs(sent.url.query.decode(), keep_blank_values=True))
    if missing := spec.required_query(op) - query:
        problems.append(f"{sent.method} {path}: required query parameters missing: {missing}")
    if unknown := query - spec.query_names(op):
        problems.append(f"{sent.method} {path}: undocumented query parameters: {unknown}")
    if op.spec.get("security") and not re.fullmatch(
        r"Bearer \S+", sent.headers.get("authorization", "")
    ):
        problems.append(f"{sent.method} {path}: no 'Authorization: Bearer <token>' (oauth2)")
    return problems


def check_realm_request(sent: Sent, suffix: str) -> list[str]:
    fields = KEYCLOAK.get((sent.method, suffix))
    if fields is None:
        return [f"{sent.method} {suffix}: not a Keycloak/OIDC endpoint of the allow-list"]
    if sent.method == "GET":
        given = set(parse_qs(sent.url.query.decode(), keep_blank_values=True))
    else:
        given = set(parse_qs(sent.body.decode(), keep_blank_values=True))
    missing = set(fields) - given
    return [f"{sent.method} {suffix}: missing {missing}"] if missing else []


def classify(
    spec: Spec, sent: list[Sent], hub: str, gateway: str, authority: str
) -> tuple[list[str], set[str]]:
    """(problems, the kinds of request seen) for everything the client sent."""
    problems: list[str] = []
    kinds: set[str] = set()
    hub_o, gw_o, auth_o = Origin.of(hub), Origin.of(gateway), Origin.of(authority)
    hub_path = urlsplit(hub).path.rstrip("/")
    gw_path = urlsplit(gateway).path.rstrip("/")
    auth_path = urlsplit(authority).path.rstrip("/")
    for s in sent:
        path = s.url.path
        if s.origin == hub_o and path == hub_path + "/.well-known/configuration":
            kinds.add("GET /.well-known/configuration")
            if spec.operation("GET", "/.well-known/configuration") is None:
                problems.append("the hub configuration is not in the spec")
        elif s.origin == gw_o and path.startswith(gw_path + "/api/"):
            rel = path[len(gw_path) :]
            kinds.add(f"{s.method} {spec_path(rel)}")
            problems += check_gateway_request(spec, s, rel)
        elif s.origin == auth_o and path.startswith(auth_path + "/"):
            suffix = path[len(auth_path) :]
            kinds.add(f"realm {s.method} {suffix}")
            problems += check_realm_request(s, suffix)
        else:
            problems.append(f"{s.method} {s.url}: neither the hub, its gateway nor its authority")
    return problems, kinds


# --- (1) requests ------------------------------------------------------------------------------
def test_login_devices_and_read_match_the_spec(
    demo_env: EmulatorServer,
    recorder: Recorder,
    browser_for_no_browser: BrowserRun,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    spec = load(SPEC)
    hub = f"{demo_env.base_url}/plgd"
    plgd_profile(tmp_path, "contract-plgd", hub)
    dirs = ("--profiles", str(tmp_path))
    assert main(["login", "contract-plgd", "--no-browser", *dirs]) == 0
    assert browser_for_no_browser.error is None
    tree = cli_json(capsys, "devices", "contract-plgd", "--depth", "3", *dirs)
    nodes = list(walk(tree["nodes"]))
    assert not [n for n in nodes if n["kind"] == "error"], "error nodes: the gateway refused?"
    devices = [n for n in nodes if n["kind"] == "device"]
    resources = [n for n in nodes if n["kind"] == "resource"]
    assert len(devices) == 25 and resources
    # a resource read, as the tree's Enter / the composer does, through the stored session
    from workbench.core.platforms.plgd import Adapter
    from workbench.core.profiles import get_profile
    from workbench.core.session import Session

    profile = get_profile("contract-plgd", str(tmp_path))
    session = Session.restore(profile)
    assert session is not None
    light = next(n for n in resources if n["label"] == "/light/1")
    device_id = light["id"].removeprefix("plgd:resource:").removesuffix("/light/1")
    with session.client() as client:
        adapter = Adapter(profile, client)
        content = adapter.content(adapter.resource_node(device_id, {"href": "/light/1"}))
    assert isinstance(content, dict) and "state" in content

    config = hub_configuration(hub)
    problems, kinds = classify(
        spec, recorder.sent, hub, config["httpGatewayAddress"], config["authority"]
    )
    assert problems == []
    assert {
        "GET /.well-known/configuration",
        "realm GET /.well-known/openid-configuration",
        "realm GET /protocol/openid-connect/auth",
        "realm POST /protocol/openid-connect/token",
        "realm GET /protocol/openid-connect/certs",  # the ID token's signature is checked
        "GET /api/v1/devices",
        "GET /api/v1/devices/{deviceId}/resource-links",
        "GET /api/v1/devices/{deviceId}/resources/{href}",
    } <= {re.sub(r"/devices/[0-9a-f-]{36}", "/devices/{deviceId}", k) for k in kinds}
    # the login's authorization request: PKCE S256 and the web client the hub names
    auth = next(
        s
        for s in recorder.sent
        if s.url.path.endswith("/protocol/openid-connect/auth")
        and parse_qs(s.url.query.decode())["client_id"] == [config["webOauthClient"]["clientId"]]
    )
    query = parse_qs(auth.url.query.decode())
    assert query["code_challenge_method"] == ["S256"] and query["scope"] == ["openid"]


def test_token_goes_only_to_the_hub_and_the_gateway(
    demo_env: EmulatorServer,
    recorder: Recorder,
    browser_for_no_browser: BrowserRun,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """A stand-in hub on its own origin serves the configuration; the authority (the emulated
    realm) and the HTTP gateway are two more origins. The access token reaches the stand-in
    hub and the gateway only; the authority sees the code and the refresh token, never it."""
    emulated = f"{demo_env.base_url}/plgd"
    config = hub_configuration(emulated)
    gateway, authority = config["httpGatewayAddress"], config["authority"]

    def stand_in(seen: Seen) -> tuple[int, dict[str, str], Any]:
        if seen.method == "GET" and seen.path == "/.well-known/configuration":
            return 200, {}, config
        return 404, {"Content-Type": "text/plain"}, "404 page not found"

    with RecordingServer(stand_in) as hub_server:
        hub = hub_server.base_url
        origins = {Origin.of(hub), Origin.of(gateway), Origin.of(authority)}
        assert len(origins) == 3  # three different origins
        plgd_profile(tmp_path, "standin-plgd", hub)
        dirs = ("--profiles", str(tmp_path))
        assert main(["login", "standin-plgd", "--no-browser", *dirs]) == 0
        out = capsys.readouterr().out
        assert f"this token is sent to: {hub}, {Origin.of(gateway).url}" in out
        tree = cli_json(capsys, "devices", "standin-plgd", "--depth", "2", *dirs)
        devices = [n for n in walk(tree["nodes"]) if n["kind"] == "device"]
        assert len(devices) == 25, tree
    from workbench.core.store import TokenStore

    stored = TokenStore().get("standin-plgd")
    assert stored is not None
    token = stored.access_token
    reached = {s.origin for s in recorder.sent if s.carries(token)}
    assert reached == {Origin.of(gateway)} | ({Origin.of(hub)} & reached)
    assert Origin.of(authority) not in reached
    assert all(
        "authorization" not in s.headers for s in recorder.sent if s.origin == Origin.of(authority)
    )
    # the login went to the realm's Keycloak endpoints
    realm = urlsplit(authority).path
    assert {s.url.path for s in recorder.sent if s.origin == Origin.of(authority)} >= {
        realm + "/.well-known/openid-configuration",
        realm + "/protocol/openid-connect/auth",
        realm + "/protocol/openid-connect/token",
    }


def test_a_refused_redirect_uri_is_said_in_words(
    demo_env: EmulatorServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A client registered only for the portal's https redirect (like a hub UI's own web
    client at a real realm) refuses the loopback redirect: the login says so, and what to do."""
    hub = f"{demo_env.base_url}/plgd"
    plgd_profile(tmp_path, "portal-plgd", hub, 'client_id = "workbench-demo-portal"\n')
    code = main(["login", "portal-plgd", "--no-browser", "--profiles", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 3
    assert "refused the redirect URI http://127.0.0.1:" in err
    assert "workbench-demo-portal" in err and "Invalid parameter: redirect_uri" in err
    assert "register your own client" in err and "paste-back login" in err
    assert "Open this URL" not in err  # no browser tab that would never come back


# --- (2) answers -------------------------------------------------------------------------------
def machine_token(base: str) -> str:
    config = hub_configuration(f"{base}/plgd")
    token_url = httpx.get(config["authority"] + "/.well-known/openid-configuration").json()[
        "token_endpoint"
    ]
    r = httpx.post(
        token_url,
        data={"grant_type": "client_credentials", "scope": "openid"},
        auth=("workbench-demo-confidential", "plgd-demo-client-secret-3391"),
    )
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def validate_answer(spec: Spec, path: str, response: httpx.Response, *, stream: bool) -> int:
    """Validate a 200 answer (each NDJSON line of a stream); returns the documents checked."""
    op = spec.operation("GET", path)
    assert op is not None, path
    assert response.status_code == 200, response.text
    schema = spec.response_schema(op, 200)
    docs = (
        [json.loads(line) for line in response.text.splitlines() if line.strip()]
        if stream
        else [response.json()]
    )
    for i, doc in enumerate(docs):
        assert problems_of(spec, doc, schema) == [], f"{path} document {i}"
    return len(docs)


def test_read_answers_validate_against_the_spec(emulator: EmulatorServer) -> None:
    spec = load(SPEC)
    hub = f"{emulator.base_url}/plgd"
    config = hub_configuration(hub)
    assert validate_answer(
        spec,
        "/.well-known/configuration",
        httpx.get(hub + "/.well-known/configuration"),
        stream=False,
    )
    gateway = config["httpGatewayAddress"]
    with httpx.Client(
        base_url=gateway, headers={"Authorization": f"Bearer {machine_token(emulator.base_url)}"}
    ) as api:
        assert (
            validate_answer(spec, "/api/v1/devices", api.get("/api/v1/devices"), stream=True) == 25
        )
        device = json.loads(api.get("/api/v1/devices").text.splitlines()[0])["result"]
        did = device["id"]
        validate_answer(
            spec, f"/api/v1/devices/{did}", api.get(f"/api/v1/devices/{did}"), stream=False
        )
        validate_answer(
            spec,
            f"/api/v1/devices/{did}/resource-links",
            api.get(f"/api/v1/devices/{did}/resource-links"),
            stream=False,
        )
        assert (
            validate_answer(
                spec, "/api/v1/resource-links", api.get("/api/v1/resource-links"), stream=True
            )
            == 25
        )
        validate_answer(spec, "/api/v1/resources", api.get("/api/v1/resources"), stream=True)
        validate_answer(
            spec,
            f"/api/v1/devices/{did}/resources/",
            api.get(f"/api/v1/devices/{did}/resources/"),
            stream=True,
        )
        # one resource (its whole answer; ?onlyContent=true answers the bare content, which
        # the spec gives no schema for)
        validate_answer(
            spec,
            f"/api/v1/devices/{did}/resources/oic%2Fd",
            api.get(f"/api/v1/devices/{did}/resources/oic/d"),
            stream=False,
        )
        # error answers: the bare google.rpc.Status (see ERROR_SCHEMA)
        for response in (
            api.get("/api/v1/devices/00000000-0000-0000-0000-000000000000"),
            httpx.get(gateway + "/api/v1/devices"),
        ):
            assert response.status_code in (401, 404)
            assert problems_of(spec, response.json(), ERROR_SCHEMA) == []
