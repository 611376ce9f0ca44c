"""The emulated EmbedThis Ioto over real HTTP: Cognito login, the POST-only API, paging, faults."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from workbench.emulator import jwt_keys
from workbench.emulator.app import EmulatorServer
from workbench.emulator.context import EmulatorConfig
from workbench.emulator.ioto import routes as ioto
from workbench.emulator.ioto.world import World

TARGET = "AWSCognitoIdentityProviderService.InitiateAuth"
AMZ = "application/x-amz-json-1.1"
CLOUDAPI = "ioto-cloudapi-demo-token-9d2f6a"
ORIGIN = "https://manager.ioto.example"
TOK = {"Authorization": CLOUDAPI}


def cognito(
    base: str, body: dict[str, Any], *, target: str | None = TARGET, content_type: str = AMZ
) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if target is not None:
        headers["X-Amz-Target"] = target
    return httpx.post(f"{base}/ioto/cognito/", headers=headers, content=json.dumps(body))


def password_body(
    user: str = "demo@ioto.example",
    password: str = "Ioto-demo-pass-4821",
    client: str = "ioto-demo-client",
) -> dict[str, Any]:
    return {
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": client,
        "AuthParameters": {"USERNAME": user, "PASSWORD": password},
    }


def refresh_body(token: str) -> dict[str, Any]:
    return {
        "AuthFlow": "REFRESH_TOKEN_AUTH",
        "ClientId": "ioto-demo-client",
        "AuthParameters": {"REFRESH_TOKEN": token},
    }


def login(base: str) -> dict[str, Any]:
    r = cognito(base, password_body())
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()["AuthenticationResult"]
    return result


def user_headers(access: str, bearer: bool = False) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}" if bearer else access, "Origin": ORIGIN}


QUERY_OPTIONS = ("filter", "limit", "next", "prev", "index")
ACCOUNT = "01JDEM0ACC0VNT0000000000AA"  # the Demo Account (README)
ACCOUNT_SCOPED = ("device/find", "device/get", "generic/", "metric/fetch")


def api(
    base: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    as_given: bool = False,
) -> httpx.Response:
    """POST with the find options moved to the query string, where the reference pages put
    them ("Query String Options"); `as_given` sends the body exactly as given."""
    body = body if body is not None else {}
    params: dict[str, Any] = {}
    if isinstance(body, dict) and not as_given:
        params = {k: v for k, v in body.items() if k in QUERY_OPTIONS}
        body = {k: v for k, v in body.items() if k not in QUERY_OPTIONS}
    return httpx.post(f"{base}/ioto/api/{path}", params=params, json=body, headers=headers or {})


def tok(base: str, path: str, body: Any = None, *, as_given: bool = False) -> httpx.Response:
    """A CloudAPI call; the calls that need it get the Demo Account's accountId unless given."""
    body = body if body is not None else {}
    if not as_given and isinstance(body, dict) and path.startswith(ACCOUNT_SCOPED):
        body = {"accountId": ACCOUNT, **body}
    return api(base, "tok/" + path, body, TOK, as_given=as_given)


def cloud(
    count: int = EmulatorConfig.devices, seed: int = EmulatorConfig.seed
) -> list[dict[str, Any]]:
    """Every device of a fresh emulated cloud, in order (the seeded world, read directly: a
    CloudAPI token sees one account at a time)."""
    world = World(seed, count)
    return [world.device_at(i) for i in range(count)]


def demo_devices(count: int = EmulatorConfig.devices) -> list[dict[str, Any]]:
    return [d for d in cloud(count) if d["accountId"] == ACCOUNT]


