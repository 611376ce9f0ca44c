"""The emulated plgd hub over real HTTP: OAuth server (as a browser would use it), HTTP gateway
streams and errors, C2C gateway, admin token switches, and a 100,000-device stream."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
import pytest

from workbench.emulator.app import EmulatorServer
from workbench.emulator.plgd import routes as plgd

USER, PASSWORD = "demo", "plgd-demo-pass-6604"
PUBLIC = "workbench-demo"
CONF, CONF_SECRET = "workbench-demo-confidential", "plgd-demo-client-secret-3391"
REDIRECT = "http://localhost:8080/callback"
OWNER = "owner-id"  # try.plgd.cloud.yaml global.ownerClaim
REALM = "/plgd/auth/realms/shared"  # the authority: a Keycloak realm (plgd-try-cloud.md)
OIDC = REALM + "/protocol/openid-connect"
AUTHZ, TOKEN, CERTS, USERINFO = OIDC + "/auth", OIDC + "/token", OIDC + "/certs", OIDC + "/userinfo"


def gateway_base(base_url: str) -> str:
    """The emulated HTTP gateway's origin: another host name than the hub's (127.0.0.1)."""
    return base_url.replace("://127.0.0.1:", "://localhost:")


# ---------------------------------------------------------------------------- helpers
class FormReader(HTMLParser):
    """What a browser sees of the login page: the form's action, its inputs and its buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.method: str | None = None
        self.inputs: dict[str, dict[str, str]] = {}
        self.buttons: list[dict[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action, self.method = a.get("action", ""), a.get("method", "get").lower()
        elif tag == "input" and "name" in a:
            self.inputs[a["name"]] = a
        elif tag == "button":
            self.buttons.append(a)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_form(html_text: str) -> FormReader:
    reader = FormReader()
    reader.feed(html_text)
    return reader


def auth_params(**extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": PUBLIC,
        "redirect_uri": REDIRECT,
        "scope": "openid offline_access r:deviceinformation:* r:resources:* w:resources:*",
        "state": secrets.token_urlsafe(8),
    }
    params.update(extra)
    return params


def browser_submit(
    client: httpx.Client,
    params: dict[str, str],
    *,
    username: str = USER,
    password: str = PASSWORD,
    button: str = "allow",
) -> httpx.Response:
    """GET the authorize page, fill the form in and press a button, exactly like a browser."""
    page = client.get(AUTHZ, params=params)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    form = read_form(page.text)
    assert form.method == "post"
    fields = {
        name: a.get("value", "") for name, a in form.inputs.items() if a.get("type") == "hidden"
    }
    fields.update({"username": username, "password": password})
    pressed = [b for b in form.buttons if b.get("value") == button]
    assert pressed, f"no {button} button on the page"
    fields[pressed[0]["name"]] = pressed[0]["value"]
    target = urljoin(str(page.url), form.action or "")
    return client.post(target, data=fields)


def callback_query(resp: httpx.Response) -> dict[str, str]:
    assert resp.status_code == 302, resp.text
    location = resp.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def login_code(client: httpx.Client, **extra: str) -> tuple[str, dict[str, str]]:
    params = auth_params(**extra)
    q = callback_query(browser_submit(client, params))
    assert q["state"] == params["state"]
    return q["code"], params


def exchange(
    client: httpx.Client, code: str, redirect_uri: str = REDIRECT, **extra: str
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "client_id": PUBLIC,
        "client_secret": "",
        "code": code,
        "redirect_uri": redirect_uri,
        **extra,
    }
    return client.post(TOKEN, data=data)


def machine_token(client: httpx.Client) -> str:
    resp = client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": CONF, "client_secret": CONF_SECRET},
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


def ndjson_lines(resp: httpx.Response) -> list[dict[str, Any]]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    return [json.loads(line) for line in resp.text.splitlines() if line]


def assert_grpc_error(resp: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code and body["details"] == [] and body["message"]
    return body


@pytest.fixture
def web(emulator: EmulatorServer):
    with httpx.Client(base_url=emulator.base_url, follow_redirects=False, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def api(emulator: EmulatorServer):
    """A client for the gateway (its own origin) with a bearer token of the demo user's owner
    (machine token)."""
    with httpx.Client(base_url=gateway_base(emulator.base_url), timeout=30) as client:
        client.headers["Authorization"] = "Bearer " + machine_token(client)
        yield client


@pytest.fixture(scope="module")
def devices(api: httpx.Client) -> list[dict[str, Any]]:
    return [line["result"] for line in ndjson_lines(api.get("/plgd/api/v1/devices"))]


# ---------------------------------------------------------------------------- discovery
def test_openid_configuration_issuer_is_exact(web: httpx.Client, emulator: EmulatorServer) -> None:
    doc = web.get(REALM + "/.well-known/openid-configuration").json()
    iss = emulator.base_url + REALM
    # Keycloak's endpoint paths under the realm (plgd-try-cloud.md: AddRemoteClientModal.tsx)
    assert doc["issuer"] == iss
    assert doc["authorization_endpoint"] == emulator.base_url + AUTHZ
    assert doc["token_endpoint"] == emulator.base_url + TOKEN
    assert doc["userinfo_endpoint"] == emulator.base_url + USERINFO
    assert doc["jwks_uri"] == emulator.base_url + CERTS
    assert "S256" in doc["code_challenge_methods_supported"]
    assert "code" in doc["response_types_supported"]
    assert {"authorization_code", "refresh_token", "client_credentials"} <= set(
        doc["grant_types_supported"]
    )
    assert "offline_access" in doc["scopes_supported"]
    keys = web.get(CERTS).json()["keys"]
    assert keys[0]["kty"] == "EC" and keys[0]["alg"] == "ES256" and keys[0]["kid"]


def test_hub_configuration_without_auth(web: httpx.Client, emulator: EmulatorServer) -> None:
    conf = web.get("/plgd/.well-known/configuration").json()
    base = emulator.base_url
    assert conf["jwtOwnerClaim"] == OWNER
    assert conf["authority"] == base + REALM
    # another origin, like https://api.try.plgd.cloud for https://try.plgd.cloud
    assert conf["httpGatewayAddress"] == gateway_base(base) + "/plgd"
    assert conf["coapGateway"] == "coaps+tcp://127.0.0.1:5684"
    assert conf["webOauthClient"]["clientId"] == PUBLIC
    assert conf["webOauthClient"]["scopes"] == ["openid"]  # try.plgd.cloud.yaml global.oauth.web
    assert conf["deviceOauthClient"]["clientId"] == "workbench-demo-device"
    assert conf["deviceOauthClient"]["providerName"] == "plgd.web"
    # protojson: int64 fields are JSON numbers (plgd-try-cloud.md, the swagger's integer type)
    assert isinstance(conf["currentTime"], int) and abs(conf["currentTime"] - time.time_ns()) < 60e9
    assert conf["defaultCommandTimeToLive"] == 0
    assert conf["certificateAuthorities"].startswith("-----BEGIN CERTIFICATE-----")
    assert len(conf["id"]) == 36 and conf["buildInfo"]["version"]
    # the authority it names is the OAuth server's issuer
    doc = web.get(urlsplit(conf["authority"]).path + "/.well-known/openid-configuration").json()
    assert doc["issuer"] == conf["authority"]


# ---------------------------------------------------------------------------- the browser flow
def test_browser_flow_allow_gives_code_and_state(web: httpx.Client) -> None:
    params = auth_params()
    page = web.get(AUTHZ, params=params)
    form = read_form(page.text)
    assert {"username", "password"} <= set(form.inputs)
    assert form.inputs["password"]["type"] == "password"
    assert {b["value"] for b in form.buttons} == {"allow", "deny"}
    assert (
        form.inputs["redirect_uri"]["value"] == REDIRECT
        and form.inputs["state"]["value"] == params["state"]
    )
    resp = browser_submit(web, params)
    assert resp.headers["location"].startswith(REDIRECT + "?")
    q = callback_query(resp)
    assert q["state"] == params["state"] and len(q["code"]) >= 16
    tokens = exchange(web, q["code"])
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86400
    assert body["scope"] == params["scope"]
    assert body["access_token"] and body["refresh_token"] and body["id_token"]
    assert tokens.headers["cache-control"] == "no-store"


def test_deny_redirects_with_access_denied(web: httpx.Client) -> None:
    params = auth_params()
    q = callback_query(browser_submit(web, params, button="deny"))
    assert (
        q["error"] == "access_denied" and q["error_description"] and q["state"] == params["state"]
    )
    assert "code" not in q


def test_wrong_password_shows_the_form_again(web: httpx.Client) -> None:
    resp = browser_submit(web, auth_params(), password="not-the-password")
    assert resp.status_code == 200 and "location" not in resp.headers
    form = read_form(resp.text)
    assert "Wrong username or password." in "".join(form.text)
    assert form.inputs["username"]["value"] == USER and "password" in form.inputs
    # the form still carries the request: a second try with the right password works
    fields = {n: a.get("value", "") for n, a in form.inputs.items() if a.get("type") == "hidden"}
    ok = web.post(
        AUTHZ,
        data={**fields, "username": USER, "password": PASSWORD, "action": "allow"},
    )
    assert "code" in callback_query(ok)


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost:8081/callback",
        "http://localhost:8080/callback/extra",
        "https://localhost:8080/callback",
        "http://127.0.0.1:9000/other",
        "https://127.0.0.1:9000/callback",
        "http://127.0.0.1.evil.example:9000/callback",
        "http://evil.example/?r=http://127.0.0.1/callback",
        "http://user@127.0.0.1:9000/callback",
        "http://[::1]:9000/callback",
        "http://127.0.0.1:9000/callback?x=1",
        "",
    ],
)
def test_unregistered_redirect_uri_is_never_redirected_to(web: httpx.Client, uri: str) -> None:
    for resp in (
        web.get(AUTHZ, params=auth_params(redirect_uri=uri)),
        web.post(
            AUTHZ,
            data={**auth_params(redirect_uri=uri), "username": USER, "password": PASSWORD},
        ),
    ):
        assert resp.status_code == 400, (uri, resp.status_code)
        assert "location" not in resp.headers
        assert resp.headers["content-type"].startswith("text/html")


def test_unknown_client_is_an_error_page(web: httpx.Client) -> None:
    resp = web.get(AUTHZ, params=auth_params(client_id="someone-else"))
    assert resp.status_code == 400 and "location" not in resp.headers
    assert "Client not found." in resp.text  # Keycloak's words


def test_a_client_registered_elsewhere_refuses_the_loopback_redirect(web: httpx.Client) -> None:
    """Like the hub UI's own web client at a real realm: its redirect URIs are the portal's."""
    resp = web.get(
        AUTHZ,
        params=auth_params(
            client_id="workbench-demo-portal", redirect_uri="http://127.0.0.1:9000/callback"
        ),
    )
    assert resp.status_code == 400 and "location" not in resp.headers
    assert "Invalid parameter: redirect_uri" in resp.text


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:54321/callback",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:8080/callback",
    ],
)
def test_loopback_redirect_accepts_any_port(web: httpx.Client, uri: str) -> None:
    code, params = login_code(web, redirect_uri=uri)
    assert exchange(web, code, redirect_uri=uri).status_code == 200


