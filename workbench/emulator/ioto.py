"""Emulated EmbedThis Ioto: the device-cloud API (every call a POST) and its Cognito login.

Mounted at /ioto:

    POST /ioto/cognito/                         AWS Cognito InitiateAuth (USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH)
    POST /ioto/api/{controller}/{action}        login access token (raw or "Bearer "), Origin required
    POST /ioto/api/tok/{controller}/{action}    CloudAPI token (raw, no "Bearer"), no Origin needed

API errors are text/plain (403 auth, 400 bad request, 404 unknown, 405 not POST, 500 service);
Cognito errors are x-amz-json bodies `{"__type", "message"}` with status 400.

Lists answer `{"data": [...], "next": cursor|null, "prev": cursor|null}`. A cursor is
base64url of a small JSON position (`{"t": list, "d": "n"|"p", "i": index}`); clients must
treat it as opaque. Filtered lists scan at most SCAN_BUDGET records per request, like a
DynamoDB query: a page can then hold fewer than `limit` items and still have a `next`.

Modelled choices where the public docs are silent (documented so clients can rely on them):
device/get of an unknown (or, for a login user, foreign) device is 404 "Unknown device";
metric/getMetricList and metric/fetch answer bare JSON arrays; every call, test/ping included,
needs a valid token; the CloudAPI token never expires (the admin "expire all" switch affects
only Cognito tokens).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import jwt_keys
from .context import EmulatorContext
from .data import device_slug, rng_for, stable_uuid

NAME = "ioto"
TOKEN_PATHS: set[str] = {"/cognito/", "/cognito"}

CLIENT_ID = "ioto-demo-client"
USERNAME = "demo@ioto.example"
PASSWORD = "Ioto-demo-pass-4821"
CLOUDAPI_TOKEN = "ioto-cloudapi-demo-token-9d2f6a"
ORIGIN = "https://manager.ioto.example"
REGION = "us-east-1"
USER_POOL_ID = "us-east-1_iotoDemo"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{USER_POOL_ID}"
TOKEN_LIFETIME = 3600  # Cognito's default access/id token lifetime
AMZ_JSON = "application/x-amz-json-1.1"
INITIATE_AUTH = "AWSCognitoIdentityProviderService.InitiateAuth"
NAMESPACE = "Embedthis/Device"

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
SCAN_BUDGET = 10_000
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

DEVICE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
EPOCH = datetime(2025, 9, 1, tzinfo=UTC).timestamp()  # fixed, so generated dates are stable

PRODUCTS = ("Eco Thermostat", "Smart Meter", "Cold-Chain Tracker", "Pump Controller")
STORE_KEYS = ("firmware", "humidity", "status", "temperature", "uptime")
# metric -> (base value, daily swing, noise)
METRICS: dict[str, tuple[float, float, float]] = {
    "temperature": (21.0, 3.5, 0.6),
    "humidity": (48.0, 9.0, 2.0),
    "cpu": (22.0, 12.0, 5.0),
    "memory": (61.0, 4.0, 1.5),
}
STATISTICS = ("avg", "min", "max", "sum", "count", "current")


# --------------------------------------------------------------------------- world


def _ulid(seed: int, *parts: object) -> str:
    """A stable ULID-looking id (26 Crockford base-32 characters, like Ioto's record ids)."""
    n = int.from_bytes(hashlib.sha256(repr((seed, "ioto-ulid", *parts)).encode()).digest()[:16], "big")
    chars = []
    for _ in range(23):
        n, r = divmod(n, 32)
        chars.append(CROCKFORD[r])
    return "01J" + "".join(chars)


def _iso(ts: float) -> str:
    """JavaScript toISOString() form, as the Ioto service (Node) writes dates."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


ID_SPACE = 36**6
ID_MULTIPLIER = 1_234_577  # coprime to 36, so index -> tail is a bijection on [0, 36**6)
ID_INVERSE = pow(ID_MULTIPLIER, -1, ID_SPACE)


@lru_cache(maxsize=16)
def _id_offset(seed: int) -> int:
    return int.from_bytes(hashlib.sha256(repr((seed, "ioto-id-offset")).encode()).digest()[:8], "big") % ID_SPACE


def device_id(seed: int, index: int) -> str:
    """10 uppercase alphanumerics: 4 seeded characters, then the index scrambled into 6 base-36 digits."""
    digest = hashlib.sha256(repr((seed, "ioto-device-id", index)).encode()).digest()
    head = "".join(DEVICE_ALPHABET[b % 36] for b in digest[:4])
    n, tail = (index * ID_MULTIPLIER + _id_offset(seed)) % ID_SPACE, []
    for _ in range(6):
        n, r = divmod(n, 36)
        tail.append(DEVICE_ALPHABET[r])
    return head + "".join(reversed(tail))


def device_index(seed: int, key: str) -> int | None:
    """The generated index a device id encodes (the caller checks the seeded part)."""
    if len(key) != 10 or any(c not in DEVICE_ALPHABET for c in key):
        return None
    return (int(key[4:], 36) - _id_offset(seed)) * ID_INVERSE % ID_SPACE


class World:
    """The seeded Ioto device cloud: accounts, users, products, devices and their Store."""

    def __init__(self, seed: int, count: int) -> None:
        self.seed = seed
        self.count = count
        self.account_id = _ulid(seed, "account", "demo")
        self.other_account_id = _ulid(seed, "account", "field-ops")
        self.accounts = {
            self.account_id: {"id": self.account_id, "name": "Demo Account", "created": _iso(EPOCH - 400 * 86400)},
            self.other_account_id: {
                "id": self.other_account_id, "name": "Field Ops", "created": _iso(EPOCH - 300 * 86400),
            },
        }
        self.products = [
            {"id": _ulid(seed, "product", name), "name": name} for name in PRODUCTS
        ]
        self.users = [
            self._user(USERNAME, "Dana", "Demo", "owner", 0),
            self._user("ops@ioto.example", "Olu", "Operator", "admin", 1),
            self._user("viewer@ioto.example", "Vic", "Viewer", "user", 2),
        ]
        self.changed: dict[str, dict[str, Any]] = {}  # device id -> changed record
        self.store_changes: dict[tuple[str, str], dict[str, Any]] = {}
        self._generated = lru_cache(maxsize=8192)(self._generate)

    def _user(self, email: str, first: str, last: str, role: str, n: int) -> dict[str, Any]:
        return {
            "id": _ulid(self.seed, "user", email),
            "accountId": self.account_id,
            "email": email,
            "username": email,
            "firstName": first,
            "lastName": last,
            "role": role,
            "created": _iso(EPOCH - (380 - 20 * n) * 86400),
            "updated": _iso(EPOCH - (30 - 5 * n) * 86400),
        }

    def user_sub(self, username: str) -> str:
        return stable_uuid(self.seed, "ioto-cognito-sub", username)

    # devices -----------------------------------------------------------------

    def _generate(self, index: int) -> dict[str, Any]:
        r = rng_for(self.seed, "ioto", "device", index)
        product = self.products[r.randrange(len(self.products))]
        kind = (index + self.seed) % 6
        account = None if kind == 5 else self.other_account_id if kind == 2 else self.account_id
        created = EPOCH - r.randrange(2 * 86400, 360 * 86400)
        return {
            "id": device_id(self.seed, index),
            "name": device_slug(self.seed, "ioto", index),
            "accountId": account,
            "productId": product["id"],
            "product": product["name"],
            "created": _iso(created),
            "accessed": _iso(EPOCH - r.randrange(0, 2 * 86400)),
            "version": f"{r.choice((1, 1, 2))}.{r.randrange(10)}.{r.randrange(20)}",
            "test": r.random() < 0.1,
        }

    def device_at(self, index: int) -> dict[str, Any]:
        item = self._generated(index)
        return self.changed.get(item["id"], item)

    def device(self, key: str) -> dict[str, Any] | None:
        index = device_index(self.seed, key)
        if index is None or not 0 <= index < self.count:
            return None
        item = self.device_at(index)
        return item if item["id"] == key else None

    def update_device(self, record: dict[str, Any]) -> None:
        self.changed[record["id"]] = record

    # store -------------------------------------------------------------------

    def store_item(self, device: dict[str, Any], key: str) -> dict[str, Any]:
        changed = self.store_changes.get((device["id"], key))
        if changed is not None:
            return changed
        r = rng_for(self.seed, "ioto", "store", device["id"], key)
        value: Any
        if key == "firmware":
            value, kind = device["version"], "string"
        elif key == "humidity":
            value, kind = round(r.uniform(30, 70), 1), "number"
        elif key == "status":
            value, kind = r.choice(("online", "online", "online", "offline", "updating")), "string"
        elif key == "temperature":
            value, kind = round(r.uniform(16, 28), 1), "number"
        else:
            value, kind = r.randrange(60, 90 * 86400), "number"
        return {
            "id": _ulid(self.seed, "store", device["id"], key),
            "key": key,
            "value": value,
            "type": kind,
            "updated": _iso(EPOCH - r.randrange(0, 86400)),
            "deviceId": device["id"],
        }


# --------------------------------------------------------------------------- errors, paging


class ApiError(Exception):
    """Answered as text/plain with the given status (the Ioto service's error style)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(message, status, headers=headers)


def encode_cursor(tag: str, direction: str, index: int) -> str:
    raw = json.dumps({"t": tag, "d": direction, "i": index}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: Any, tag: str, direction: str, total: int) -> int:
    if not isinstance(cursor, str) or not cursor:
        raise ApiError(400, "Invalid pagination cursor")
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise ApiError(400, "Invalid pagination cursor") from None
    if (
        not isinstance(data, dict)
        or data.get("t") != tag
        or data.get("d") != direction
        or not isinstance(data.get("i"), int)
        or isinstance(data.get("i"), bool)
        or not 0 <= data["i"] <= total
    ):
        raise ApiError(400, "Invalid pagination cursor")
    return data["i"]


def parse_limit(body: dict[str, Any]) -> int:
    limit = body.get("limit", DEFAULT_LIMIT)
    if limit is None:
        return DEFAULT_LIMIT
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"Bad limit: must be an integer from 1 to {MAX_LIMIT}")
    return limit


def _scan(at: Callable[[int], Any], total: int, start: int, step: int, want: int
          ) -> tuple[list[tuple[int, Any]], int, bool]:
    """Up to `want` matches from `start` in direction `step`: (found, next position, budget ran out)."""
    found: list[tuple[int, Any]] = []
    i, examined = start, 0
    while 0 <= i < total and len(found) < want and examined < SCAN_BUDGET:
        item = at(i)
        examined += 1
        if item is not None:
            found.append((i, item))
        i += step
    return found, i, 0 <= i < total and len(found) < want


def paged(tag: str, total: int, at: Callable[[int], Any], body: dict[str, Any]) -> dict[str, Any]:
    """One page of a list whose items are `at(i)` for i in [0, total) (None = filtered out)."""
    limit = parse_limit(body)
    nxt, prv = body.get("next"), body.get("prev")
    if nxt is not None and prv is not None:
        raise ApiError(400, "Bad request: give either next or prev, not both")

    def more(pos: int, step: int) -> bool:
        found, _, cut = _scan(at, total, pos, step, 1)
        return bool(found) or cut

    if prv is not None:
        end = decode_cursor(prv, tag, "p", total)
        found, pos, cut = _scan(at, total, end - 1, -1, limit)
        found.reverse()
        if cut:
            prev_c: str | None = encode_cursor(tag, "p", pos + 1)
        else:
            prev_c = encode_cursor(tag, "p", pos + 1) if len(found) == limit and more(pos, -1) else None
        anchor = found[-1][0] + 1 if found else end
        next_c = encode_cursor(tag, "n", anchor) if more(anchor, 1) else None
    else:
        start = 0 if nxt is None else decode_cursor(nxt, tag, "n", total)
        found, pos, cut = _scan(at, total, start, 1, limit)
        if cut:
            next_c = encode_cursor(tag, "n", pos)
        else:
            next_c = encode_cursor(tag, "n", pos) if len(found) == limit and more(pos, 1) else None
        anchor = found[0][0] if found else start
        prev_c = encode_cursor(tag, "p", anchor) if more(anchor - 1, -1) else None
    return {"data": [item for _, item in found], "next": next_c, "prev": prev_c}


def _matches_filter(record: dict[str, Any], flt: Any) -> bool:
    """`filter`: a string (case-insensitive substring of any value) or {field: value} equality."""
    if flt is None:
        return True
    if isinstance(flt, str):
        needle = flt.lower()
        return any(needle in str(v).lower() for v in record.values() if v is not None)
    if isinstance(flt, dict):
        return all(record.get(k) == v for k, v in flt.items())
    raise ApiError(400, "Bad filter: must be a string or an object")


# --------------------------------------------------------------------------- callers


@dataclass(frozen=True)
class Caller:
    kind: str  # "login" | "cloudapi"
    account_id: str | None  # None: the whole device cloud (CloudAPI)
    username: str | None = None


def _decode_login(ctx: EmulatorContext, token: str) -> dict[str, Any]:
    try:
        claims = jwt_keys.verify(token, jwt_keys.IOTO_HS256_SECRET, "HS256")
    except jwt.ExpiredSignatureError:
        raise ApiError(403, "The incoming token has expired") from None
    except jwt.PyJWTError:
        raise ApiError(403, "Unauthorized: invalid token") from None
    if ctx.tokens[NAME].access_revoked(token):
        raise ApiError(403, "The incoming token has expired")
    # API Gateway Cognito authorizers accept the ID token as well as the access token.
    client = claims.get("client_id") if claims.get("token_use") == "access" else claims.get("aud")
    if claims.get("iss") != ISSUER or claims.get("token_use") not in ("access", "id") or client != CLIENT_ID:
        raise ApiError(403, "Unauthorized: invalid token")
    return claims


def authenticate(ctx: EmulatorContext, world: World, request: Request, tok: bool) -> Caller:
    raw = request.headers.get("authorization", "").strip()
    if not raw:
        raise ApiError(403, "Missing authorization token")
    bearer = raw[:7].lower() == "bearer "
    token = raw[7:].strip() if bearer else raw
    if tok:
        if raw == CLOUDAPI_TOKEN:
            return Caller("cloudapi", None)
        if token == CLOUDAPI_TOKEN:
            raise ApiError(403, "CloudAPI tokens are sent raw in the Authorization header, without 'Bearer '")
        if token.count(".") == 2:
            raise ApiError(403, "Login access tokens cannot be used with the /tok path (use the path without /tok)")
        raise ApiError(403, "Unauthorized: invalid CloudAPI token")
    if token == CLOUDAPI_TOKEN:
        raise ApiError(403, "CloudAPI tokens must be used with the /tok path prefix")
    claims = _decode_login(ctx, token)
    origin = request.headers.get("origin")
    if origin is None:
        raise ApiError(403, "Missing Origin header (set it to the Device Manager's domain)")
    if origin.rstrip("/") != ORIGIN:
        raise ApiError(403, f"Origin not permitted: {origin}")
    username = claims.get("username") or claims.get("cognito:username") or ""
    return Caller("login", world.account_id, username)


# --------------------------------------------------------------------------- handlers


Handler = Callable[[Caller, dict[str, Any]], Any]


def _require_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"Missing {name}")
    return value


