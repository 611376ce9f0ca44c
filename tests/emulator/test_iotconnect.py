"""The emulated Avnet IoTConnect over real HTTP: auth flow, devices, entities, discovery, scale."""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

import httpx
import jwt
import pytest

from workbench.emulator.iotconnect import routes as iotconnect
from workbench.emulator.jwt_keys import IOTCONNECT_HS256_SECRET

USER = "demo@iotconnect.example"
PASSWORD = "IoTC-demo-pass-7319"
KEY = "demo-solution-key-5c1e"
LIST_FIELDS = {
    "guid",
    "uniqueId",
    "displayName",
    "isConnected",
    "isActive",
    "IsAcquired",
    "deviceStatus",
    "deviceTemplateGuid",
    "deviceTemplateName",
    "entityName",
    "childDeviceCount",
    "lastConnection",
    "lastCommunication",
    "lastactivityDate",
    "authType",
    "solutionGuid",
    "reportingTo",
    "properties",
}
GUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


def base(server: Any) -> str:
    return server.base_url + "/iotconnect"


def basic_token(client: httpx.Client, b: str) -> str:
    r = client.get(f"{b}/auth/api/v2/Auth/basic-token")
    assert r.status_code == 200
    return r.json()["data"]


def login(client: httpx.Client, b: str, **overrides: Any) -> httpx.Response:
    headers = {"Authorization": "Basic " + basic_token(client, b), "solution-key": KEY}
    headers.update(overrides.pop("headers", {}))
    body = {"username": USER, "password": PASSWORD, **overrides}
    return client.post(f"{b}/auth/api/v2/Auth/login", headers=headers, json=body)


def bearer(client: httpx.Client, b: str) -> dict[str, str]:
    r = login(client, b)
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["access_token"]}


@pytest.fixture
def client():
    with httpx.Client(timeout=30) as c:
        yield c


@pytest.fixture
def auth(emulator, client) -> dict[str, str]:
    return bearer(client, base(emulator))


def devices(client: httpx.Client, b: str, headers: dict[str, str], **params: Any) -> httpx.Response:
    return client.get(f"{b}/device/api/v2/Device", headers=headers, params=params)