def test_unsupported_response_type_is_redirected_as_error(web: httpx.Client) -> None:
    resp = web.get(AUTHZ, params=auth_params(response_type="token"))
    q = callback_query(resp)
    assert q["error"] == "unsupported_response_type"


# ---------------------------------------------------------------------------- token endpoint
def test_pkce_s256_correct_and_mismatched(web: httpx.Client) -> None:
    verifier, challenge = pkce_pair()
    code, _ = login_code(web, code_challenge=challenge, code_challenge_method="S256")
    assert exchange(web, code, code_verifier=verifier).status_code == 200

    code, _ = login_code(web, code_challenge=challenge, code_challenge_method="S256")
    bad = exchange(web, code, code_verifier=pkce_pair()[0])
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    # a failed attempt consumed the code
    assert exchange(web, code, code_verifier=verifier).json()["error"] == "invalid_grant"

    code, _ = login_code(web, code_challenge=challenge, code_challenge_method="S256")
    assert exchange(web, code).json()["error"] == "invalid_grant"  # verifier missing


def test_plain_pkce_method_is_refused(web: httpx.Client) -> None:
    q = callback_query(
        web.get(
            AUTHZ,
            params=auth_params(code_challenge="abc", code_challenge_method="plain"),
        )
    )
    assert q["error"] == "invalid_request"