class Api:
    """The controllers; each action takes (caller, body) and returns a JSON value or a Response."""

    def __init__(self, world: World) -> None:
        self.w = world

    def handlers(self) -> dict[tuple[str, str], Handler]:
        return {
            ("account", "get"): self.account_get,
            ("device", "find"): self.device_find,
            ("device", "get"): self.device_get,
            ("device", "claim"): self.device_claim,
            ("device", "release"): self.device_release,
            ("generic", "find"): self.generic_find,
            ("generic", "get"): self.generic_get,
            ("generic", "update"): self.generic_update,
            ("metric", "getMetricList"): self.metric_list,
            ("metric", "fetch"): self.metric_fetch,
            ("user", "get"): self.user_get,
            ("user", "find"): self.user_find,
            ("test", "ping"): lambda caller, body: PlainTextResponse("pinged\n"),
        }

    # helpers

    def visible(self, caller: Caller, device: dict[str, Any] | None) -> dict[str, Any] | None:
        if device is None:
            return None
        if caller.account_id is not None and device["accountId"] != caller.account_id:
            return None
        return device

    def visible_device(self, caller: Caller, key: str) -> dict[str, Any]:
        device = self.visible(caller, self.w.device(key))
        if device is None:
            raise ApiError(404, "Unknown device")
        return device

    # account / user

    def account_get(self, caller: Caller, body: dict[str, Any]) -> Any:
        key = body.get("id") or caller.account_id or self.w.account_id
        if caller.account_id is not None and key != caller.account_id:
            raise ApiError(404, "Unknown account")
        account = self.w.accounts.get(key)
        if account is None:
            raise ApiError(404, "Unknown account")
        return {"data": account}

    def user_get(self, caller: Caller, body: dict[str, Any]) -> Any:
        key = body.get("id")
        for user in self.w.users:
            if (key is None and user["username"] == (caller.username or USERNAME)) or user["id"] == key:
                return {"data": user}
        raise ApiError(404, "Unknown user")

    def user_find(self, caller: Caller, body: dict[str, Any]) -> Any:
        flt = body.get("filter")
        users = self.w.users

        def at(i: int) -> Any:
            return users[i] if _matches_filter(users[i], flt) else None

        return paged("user", len(users), at, body)

    # devices

    def device_find(self, caller: Caller, body: dict[str, Any]) -> Any:
        conditions: dict[str, Any] = {}
        if "accountId" in body:
            conditions["accountId"] = body["accountId"]
        if caller.account_id is not None:
            conditions["accountId"] = caller.account_id  # a login user only ever sees their account
        if body.get("productId") is not None:
            conditions["productId"] = body["productId"]
        flt = body.get("filter")
        _matches_filter({}, flt)  # validates its type even when the list is empty
        known = {p["id"] for p in self.w.products}
        if conditions.get("productId", next(iter(known))) not in known or conditions.get(
            "accountId"
        ) not in (None, *self.w.accounts):
            return paged("device", 0, lambda i: None, body)  # nothing can match: answer at once

        def at(i: int) -> Any:
            d = self.w.device_at(i)
            if any(d.get(k) != v for k, v in conditions.items()):
                return None
            return d if _matches_filter(d, flt) else None

        return paged("device", self.w.count, at, body)

    def device_get(self, caller: Caller, body: dict[str, Any]) -> Any:
        return {"data": self.visible_device(caller, _require_str(body, "id"))}

    def device_claim(self, caller: Caller, body: dict[str, Any]) -> Any:
        key = _require_str(body, "id")
        device = self.w.device(key)
        if device is None:
            raise ApiError(404, "Unknown device")
        if device["accountId"] is not None:
            raise ApiError(400, "Device already claimed")
        account = caller.account_id or body.get("accountId") or self.w.account_id
        if account not in self.w.accounts:
            raise ApiError(400, "Unknown account")
        claimed = {**device, "accountId": account}
        self.w.update_device(claimed)
        return {"data": claimed}

    def device_release(self, caller: Caller, body: dict[str, Any]) -> Any:
        key = _require_str(body, "id")
        device = self.w.device(key)
        if device is None:
            raise ApiError(404, "Unknown device")
        if device["accountId"] is None:
            raise ApiError(400, "Device is not claimed")
        if caller.account_id is not None and device["accountId"] != caller.account_id:
            raise ApiError(404, "Unknown device")
        released = {**device, "accountId": None}
        self.w.update_device(released)
        return {"data": released}

    # generic (the Store model)

    @staticmethod
    def _model(body: dict[str, Any]) -> None:
        model = body.get("_type")
        if model is None:
            raise ApiError(400, "Missing _type")
        if model != "Store":
            raise ApiError(400, f"Unknown model: {model}")

    def generic_find(self, caller: Caller, body: dict[str, Any]) -> Any:
        self._model(body)
        nkeys = len(STORE_KEYS)
        key_filter = body.get("key")
        flt = body.get("filter")
        _matches_filter({}, flt)
        device_key = body.get("deviceId")
        if device_key is not None:
            device = self.visible(caller, self.w.device(str(device_key)))

            def one(i: int) -> Any:
                if device is None:
                    return None
                item = self.w.store_item(device, STORE_KEYS[i])
                ok = (key_filter is None or item["key"] == key_filter) and _matches_filter(item, flt)
                return item if ok else None

            return paged("store", nkeys if device else 0, one, body)

        def every(i: int) -> Any:
            device = self.visible(caller, self.w.device_at(i // nkeys))
            if device is None:
                return None
            item = self.w.store_item(device, STORE_KEYS[i % nkeys])
            ok = (key_filter is None or item["key"] == key_filter) and _matches_filter(item, flt)
            return item if ok else None

        return paged("store", self.w.count * nkeys, every, body)

    def _store_target(self, caller: Caller, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        self._model(body)
        if isinstance(body.get("id"), str) and body["id"]:
            # Store ids are derived from (device, key); find the pair by looking at the device given.
            device_key = _require_str(body, "deviceId")
            device = self.visible_device(caller, device_key)
            for key in STORE_KEYS:
                if self.w.store_item(device, key)["id"] == body["id"]:
                    return device, key
            raise ApiError(404, "Unknown item")
        device = self.visible_device(caller, _require_str(body, "deviceId"))
        key = _require_str(body, "key")
        if key not in STORE_KEYS:
            raise ApiError(404, "Unknown item")
        return device, key

    def generic_get(self, caller: Caller, body: dict[str, Any]) -> Any:
        device, key = self._store_target(caller, body)
        return {"data": self.w.store_item(device, key)}

    def generic_update(self, caller: Caller, body: dict[str, Any]) -> Any:
        device, key = self._store_target(caller, body)
        if "value" not in body:
            raise ApiError(400, "Missing value")
        value = body["value"]
        item = {
            **self.w.store_item(device, key),
            "value": value,
            "type": "number" if isinstance(value, int | float) and not isinstance(value, bool) else
            "boolean" if isinstance(value, bool) else "string" if isinstance(value, str) else "object",
            "updated": _iso(datetime.now(UTC).timestamp()),
        }
        self.w.store_changes[(device["id"], key)] = item
        return {"data": item}

    # metrics

    def metric_list(self, caller: Caller, body: dict[str, Any]) -> Any:
        dims: list[dict[str, str]] = [{}]
        if body.get("deviceId") is not None:
            dims.append({"Device": self.visible_device(caller, str(body["deviceId"]))["id"]})
        return [{"namespace": NAMESPACE, "metric": m, "dimensions": dims} for m in METRICS]

    def metric_fetch(self, caller: Caller, body: dict[str, Any]) -> Any:
        items = body.get("items")
        if not isinstance(items, list) or not items:
            raise ApiError(400, "Missing items")
        default_device = body.get("deviceId")
        if default_device is not None:
            self.visible_device(caller, str(default_device))
        return [self._series(caller, item, default_device) for item in items]

    def _series(self, caller: Caller, item: Any, default_device: Any) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise ApiError(400, "Bad metric item: must be an object")
        metric = item.get("metric")
        if not isinstance(metric, str) or not metric:
            raise ApiError(400, "Bad metric item: missing metric")
        namespace = item.get("namespace", NAMESPACE)
        dimensions = item.get("dimensions") or {}
        if isinstance(dimensions, list):
            dimensions = dimensions[0] if dimensions and isinstance(dimensions[0], dict) else {}
        if not isinstance(dimensions, dict):
            raise ApiError(400, "Bad metric item: dimensions must be an object")
        device = dimensions.get("Device", default_device)
        if device is not None:
            self.visible_device(caller, str(device))
            dimensions = {**dimensions, "Device": str(device)}
        period = item.get("period", 86400)
        if not isinstance(period, int) or isinstance(period, bool) or not 60 <= period <= 366 * 86400:
            raise ApiError(400, "Bad metric item: period must be seconds from 60 to 31622400")
        statistic = item.get("statistic", "avg")
        if statistic not in STATISTICS:
            raise ApiError(400, f"Bad metric item: statistic must be one of {', '.join(STATISTICS)}")
        npoints = min(24, period // 60)
        interval = period // npoints
        start = _start_seconds(item.get("start"), period, interval)
        points: list[dict[str, Any]] = []
        if namespace == NAMESPACE and metric in METRICS:
            series = str(device) if device is not None else "*"
            for n in range(npoints):
                ts = start + n * interval
                points.append(self._point(series, metric, statistic, ts, interval))
        return {
            "metric": metric,
            "namespace": namespace,
            "dimensions": dimensions,
            "period": period,
            "statistic": statistic,
            "points": points,
        }

    def _point(self, series: str, metric: str, statistic: str, ts: int, interval: int) -> dict[str, Any]:
        base, swing, noise = METRICS[metric]
        r = rng_for(self.w.seed, "ioto", "metric", series, metric, ts, interval)
        phase = (int(hashlib.sha256(series.encode()).hexdigest()[:4], 16) % 24) * 3600
        mean = base + swing * math.sin(2 * math.pi * ((ts + phase) % 86400) / 86400) + r.uniform(-noise, noise)
        count = max(1, interval // 60)
        spread = noise + r.uniform(0, noise)
        value = {
            "avg": mean,
            "min": mean - spread,
            "max": mean + spread,
            "sum": mean * count,
            "count": float(count),
            "current": mean + r.uniform(-spread, spread),
        }[statistic]
        return {"value": round(value, 2), "timestamp": ts * 1000, "count": count}


def _start_seconds(start: Any, period: int, interval: int) -> int:
    """`start`: epoch ms (or s), an ISO date, or absent (= one period ago); aligned to the interval."""
    if start is None:
        now = int(datetime.now(UTC).timestamp())
        return (now - period) // interval * interval
    if isinstance(start, bool):
        raise ApiError(400, "Bad metric item: start")
    if isinstance(start, int | float):
        seconds = start / 1000 if start > 1e11 else start
    elif isinstance(start, str):
        try:
            seconds = datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise ApiError(400, "Bad metric item: start must be a date or epoch milliseconds") from None
    else:
        raise ApiError(400, "Bad metric item: start must be a date or epoch milliseconds")
    return int(seconds) // interval * interval


# --------------------------------------------------------------------------- Cognito


def amz_error(kind: str, message: str, status: int = 400) -> Response:
    return Response(
        json.dumps({"__type": kind, "message": message}),
        status,
        media_type=AMZ_JSON,
        headers={"x-amzn-ErrorType": kind, "x-amzn-RequestId": str(uuid.uuid4())},
    )


def _refresh_token() -> str:
    """Cognito refresh tokens are encrypted JWTs (JWE, five parts) that clients cannot read."""
    header = base64.urlsafe_b64encode(b'{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}').decode().rstrip("=")
    parts = [secrets.token_urlsafe(n) for n in (256, 12, 600, 16)]
    return ".".join([header, *parts])


class Cognito:
    def __init__(self, ctx: EmulatorContext, world: World) -> None:
        self.ctx = ctx
        self.world = world

    def tokens(self, username: str, auth_time: int) -> dict[str, Any]:
        # Real Cognito signs RS256 with the user pool's keys; the emulator signs HS256 with
        # jwt_keys.IOTO_HS256_SECRET because Ioto clients only decode these tokens, never verify them.
        now = self.ctx.now()
        ttl = self.ctx.ttl(TOKEN_LIFETIME)
        sub = self.world.user_sub(username)
        common = {"sub": sub, "iss": ISSUER, "auth_time": auth_time, "iat": now, "exp": now + ttl}
        access = jwt_keys.sign_hs256(
            {
                **common,
                "client_id": CLIENT_ID,
                "origin_jti": str(uuid.uuid4()),
                "event_id": str(uuid.uuid4()),
                "token_use": "access",
                "scope": "aws.cognito.signin.user.admin",
                "jti": str(uuid.uuid4()),
                "username": username,
            },
            jwt_keys.IOTO_HS256_SECRET,
        )
        id_token = jwt_keys.sign_hs256(
            {
                **common,
                "aud": CLIENT_ID,
                "client_id": CLIENT_ID,
                "email_verified": True,
                "token_use": "id",
                "cognito:username": username,
                "username": username,
                "email": username,
                "jti": str(uuid.uuid4()),
            },
            jwt_keys.IOTO_HS256_SECRET,
        )
        book = self.ctx.tokens[NAME]
        book.issue_access(access)
        book.issue_access(id_token)
        return {"AccessToken": access, "IdToken": id_token, "TokenType": "Bearer", "ExpiresIn": ttl}

    async def handle(self, request: Request) -> Response:
        if request.method != "POST":
            return amz_error("UnknownOperationException", "Only POST is supported", 405)
        target = request.headers.get("x-amz-target", "")
        if target != INITIATE_AUTH:
            return amz_error("UnknownOperationException", f"Unknown operation: {target or '(missing X-Amz-Target)'}")
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in (AMZ_JSON, "application/json"):
            return amz_error("SerializationException", f"Content-Type must be {AMZ_JSON}")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return amz_error("SerializationException", "Request body is not valid JSON")
        if not isinstance(body, dict):
            return amz_error("SerializationException", "Request body must be a JSON object")
        client_id = body.get("ClientId")
        if not isinstance(client_id, str) or not client_id:
            return amz_error("InvalidParameterException", "Missing required parameter ClientId")
        if client_id != CLIENT_ID:
            return amz_error("ResourceNotFoundException", f"User pool client {client_id} does not exist.")
        params = body.get("AuthParameters") or {}
        if not isinstance(params, dict):
            return amz_error("InvalidParameterException", "AuthParameters must be an object")
        flow = body.get("AuthFlow")
        if flow == "USER_PASSWORD_AUTH":
            return self.password(params)
        if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
            return self.refresh(params)
        if not isinstance(flow, str) or not flow:
            return amz_error("InvalidParameterException", "Missing required parameter AuthFlow")
        return amz_error("InvalidParameterException", f"{flow} flow not enabled for this client")

    def password(self, params: dict[str, Any]) -> Response:
        for name in ("USERNAME", "PASSWORD"):
            if not isinstance(params.get(name), str) or not params[name]:
                return amz_error("InvalidParameterException", f"Missing required parameter {name}")
        if params["USERNAME"].lower() != USERNAME or params["PASSWORD"] != PASSWORD:
            return amz_error("NotAuthorizedException", "Incorrect username or password.")
        now = self.ctx.now()
        result = self.tokens(USERNAME, now)
        result["RefreshToken"] = self.ctx.tokens[NAME].issue_refresh(
            {"username": USERNAME, "client_id": CLIENT_ID, "auth_time": now}, _refresh_token()
        )
        return self.answer(result)

    def refresh(self, params: dict[str, Any]) -> Response:
        token = params.get("REFRESH_TOKEN")
        if not isinstance(token, str) or not token:
            return amz_error("InvalidParameterException", "Missing required parameter REFRESH_TOKEN")
        status, data = self.ctx.tokens[NAME].use_refresh(token, rotate=False)  # Cognito does not rotate
        if status != "ok" or data is None or data.get("client_id") != CLIENT_ID:
            return amz_error("NotAuthorizedException", "Invalid Refresh Token")
        return self.answer(self.tokens(data["username"], data["auth_time"]))

    @staticmethod
    def answer(result: dict[str, Any]) -> Response:
        body = {"AuthenticationResult": result, "ChallengeParameters": {}}
        return Response(json.dumps(body), 200, media_type=AMZ_JSON,
                        headers={"x-amzn-RequestId": str(uuid.uuid4())})


# --------------------------------------------------------------------------- app


def _api_endpoint(ctx: EmulatorContext, world: World) -> Callable[[Request], Awaitable[Response]]:
    handlers = Api(world).handlers()

    async def endpoint(request: Request) -> Response:
        if request.method != "POST":
            return text(405, "Method Not Allowed: every Ioto API call is a POST", {"Allow": "POST"})
        parts = [p for p in request.path_params.get("path", "").split("/") if p]
        tok = bool(parts) and parts[0] == "tok"
        if tok:
            parts = parts[1:]
        try:
            caller = authenticate(ctx, world, request, tok)
            handler = handlers.get((parts[0], parts[1])) if len(parts) == 2 else None
            if handler is None:
                raise ApiError(404, f"Unknown API: /{'/'.join(parts)}")
            raw = await request.body()
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise ApiError(400, "Bad request: body is not valid JSON") from None
            if not isinstance(body, dict):
                raise ApiError(400, "Bad request: body must be a JSON object")
            result = handler(caller, body)
        except ApiError as e:
            return text(e.status, e.message)
        except Exception:  # the service answers 500 text, like the real one
            return text(500, "Internal service error")
        if isinstance(result, Response):
            return result
        return JSONResponse(result)

    return endpoint


def build(ctx: EmulatorContext) -> Starlette:
    world = World(ctx.config.seed, ctx.config.devices)
    cognito = Cognito(ctx, world)
    api = _api_endpoint(ctx, world)
    return Starlette(
        routes=[
            Route("/cognito", cognito.handle, methods=ALL_METHODS),
            Route("/cognito/", cognito.handle, methods=ALL_METHODS),
            Route("/api", api, methods=ALL_METHODS),
            Route("/api/{path:path}", api, methods=ALL_METHODS),
        ]
    )


def describe(base: str) -> dict[str, Any]:
    return {
        "urls": {
            "API endpoint": f"{base}/api",
            "CloudAPI endpoint (with /tok)": f"{base}/api/tok",
            "Cognito endpoint": f"{base}/cognito/",
        },
        "credentials": {
            "Cognito ClientId": CLIENT_ID,
            "user": USERNAME,
            "password": PASSWORD,
            "CloudAPI token": CLOUDAPI_TOKEN,
            "Origin": ORIGIN,
        },
    }
