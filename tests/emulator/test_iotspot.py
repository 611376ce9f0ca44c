"""The emulated iotspot over real HTTP: Cognito-style M2M tokens and the modelled open API."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from urllib.parse import quote_plus

import httpx
import jwt
import pytest

from workbench.emulator import jwt_keys
from workbench.emulator.app import EmulatorServer
from workbench.emulator.iotspot import routes as iotspot

CLIENT_ID = "iotspot-demo-client"
CLIENT_SECRET = "iotspot+demo/secret=8852"
SCOPE = "iotspot/openapi"
POOL = "eu-central-1_iotspotDemo"
OAUTH_JSON = "application/json;charset=UTF-8"
MODEL_NOTE = "iotspot API is not public; this is a model"


def basic(client_id: str, secret: str, *, urlencode: bool = True) -> str:
    if urlencode:
        client_id, secret = quote_plus(client_id), quote_plus(secret)
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_url(server: EmulatorServer) -> str:
    return f"{server.base_url}/iotspot/auth/oauth2/token"


def api(server: EmulatorServer, path: str) -> str:
    return f"{server.base_url}/iotspot/api/v1{path}"


def issuer(server: EmulatorServer) -> str:
    return f"{server.base_url}/iotspot/cognito-idp/{POOL}"


def get_token(client: httpx.Client, server: EmulatorServer, scope: str | None = SCOPE) -> str:
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
    if scope is not None:
        form["scope"] = scope
    r = client.post(
        token_url(server), headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)}, data=form
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def http():
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def token(http: httpx.Client, emulator: EmulatorServer) -> str:
    return get_token(http, emulator)


# --- the token endpoint -----------------------------------------------------------------------


def test_basic_auth_with_urlencoded_credentials_gets_a_bearer_token(http, emulator):
    r = http.post(
        token_url(emulator),
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
        data={"client_id": CLIENT_ID, "scope": SCOPE, "grant_type": "client_credentials"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == OAUTH_JSON
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}  # no refresh token
    assert body["expires_in"] == 3600
    assert body["token_type"] == "Bearer"
    assert body["access_token"].count(".") == 2


def test_basic_auth_without_urlencoding_is_invalid_client(http, emulator):
    # '+' decodes to a space once the server form-urldecodes the secret: RFC 6749 2.3.1.
    r = http.post(
        token_url(emulator),
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET, urlencode=False)},
        data={"grant_type": "client_credentials", "scope": SCOPE},
    )
    assert r.status_code == 400
    assert r.headers["content-type"] == OAUTH_JSON
    assert r.json() == {"error": "invalid_client"}


def test_client_secret_post_works(http, emulator):
    r = http.post(
        token_url(emulator),
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    # no scope asked: every scope the client may have (openapi, outlook), as the pool grants them
    assert claims["scope"].split() == ["iotspot/outlook", "iotspot/production"]


def test_basic_and_form_credentials_that_agree_are_accepted(http, emulator):
    r = http.post(
        token_url(emulator),
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert r.status_code == 200


GOOD = basic(CLIENT_ID, CLIENT_SECRET)
FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("headers", "body", "error"),
    [
        (
            {"Authorization": basic(CLIENT_ID, "wrong")},
            "grant_type=client_credentials",
            "invalid_client",
        ),
        (
            {"Authorization": basic("nobody", CLIENT_SECRET)},
            "grant_type=client_credentials",
            "invalid_client",
        ),
        (
            {},
            f"grant_type=client_credentials&client_id={CLIENT_ID}",
            "invalid_client",
        ),  # no secret at all
        (
            {"Authorization": "Basic !!!not-base64!!!"},
            "grant_type=client_credentials",
            "invalid_client",
        ),
        (
            {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
            "grant_type=client_credentials",
            "invalid_client",
        ),
        (
            {"Authorization": GOOD},
            f"scope={quote_plus(SCOPE)}",
            "invalid_request",
        ),  # grant_type missing
        ({"Authorization": GOOD}, "grant_type=", "invalid_request"),
        (
            {"Authorization": GOOD},
            "grant_type=password&username=a&password=b",
            "unsupported_grant_type",
        ),
        (
            {"Authorization": GOOD},
            "grant_type=client_credentials&scope=iotspot%2Fadmin",
            "invalid_scope",
        ),
        (
            {"Authorization": GOOD},
            "grant_type=client_credentials&client_id=someone-else",
            "invalid_request",
        ),
        (
            {"Authorization": GOOD},
            "grant_type=client_credentials&client_secret=other",
            "invalid_request",
        ),
        (
            {"Authorization": GOOD},
            "grant_type=client_credentials&grant_type=client_credentials",
            "invalid_request",
        ),
        (
            {"Authorization": basic("iotspot-web-client", "iotspot-web-secret-3310")},
            "grant_type=client_credentials",
            "unauthorized_client",
        ),
        (
            {"Authorization": basic("iotspot-web-client", "iotspot-web-secret-3310")},
            "grant_type=authorization_code&code=abc&redirect_uri=http%3A%2F%2Flocalhost",
            "invalid_grant",
        ),
    ],
)
def test_token_errors(http, emulator, headers, body, error):
    r = http.post(token_url(emulator), headers={**headers, "Content-Type": FORM}, content=body)
    assert r.status_code == 400
    assert r.headers["content-type"] == OAUTH_JSON
    assert r.json() == {"error": error}


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_token_needs_a_form_body(http, emulator, content_type):
    headers = {"Authorization": GOOD}
    if content_type:
        headers["Content-Type"] = content_type
    payload = (
        json.dumps({"grant_type": "client_credentials"})
        if content_type
        else "grant_type=client_credentials"
    )
    r = http.post(token_url(emulator), headers=headers, content=payload)
    assert r.status_code == 400
    assert r.headers["content-type"] == OAUTH_JSON
    assert r.json() == {"error": "invalid_request"}


def test_token_endpoint_accepts_form_type_with_charset(http, emulator):
    r = http.post(
        token_url(emulator),
        headers={"Authorization": GOOD, "Content-Type": FORM + "; charset=UTF-8"},
        content="grant_type=client_credentials",
    )
    assert r.status_code == 200


def test_access_token_verifies_against_the_jwks_and_has_cognito_claims(http, emulator, token):
    conf = http.get(f"{issuer(emulator)}/.well-known/openid-configuration").json()
    assert conf["issuer"] == issuer(emulator)
    assert conf["token_endpoint"] == token_url(emulator)
    assert conf["jwks_uri"] == f"{issuer(emulator)}/.well-known/jwks.json"
    jwks = http.get(conf["jwks_uri"]).json()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    assert key["kty"] == "RSA"
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], issuer=issuer(emulator))
    assert set(claims) >= {
        "sub",
        "token_use",
        "scope",
        "auth_time",
        "iss",
        "exp",
        "iat",
        "version",
        "jti",
        "client_id",
    }
    assert claims["sub"] == claims["client_id"] == CLIENT_ID
    assert claims["token_use"] == "access"
    # granted, not requested: the vendor's sample token for scope=iotspot/openapi (seeds/003)
    assert claims["scope"] == "iotspot/outlook iotspot/production"
    assert claims["version"] == 2
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 60
    assert "aud" not in claims  # Cognito access tokens carry client_id, not aud
    other = get_token(http, emulator)
    assert jwt.decode(other, options={"verify_signature": False})["jti"] != claims["jti"]


def test_token_signed_with_another_key_is_rejected_by_pyjwt(http, emulator, token):
    from cryptography.hazmat.primitives.asymmetric import rsa

    jwks = http.get(f"{issuer(emulator)}/.well-known/jwks.json").json()
    forged = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": jwks["keys"][0]["kid"]},
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, jwt.PyJWK(jwks["keys"][0]).key, algorithms=["RS256"])
    r = http.get(api(emulator, "/workspaces"), headers=bearer(forged))
    assert r.status_code == 401


def test_seed_curl_example(emulator):
    """The seed's curl request, host swapped and path prefixed; XXXX filled both ways."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")

    def run(auth: str) -> dict:
        out = subprocess.run(
            [
                "curl",
                "--silent",
                "--location",
                "--request",
                "POST",
                token_url(emulator),
                "--header",
                f"Authorization: {auth}",
                "--header",
                "Content-Type: application/x-www-form-urlencoded",
                "--data-urlencode",
                f"client_id={CLIENT_ID}",
                "--data-urlencode",
                "scope=iotspot/openapi",
                "--data-urlencode",
                "grant_type=client_credentials",
            ],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
        return json.loads(out.stdout)

    ok = run(basic(CLIENT_ID, CLIENT_SECRET))
    assert ok["token_type"] == "Bearer" and ok["expires_in"] == 3600
    # The seed's literal recipe (base64 of "id:secret" without urlencoding) fails on this secret.
    assert run(basic(CLIENT_ID, CLIENT_SECRET, urlencode=False)) == {"error": "invalid_client"}


# --- authorisation of the modelled API --------------------------------------------------------


@pytest.mark.parametrize(
    "auth", [None, "Bearer", "Bearer not.a.jwt", "Basic " + "x" * 8, "Bearer abc"]
)
def test_api_rejects_missing_or_bad_tokens(http, emulator, auth):
    headers = {"Authorization": auth} if auth else {}
    r = http.get(api(emulator, "/workspaces"), headers=headers)
    assert r.status_code == 401
    assert r.json() == {"message": "Unauthorized"}
    assert r.headers["x-emulator-model"] == MODEL_NOTE


def test_api_rejects_tampered_and_non_access_tokens(http, emulator, token):
    head, payload, sig = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = (
        base64.urlsafe_b64encode(json.dumps({**claims, "sub": "root"}).encode())
        .rstrip(b"=")
        .decode()
    )
    assert (
        http.get(api(emulator, "/workspaces"), headers=bearer(f"{head}.{forged}.{sig}")).status_code
        == 401
    )
    kid = jwt.get_unverified_header(token)["kid"]
    hs = jwt.encode(
        claims, "an-hmac-secret-that-is-long-enough-32", algorithm="HS256", headers={"kid": kid}
    )
    assert http.get(api(emulator, "/workspaces"), headers=bearer(hs)).status_code == 401
    # Properly signed by the pool, but an ID token or from a foreign issuer: still 401.
    for changed in (
        {"token_use": "id"},
        {"iss": "https://cognito-idp.eu-central-1.amazonaws.com/other"},
    ):
        other = jwt_keys.sign_rs256({**claims, **changed})
        assert http.get(api(emulator, "/workspaces"), headers=bearer(other)).status_code == 401
    assert (
        http.get(
            api(emulator, "/workspaces"), headers=bearer(jwt_keys.sign_rs256(claims))
        ).status_code
        == 200
    )


def test_scope_is_enforced(http, emulator):
    outlook_only = get_token(http, emulator, scope="iotspot/outlook")
    r = http.get(api(emulator, "/workspaces"), headers=bearer(outlook_only))
    assert r.status_code == 403
    assert r.json() == {"message": "Forbidden"}
    both = get_token(http, emulator, scope="iotspot/outlook iotspot/openapi")
    assert http.get(api(emulator, "/workspaces"), headers=bearer(both)).status_code == 200
    default = get_token(http, emulator, scope=None)
    assert http.get(api(emulator, "/workspaces"), headers=bearer(default)).status_code == 200


def test_token_ttl_option_expires_tokens(http, make_emulator):
    server = make_emulator(token_ttl=1)
    r = http.post(
        token_url(server),
        headers={"Authorization": GOOD},
        data={"grant_type": "client_credentials"},
    )
    assert r.json()["expires_in"] == 1
    tok = r.json()["access_token"]
    assert http.get(api(server, "/workspaces"), headers=bearer(tok)).status_code == 200
    time.sleep(2.1)
    r = http.get(api(server, "/workspaces"), headers=bearer(tok))
    assert r.status_code == 401
    assert r.json() == {"message": "Unauthorized"}


def test_expire_all_switch(http, fresh_emulator):
    tok = get_token(http, fresh_emulator)
    assert http.get(api(fresh_emulator, "/workspaces"), headers=bearer(tok)).status_code == 200
    r = http.post(
        f"{fresh_emulator.base_url}/_emulator/tokens/expire", json={"platform": "iotspot"}
    )
    assert r.json()["expired"]["iotspot"] >= 1
    assert http.get(api(fresh_emulator, "/workspaces"), headers=bearer(tok)).status_code == 401
    new = get_token(http, fresh_emulator)  # the client simply asks again
    assert http.get(api(fresh_emulator, "/workspaces"), headers=bearer(new)).status_code == 200


def test_token_rate_limit_fault(http, fresh_emulator):
    base = fresh_emulator.base_url
    assert (
        http.post(f"{base}/_emulator/faults/iotspot", json={"token_rate_limit": 2}).status_code
        == 200
    )
    tok = get_token(http, fresh_emulator)
    # API calls do not count against the token limit.
    for _ in range(3):
        assert http.get(api(fresh_emulator, "/workspaces"), headers=bearer(tok)).status_code == 200
    get_token(http, fresh_emulator)
    r = http.post(
        token_url(fresh_emulator),
        headers={"Authorization": GOOD},
        data={"grant_type": "client_credentials"},
    )
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert http.post(f"{base}/_emulator/faults/reset").status_code == 200
    get_token(http, fresh_emulator)


# --- the modelled API ---------------------------------------------------------------------------


def test_api_tree_workspace_location_desk_occupancy(http, emulator, token):
    h = bearer(token)
    seen: list[httpx.Response] = []

    def get(path: str) -> dict:
        r = http.get(api(emulator, path), headers=h)
        assert r.status_code == 200, (path, r.text)
        seen.append(r)
        return r.json()

    workspaces = get("/workspaces")
    assert workspaces["model"] == "iotspot-emulator-model"
    assert workspaces["total"] == len(workspaces["items"]) >= 2
    desk_total = 0
    for ws in workspaces["items"]:
        assert get(f"/workspaces/{ws['id']}") == ws
        assert ws["city"] and ws["timezone"].startswith("Europe/")
        locations = get(f"/workspaces/{ws['id']}/locations")
        assert locations["total"] == ws["locationCount"] == len(locations["items"])
        assert sum(loc["deskCount"] for loc in locations["items"]) == ws["deskCount"]
        for loc in locations["items"]:
            assert loc["workspaceId"] == ws["id"]
            assert get(f"/locations/{loc['id']}") == loc
            desks = get(f"/locations/{loc['id']}/desks")
            assert desks["model"] == "iotspot-emulator-model"
            assert desks["total"] == loc["deskCount"] == len(desks["items"])
            for desk in desks["items"]:
                assert desk["locationId"] == loc["id"]
                assert set(desk) >= {"id", "name", "locationId", "sensor", "occupancy"}
                assert set(desk["sensor"]) == {"id", "type", "battery", "lastSeen", "online"}
                assert desk["sensor"]["type"] == "occupancy"
                assert 0 <= desk["sensor"]["battery"] <= 100
                assert desk["occupancy"]["status"] in {"occupied", "free", "unknown"}
                assert (desk["occupancy"]["status"] == "unknown") == (not desk["sensor"]["online"])
            desk_total += desks["total"]
    assert desk_total == emulator.ctx.config.devices == 25

    desk = get("/desks/desk-000001")
    occ = get("/desks/desk-000001/occupancy")
    assert occ["deskId"] == desk["id"]
    assert (
        occ["status"] == desk["occupancy"]["status"] and occ["since"] == desk["occupancy"]["since"]
    )

    summary = get("/occupancy")
    assert summary["model"] == "iotspot-emulator-model"
    assert summary["total"] == 25 == summary["occupied"] + summary["free"] + summary["unknown"]
    first = workspaces["items"][0]
    one = get(f"/occupancy?workspaceId={first['id']}")
    assert one["workspaceId"] == first["id"]
    assert one["total"] == first["deskCount"] == sum(loc["total"] for loc in one["locations"])
    assert all(r.headers["x-emulator-model"] == MODEL_NOTE for r in seen)


@pytest.mark.parametrize(
    "path",
    [
        "/workspaces/ws-99",
        "/workspaces/nope/locations",
        "/locations/loc-01-99",
        "/locations/x/desks",
        "/desks/desk-000026",
        "/desks/desk-000000/occupancy",
        "/desks/desk-1",
        "/occupancy?workspaceId=ws-42",
        "/no/such/resource",
    ],
)
def test_unknown_ids_are_404_and_still_labelled(http, emulator, token, path):
    r = http.get(api(emulator, path), headers=bearer(token))
    assert r.status_code == 404
    assert r.json() == {"message": "Not Found"}
    assert r.headers["x-emulator-model"] == MODEL_NOTE


def test_wrong_method_is_405_json(http, emulator, token):
    r = http.post(api(emulator, "/workspaces"), headers=bearer(token))
    assert r.status_code == 405
    assert r.json() == {"message": "Method Not Allowed"}
    assert r.headers["x-emulator-model"] == MODEL_NOTE


def test_paging_boundaries(http, emulator, token):
    h = bearer(token)
    ids: list[str] = []
    page = 1
    while True:
        body = http.get(api(emulator, f"/desks?page={page}&pageSize=7"), headers=h).json()
        assert (body["page"], body["pageSize"], body["total"]) == (page, 7, 25)
        if not body["items"]:
            break
        assert len(body["items"]) == (7 if page < 4 else 4)
        ids += [d["id"] for d in body["items"]]
        page += 1
    assert page == 5  # 7+7+7+4, then an empty page
    assert ids == [f"desk-{n:06d}" for n in range(1, 26)]
    default = http.get(api(emulator, "/desks"), headers=h).json()
    assert (default["page"], default["pageSize"], len(default["items"])) == (1, 50, 25)
    far = http.get(api(emulator, "/workspaces?page=1000&pageSize=1000"), headers=h).json()
    assert far["items"] == [] and far["total"] >= 1
    locs = http.get(
        api(emulator, "/workspaces/ws-01/locations?page=2&pageSize=1"), headers=h
    ).json()
    assert [loc["id"] for loc in locs["items"]] == ["loc-01-02"]


@pytest.mark.parametrize(
    "query", ["page=0", "page=-1", "page=x", "pageSize=0", "pageSize=1001", "pageSize=2.5"]
)
def test_bad_paging_is_400(http, emulator, token, query):
    r = http.get(api(emulator, f"/desks?{query}"), headers=bearer(token))
    assert r.status_code == 400
    assert "message" in r.json()
    assert r.headers["x-emulator-model"] == MODEL_NOTE


def test_100000_desks_start_fast_and_page_lazily(http, make_emulator):
    started = time.perf_counter()
    server = make_emulator(devices=100_000)
    assert time.perf_counter() - started < 3
    h = bearer(get_token(http, server))
    last = http.get(api(server, "/desks?page=100&pageSize=1000"), headers=h).json()
    assert last["total"] == 100_000
    assert len(last["items"]) == 1000
    assert last["items"][0]["id"] == "desk-099001" and last["items"][-1]["id"] == "desk-100000"
    assert http.get(api(server, "/desks?page=101&pageSize=1000"), headers=h).json()["items"] == []
    workspaces = http.get(api(server, "/workspaces"), headers=h).json()["items"]
    assert sum(ws["deskCount"] for ws in workspaces) == 100_000
    # The last location's last page ends with the very last desk.
    ws = workspaces[-1]
    locs = http.get(
        api(server, f"/workspaces/{ws['id']}/locations?pageSize=1000"), headers=h
    ).json()["items"]
    loc = locs[-1]
    pages = -(-loc["deskCount"] // 100)
    tail = http.get(
        api(server, f"/locations/{loc['id']}/desks?page={pages}&pageSize=100"), headers=h
    ).json()
    assert tail["total"] == loc["deskCount"]
    assert tail["items"][-1]["id"] == "desk-100000"
    assert all(d["locationId"] == loc["id"] for d in tail["items"])
    assert http.get(api(server, "/desks/desk-100000"), headers=h).json()["locationId"] == loc["id"]
    assert http.get(api(server, "/desks/desk-100001"), headers=h).status_code == 404
    summary = http.get(api(server, "/occupancy"), headers=h).json()
    assert summary["total"] == 100_000
    assert 0 < summary["unknown"] < summary["occupied"] < summary["free"] < 100_000


def test_world_is_deterministic_from_the_seed(http, make_emulator):
    a, b, c = make_emulator(seed=7), make_emulator(seed=7), make_emulator(seed=8)

    def snapshot(server: EmulatorServer) -> tuple:
        h = bearer(get_token(http, server))
        ws = http.get(api(server, "/workspaces"), headers=h).json()["items"]
        desks = http.get(api(server, "/desks?pageSize=25"), headers=h).json()["items"]
        return [w["city"] for w in ws], [
            (d["sensor"]["id"], d["occupancy"]["status"]) for d in desks
        ]

    assert snapshot(a) == snapshot(b)
    assert snapshot(a) != snapshot(c)


def test_describe_lists_urls_credentials_and_the_model_note():
    info = iotspot.describe("http://127.0.0.1:8765/iotspot")
    assert info["urls"]["token"] == "http://127.0.0.1:8765/iotspot/auth/oauth2/token"
    assert (
        info["urls"]["jwks"]
        == f"http://127.0.0.1:8765/iotspot/cognito-idp/{POOL}/.well-known/jwks.json"
    )
    assert info["urls"]["api (model)"] == "http://127.0.0.1:8765/iotspot/api/v1"
    assert info["credentials"] == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": SCOPE,
    }
    assert "model" in info["note"] and "not public" in info["note"]
    assert {"/auth/oauth2/token"} == iotspot.TOKEN_PATHS


def test_the_token_carries_the_granted_scopes_not_the_requested_one(http, emulator):
    """Like the vendor's sample (seeds/003): asked for iotspot/openapi, the token carries
    iotspot/outlook iotspot/production, and the answer itself names no scope."""
    r = http.post(
        token_url(emulator),
        headers={"Authorization": GOOD},
        data={"grant_type": "client_credentials", "scope": SCOPE},
    )
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"access_token", "expires_in", "token_type"}
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "iotspot/outlook iotspot/production"
    # a scope the client may not have is still refused, as Cognito does
    bad = http.post(
        token_url(emulator),
        headers={"Authorization": GOOD},
        data={"grant_type": "client_credentials", "scope": "iotspot/production"},
    )
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_scope"}