def test_code_is_single_use_and_bound_to_redirect_uri(web: httpx.Client) -> None:
    code, _ = login_code(web)
    assert exchange(web, code).status_code == 200
    again = exchange(web, code)
    assert again.status_code == 400
    assert again.headers["content-type"].startswith("application/json")
    assert again.json()["error"] == "invalid_grant" and again.json()["error_description"]

    code, _ = login_code(web)
    assert (
        exchange(web, code, redirect_uri="http://127.0.0.1:9/callback").json()["error"]
        == "invalid_grant"
    )
    assert exchange(web, "made-up-code").json()["error"] == "invalid_grant"


def test_refresh_rotates_and_old_refresh_token_is_refused(web: httpx.Client) -> None:
    code, _ = login_code(web)
    first_set = exchange(web, code).json()
    data = {
        "grant_type": "refresh_token",
        "client_id": PUBLIC,
        "refresh_token": first_set["refresh_token"],
    }
    second = web.post(TOKEN, data=data)
    assert second.status_code == 200, second.text
    second_set = second.json()
    assert second_set["refresh_token"] != first_set["refresh_token"]
    assert second_set["access_token"] != first_set["access_token"]
    reuse = web.post(TOKEN, data=data)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    third = web.post(TOKEN, data={**data, "refresh_token": second_set["refresh_token"]})
    assert third.status_code == 200
    wider = web.post(
        TOKEN,
        data={
            **data,
            "refresh_token": third.json()["refresh_token"],
            "scope": "openid admin:everything",
        },
    )
    assert wider.json()["error"] == "invalid_scope"