def assert_text(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("text/plain")


def cursor(direction: str, index: int, tag: str = "device") -> str:
    raw = json.dumps({"t": tag, "d": direction, "i": index}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture(scope="module")
def session(emulator: EmulatorServer) -> dict[str, Any]:
    return login(emulator.base_url)


# --------------------------------------------------------------------------- Cognito


def test_password_login_has_cognito_shape(emulator: EmulatorServer) -> None:
    r = cognito(emulator.base_url, password_body())
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(AMZ)
    body = r.json()
    assert body["ChallengeParameters"] == {}
    result = body["AuthenticationResult"]
    assert set(result) == {"AccessToken", "IdToken", "RefreshToken", "TokenType", "ExpiresIn"}
    assert result["TokenType"] == "Bearer" and result["ExpiresIn"] == 3600
    access = jwt.decode(result["AccessToken"], options={"verify_signature": False})
    assert access["token_use"] == "access"
    assert access["iss"] == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_iotoDemo"
    assert access["client_id"] == "ioto-demo-client"
    assert access["username"] == "demo@ioto.example"
    assert access["exp"] - access["iat"] == 3600
    assert {"sub", "auth_time", "jti"} <= set(access)
    id_claims = jwt.decode(result["IdToken"], options={"verify_signature": False})
    assert id_claims["token_use"] == "id" and id_claims["email"] == "demo@ioto.example"
    assert id_claims["aud"] == "ioto-demo-client" and id_claims["sub"] == access["sub"]
    # Signed with the documented emulator secret (the real service uses RS256).
    jwt.decode(result["AccessToken"], jwt_keys.IOTO_HS256_SECRET, algorithms=["HS256"])
    # Cognito refresh tokens are opaque encrypted JWTs (five parts).
    assert result["RefreshToken"].count(".") == 4


def test_login_accepts_plain_json_content_type(emulator: EmulatorServer) -> None:
    r = cognito(emulator.base_url, password_body(), content_type="application/json")
    assert r.status_code == 200 and "AccessToken" in r.json()["AuthenticationResult"]


def test_refresh_gives_new_tokens_without_rotating(emulator: EmulatorServer) -> None:
    first = login(emulator.base_url)
    for _ in range(2):  # the same refresh token works again: Cognito does not rotate
        r = cognito(emulator.base_url, refresh_body(first["RefreshToken"]))
        assert r.status_code == 200, r.text
        result = r.json()["AuthenticationResult"]
        assert "RefreshToken" not in result
        assert result["AccessToken"] != first["AccessToken"] and result["IdToken"]
        assert result["TokenType"] == "Bearer" and result["ExpiresIn"] == 3600
        assert (
            api(
                emulator.base_url, "device/find", {"limit": 1}, user_headers(result["AccessToken"])
            ).status_code
            == 200
        )


@pytest.mark.parametrize(
    ("body", "target", "kind", "message"),
    [
        (
            password_body(password="wrong"),
            TARGET,
            "NotAuthorizedException",
            "Incorrect username or password.",
        ),
        (
            password_body(user="nobody@ioto.example"),
            TARGET,
            "NotAuthorizedException",
            "Incorrect username or password.",
        ),
        (
            refresh_body("not-a-refresh-token"),
            TARGET,
            "NotAuthorizedException",
            "Invalid Refresh Token",
        ),
        (password_body(client="someone-else"), TARGET, "ResourceNotFoundException", None),
        (password_body(), None, "UnknownOperationException", None),
        (
            password_body(),
            "AWSCognitoIdentityProviderService.SignUp",
            "UnknownOperationException",
            None,
        ),
        ({**password_body(), "AuthFlow": "CUSTOM_AUTH"}, TARGET, "InvalidParameterException", None),
        (
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": "ioto-demo-client",
                "AuthParameters": {},
            },
            TARGET,
            "InvalidParameterException",
            "Missing required parameter USERNAME",
        ),
    ],
    ids=[
        "password",
        "user",
        "refresh",
        "client",
        "no-target",
        "other-target",
        "flow",
        "no-username",
    ],
)
def test_cognito_errors(
    emulator: EmulatorServer, body: dict[str, Any], target: str, kind: str, message: str
) -> None:
    r = cognito(emulator.base_url, body, target=target)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith(AMZ)
    assert r.json()["__type"] == kind
    assert isinstance(r.json()["message"], str)
    if message:
        assert r.json()["message"] == message


def test_cognito_rejects_non_json(emulator: EmulatorServer) -> None:
    r = httpx.post(
        f"{emulator.base_url}/ioto/cognito/",
        content=b"{nope",
        headers={"X-Amz-Target": TARGET, "Content-Type": AMZ},
    )
    assert r.status_code == 400 and r.json()["__type"] == "SerializationException"


def test_cognito_path_without_slash_and_rate_limit_fault(fresh_emulator: EmulatorServer) -> None:
    base = fresh_emulator.base_url
    r = httpx.post(
        f"{base}/ioto/cognito",
        headers={"X-Amz-Target": TARGET, "Content-Type": AMZ},
        content=json.dumps(password_body()),
    )
    assert r.status_code == 200
    httpx.post(f"{base}/_emulator/faults/ioto", json={"token_rate_limit": 1}).raise_for_status()
    assert cognito(base, password_body()).status_code == 200
    limited = cognito(base, password_body())
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    # The API itself is not a token endpoint: not rate limited.
    assert tok(base, "test/ping").status_code == 200


def test_revoke_all_refresh_switch(fresh_emulator: EmulatorServer) -> None:
    base = fresh_emulator.base_url
    tokens = login(base)
    r = httpx.post(f"{base}/_emulator/tokens/revoke-refresh", json={"platform": "ioto"})
    assert r.json()["revoked"]["ioto"] >= 1
    r = cognito(base, refresh_body(tokens["RefreshToken"]))
    assert r.status_code == 400
    assert r.json() == {"__type": "NotAuthorizedException", "message": "Invalid Refresh Token"}
    # A new login still works and gives a working refresh token.
    assert cognito(base, refresh_body(login(base)["RefreshToken"])).status_code == 200


def test_expire_all_access_switch(fresh_emulator: EmulatorServer) -> None:
    base = fresh_emulator.base_url
    tokens = login(base)
    headers = user_headers(tokens["AccessToken"])
    assert api(base, "device/find", {}, headers).status_code == 200
    r = httpx.post(f"{base}/_emulator/tokens/expire", json={"platform": "ioto"})
    assert r.json()["expired"]["ioto"] >= 1
    expired = api(base, "device/find", {}, headers)
    assert_text(expired, 403)
    assert "expired" in expired.text
    # The CloudAPI token is not a Cognito token: unaffected. A refresh gives a working token.
    assert tok(base, "device/find").status_code == 200
    fresh = cognito(base, refresh_body(tokens["RefreshToken"])).json()["AuthenticationResult"]
    assert api(base, "device/find", {}, user_headers(fresh["AccessToken"])).status_code == 200


def test_token_ttl_option_shortens_tokens(make_emulator: Callable[..., EmulatorServer]) -> None:
    server = make_emulator(token_ttl=1)
    tokens = login(server.base_url)
    assert tokens["ExpiresIn"] == 1
    claims = jwt.decode(tokens["AccessToken"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 1
    time.sleep(2.1)
    r = api(server.base_url, "device/find", {}, user_headers(tokens["AccessToken"]))
    assert_text(r, 403)
    assert "expired" in r.text


# --------------------------------------------------------------------------- API auth and errors


@pytest.mark.parametrize("bearer", [False, True], ids=["raw", "bearer"])
def test_login_token_raw_or_bearer(
    emulator: EmulatorServer, session: dict[str, Any], bearer: bool
) -> None:
    r = api(
        emulator.base_url, "device/find", {"limit": 2}, user_headers(session["AccessToken"], bearer)
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert len(r.json()["data"]) == 2


def test_id_token_is_accepted_too(emulator: EmulatorServer, session: dict[str, Any]) -> None:
    r = api(emulator.base_url, "user/get", {}, user_headers(session["IdToken"]))
    assert r.status_code == 200 and r.json()["data"]["email"] == "demo@ioto.example"


def test_cloudapi_token_on_tok_path_needs_no_origin(emulator: EmulatorServer) -> None:
    r = tok(emulator.base_url, "device/find", {"limit": 3})
    assert r.status_code == 200 and len(r.json()["data"]) == 3


@pytest.mark.parametrize(
    "authorization",
    [f"bearer {CLOUDAPI}", f"Bearer {CLOUDAPI}", CLOUDAPI],
    ids=["bearer (samples/api/*.sh)", "Bearer", "raw (API Access page)"],
)
def test_cloudapi_token_bearer_or_raw(emulator: EmulatorServer, authorization: str) -> None:
    r = httpx.post(
        f"{emulator.base_url}/ioto/api/tok/device/find",
        params={"limit": 2},
        json={"accountId": ACCOUNT},
        headers={"Authorization": authorization},
    )
    assert r.status_code == 200, r.text
    assert [d["accountId"] for d in r.json()["data"]] == [ACCOUNT, ACCOUNT]


@pytest.mark.parametrize(
    "path,body",
    [
        ("device/find", {}),
        ("device/get", {"id": "X"}),
        ("generic/find", {"_type": "Store"}),
        ("generic/get", {"_type": "Store", "deviceId": "X", "key": "status"}),
        ("generic/update", {"_type": "Store", "deviceId": "X", "key": "status", "value": 1}),
        ("metric/fetch", {"deviceId": "X", "items": []}),
    ],
)
def test_cloudapi_calls_need_account_id(
    emulator: EmulatorServer, path: str, body: dict[str, Any]
) -> None:
    # "accountId ... Required if using CloudAPI token" (embedthis.com/doc/ioto/ref/device.html)
    r = tok(emulator.base_url, path, body, as_given=True)
    assert_text(r, 400)
    assert "accountId" in r.text and "CloudAPI" in r.text
    assert_text(tok(emulator.base_url, path, {"accountId": "01JNOSUCHACCOUNT", **body}), 404)


def test_cloudapi_account_get_needs_an_id(emulator: EmulatorServer) -> None:
    assert_text(tok(emulator.base_url, "account/get", {}), 400)
    r = tok(emulator.base_url, "account/get", {"id": ACCOUNT})
    assert r.status_code == 200 and r.json()["data"]["name"] == "Demo Account"
    assert r.json()["data"]["cloudId"]


@pytest.mark.parametrize("option", ["limit", "next", "prev", "filter", "index"])
def test_find_options_belong_in_the_query_string(
    emulator: EmulatorServer, session: dict[str, Any], option: str
) -> None:
    # "Query String Options" (device, generic reference pages): never body fields here.
    for r in (
        tok(emulator.base_url, "device/find", {"accountId": ACCOUNT, option: 2}, as_given=True),
        api(
            emulator.base_url,
            "device/find",
            {option: 2},
            user_headers(session["AccessToken"]),
            as_given=True,
        ),
    ):
        assert_text(r, 400)
        assert "query string" in r.text


def test_auth_failures_are_403_text(emulator: EmulatorServer, session: dict[str, Any]) -> None:
    base, access = emulator.base_url, session["AccessToken"]
    forged = jwt.encode(
        {**jwt.decode(access, options={"verify_signature": False})},
        "a-wrong-secret-that-is-long-enough-for-hs256",
        algorithm="HS256",
    )
    cases = [
        ("device/find", {}),  # no Authorization at all
        ("device/find", {"Origin": ORIGIN}),
        ("device/find", {"Authorization": "garbage", "Origin": ORIGIN}),
        ("device/find", {"Authorization": forged, "Origin": ORIGIN}),
        ("device/find", {"Authorization": CLOUDAPI}),  # CloudAPI token without /tok
        ("device/find", {"Authorization": CLOUDAPI, "Origin": ORIGIN}),
        ("tok/device/find", {"Authorization": access}),  # login token with /tok
        ("tok/device/find", {"Authorization": f"Bearer {access}", "Origin": ORIGIN}),
        ("tok/device/find", {"Authorization": "ioto-cloudapi-wrong"}),
        ("tok/device/find", {}),
        ("device/find", {"Authorization": access}),  # no Origin
        ("device/find", {"Authorization": access, "Origin": "https://evil.example"}),
    ]
    for path, headers in cases:
        r = api(base, path, {}, headers)
        assert_text(r, 403)
        assert r.text.strip(), (path, headers)


def test_messages_explain_token_kind_mistakes(
    emulator: EmulatorServer, session: dict[str, Any]
) -> None:
    base = emulator.base_url
    assert "/tok" in api(base, "device/find", {}, {"Authorization": CLOUDAPI}).text
    assert (
        "/tok" in api(base, "tok/device/find", {}, {"Authorization": session["AccessToken"]}).text
    )
    assert "Origin" in api(base, "device/find", {}, {"Authorization": session["AccessToken"]}).text


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["tok/device/find", "device/find", "tok/test/ping", "tok/no/such"])
def test_only_post(emulator: EmulatorServer, method: str, path: str) -> None:
    r = httpx.request(method, f"{emulator.base_url}/ioto/api/{path}", headers=TOK)
    assert_text(r, 405)
    assert r.headers["allow"] == "POST"


def test_unknown_controller_or_action_is_404_text(
    emulator: EmulatorServer, session: dict[str, Any]
) -> None:
    for path in (
        "tok/device/explode",
        "tok/nothing/find",
        "tok/device",
        "tok/device/find/extra",
        "tok",
    ):
        assert_text(
            tok(emulator.base_url, path.removeprefix("tok/"))
            if path != "tok"
            else api(emulator.base_url, "tok", {}, TOK),
            404,
        )
    assert_text(
        api(emulator.base_url, "device/explode", {}, user_headers(session["AccessToken"])), 404
    )


def test_bad_requests_are_400_text(emulator: EmulatorServer) -> None:
    base = emulator.base_url
    for raw in (b"{not json", b"[1, 2]", b'"text"'):
        r = httpx.post(
            f"{base}/ioto/api/tok/device/find",
            content=raw,
            headers={**TOK, "Content-Type": "application/json"},
        )
        assert_text(r, 400)
    for path in ("device/get", "device/claim", "device/release"):
        r = tok(base, path, {})
        assert_text(r, 400)
        assert "id" in r.text
    assert_text(tok(base, "device/get", {"id": 42}), 400)


def test_empty_body_counts_as_empty_object(
    emulator: EmulatorServer, session: dict[str, Any]
) -> None:
    r = httpx.post(
        f"{emulator.base_url}/ioto/api/device/find", headers=user_headers(session["AccessToken"])
    )
    assert r.status_code == 200 and r.json()["data"]


def test_service_errors_are_500_text(
    fresh_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(World, "store_item", boom)
    device = tok(fresh_emulator.base_url, "device/find", {"limit": 1}).json()["data"][0]
    r = tok(fresh_emulator.base_url, "generic/find", {"_type": "Store", "deviceId": device["id"]})
    assert_text(r, 500)
    assert "database" not in r.text  # internals are not leaked


def test_ping_is_public(emulator: EmulatorServer, session: dict[str, Any]) -> None:
    # Documented with the role "public" (github.com/embedthis/ioto llms.txt, "# Test"): it
    # answers anyone, so it proves nothing about a token.
    for r in (
        tok(emulator.base_url, "test/ping"),
        api(emulator.base_url, "test/ping", {}, user_headers(session["AccessToken"])),
        api(emulator.base_url, "test/ping"),
        api(emulator.base_url, "tok/test/ping", {}, {"Authorization": "not-a-token"}),
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        assert r.text == "pinged\n"


# --------------------------------------------------------------------------- devices and paging


def test_device_records(emulator: EmulatorServer) -> None:
    devices = tok(emulator.base_url, "device/find").json()
    assert devices["data"] == demo_devices()  # the account's devices, in order
    assert devices["next"] is None and devices["prev"] is None
    ids = [d["id"] for d in devices["data"]]
    assert len(set(ids)) == len(ids) > 10
    for d in devices["data"]:
        assert {
            "id",
            "accountId",
            "productId",
            "product",
            "created",
            "accessed",
            "version",
            "test",
            "name",
        } <= set(d)
        assert len(d["id"]) >= 10 and d["id"].isalnum() and d["id"] == d["id"].upper()
        assert isinstance(d["test"], bool)
    assert any(d["accountId"] is None for d in cloud()), "some devices must be claimable"
    got = tok(emulator.base_url, "device/get", {"id": ids[3]})
    assert got.status_code == 200 and got.json()["data"] == devices["data"][3]
    r = tok(emulator.base_url, "device/get", {"id": "NOSUCHDEV1"})
    assert_text(r, 404)
    assert "Unknown device" in r.text


def test_world_is_deterministic(
    make_emulator: Callable[..., EmulatorServer], emulator: EmulatorServer
) -> None:
    other = make_emulator()
    first = tok(emulator.base_url, "device/find", {"limit": 10}).json()
    assert tok(other.base_url, "device/find", {"limit": 10}).json() == first
    reseeded = make_emulator(seed=7)
    assert tok(reseeded.base_url, "device/find", {"limit": 10}).json()["data"] != first["data"]


def test_login_user_sees_only_their_account(
    emulator: EmulatorServer, session: dict[str, Any]
) -> None:
    headers = user_headers(session["AccessToken"])
    mine = api(emulator.base_url, "device/find", {}, headers).json()["data"]
    everything = cloud()
    account = api(emulator.base_url, "user/get", {}, headers).json()["data"]["accountId"]
    assert mine and all(d["accountId"] == account for d in mine)
    assert len(mine) < len(everything)
    # Asking for another account does not widen a login user's view.
    other = api(emulator.base_url, "device/find", {"accountId": None}, headers).json()["data"]
    assert other == mine
    foreign = next(d for d in everything if d["accountId"] != account)
    assert_text(api(emulator.base_url, "device/get", {"id": foreign["id"]}, headers), 404)


def test_find_filters(emulator: EmulatorServer) -> None:
    everything = tok(emulator.base_url, "device/find").json()["data"]
    assert everything == demo_devices()
    other = next(d["accountId"] for d in cloud() if d["accountId"] not in (None, ACCOUNT))
    theirs = tok(emulator.base_url, "device/find", {"accountId": other}).json()["data"]
    assert theirs == [d for d in cloud() if d["accountId"] == other]
    product = everything[0]["productId"]
    by_product = tok(emulator.base_url, "device/find", {"productId": product}).json()["data"]
    assert by_product == [d for d in everything if d["productId"] == product]
    name = everything[5]["name"]
    assert tok(emulator.base_url, "device/find", {"filter": name}).json()["data"] == [everything[5]]
    empty = tok(emulator.base_url, "device/find", {"productId": "NOPE"}).json()
    assert empty == {"data": [], "next": None, "prev": None}


def walk(base: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    pages = [tok(base, "device/find", body).json()]
    while pages[-1]["next"]:
        pages.append(tok(base, "device/find", {**body, "next": pages[-1]["next"]}).json())
        assert len(pages) < 100
    return pages


def test_paging_exact_multiple_of_limit(make_emulator: Callable[..., EmulatorServer]) -> None:
    server = make_emulator(devices=30)  # 20 of them in the Demo Account
    base = server.base_url
    everything = tok(base, "device/find").json()["data"]
    assert everything == demo_devices(30) and len(everything) == 20
    pages = walk(base, {"limit": 5})
    assert len(pages) == 4 and all(len(p["data"]) == 5 for p in pages)
    assert [d for p in pages for d in p["data"]] == everything
    assert pages[0]["prev"] is None and pages[-1]["next"] is None
    assert all(p["prev"] for p in pages[1:])
    for cur in pages[0]["next"], pages[0]["prev"] or "":
        assert "device" not in cur  # opaque, not a plain offset or id
    # Going back from the last page gives the one before, and so on to the start.
    back = tok(base, "device/find", {"limit": 5, "prev": pages[-1]["prev"]}).json()
    assert back == pages[-2]
    first = pages[1]
    while first["prev"]:
        first = tok(base, "device/find", {"limit": 5, "prev": first["prev"]}).json()
    assert first == pages[0]


def test_paging_boundaries(emulator: EmulatorServer) -> None:
    n = len(demo_devices())
    whole = walk(emulator.base_url, {"limit": n})
    assert len(whole) == 1 and len(whole[0]["data"]) == n
    pages = walk(emulator.base_url, {"limit": n - 1})
    assert [len(p["data"]) for p in pages] == [n - 1, 1]
    assert len(walk(emulator.base_url, {"limit": 7})) == -(-n // 7)
    one = walk(emulator.base_url, {"limit": 1})
    assert len(one) == n and one[-1]["next"] is None


def test_paging_filtered_list(emulator: EmulatorServer) -> None:
    product = max(
        {d["productId"] for d in demo_devices()},
        key=lambda p: sum(d["productId"] == p for d in demo_devices()),
    )
    claimed = tok(emulator.base_url, "device/find", {"productId": product}).json()["data"]
    assert len(claimed) >= 3
    pages = walk(emulator.base_url, {"productId": product, "limit": 2})
    assert [d for p in pages for d in p["data"]] == claimed
    assert pages[-1]["next"] is None and len(pages[-1]["data"]) >= 1


def test_empty_list_paging(make_emulator: Callable[..., EmulatorServer]) -> None:
    server = make_emulator(devices=0)
    assert tok(server.base_url, "device/find").json() == {"data": [], "next": None, "prev": None}
    assert tok(server.base_url, "device/find", {"next": cursor("n", 0)}).json()["data"] == []


@pytest.mark.parametrize(
    "options",
    [
        {"next": "%%%not-base64%%%"},
        {"next": base64.urlsafe_b64encode(b"not json").decode()},
        {"next": cursor("n", 26)},  # beyond the list
        {"next": cursor("n", -1)},
        {"next": cursor("p", 5)},  # a prev cursor given as next
        {"next": cursor("n", 5, tag="store")},  # a cursor of another list
        {"next": 12},
        {"next": cursor("n", 5), "prev": cursor("p", 5)},
        {"limit": 0},
        {"limit": 1001},
        {"limit": "ten"},
        {"limit": -3},
    ],
)
def test_invalid_paging_options_are_400(emulator: EmulatorServer, options: dict[str, Any]) -> None:
    assert_text(tok(emulator.base_url, "device/find", options), 400)


def test_hundred_thousand_devices_page_lazily(make_emulator: Callable[..., EmulatorServer]) -> None:
    started = time.perf_counter()
    server = make_emulator(devices=100_000)
    assert time.perf_counter() - started < 5
    base = server.base_url
    t = time.perf_counter()
    page = tok(base, "device/find", {"limit": 100}).json()
    assert len(page["data"]) == 100 and page["next"] and page["prev"] is None
    seen = {d["id"] for d in page["data"]}
    for _ in range(3):
        page = tok(base, "device/find", {"limit": 100, "next": page["next"]}).json()
        assert len(page["data"]) == 100
        ids = {d["id"] for d in page["data"]}
        assert not ids & seen
        seen |= ids
    assert time.perf_counter() - t < 3
    # A cursor near the end costs no more than one near the start.
    t = time.perf_counter()
    last = tok(base, "device/find", {"limit": 100, "next": cursor("n", 99_950)}).json()
    assert time.perf_counter() - t < 1
    world = World(EmulatorConfig.seed, 100_000)
    tail = [world.device_at(i) for i in range(99_950, 100_000)]
    assert last["data"] == [d for d in tail if d["accountId"] == ACCOUNT]
    assert last["next"] is None and last["prev"]
    before = tok(base, "device/find", {"limit": 100, "prev": last["prev"]}).json()
    assert len(before["data"]) == 100 and before["next"]
    after = tok(base, "device/find", {"limit": 100, "next": before["next"]}).json()
    assert after["data"] == last["data"]
    # Lookups by id are direct too.
    target = last["data"][-1]
    assert tok(base, "device/get", {"id": target["id"]}).json()["data"] == target
    # A login user's (filtered) first page is quick as well.
    tokens = login(base)
    mine = api(base, "device/find", {"limit": 50}, user_headers(tokens["AccessToken"])).json()
    assert len(mine["data"]) == 50 and mine["next"]


def test_claim_and_release(fresh_emulator: EmulatorServer) -> None:
    base = fresh_emulator.base_url
    tokens = login(base)
    headers = user_headers(tokens["AccessToken"])
    account = api(base, "user/get", {}, headers).json()["data"]["accountId"]
    free = next(d for d in cloud() if d["accountId"] is None)
    assert_text(api(base, "device/get", {"id": free["id"]}, headers), 404)  # not mine yet
    claimed = api(base, "device/claim", {"id": free["id"]}, headers)
    assert claimed.status_code == 200 and claimed.json()["data"]["accountId"] == account
    assert (
        api(base, "device/get", {"id": free["id"]}, headers).json()["data"]["accountId"] == account
    )
    mine = api(base, "device/find", {"limit": 1000}, headers).json()["data"]
    assert free["id"] in {d["id"] for d in mine}
    again = api(base, "device/claim", {"id": free["id"]}, headers)
    assert_text(again, 400)
    assert "claimed" in again.text
    released = api(base, "device/release", {"id": free["id"]}, headers)
    assert released.status_code == 200 and released.json()["data"]["accountId"] is None
    assert_text(api(base, "device/release", {"id": free["id"]}, headers), 400)
    assert_text(api(base, "device/claim", {"id": "NOSUCHDEV1"}, headers), 404)
    assert_text(tok(base, "device/release", {"id": "NOSUCHDEV1"}), 404)
    # CloudAPI claims work too (into the demo account unless told otherwise).
    assert tok(base, "device/claim", {"id": free["id"]}).json()["data"]["accountId"] == account


# --------------------------------------------------------------------------- Store, metrics, users


def first_device(base: str) -> dict[str, Any]:
    device: dict[str, Any] = tok(base, "device/find", {"limit": 1}).json()["data"][0]
    return device


def test_store_items(emulator: EmulatorServer) -> None:
    device = first_device(emulator.base_url)
    r = tok(emulator.base_url, "generic/find", {"_type": "Store", "deviceId": device["id"]})
    assert r.status_code == 200
    body = r.json()
    assert body["next"] is None and body["prev"] is None
    keys = {item["key"] for item in body["data"]}
    assert {"temperature", "firmware", "uptime"} <= keys
    for item in body["data"]:
        assert {"accountId", "key", "value", "type", "updated", "deviceId"} <= set(item)
        assert item["deviceId"] == device["id"]
    firmware = next(i for i in body["data"] if i["key"] == "firmware")
    assert firmware["value"] == device["version"] and firmware["type"] == "string"
    temp = tok(
        emulator.base_url,
        "generic/get",
        {"_type": "Store", "deviceId": device["id"], "key": "temperature"},
    )
    assert temp.json()["data"] == next(i for i in body["data"] if i["key"] == "temperature")
    # The vendor's Store model: keyed by account, device and key (no id).
    assert set(firmware) == {"accountId", "deviceId", "key", "value", "type", "created", "updated"}
    assert firmware["accountId"] == ACCOUNT
    # Paged like any list.
    pages = [
        tok(
            emulator.base_url,
            "generic/find",
            {"_type": "Store", "deviceId": device["id"], "limit": 2},
        ).json()
    ]
    while pages[-1]["next"]:
        pages.append(
            tok(
                emulator.base_url,
                "generic/find",
                {"_type": "Store", "deviceId": device["id"], "limit": 2, "next": pages[-1]["next"]},
            ).json()
        )
    assert [i for p in pages for i in p["data"]] == body["data"]
    # Without a deviceId: every device's items (of the account), paged.
    everything = tok(emulator.base_url, "generic/find", {"_type": "Store", "limit": 7}).json()
    assert len(everything["data"]) == 7 and everything["next"]


def test_store_errors(emulator: EmulatorServer) -> None:
    device = first_device(emulator.base_url)
    assert_text(tok(emulator.base_url, "generic/find", {"deviceId": device["id"]}), 400)
    assert_text(
        tok(emulator.base_url, "generic/find", {"_type": "Nope", "deviceId": device["id"]}), 400
    )
    assert_text(tok(emulator.base_url, "generic/get", {"_type": "Store"}), 400)  # no deviceId
    # get-item.sh names no key: the item attributes are optional filters
    first = tok(emulator.base_url, "generic/get", {"_type": "Store", "deviceId": device["id"]})
    assert first.status_code == 200 and first.json()["data"]["deviceId"] == device["id"]
    assert_text(
        tok(
            emulator.base_url,
            "generic/get",
            {"_type": "Store", "deviceId": device["id"], "key": "x"},
        ),
        404,
    )
    unknown = tok(
        emulator.base_url, "generic/find", {"_type": "Store", "deviceId": "NOSUCHDEV1"}
    ).json()
    assert unknown == {"data": [], "next": None, "prev": None}


def test_store_update(fresh_emulator: EmulatorServer) -> None:
    base = fresh_emulator.base_url
    device = first_device(base)
    item = {"_type": "Store", "deviceId": device["id"], "key": "temperature"}
    r = tok(base, "generic/update", {**item, "value": 99.5})
    assert r.status_code == 200 and r.json()["data"]["value"] == 99.5
    assert tok(base, "generic/get", item).json()["data"]["value"] == 99.5
    assert_text(tok(base, "generic/update", item), 400)


def test_metric_list(emulator: EmulatorServer) -> None:
    # Body {cloudId (role owner), namespace, metric}: an object of namespaces / metrics /
    # dimensions (embedthis.com/doc/ioto/ref/metric.html, GetMetricList).
    base = emulator.base_url
    cloud_id = tok(base, "account/get", {"id": ACCOUNT}).json()["data"]["cloudId"]
    r = tok(base, "metric/getMetricList", {"cloudId": cloud_id, "namespace": "Embedthis/Device"})
    assert r.status_code == 200
    listed = r.json()["data"]
    assert listed["namespaces"] == ["Embedthis/Device"]
    assert {"temperature", "humidity"} <= set(listed["metrics"])
    assert tok(base, "metric/getMetricList", {"cloudId": cloud_id}).json()["data"] == {
        "namespaces": ["Embedthis/Device"]
    }
    dims = tok(
        base,
        "metric/getMetricList",
        {"cloudId": cloud_id, "namespace": "Embedthis/Device", "metric": "temperature"},
    ).json()["data"]["dimensions"]
    assert {"Device": "*"} in dims
    missing = tok(base, "metric/getMetricList", {"namespace": "Embedthis/Device"})
    assert_text(missing, 400)  # a CloudAPI token names the cloud
    assert "cloudId" in missing.text
    assert_text(tok(base, "metric/getMetricList", {"cloudId": "01JNOPE"}), 404)


def test_metric_fetch(emulator: EmulatorServer) -> None:
    device = first_device(emulator.base_url)
    start = 1_780_000_000_000
    items = [
        {
            "namespace": "Embedthis/Device",
            "metric": "temperature",
            "dimensions": {"Device": device["id"]},
            "period": 86400,
            "statistic": stat,
            "start": start,
        }
        for stat in ("avg", "min", "max")
    ]
    body = {"deviceId": device["id"], "items": items}
    r = tok(emulator.base_url, "metric/fetch", body)
    assert r.status_code == 200
    answer = r.json()  # a paged response (metric reference page)
    assert answer["next"] is None and answer["prev"] is None
    series = answer["data"]
    assert isinstance(series, list) and len(series) == 3
    for s in series:
        assert s["metric"] == "temperature" and s["namespace"] == "Embedthis/Device"
        assert s["period"] == 86400 and s["dimensions"] == {"Device": device["id"]}
        assert len(s["points"]) == 24 == s["samples"]
        stamps = [p["timestamp"] for p in s["points"]]
        assert stamps == sorted(stamps) and stamps[1] - stamps[0] == 3600 * 1000
        assert all({"value", "timestamp", "count"} <= set(p) for p in s["points"])
    avg, low, high = ([p["value"] for p in s["points"]] for s in series)
    assert all(lo <= a <= hi for lo, a, hi in zip(low, avg, high, strict=True))
    assert tok(emulator.base_url, "metric/fetch", body).json() == answer  # deterministic
    unknown = tok(
        emulator.base_url,
        "metric/fetch",
        {"deviceId": device["id"], "items": [{**items[0], "metric": "nope"}]},
    ).json()
    assert unknown["data"][0]["points"] == []


def test_metric_fetch_as_get_metric_sh(emulator: EmulatorServer) -> None:
    # samples/api/get-metric.sh: accountId, cloudId, statistic "current", accumulate true
    base = emulator.base_url
    device = first_device(base)
    cloud_id = tok(base, "account/get", {"id": ACCOUNT}).json()["data"]["cloudId"]
    item = {
        "cloudId": cloud_id,
        "namespace": "Embedthis/Device",
        "metric": "temperature",
        "dimensions": {"Device": device["id"]},
        "statistic": "current",
        "period": 86400,
        "accumulate": True,
    }
    r = tok(base, "metric/fetch", {"deviceId": device["id"], "items": [item]})
    assert r.status_code == 200, r.text
    [metric] = r.json()["data"]
    assert metric["statistic"] == "current" and len(metric["points"]) == 1
    assert metric["samples"] == 24 and metric["points"][0]["count"] >= 24
    wrong = {**item, "cloudId": "01JNOPE"}
    assert_text(tok(base, "metric/fetch", {"deviceId": device["id"], "items": [wrong]}), 404)


def test_metric_fetch_errors(emulator: EmulatorServer) -> None:
    base = emulator.base_url
    device = first_device(base)["id"]
    item = {
        "namespace": "Embedthis/Device",
        "metric": "temperature",
        "period": 3600,
        "statistic": "avg",
    }
    assert_text(tok(base, "metric/fetch", {"deviceId": "NOSUCHDEV1", "items": [item]}), 404)
    assert_text(tok(base, "metric/fetch", {}), 400)
    for bad in (
        {"statistic": "median"},
        {"period": "day"},
        {"start": "yesterday"},
        {"accumulate": "yes"},
        {"statistic": None},
        {"namespace": None},
    ):
        broken = {k: v for k, v in {**item, **bad}.items() if v is not None}
        assert_text(tok(base, "metric/fetch", {"deviceId": device, "items": [broken]}), 400)
    assert_text(tok(base, "metric/fetch", {"items": [item]}), 400)  # deviceId: required


def test_users(emulator: EmulatorServer, session: dict[str, Any]) -> None:
    headers = user_headers(session["AccessToken"])
    me = api(emulator.base_url, "user/get", {}, headers).json()["data"]
    assert me["email"] == "demo@ioto.example" and me["id"] and me["accountId"]
    assert not any("pass" in key.lower() for key in me)
    users = api(emulator.base_url, "user/find", {}, headers).json()
    assert me in users["data"] and users["next"] is None
    other = next(u for u in users["data"] if u["id"] != me["id"])
    assert api(emulator.base_url, "user/get", {"id": other["id"]}, headers).json()["data"] == other
    assert_text(api(emulator.base_url, "user/get", {"id": "nobody"}, headers), 404)
    assert tok(emulator.base_url, "user/get").json()["data"]["id"] == me["id"]


def test_describe() -> None:
    info = ioto.describe("http://127.0.0.1:8765/ioto")
    urls, creds = info["urls"], info["credentials"]
    assert "http://127.0.0.1:8765/ioto/api" in urls.values()
    assert "http://127.0.0.1:8765/ioto/cognito/" in urls.values()
    assert set(creds.values()) >= {
        "ioto-demo-client",
        "demo@ioto.example",
        "Ioto-demo-pass-4821",
        CLOUDAPI,
        ACCOUNT,
        ORIGIN,
    }