def all_devices(client: httpx.Client, b: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = devices(client, b, headers, pageSize=1000)
    assert r.status_code == 200
    return r.json()["data"]


def assert_no_content(r: httpx.Response) -> None:
    assert r.status_code == 204
    assert r.content == b""


def assert_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    return body


# --------------------------------------------------------------------------- auth


def test_basic_token(emulator, client) -> None:
    r = client.get(f"{base(emulator)}/auth/api/v2/Auth/basic-token")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    body = r.json()
    assert body == {
        "data": body["data"],
        "message": "Basic token has been generated successfully",
        "status": 200,
    }
    assert base64.b64decode(body["data"])  # a base64 string, as on the real host


@pytest.mark.parametrize("prefix", ["Basic ", "basic ", ""])
@pytest.mark.parametrize("key_header", ["solution-key", "Solution-key", "SOLUTION-KEY"])
def test_login_variants(emulator, client, prefix: str, key_header: str) -> None:
    b = base(emulator)
    headers = {"Authorization": prefix + basic_token(client, b), key_header: KEY}
    r = client.post(
        f"{b}/auth/api/v2/Auth/login",
        headers=headers,
        json={"username": USER, "password": PASSWORD},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"access_token", "expires_in", "refresh_token", "status", "token_type"}
    assert body["status"] == 200 and body["token_type"] == "bearer" and body["expires_in"] == 86400
    assert re.fullmatch(r"[a-z]{50}", body["refresh_token"])


def test_access_token_claims(emulator, client) -> None:
    r = login(client, base(emulator))
    token = r.json()["access_token"]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(
        token, IOTCONNECT_HS256_SECRET, algorithms=["HS256"], options={"verify_aud": False}
    )
    assert claims["iss"] == "emulator.iotconnect.io"
    assert "aud" in claims
    assert claims["exp"] - claims["iat"] == 86400
    user = claims["user"]
    for field in (
        "id",
        "companyId",
        "roleId",
        "roleName",
        "cpId",
        "entityGuid",
        "solutionGuid",
        "solutionKey",
    ):
        assert user[field], field
    assert user["userId"] == USER and user["solutionKey"] == KEY


def test_login_seed_body_with_spaced_key_and_email_case(emulator, client) -> None:
    # The seed documents the body as {"username ": ...}; ASP.NET binds names loosely.
    b = base(emulator)
    headers = {"Authorization": "Basic " + basic_token(client, b), "solution-key": KEY}
    r = client.post(
        f"{b}/auth/api/v2/Auth/login",
        headers=headers,
        content=json.dumps({"username ": USER.upper(), "Password": PASSWORD}),
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "field,value",
    [("password", "wrong"), ("username", "someone@else.example"), ("password", PASSWORD.lower())],
)
def test_login_wrong_credentials(emulator, client, field: str, value: str) -> None:
    r = login(client, base(emulator), **{field: value})
    body = assert_error(r, 401)
    assert body == {"status": 401, "message": body["message"], "error": {}, "data": {}, "ie": {}}


@pytest.mark.parametrize("headers", [{"solution-key": "nope"}, {"solution-key": ""}])
def test_login_bad_solution_key(emulator, client, headers: dict[str, str]) -> None:
    body = assert_error(login(client, base(emulator), headers=headers), 401)
    assert "solution key" in body["message"].lower() and "invalid" in body["message"].lower()


def test_login_missing_solution_key(emulator, client) -> None:
    b = base(emulator)
    r = client.post(
        f"{b}/auth/api/v2/Auth/login",
        headers={"Authorization": "Basic " + basic_token(client, b)},
        json={"username": USER, "password": PASSWORD},
    )
    body = assert_error(r, 401)
    assert "solution key" in body["message"].lower()


@pytest.mark.parametrize(
    "authorization", [None, "Basic", "Basic bm90LXRoZS10b2tlbg==", "Bearer abc"]
)
def test_login_bad_basic_token(emulator, client, authorization: str | None) -> None:
    b = base(emulator)
    headers = {"solution-key": KEY}
    if authorization is not None:
        headers["Authorization"] = authorization
    r = client.post(
        f"{b}/auth/api/v2/Auth/login",
        headers=headers,
        json={"username": USER, "password": PASSWORD},
    )
    body = assert_error(r, 401)
    assert set(body) == {"status", "message", "error", "data", "ie"}


def test_login_missing_fields(emulator, client) -> None:
    b = base(emulator)
    headers = {"Authorization": "Basic " + basic_token(client, b), "solution-key": KEY}
    r = client.post(f"{b}/auth/api/v2/Auth/login", headers=headers, json={"username": USER})
    body = assert_error(r, 400)
    assert body["error"] == [{"param": "password", "message": body["error"][0]["message"]}]
    r = client.post(f"{b}/auth/api/v2/Auth/login", headers=headers, content=b"not json")
    assert_error(r, 400)


def test_refresh_rotates_and_reuse_is_409(emulator, client) -> None:
    b = base(emulator)
    first = login(client, b).json()
    r = client.post(
        f"{b}/auth/api/v2/Auth/refresh-token", json={"refreshtoken": first["refresh_token"]}
    )
    assert r.status_code == 200, r.text
    second = r.json()
    assert set(second) == set(first)
    assert second["refresh_token"] != first["refresh_token"]
    assert re.fullmatch(r"[a-z]{50}", second["refresh_token"])
    assert second["access_token"] != first["access_token"]
    # the new access token works
    assert (
        devices(client, b, {"Authorization": "Bearer " + second["access_token"]}).status_code == 200
    )
    # the used refresh token does not
    r = client.post(
        f"{b}/auth/api/v2/Auth/refresh-token", json={"refreshtoken": first["refresh_token"]}
    )
    body = assert_error(r, 409)
    assert body["error"][0]["param"] == "refreshtoken"
    # the rotated one still does, once
    r = client.post(
        f"{b}/auth/api/v2/Auth/refresh-token", json={"refreshtoken": second["refresh_token"]}
    )
    assert r.status_code == 200


def test_refresh_unknown_and_missing(emulator, client) -> None:
    b = base(emulator)
    assert_error(
        client.post(f"{b}/auth/api/v2/Auth/refresh-token", json={"refreshtoken": "x" * 50}), 409
    )
    assert_error(client.post(f"{b}/auth/api/v2/Auth/refresh-token", json={}), 400)


def test_revoke_all_refresh_tokens(fresh_emulator, client) -> None:
    b = base(fresh_emulator)
    tokens = login(client, b).json()
    r = client.post(
        f"{fresh_emulator.base_url}/_emulator/tokens/revoke-refresh",
        json={"platform": "iotconnect"},
    )
    assert r.status_code == 200 and r.json()["revoked"]["iotconnect"] >= 1
    r = client.post(
        f"{b}/auth/api/v2/Auth/refresh-token", json={"refreshtoken": tokens["refresh_token"]}
    )
    assert_error(r, 409)
    # a new login gives a working refresh token again
    fresh = login(client, b).json()
    r = client.post(
        f"{b}/auth/api/v2/Auth/refresh-token", json={"refreshtoken": fresh["refresh_token"]}
    )
    assert r.status_code == 200


def test_expire_all_access_tokens(fresh_emulator, client) -> None:
    b = base(fresh_emulator)
    headers = bearer(client, b)
    assert devices(client, b, headers).status_code == 200
    r = client.post(
        f"{fresh_emulator.base_url}/_emulator/tokens/expire", json={"platform": "iotconnect"}
    )
    assert r.status_code == 200
    body = assert_error(devices(client, b, headers), 401)
    assert body["message"] == "Unauthorized"
    assert client.get(f"{b}/auth/api/v2/Auth/verify-token", headers=headers).status_code == 401
    # logging in again works
    assert devices(client, b, bearer(client, b)).status_code == 200


def test_token_ttl_is_honoured(make_emulator, client) -> None:
    server = make_emulator(token_ttl=1)
    b = base(server)
    r = login(client, b)
    assert r.json()["expires_in"] == 1
    headers = {"Authorization": "Bearer " + r.json()["access_token"]}
    assert devices(client, b, headers).status_code == 200
    time.sleep(1.3)
    r = devices(client, b, headers)
    assert_error(r, 401)
    assert "invalid_token" in r.headers.get("www-authenticate", "")


def test_verify_token(emulator, client, auth) -> None:
    b = base(emulator)
    r = client.get(f"{b}/auth/api/v2/Auth/verify-token", headers=auth)
    assert r.status_code == 200
    assert r.json()["data"]["user"]["userId"] == USER
    assert_error(client.get(f"{b}/auth/api/v2/Auth/verify-token"), 401)
    forged = jwt.encode(
        {"exp": int(time.time()) + 60, "user": {}},
        "not-the-real-secret-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    assert_error(
        client.get(
            f"{b}/auth/api/v2/Auth/verify-token", headers={"Authorization": f"Bearer {forged}"}
        ),
        401,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/device/api/v2/Device",
        "/device/api/v2/Device/lookup",
        "/device/api/v2/Device/uniqueId/anything",
        "/device/api/v2/Device/00000000-0000-4000-8000-000000000000",
        "/device/api/v2/Device/00000000-0000-4000-8000-000000000000/child-device",
        "/device/api/v1.1/Device",
        "/user/api/v2/Entity/lookup",
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not.a.jwt", "Basic abc"])
def test_device_endpoints_need_a_bearer_token(
    emulator, client, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    body = assert_error(client.get(base(emulator) + path, headers=headers), 401)
    assert body["message"] == "Unauthorized"


def test_token_rate_limit_fault_applies_to_token_paths(fresh_emulator, client) -> None:
    b = base(fresh_emulator)
    client.post(
        f"{fresh_emulator.base_url}/_emulator/faults/iotconnect", json={"token_rate_limit": 2}
    )
    assert client.get(f"{b}/auth/api/v2/Auth/basic-token").status_code == 200
    assert client.get(f"{b}/auth/api/v2/Auth/basic-token").status_code == 200
    r = client.get(f"{b}/auth/api/v2/Auth/basic-token")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "/auth/api/v2/Auth/login" in iotconnect.TOKEN_PATHS
    assert "/auth/api/v2/Auth/refresh-token" in iotconnect.TOKEN_PATHS


# --------------------------------------------------------------------------- device list


def test_device_list_shape(emulator, client, auth) -> None:
    r = devices(client, base(emulator), auth)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    body = r.json()
    assert body["status"] == 200 and body["message"] == "Device list fetched successfully"
    assert body["count"] == 25 and len(body["data"]) == 25
    for d in body["data"]:
        assert set(d) >= LIST_FIELDS, LIST_FIELDS - set(d)
        # the spec's DeviceList has neither (an entity's devices: the EntityGuid filter)
        assert "entityGuid" not in d and "parentDeviceGuid" not in d
        assert GUID.match(d["guid"]) and GUID.match(d["deviceTemplateGuid"])
        assert d["deviceStatus"] in ("Connected", "Disconnected", "Inactive")
        assert not d["isConnected"] or d["isActive"]
        assert isinstance(d["properties"], list)
    assert len({d["guid"] for d in body["data"]}) == 25
    assert len({d["uniqueId"] for d in body["data"]}) == 25
    # a realistic mix
    assert {d["isConnected"] for d in body["data"]} == {True, False}
    assert {d["isActive"] for d in body["data"]} == {True, False}


@pytest.mark.parametrize(
    "size,pages,last", [(5, 5, 5), (10, 3, 5), (25, 1, 25), (7, 4, 4), (30, 1, 25)]
)
def test_paging_boundaries(emulator, client, auth, size: int, pages: int, last: int) -> None:
    b = base(emulator)
    everything = [d["guid"] for d in all_devices(client, b, auth)]
    seen: list[str] = []
    for number in range(1, pages + 1):
        r = devices(client, b, auth, pageNumber=number, pageSize=size)
        assert r.status_code == 200
        body = r.json()
        assert body["count"] == 25
        assert len(body["data"]) == (last if number == pages else size)
        seen += [d["guid"] for d in body["data"]]
    assert seen == everything
    assert_no_content(devices(client, b, auth, pageNumber=pages + 1, pageSize=size))
    assert_no_content(devices(client, b, auth, pageNumber=1000, pageSize=size))


def test_paging_bad_numbers(emulator, client, auth) -> None:
    b = base(emulator)
    body = assert_error(devices(client, b, auth, pageNumber="two"), 400)
    assert body["error"][0]["param"] == "pageNumber"
    # page 0 is page 1
    assert (
        devices(client, b, auth, pageNumber=0, pageSize=3).json()["data"]
        == devices(client, b, auth, pageNumber=1, pageSize=3).json()["data"]
    )


def test_no_devices_is_204(make_emulator, client) -> None:
    server = make_emulator(devices=0)
    b = base(server)
    headers = bearer(client, b)
    assert_no_content(devices(client, b, headers))
    assert_no_content(devices(client, b, headers, pageNumber=1, pageSize=10, sortBy="uniqueId asc"))
    assert_no_content(client.get(f"{b}/device/api/v2/Device/lookup", headers=headers))
    # the entity tree still exists
    assert client.get(f"{b}/user/api/v2/Entity/lookup", headers=headers).status_code == 200


def test_filter_matching_nothing_is_204(emulator, client, auth) -> None:
    assert_no_content(devices(client, base(emulator), auth, Name="no-such-device-anywhere"))


def test_status_filter(emulator, client, auth) -> None:
    b = base(emulator)
    counts = {}
    for status, flag in (("active", True), ("inactive", False), ("Active", True)):
        body = devices(client, b, auth, Status=status).json()
        assert body["data"] and all(d["isActive"] is flag for d in body["data"])
        assert body["count"] == len(body["data"])
        counts[status] = body["count"]
    assert counts["active"] + counts["inactive"] == 25
    assert counts["Active"] == counts["active"]
    assert_error(devices(client, b, auth, Status="sleeping"), 400)


def test_name_filter(emulator, client, auth) -> None:
    b = base(emulator)
    everything = all_devices(client, b, auth)
    word = everything[3]["displayName"].split()[1]  # e.g. "pump"
    expected = [
        d["guid"]
        for d in everything
        if word.lower() in d["displayName"].lower() or word.lower() in d["uniqueId"].lower()
    ]
    body = devices(client, b, auth, Name=word.upper(), pageSize=100).json()
    assert [d["guid"] for d in body["data"]] == expected
    assert body["count"] == len(expected)
    # combined with paging
    r = devices(client, b, auth, Name=word, pageSize=1, pageNumber=1)
    assert r.json()["count"] == len(expected) and len(r.json()["data"]) == 1


def test_sort_by(emulator, client, auth) -> None:
    b = base(emulator)
    for spec, field, reverse in (
        ("uniqueId asc", "uniqueId", False),
        ("uniqueId desc", "uniqueId", True),
        ("displayName", "displayName", False),
        ("displayname DESC", "displayName", True),
    ):
        data = devices(client, b, auth, sortBy=spec, pageSize=100).json()["data"]
        values = [d[field].lower() for d in data]
        assert values == sorted(values, reverse=reverse), spec
        assert len(data) == 25
    # paging a sorted list gives the sorted list
    pages = [
        d["uniqueId"]
        for n in (1, 2, 3)
        for d in devices(client, b, auth, sortBy="uniqueId asc", pageSize=10, pageNumber=n).json()[
            "data"
        ]
    ]
    assert pages == sorted(pages, key=str.lower)
    body = assert_error(devices(client, b, auth, sortBy="colour asc"), 400)
    assert body["error"][0]["param"] == "sortBy"


def test_v11_path_and_text_plain_accept(emulator, client, auth) -> None:
    # The seed's example: curl -X GET "[ENDPOINTS]/api/v1.1/Device" -H "accept: text/plain" -H "Authorization: Bearer ..."
    b = base(emulator)
    r = client.get(f"{b}/device/api/v1.1/Device", headers={**auth, "accept": "text/plain"})
    assert r.status_code == 200
    assert r.json() == devices(client, b, auth).json()


def test_paths_are_case_insensitive(emulator, client, auth) -> None:
    b = base(emulator)
    assert client.get(f"{b}/auth/api/v2/auth/basic-token").status_code == 200
    assert client.get(f"{b}/device/api/v2/device", headers=auth).json()["count"] == 25
    assert (
        client.get(
            f"{b}/device/api/v2/Device/unknown-route-here/extra/more", headers=auth
        ).status_code
        == 404
    )


# --------------------------------------------------------------------------- detail


def test_detail_by_unique_id_and_guid(emulator, client, auth) -> None:
    b = base(emulator)
    item = all_devices(client, b, auth)[7]
    by_uid = client.get(f"{b}/device/api/v2/Device/uniqueId/{item['uniqueId']}", headers=auth)
    by_guid = client.get(f"{b}/device/api/v2/Device/{item['guid']}", headers=auth)
    by_lower = client.get(f"{b}/device/api/v2/Device/{item['guid'].lower()}", headers=auth)
    for r in (by_uid, by_guid, by_lower):
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == 200 and isinstance(body["data"], list) and len(body["data"]) == 1
    detail = by_uid.json()["data"][0]
    assert detail == by_guid.json()["data"][0] == by_lower.json()["data"][0]
    for key in ("guid", "uniqueId", "displayName", "isConnected", "isActive", "entityName"):
        assert detail[key] == item[key], key
    assert GUID.match(detail["entityGuid"])  # DeviceInformation has it, the list item does not
    assert detail["isAcquired"] == int(item["IsAcquired"])
    assert detail["lastActivityDate"] == item["lastactivityDate"]
    assert GUID.match(detail["companyGuid"])


@pytest.mark.parametrize(
    "path,param",
    [
        ("/Device/uniqueId/no-such-device-0001", "uniqueId"),
        ("/Device/uniqueId/front-gateway-9999", "uniqueId"),
        ("/Device/11111111-2222-4333-8444-555555555555", "deviceGuid"),
        ("/Device/not-a-guid", "deviceGuid"),
        ("/Device/11111111-2222-4333-8444-555555555555/child-device", "deviceGuid"),
    ],
)
def test_unknown_device_is_409(emulator, client, auth, path: str, param: str) -> None:
    body = assert_error(client.get(f"{base(emulator)}/device/api/v2{path}", headers=auth), 409)
    assert body["error"] == [{"param": param, "message": body["error"][0]["message"]}]


# --------------------------------------------------------------------------- children, lookup, entities


def info(
    client: httpx.Client, b: str, headers: dict[str, str], d: dict[str, Any]
) -> dict[str, Any]:
    """DeviceInformation of a listed device (it carries entityGuid / parentDeviceGuid)."""
    r = client.get(f"{b}/device/api/v2/Device/uniqueId/{d['uniqueId']}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"][0]  # type: ignore[no-any-return]  # JSON


CHILD_FIELDS = {
    "guid",
    "uniqueId",
    "displayName",
    "tag",
    "isConnected",
    "lastactivityDate",
    "isActive",
    "firmwareupgradeGuid",
    "deviceTemplateGuid",
    "deviceTemplateName",
    "reportingTo",
    "entityName",
    "isAcquired",
    "lastCommunication",
}


def test_child_devices(emulator, client, auth) -> None:
    b = base(emulator)
    everything = all_devices(client, b, auth)
    gateways = [d for d in everything if d["childDeviceCount"] > 0]
    assert gateways, "the demo world has gateways with children"
    by_guid = {d["guid"]: d for d in everything}
    for gw in gateways:
        r = client.get(f"{b}/device/api/v2/Device/{gw['guid']}/child-device", headers=auth)
        assert r.status_code == 200
        body = r.json()
        assert body["count"] == gw["childDeviceCount"] == len(body["data"])
        for child in body["data"]:
            assert set(child) == CHILD_FIELDS  # the spec's ChildDeviceList
            assert child["reportingTo"] == gw["uniqueId"]
            assert child["entityName"] == gw["entityName"]
            assert info(client, b, auth, child)["parentDeviceGuid"] == gw["guid"]
            listed = by_guid[child["guid"]]
            assert listed["reportingTo"] == gw["uniqueId"]
            assert child["isAcquired"] == listed["IsAcquired"]
        # the vendor spec has only the hyphenated path: no "childdevice" alias
        old = client.get(f"{b}/device/api/v2/Device/{gw['guid']}/childdevice", headers=auth)
        assert old.status_code == 404
    # paging the children
    gw = max(gateways, key=lambda d: d["childDeviceCount"])
    if gw["childDeviceCount"] > 1:
        r = client.get(
            f"{b}/device/api/v2/Device/{gw['guid']}/child-device",
            headers=auth,
            params={"pageSize": 1, "pageNumber": 2},
        )
        assert len(r.json()["data"]) == 1 and r.json()["count"] == gw["childDeviceCount"]
    # a plain device has no children
    plain = next(d for d in everything if d["childDeviceCount"] == 0)
    assert_no_content(
        client.get(f"{b}/device/api/v2/Device/{plain['guid']}/child-device", headers=auth)
    )
    # every child is counted by its parent
    children = [d for d in everything if d["reportingTo"]]
    assert len(children) == sum(d["childDeviceCount"] for d in everything)
    # parentDeviceGuid is no documented filter of GET /Device: it is ignored, as ASP.NET does
    assert devices(client, b, auth, parentDeviceGuid=gw["guid"]).json()["count"] == 25


def test_device_lookup(emulator, client, auth) -> None:
    b = base(emulator)
    everything = all_devices(client, b, auth)
    r = client.get(f"{b}/device/api/v2/Device/lookup", headers=auth)
    assert r.status_code == 200
    data = r.json()["data"]
    assert all(set(d) == {"guid", "uniqueId", "displayName"} for d in data)
    assert [d["guid"] for d in data] == [d["guid"] for d in everything if not d["reportingTo"]]
    r = client.get(
        f"{b}/device/api/v2/Device/lookup", headers=auth, params={"getChildDevice": "true"}
    )
    assert [d["guid"] for d in r.json()["data"]] == [d["guid"] for d in everything]


def test_entity_tree(emulator, client, auth) -> None:
    b = base(emulator)
    r = client.get(f"{b}/user/api/v2/Entity/lookup", headers=auth)
    assert r.status_code == 200 and r.json()["status"] == 200
    entities = r.json()["data"]
    by_guid = {e["guid"]: e for e in entities}
    assert len(by_guid) == len(entities) >= 5
    roots = [e for e in entities if e["parentEntityGuid"] is None]
    assert len(roots) == 1
    root = roots[0]
    for e in entities:
        assert set(e) == {"guid", "name", "parentEntityGuid"} and GUID.match(e["guid"])
        seen, node = set(), e
        while node["parentEntityGuid"] is not None:  # reaches the root without cycles
            assert node["guid"] not in seen
            seen.add(node["guid"])
            node = by_guid[node["parentEntityGuid"]]
        assert node is root
    depth2 = [e for e in entities if e["parentEntityGuid"] not in (None, root["guid"])]
    assert depth2, "sites have sub-areas"
    # the token's user belongs to the root entity
    claims = jwt.decode(auth["Authorization"][7:], options={"verify_signature": False})
    assert claims["user"]["entityGuid"] == root["guid"]
    # every device sits in a known entity, with its name (entityGuid: in the detail only)
    everything = all_devices(client, b, auth)
    entity_of = {d["guid"]: info(client, b, auth, d)["entityGuid"] for d in everything}
    for d in everything:
        assert by_guid[entity_of[d["guid"]]]["name"] == d["entityName"]

    # filtering by an entity gives the devices of its subtree
    def subtree(guid: str) -> set[str]:
        out = {guid}
        for e in entities:
            if e["parentEntityGuid"] == guid:
                out |= subtree(e["guid"])
        return out

    assert devices(client, b, auth, EntityGuid=root["guid"]).json()["count"] == 25
    total = 0
    for site in (e for e in entities if e["parentEntityGuid"] == root["guid"]):
        expected = [d["guid"] for d in everything if entity_of[d["guid"]] in subtree(site["guid"])]
        r = devices(client, b, auth, EntityGuid=site["guid"].lower(), pageSize=100)
        got = [d["guid"] for d in r.json()["data"]] if r.status_code == 200 else []
        assert got == expected
        total += len(got)
        r2 = client.get(
            f"{b}/device/api/v2/Entity/{site['guid']}/device",
            headers=auth,
            params={"pageSize": 100},
        )
        assert ([d["guid"] for d in r2.json()["data"]] if r2.status_code == 200 else []) == expected
    assert total == 25
    assert_no_content(devices(client, b, auth, EntityGuid="11111111-2222-4333-8444-555555555555"))


def test_user_detail(emulator, client, auth) -> None:
    b = base(emulator)
    claims = jwt.decode(auth["Authorization"][7:], options={"verify_signature": False})
    for who in (USER, claims["user"]["id"].lower()):
        r = client.get(f"{b}/user/api/v2/User/{who}", headers=auth)
        assert r.status_code == 200 and r.json()["data"][0]["userId"] == USER
    assert_error(client.get(f"{b}/user/api/v2/User/nobody@example.com", headers=auth), 409)


# --------------------------------------------------------------------------- discovery and describe


def test_discovery_then_login_through_its_urls(emulator, client) -> None:
    b = base(emulator)
    r = client.get(
        f"{b}/discovery/api/uisdk/solutionkey/{KEY}/env/emulator",
        params={"version": "2", "pf": "az"},
    )
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["authBaseUrl"] == f"{b}/auth/api/v2"
    assert data["deviceBaseUrl"] == f"{b}/device/api/v2"
    assert data["userBaseUrl"] == f"{b}/user/api/v2"
    token = client.get(data["authBaseUrl"] + "/Auth/basic-token").json()["data"]
    r = client.post(
        data["authBaseUrl"] + "/Auth/login",
        headers={"Authorization": f"Basic {token}", "solution-key": KEY},
        json={"username": USER, "password": PASSWORD},
    )
    headers = {"Authorization": "Bearer " + r.json()["access_token"]}
    assert client.get(data["deviceBaseUrl"] + "/Device", headers=headers).json()["count"] == 25
    assert client.get(data["userBaseUrl"] + "/Entity/lookup", headers=headers).status_code == 200
    # version 2.1 hands out v2.1 URLs, which work as well
    v21 = client.get(
        f"{b}/discovery/api/uisdk/solutionkey/{KEY}/env/emulator",
        params={"version": "2.1", "pf": "aws"},
    ).json()["data"]
    assert v21["deviceBaseUrl"].endswith("/device/api/v2.1")
    assert client.get(v21["deviceBaseUrl"] + "/Device", headers=headers).status_code == 200


def test_discovery_unknown_solution_key(emulator, client) -> None:
    r = client.get(
        f"{base(emulator)}/discovery/api/uisdk/solutionkey/wrong-key/env/emulator",
        params={"version": "2", "pf": "az"},
    )
    assert_error(r, 404)


def test_describe() -> None:
    info = iotconnect.describe("http://127.0.0.1:8765/iotconnect")
    assert info["urls"]["auth"] == "http://127.0.0.1:8765/iotconnect/auth/api/v2"
    assert info["urls"]["device"] == "http://127.0.0.1:8765/iotconnect/device/api/v2"
    assert info["urls"]["user"] == "http://127.0.0.1:8765/iotconnect/user/api/v2"
    assert info["urls"]["discovery"].startswith(
        "http://127.0.0.1:8765/iotconnect/discovery/api/uisdk/solutionkey/demo-solution-key-5c1e/env/"
    )
    assert info["credentials"] == {"username": USER, "password": PASSWORD, "solution_key": KEY}


def test_world_is_deterministic_per_seed(make_emulator, client) -> None:
    def identities(server: Any) -> list[tuple[str, str, bool]]:
        b = base(server)
        return [
            (d["guid"], d["uniqueId"], d["isActive"])
            for d in all_devices(client, b, bearer(client, b))
        ]

    a, b2, other = make_emulator(), make_emulator(), make_emulator(seed=7)
    assert identities(a) == identities(b2)
    assert identities(a) != identities(other)


# --------------------------------------------------------------------------- scale


def test_one_hundred_thousand_devices_page_lazily(make_emulator, client) -> None:
    started = time.perf_counter()
    server = make_emulator(devices=100_000)
    b = base(server)
    headers = bearer(client, b)
    first = devices(client, b, headers, pageNumber=1, pageSize=50)
    assert time.perf_counter() - started < 5
    assert first.status_code == 200
    assert first.json()["count"] == 100_000 and len(first.json()["data"]) == 50
    late = devices(client, b, headers, pageNumber=1737, pageSize=50).json()
    assert late["count"] == 100_000
    assert [d["uniqueId"][-5:] for d in late["data"][:2]] == ["86800", "86801"]
    last = devices(client, b, headers, pageNumber=2000, pageSize=50).json()["data"]
    assert len(last) == 50 and last[-1]["uniqueId"].endswith("-99999")
    assert_no_content(devices(client, b, headers, pageNumber=2001, pageSize=50))
    # a late device is found directly by guid and unique id
    target = late["data"][7]
    r = client.get(f"{b}/device/api/v2/Device/{target['guid']}", headers=headers)
    assert r.json()["data"][0]["uniqueId"] == target["uniqueId"]
    r = client.get(f"{b}/device/api/v2/Device/uniqueId/{target['uniqueId']}", headers=headers)
    assert r.json()["data"][0]["guid"] == target["guid"]
    # children of a late gateway
    gw = next(d for d in late["data"] if d["childDeviceCount"] > 0)
    r = client.get(f"{b}/device/api/v2/Device/{gw['guid']}/child-device", headers=headers)
    assert r.json()["count"] == gw["childDeviceCount"]
    # a filter counts across everything
    active = devices(client, b, headers, Status="active", pageSize=10).json()
    inactive = devices(client, b, headers, Status="inactive", pageSize=10).json()
    assert active["count"] + inactive["count"] == 100_000
    assert 0 < inactive["count"] < 20_000