def test_client_credentials_post_and_basic(web: httpx.Client) -> None:
    post = web.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": CONF, "client_secret": CONF_SECRET},
    )
    assert post.status_code == 200 and "refresh_token" not in post.json()
    basic = web.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        auth=(CONF, CONF_SECRET),
    )
    assert basic.status_code == 200
    claims = jwt.decode(basic.json()["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == CONF and claims[OWNER]

    wrong = web.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(CONF, "nope"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert "basic" in wrong.headers["www-authenticate"].lower()
    public = web.post(TOKEN, data={"grant_type": "client_credentials", "client_id": PUBLIC})
    assert public.status_code == 400 and public.json()["error"] == "unauthorized_client"


def test_token_endpoint_error_shapes(web: httpx.Client) -> None:
    unknown = web.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "client_id": "x",
            "code": "c",
            "redirect_uri": REDIRECT,
        },
    )
    # Keycloak: RFC 6749 JSON, 401 invalid_client
    assert unknown.status_code == 401 and unknown.json() == {
        "error": "invalid_client",
        "error_description": "Invalid client or Invalid client credentials",
    }
    # Keycloak reads form bodies only: a JSON body has no grant_type
    as_json = web.post(TOKEN, json={"grant_type": "client_credentials", "client_id": CONF})
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    weird = web.post(TOKEN, data={"grant_type": "password", "client_id": PUBLIC})
    assert weird.status_code == 400 and weird.json()["error"] == "unsupported_grant_type"
    missing = web.post(TOKEN, data={"client_id": PUBLIC})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    secret_for_public = web.post(
        TOKEN,
        data={
            "grant_type": "refresh_token",
            "client_id": PUBLIC,
            "client_secret": "guess",
            "refresh_token": "r",
        },
    )
    assert (
        secret_for_public.status_code == 401
        and secret_for_public.json()["error"] == "invalid_client"
    )


def test_access_token_is_es256_and_verifies_against_jwks(
    web: httpx.Client, emulator: EmulatorServer
) -> None:
    code, params = login_code(web, audience="https://openapi.try.plgd.cloud/")
    body = exchange(web, code).json()
    token = body["access_token"]
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    jwks_uri = web.get(REALM + "/.well-known/openid-configuration").json()["jwks_uri"]
    key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(token)
    iss = emulator.base_url + REALM
    claims = jwt.decode(
        token, key.key, algorithms=["ES256"], audience="https://openapi.try.plgd.cloud/", issuer=iss
    )
    assert claims["scope"] == params["scope"] and claims["client_id"] == PUBLIC
    assert claims[OWNER] == claims["sub"] and claims["azp"] == PUBLIC
    assert claims["exp"] - claims["iat"] == 86400
    id_claims = jwt.decode(
        body["id_token"], key.key, algorithms=["ES256"], audience=PUBLIC, issuer=iss
    )
    assert id_claims["sub"] == claims["sub"]
    # without an audience, Keycloak's default "account" (the hub's mock-server token has it)
    code, _ = login_code(web)
    default = jwt.decode(
        exchange(web, code).json()["access_token"], options={"verify_signature": False}
    )
    assert default["aud"] == "account"
    info = web.get(USERINFO, headers={"Authorization": f"Bearer {token}"}).json()
    assert info["sub"] == claims["sub"] and info["nickname"] == USER


def test_token_ttl_override(make_emulator) -> None:
    server = make_emulator(token_ttl=7)
    with httpx.Client(base_url=server.base_url) as client:
        resp = client.post(
            TOKEN,
            data={
                "grant_type": "client_credentials",
                "client_id": CONF,
                "client_secret": CONF_SECRET,
            },
        ).json()
    assert resp["expires_in"] == 7
    claims = jwt.decode(resp["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 7


# ---------------------------------------------------------------------------- HTTP gateway
def test_devices_stream_is_ndjson_of_results(
    api: httpx.Client, devices: list[dict[str, Any]]
) -> None:
    resp = api.get("/plgd/api/v1/devices")
    # each message is followed by a blank line, as the hub writes it (see payloads.ndjson)
    assert resp.text.endswith("}\n\n") and resp.text.count("}\n\n") == 25
    lines = ndjson_lines(resp)
    assert all(set(line) == {"result"} for line in lines)
    statuses = {d["metadata"]["connection"]["status"] for d in devices}
    assert statuses == {"ONLINE", "OFFLINE"}
    assert len({d["id"] for d in devices}) == 25
    for d in devices:
        conn = d["metadata"]["connection"]
        assert isinstance(conn["connectedAt"], str) and conn["connectedAt"].isdigit()
        assert conn["protocol"] == "COAPS_TCP" and d["metadata"]["twinEnabled"] is True
        assert d["ownershipStatus"] == "OWNED" and "oic.wk.d" in d["types"]
        assert d["manufacturerName"][0]["language"] == "en" and d["name"]
        assert d["data"]["resourceId"] == {"deviceId": d["id"], "href": "/oic/d"}
        assert d["data"]["content"]["n"] == d["name"]


def test_status_type_and_id_filters(api: httpx.Client, devices: list[dict[str, Any]]) -> None:
    online = ndjson_lines(api.get("/plgd/api/v1/devices", params={"status": "ONLINE"}))
    offline = ndjson_lines(api.get("/plgd/api/v1/devices", params={"status": "OFFLINE"}))
    assert {x["result"]["metadata"]["connection"]["status"] for x in online} == {"ONLINE"}
    assert {x["result"]["metadata"]["connection"]["status"] for x in offline} == {"OFFLINE"}
    assert len(online) + len(offline) == 25 and online and offline
    both = ndjson_lines(api.get("/plgd/api/v1/devices?status=ONLINE&status=OFFLINE"))
    assert len(both) == 25
    wanted = [devices[3]["id"], devices[7]["id"]]
    for name in ("deviceId", "deviceIdFilter"):
        got = ndjson_lines(api.get("/plgd/api/v1/devices", params={name: wanted}))
        assert [x["result"]["id"] for x in got] == wanted
    kind = devices[0]["types"][0]
    for name in ("type", "typeFilter"):
        got = ndjson_lines(api.get("/plgd/api/v1/devices", params={name: kind}))
        assert got and all(kind in x["result"]["types"] for x in got)
    assert (
        ndjson_lines(
            api.get(
                "/plgd/api/v1/devices", params={"deviceId": "00000000-0000-0000-0000-000000000000"}
            )
        )
        == []
    )
    assert_grpc_error(api.get("/plgd/api/v1/devices", params={"status": "SLEEPING"}), 400, 3)


def test_device_detail_and_not_found(api: httpx.Client, devices: list[dict[str, Any]]) -> None:
    d = devices[5]
    one = api.get(f"/plgd/api/v1/devices/{d['id']}")
    assert one.status_code == 200 and one.json() == d
    assert set(d) >= {
        "id",
        "types",
        "name",
        "metadata",
        "manufacturerName",
        "modelNumber",
        "interfaces",
        "protocolIndependentId",
        "ownershipStatus",
        "data",
    }
    assert_grpc_error(api.get("/plgd/api/v1/devices/4629b3cb-3a6e-477c-5d50-ccb28ad7c349"), 404, 5)
    assert_grpc_error(api.get("/plgd/api/v1/devices/nope"), 404, 5)
    assert_grpc_error(api.get("/plgd/api/v1/no-such-thing"), 404, 5)
    assert_grpc_error(api.patch("/plgd/api/v1/devices"), 405, 12)


def test_resource_links_stream(api: httpx.Client, devices: list[dict[str, Any]]) -> None:
    d = devices[0]
    # one device: one bare ResourceLinks object (getDeviceResourceLinks.go unwraps "result")
    lines = ndjson_lines(api.get(f"/plgd/api/v1/devices/{d['id']}/resource-links"))
    assert len(lines) == 1
    links = lines[0]
    assert links["deviceId"] == d["id"]
    hrefs = {r["href"]: r for r in links["resources"]}
    assert {"/oic/d", "/oic/p"} <= set(hrefs)
    for r in links["resources"]:
        assert r["deviceId"] == d["id"] and r["resourceTypes"] and r["interfaces"]
        assert r["policy"]["bitFlags"] in (1, 3)
    all_links = ndjson_lines(api.get("/plgd/api/v1/resource-links"))
    assert len(all_links) == 25
    switches = ndjson_lines(
        api.get("/plgd/api/v1/resource-links", params={"type": "oic.r.switch.binary"})
    )
    assert switches and all(
        [r["href"] for r in x["result"]["resources"]] == ["/switches/1"] for x in switches
    )
    assert_grpc_error(api.get("/plgd/api/v1/devices/nope/resource-links"), 404, 5)


def test_get_resource_full_and_only_content(
    api: httpx.Client, devices: list[dict[str, Any]]
) -> None:
    d = devices[1]
    full = api.get(f"/plgd/api/v1/devices/{d['id']}/resources/oic/p")
    assert full.status_code == 200
    body = full.json()
    assert body["types"] == ["oic.wk.p"]
    assert body["data"]["resourceId"] == {"deviceId": d["id"], "href": "/oic/p"}
    assert (
        body["data"]["status"] == "OK"
        and body["data"]["content"]["mnmn"] == d["manufacturerName"][0]["value"]
    )
    for flag in ("true", "1", "True"):
        only = api.get(
            f"/plgd/api/v1/devices/{d['id']}/resources/oic/p", params={"onlyContent": flag}
        )
        assert only.json() == body["data"]["content"]
    assert (
        api.get(f"/plgd/api/v1/devices/{d['id']}/resources/oic/p?onlyContent=false").json() == body
    )
    assert_grpc_error(
        api.get(f"/plgd/api/v1/devices/{d['id']}/resources/oic/p?onlyContent=maybe"), 400, 3
    )
    assert_grpc_error(api.get(f"/plgd/api/v1/devices/{d['id']}/resources/no/such"), 404, 5)
    baseline = api.get(
        f"/plgd/api/v1/devices/{d['id']}/resources/oic/p",
        params={"interface": "oic.if.baseline", "onlyContent": "1"},
    ).json()
    assert baseline["rt"] == ["oic.wk.p"] and "oic.if.baseline" in baseline["if"]
    stream = ndjson_lines(api.get(f"/plgd/api/v1/devices/{d['id']}/resources/"))
    assert {x["result"]["data"]["resourceId"]["href"] for x in stream} >= {"/oic/d", "/oic/p"}
    everything = ndjson_lines(
        api.get("/plgd/api/v1/resources", params={"resourceId": d["id"] + "/oic/p"})
    )
    assert [x["result"]["data"]["content"] for x in everything] == [body["data"]["content"]]


def _device_with(api: httpx.Client, status: str, href: str) -> str:
    for line in ndjson_lines(api.get("/plgd/api/v1/resource-links")):
        links = line["result"]
        if href in {r["href"] for r in links["resources"]}:
            d = api.get(f"/plgd/api/v1/devices/{links['deviceId']}").json()
            if d["metadata"]["connection"]["status"] == status:
                return d["id"]
    raise AssertionError(f"no {status} device with {href}")


def test_put_resource_updates_and_refuses_what_it_must(fresh_emulator: EmulatorServer) -> None:
    with httpx.Client(base_url=gateway_base(fresh_emulator.base_url)) as api:
        api.headers["Authorization"] = "bearer " + machine_token(api)
        di = _device_with(api, "ONLINE", "/switches/1")
        url = f"/plgd/api/v1/devices/{di}/resources/switches/1"
        before = api.get(url, params={"onlyContent": "true"}).json()
        put = api.put(url, json={"value": not before["value"]})
        assert put.status_code == 200, put.text
        data = put.json()["data"]
        assert data["content"]["value"] is (not before["value"]) and data["status"] == "OK"
        assert (
            data["resourceId"] == {"deviceId": di, "href": "/switches/1"}
            and data["auditContext"]["correlationId"]
        )
        assert api.get(url, params={"onlyContent": "true"}).json() == {"value": not before["value"]}
        only = api.put(url, params={"onlyContent": "1"}, json={"value": before["value"]})
        assert only.json() == {"value": before["value"]}
        assert api.get(url).json()["data"]["eventMetadata"]["version"] == "2"

        assert_grpc_error(api.put(url, json={"value": "yes"}), 400, 3)
        assert_grpc_error(api.put(url, json={"colour": "red"}), 400, 3)
        assert_grpc_error(api.put(url, content=b"{not json"), 400, 3)
        assert_grpc_error(
            api.put(f"/plgd/api/v1/devices/{di}/resources/oic/d", json={"n": "x"}), 403, 7
        )
        offline = _device_with(api, "OFFLINE", "/switches/1")
        off_url = f"/plgd/api/v1/devices/{offline}/resources/switches/1"
        assert_grpc_error(api.put(off_url, json={"value": True}), 503, 14)
        # reads of an offline device come from the twin, unless the twin is bypassed
        assert api.get(off_url).status_code == 200
        assert_grpc_error(api.get(off_url, params={"shadow": "false"}), 503, 14)


def test_gateway_auth_errors(web: httpx.Client, api: httpx.Client) -> None:
    url = str(api.base_url).rstrip("/") + "/plgd/api/v1/devices"
    assert_grpc_error(web.get(url), 401, 16)
    assert_grpc_error(web.get(url, headers={"Authorization": "Bearer not.a.jwt"}), 401, 16)
    assert_grpc_error(web.get(url, headers={"Authorization": "Basic ZGVtbzpkZW1v"}), 401, 16)
    forged = jwt.encode(
        {"sub": "x", OWNER: "x", "exp": time.time() + 60},
        "a-secret-that-is-long-enough-for-hs256!",
        algorithm="HS256",
    )
    assert_grpc_error(web.get(url, headers={"Authorization": f"Bearer {forged}"}), 401, 16)
    token = api.headers["Authorization"].split(" ", 1)[1]
    for scheme in ("bearer", "BEARER", "Bearer"):
        assert web.get(url, headers={"Authorization": f"{scheme} {token}"}).status_code == 200
    # an id token is not an access token
    code, _ = login_code(web)
    id_token = exchange(web, code).json()["id_token"]
    assert_grpc_error(web.get(url, headers={"Authorization": f"Bearer {id_token}"}), 401, 16)


def test_expired_token_is_refused(make_emulator) -> None:
    server = make_emulator(token_ttl=1)
    with httpx.Client(base_url=gateway_base(server.base_url)) as client:
        token = machine_token(client)
        time.sleep(2.1)
        body = assert_grpc_error(
            client.get("/plgd/api/v1/devices", headers={"Authorization": f"Bearer {token}"}),
            401,
            16,
        )
    assert "expired" in body["message"]


def test_admin_expire_all_and_revoke_refresh(fresh_emulator: EmulatorServer) -> None:
    with httpx.Client(
        base_url=gateway_base(fresh_emulator.base_url), follow_redirects=False
    ) as web:
        code, _ = login_code(web)
        tokens = exchange(web, code).json()
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert web.get("/plgd/api/v1/devices", headers=auth).status_code == 200
        assert web.post("/_emulator/tokens/expire", json={"platform": "plgd"}).status_code == 200
        assert_grpc_error(web.get("/plgd/api/v1/devices", headers=auth), 401, 16)
        assert web.get("/plgd/c2c/api/v1/devices", headers=auth).status_code == 401
        # the refresh token still works and gives a fresh access token ...
        refreshed = web.post(
            TOKEN,
            data={
                "grant_type": "refresh_token",
                "client_id": PUBLIC,
                "refresh_token": tokens["refresh_token"],
            },
        ).json()
        new_auth = {"Authorization": f"Bearer {refreshed['access_token']}"}
        assert web.get("/plgd/api/v1/devices", headers=new_auth).status_code == 200
        # ... until every refresh token is revoked
        assert (
            web.post("/_emulator/tokens/revoke-refresh", json={"platform": "plgd"}).status_code
            == 200
        )
        gone = web.post(
            TOKEN,
            data={
                "grant_type": "refresh_token",
                "client_id": PUBLIC,
                "refresh_token": refreshed["refresh_token"],
            },
        )
        assert gone.status_code == 400 and gone.json()["error"] == "invalid_grant"


# ---------------------------------------------------------------------------- C2C gateway
def test_c2c_devices_and_resources(api: httpx.Client, devices: list[dict[str, Any]]) -> None:
    listing = api.get("/plgd/c2c/api/v1/devices")
    assert listing.status_code == 200
    items = listing.json()
    assert isinstance(items, list) and len(items) == 25
    by_id = {x["device"]["di"]: x for x in items}
    d = devices[2]
    item = by_id[d["id"]]
    assert (
        item["device"]["n"] == d["name"]
        and item["device"]["rt"] == d["types"]
        and item["device"]["if"]
    )
    assert item["status"] == d["metadata"]["connection"]["status"].lower()
    assert {x["status"] for x in items} == {"online", "offline"}
    assert all(
        link["href"].startswith(f"/{d['id']}/") and link["rt"] and link["if"]
        for link in item["links"]
    )
    assert api.get(f"/plgd/c2c/api/v1/devices/{d['id']}").json() == item
    raw = api.get(f"/plgd/c2c/api/v1/devices/{d['id']}/oic/d")
    assert raw.status_code == 200 and raw.json()["di"] == d["id"] and raw.json()["n"] == d["name"]
    link = item["links"][0]["href"]  # the link href is the path under /devices
    assert api.get("/plgd/c2c/api/v1/devices" + link).status_code == 200
    missing = api.get("/plgd/c2c/api/v1/devices/nope")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/plain")
    noauth = httpx.get(str(api.base_url) + "/plgd/c2c/api/v1/devices")
    assert noauth.status_code == 401 and noauth.headers["content-type"].startswith("text/plain")


def test_c2c_update_is_post(fresh_emulator: EmulatorServer) -> None:
    with httpx.Client(base_url=gateway_base(fresh_emulator.base_url)) as api:
        api.headers["Authorization"] = "Bearer " + machine_token(api)
        di = _device_with(api, "ONLINE", "/light/1")
        url = f"/plgd/c2c/api/v1/devices/{di}/light/1"
        resp = api.post(url, json={"power": 42, "state": True})
        assert resp.status_code == 200 and resp.json()["power"] == 42
        assert api.get(url).json() == resp.json()
        hub_view = api.get(f"/plgd/api/v1/devices/{di}/resources/light/1?onlyContent=1").json()
        assert hub_view == resp.json()
        ro = api.post(f"/plgd/c2c/api/v1/devices/{di}/oic/p", json={"mnmn": "x"})
        assert ro.status_code == 403 and ro.headers["content-type"].startswith("text/plain")
        assert api.put(url, json={"power": 1}).status_code == 405


# ---------------------------------------------------------------------------- scale, determinism, seed
def test_streams_100000_devices_lazily(make_emulator) -> None:
    started = time.perf_counter()
    server = make_emulator(devices=100_000)
    assert time.perf_counter() - started < 5  # nothing is generated up front
    with httpx.Client(base_url=gateway_base(server.base_url), timeout=120) as client:
        auth = {"Authorization": "Bearer " + machine_token(client)}
        t0 = time.perf_counter()
        lines = 0
        first_chunk_at = None
        last = b""
        with client.stream("GET", "/plgd/api/v1/devices", headers=auth) as resp:
            assert resp.status_code == 200
            for chunk in resp.iter_bytes():
                if first_chunk_at is None:
                    first_chunk_at = time.perf_counter() - t0
                lines += chunk.count(b"\n")
                last = (last + chunk)[-4096:]
        elapsed = time.perf_counter() - t0
        assert lines == 200_000  # a message and a blank line each
        assert first_chunk_at is not None and first_chunk_at < 2
        assert elapsed < 90, elapsed  # loose: ~3-4 s on a quiet 2-core machine
        tail = json.loads(last.rstrip(b"\n").rsplit(b"\n\n", 1)[-1])["result"]
        assert tail["name"].endswith("99999")
        # a device deep in the list is found without scanning
        t1 = time.perf_counter()
        one = client.get(f"/plgd/api/v1/devices/{tail['id']}", headers=auth)
        assert one.status_code == 200 and one.json()["id"] == tail["id"]
        filtered = client.get("/plgd/api/v1/devices", params={"deviceId": tail["id"]}, headers=auth)
        assert len([x for x in filtered.text.splitlines() if x]) == 1
        assert time.perf_counter() - t1 < 2


def test_world_is_deterministic(
    api: httpx.Client, devices: list[dict[str, Any]], make_emulator
) -> None:
    other = make_emulator(devices=25)
    with httpx.Client(base_url=gateway_base(other.base_url)) as client:
        auth = {"Authorization": "Bearer " + machine_token(client)}
        again = [
            x["result"] for x in ndjson_lines(client.get("/plgd/api/v1/devices", headers=auth))
        ]
    assert [d["id"] for d in again] == [d["id"] for d in devices]
    assert [d["name"] for d in again] == [d["name"] for d in devices]


def test_seed_curl_examples_against_the_emulator(
    web: httpx.Client, emulator: EmulatorServer
) -> None:
    """The seed's curl sequence (authorize, code exchange, API call, refresh) at the realm's
    Keycloak endpoints, with our client id; the HTTP gateway on its own origin."""
    # Authorize the user: the seed's URL, scope with spaces, audience and state=STATE.
    scope = "r:deviceinformation:* r:resources:* w:resources:* w:subscriptions:* offline_access"
    params = {
        "response_type": "code",
        "client_id": PUBLIC,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "audience": "https://openapi.try.plgd.cloud/",
        "state": "STATE",
    }
    resp = browser_submit(web, params)
    assert resp.status_code == 302
    location = resp.headers["location"]
    assert location.startswith("http://localhost:8080/callback?code=") and location.endswith(
        "&state=STATE"
    )
    code = callback_query(resp)["code"]
    # Request tokens: --data grant_type=authorization_code client_id client_secret code redirect_uri
    tokens = web.post(
        TOKEN,
        headers={"content-type": "application/x-www-form-urlencoded"},
        content=f"grant_type=authorization_code&client_id={PUBLIC}&client_secret=&code={code}"
        "&redirect_uri=http://localhost:8080/callback",
    )
    assert tokens.status_code == 200
    body = tokens.json()
    assert set(body) >= {"access_token", "refresh_token", "scope", "expires_in", "token_type"}
    assert body["scope"] == scope and body["expires_in"] == 86400 and body["token_type"] == "Bearer"
    # Call the C2C API (and the HTTP gateway) with the seed's headers.
    headers = {
        "authorization": f"Bearer {body['access_token']}",
        "content-type": "application/json",
        "accept": "application/json",
    }
    assert web.get("/plgd/c2c/api/v1/devices", headers=headers).status_code == 200
    gateway = gateway_base(emulator.base_url) + "/plgd/api/v1/devices"
    assert len(ndjson_lines(web.get(gateway, headers=headers))) == 25
    # Refresh the token: grant_type=refresh_token, client_id, refresh_token.
    refreshed = web.post(
        TOKEN,
        data={
            "grant_type": "refresh_token",
            "client_id": PUBLIC,
            "refresh_token": body["refresh_token"],
        },
    )
    assert (
        refreshed.status_code == 200 and refreshed.json()["refresh_token"] != body["refresh_token"]
    )


def test_describe_names_urls_and_credentials() -> None:
    info = plgd.describe("http://127.0.0.1:8765/plgd")
    urls, creds = info["urls"], info["credentials"]
    assert urls["authority"] == "http://127.0.0.1:8765" + REALM
    assert urls["http gateway (another origin)"] == "http://localhost:8765/plgd/api/v1"
    assert urls["c2c gateway"] == "http://127.0.0.1:8765/plgd/c2c/api/v1"
    assert urls["authorize"].endswith(AUTHZ)
    assert creds["user"] == USER and creds["password"] == PASSWORD
    assert creds["web client id"] == PUBLIC
    assert REDIRECT in creds["redirect uri"]
    assert {TOKEN.removeprefix("/plgd")} == plgd.TOKEN_PATHS


def test_token_rate_limit_fault_applies_to_the_token_path(fresh_emulator: EmulatorServer) -> None:
    with httpx.Client(base_url=fresh_emulator.base_url) as client:
        client.post("/_emulator/faults/plgd", json={"token_rate_limit": 1})
        assert (
            client.post(
                TOKEN,
                data={
                    "grant_type": "client_credentials",
                    "client_id": CONF,
                    "client_secret": CONF_SECRET,
                },
            ).status_code
            == 200
        )
        limited = client.post(TOKEN, data={"grant_type": "client_credentials"})
        assert limited.status_code == 429
