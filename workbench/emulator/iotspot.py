"""Emulated iotspot: a Cognito-style M2M token endpoint and a MODEL of the iotspot open API.

What is faithful (PLATFORMS.md section 4, seed 003):

    POST /iotspot/auth/oauth2/token             client_credentials, Basic (RFC 6749 2.3.1) or
                                                client_secret_post -> RS256 access token
    GET  /iotspot/cognito-idp/{pool}/.well-known/jwks.json
    GET  /iotspot/cognito-idp/{pool}/.well-known/openid-configuration

What is a model (the real open API is not publicly documented), labelled as such on every
response with the `X-Emulator-Model` header and in list bodies with `"model"`:

    GET /iotspot/api/v1/workspaces                      paged ?page=1&pageSize=50
    GET /iotspot/api/v1/workspaces/{id}
    GET /iotspot/api/v1/workspaces/{id}/locations       paged
    GET /iotspot/api/v1/locations/{id}
    GET /iotspot/api/v1/locations/{id}/desks            paged
    GET /iotspot/api/v1/desks                           paged (every desk)
    GET /iotspot/api/v1/desks/{id}
    GET /iotspot/api/v1/desks/{id}/occupancy
    GET /iotspot/api/v1/occupancy[?workspaceId=]        summary counts

The world: `ctx.config.devices` desks (one occupancy sensor each) spread over a few offices in
real cities (workspaces) and their floors / zones (locations). Everything is computed from
indices and the seed, so 100,000 desks cost nothing at start-up.

Demo clients: `iotspot-demo-client` / `iotspot+demo/secret=8852` (client_credentials, scopes
`iotspot/openapi` and `iotspot/outlook`), and `iotspot-web-client` / `iotspot-web-secret-3310`,
which is only enabled for the authorization-code flow (so client_credentials gives
`unauthorized_client`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import jwt_keys
from .context import EmulatorContext
from .data import rng_for

NAME = "iotspot"
TOKEN_PATH = "/auth/oauth2/token"
TOKEN_PATHS: set[str] = {TOKEN_PATH}

REGION = "eu-central-1"
POOL_ID = "eu-central-1_iotspotDemo"
ISSUER_PATH = f"/cognito-idp/{POOL_ID}"
API_PATH = "/api/v1"

CLIENT_ID = "iotspot-demo-client"
CLIENT_SECRET = "iotspot+demo/secret=8852"
SCOPE = "iotspot/openapi"
TOKEN_TTL = 3600

MODEL_HEADER = "X-Emulator-Model"
MODEL_NOTE = "iotspot API is not public; this is a model"
MODEL_TAG = "iotspot-emulator-model"

FORM_TYPE = "application/x-www-form-urlencoded"
OAUTH_JSON = "application/json;charset=UTF-8"
GRANT_TYPES = ("client_credentials", "authorization_code", "refresh_token")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str
    flows: frozenset[str]
    scopes: tuple[str, ...]


CLIENTS = {
    c.client_id: c
    for c in (
        Client(CLIENT_ID, CLIENT_SECRET, frozenset({"client_credentials"}), (SCOPE, "iotspot/outlook")),
        Client("iotspot-web-client", "iotspot-web-secret-3310", frozenset({"authorization_code"}),
               ("openid", "email")),
    )
}

# Offices in real cities: (city, country code, time zone).
OFFICES = (
    ("Amsterdam", "NL", "Europe/Amsterdam"),
    ("Utrecht", "NL", "Europe/Amsterdam"),
    ("Rotterdam", "NL", "Europe/Amsterdam"),
    ("Eindhoven", "NL", "Europe/Amsterdam"),
    ("Antwerp", "BE", "Europe/Brussels"),
    ("Brussels", "BE", "Europe/Brussels"),
    ("Düsseldorf", "DE", "Europe/Berlin"),
    ("London", "GB", "Europe/London"),
    ("Paris", "FR", "Europe/Paris"),
    ("Copenhagen", "DK", "Europe/Copenhagen"),
)
MAX_WORKSPACES = 6
MAX_LOCATIONS_PER_WORKSPACE = 20
ZONES = ("North", "South")


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class World:
    """Workspaces -> locations -> desks, all derived from indices.

    Location g (0 <= g < n_locations) holds desks [start(g), start(g+1)) with
    start(g) = g * desks // n_locations, so any desk finds its location in O(1).
    """

    def __init__(self, seed: int, desks: int, started: int) -> None:
        self.seed = seed
        self.n_desks = max(0, desks)
        self.started = started
        self.n_workspaces = min(MAX_WORKSPACES, max(1, math.ceil(self.n_desks / 10)))
        per = math.ceil(self.n_desks / (self.n_workspaces * 8)) if self.n_desks else 0
        self.per_workspace = min(MAX_LOCATIONS_PER_WORKSPACE, max(2, per))
        self.n_locations = self.n_workspaces * self.per_workspace
        offices = list(OFFICES)
        rng_for(seed, NAME, "offices").shuffle(offices)
        self.offices = offices[: self.n_workspaces]
        self._summary: dict[int, dict[str, int]] = {}

    # --- index arithmetic -------------------------------------------------------------
    def start(self, g: int) -> int:
        return g * self.n_desks // self.n_locations

    def location_of(self, desk: int) -> int:
        return ((desk + 1) * self.n_locations - 1) // self.n_desks

    # --- ids ------------------------------------------------------------------------------
    @staticmethod
    def workspace_id(w: int) -> str:
        return f"ws-{w + 1:02d}"

    def location_id(self, g: int) -> str:
        w, j = divmod(g, self.per_workspace)
        return f"loc-{w + 1:02d}-{j + 1:02d}"

    @staticmethod
    def desk_id(i: int) -> str:
        return f"desk-{i + 1:06d}"

    def parse_workspace(self, ident: str) -> int | None:
        n = _suffix_number(ident, "ws-", 2)
        return n - 1 if n is not None and 1 <= n <= self.n_workspaces else None

    def parse_location(self, ident: str) -> int | None:
        parts = ident.split("-")
        if len(parts) != 3 or parts[0] != "loc" or not all(len(p) == 2 and p.isdigit() for p in parts[1:]):
            return None
        w, j = int(parts[1]) - 1, int(parts[2]) - 1
        if not (0 <= w < self.n_workspaces and 0 <= j < self.per_workspace):
            return None
        return w * self.per_workspace + j

    def parse_desk(self, ident: str) -> int | None:
        n = _suffix_number(ident, "desk-", 6)
        return n - 1 if n is not None and 1 <= n <= self.n_desks else None

    # --- items ----------------------------------------------------------------------------
    def workspace(self, w: int) -> dict[str, Any]:
        city, country, tz = self.offices[w]
        first, last = w * self.per_workspace, (w + 1) * self.per_workspace
        return {
            "id": self.workspace_id(w),
            "name": f"{city} office",
            "city": city,
            "country": country,
            "timezone": tz,
            "locationCount": self.per_workspace,
            "deskCount": self.start(last) - self.start(first),
        }

    def location(self, g: int) -> dict[str, Any]:
        w, j = divmod(g, self.per_workspace)
        floor, zone = j // len(ZONES) + 1, ZONES[j % len(ZONES)]
        return {
            "id": self.location_id(g),
            "name": f"Floor {floor} - {zone} zone",
            "workspaceId": self.workspace_id(w),
            "floor": floor,
            "zone": zone,
            "deskCount": self.start(g + 1) - self.start(g),
        }

    def _digest(self, i: int) -> bytes:
        return hashlib.sha256(f"{self.seed}:{NAME}:desk:{i}".encode()).digest()

    @staticmethod
    def _status(d: bytes) -> str:
        if d[0] >= 235:  # about 8 % of the sensors are offline
            return "unknown"
        return "occupied" if d[4] < 115 else "free"

    def desk(self, i: int) -> dict[str, Any]:
        g = self.location_of(i)
        w, j = divmod(g, self.per_workspace)
        floor, zone = j // len(ZONES) + 1, ZONES[j % len(ZONES)]
        d = self._digest(i)
        status = self._status(d)
        online = status != "unknown"
        battery = 5 + d[1] % 96
        if online:
            last_seen = self.started - (5 + int.from_bytes(d[2:4], "big") % 600)
            since = self.started - (60 + int.from_bytes(d[5:7], "big") % (6 * 3600))
        else:
            last_seen = self.started - (6 * 3600 + int.from_bytes(d[2:5], "big") % (9 * 86400))
            since = last_seen
        return {
            "id": self.desk_id(i),
            "name": f"Desk {floor}{zone[0]}-{i - self.start(g) + 1:03d}",
            "locationId": self.location_id(g),
            "workspaceId": self.workspace_id(w),
            "sensor": {
                "id": "70B3D5" + d[7:12].hex().upper(),
                "type": "occupancy",
                "battery": battery,
                "lastSeen": _iso(last_seen),
                "online": online,
            },
            "occupancy": {"status": status, "since": _iso(since)},
        }

    def occupancy(self, i: int) -> dict[str, Any]:
        desk = self.desk(i)
        return {
            "deskId": desk["id"],
            "locationId": desk["locationId"],
            "workspaceId": desk["workspaceId"],
            "sensorId": desk["sensor"]["id"],
            **desk["occupancy"],
            "lastSeen": desk["sensor"]["lastSeen"],
        }

    def location_counts(self, g: int) -> dict[str, int]:
        """{"total","occupied","free","unknown"} of one location (computed once, the data is static)."""
        counts = self._summary.get(g)
        if counts is None:
            counts = {"total": 0, "occupied": 0, "free": 0, "unknown": 0}
            for i in range(self.start(g), self.start(g + 1)):
                counts["total"] += 1
                counts[self._status(self._digest(i))] += 1
            self._summary[g] = counts
        return dict(counts)


def _suffix_number(ident: str, prefix: str, width: int) -> int | None:
    if not ident.startswith(prefix):
        return None
    digits = ident[len(prefix):]
    if len(digits) != width or not digits.isdigit():
        return None
    return int(digits)


def _add(total: dict[str, int], part: dict[str, int]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + value


# --- the token endpoint ---------------------------------------------------------------------

def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _issuer(request: Request) -> str:
    return f"{_origin(request)}/{NAME}{ISSUER_PATH}"


def oauth_error(error: str, status: int = 400) -> Response:
    body = json.dumps({"error": error}, separators=(",", ":"))
    return Response(body, status, media_type=OAUTH_JSON, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


class OAuthError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _basic_credentials(header: str) -> tuple[str, str]:
    """RFC 6749 2.3.1: base64 of form-urlencoded id ":" form-urlencoded secret."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise OAuthError("invalid_client")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise OAuthError("invalid_client") from None
    raw_id, colon, raw_secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client")
    return unquote_plus(raw_id), unquote_plus(raw_secret)


def _parse_form(raw: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw.strip()))
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:  # RFC 6749 3.2: parameters must not be sent more than once
            raise OAuthError("invalid_request")
        form[key] = value
    return form


def _authenticate(request: Request, form: dict[str, str]) -> Client:
    header = request.headers.get("authorization")
    basic = _basic_credentials(header) if header is not None else None
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    if basic is not None:
        if (form_id is not None and form_id != basic[0]) or (form_secret is not None and form_secret != basic[1]):
            raise OAuthError("invalid_request")
        client_id, secret = basic
    else:
        client_id, secret = form_id, form_secret
    client = CLIENTS.get(client_id or "")
    if client is None or secret is None or not hmac.compare_digest(secret.encode(), client.secret.encode()):
        raise OAuthError("invalid_client")
    return client


def build(ctx: EmulatorContext) -> Starlette:
    world = World(ctx.config.seed, ctx.config.devices, int(ctx.started))
    book = ctx.tokens[NAME]

    async def token(request: Request) -> Response:
        try:
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != FORM_TYPE:
                raise OAuthError("invalid_request")
            form = _parse_form(await request.body())
            grant_type = form.get("grant_type")
            if not grant_type:
                raise OAuthError("invalid_request")
            if grant_type not in GRANT_TYPES:
                raise OAuthError("unsupported_grant_type")
            client = _authenticate(request, form)
            if grant_type not in client.flows:
                raise OAuthError("unauthorized_client")
            if grant_type != "client_credentials":
                # This pool only runs the M2M flow here: it never issued a code or refresh token.
                param = "code" if grant_type == "authorization_code" else "refresh_token"
                raise OAuthError("invalid_grant" if form.get(param) else "invalid_request")
            requested = form.get("scope", "").split()
            if any(s not in client.scopes for s in requested):
                raise OAuthError("invalid_scope")
            granted = requested or list(client.scopes)
        except OAuthError as exc:
            return oauth_error(exc.error)
        now = ctx.now()
        ttl = ctx.ttl(TOKEN_TTL)
        claims = {
            "sub": client.client_id,
            "token_use": "access",
            "scope": " ".join(dict.fromkeys(granted)),
            "auth_time": now,
            "iss": _issuer(request),
            "exp": now + ttl,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client.client_id,
        }
        access = book.issue_access(jwt_keys.sign_rs256(claims))
        body = json.dumps({"access_token": access, "expires_in": ttl, "token_type": "Bearer"}, separators=(",", ":"))
        return Response(body, 200, media_type=OAUTH_JSON, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def jwks(request: Request) -> Response:
        return JSONResponse(jwt_keys.iotspot_jwks())

    async def openid_configuration(request: Request) -> Response:
        issuer = _issuer(request)
        base = f"{_origin(request)}/{NAME}"
        return JSONResponse({
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "token_endpoint": f"{base}{TOKEN_PATH}",
            "grant_types_supported": list(GRANT_TYPES),
            "scopes_supported": sorted({s for c in CLIENTS.values() for s in c.scopes}),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        })

    return Starlette(routes=[
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(f"{ISSUER_PATH}/.well-known/jwks.json", jwks, methods=["GET"]),
        Route(f"{ISSUER_PATH}/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
        Mount(API_PATH, app=ModelLabel(_api(world, book))),
    ])


# --- the modelled open API ------------------------------------------------------------------

class ModelLabel:
    """Adds the X-Emulator-Model header to every response of the wrapped app (errors too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((MODEL_HEADER.lower().encode(), MODEL_NOTE.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, labelled)


def _message(text: str, status: int, **headers: str) -> Response:
    return JSONResponse({"message": text}, status, headers=headers or None)


def _not_found() -> Response:
    return _message("Not Found", 404, **{"x-amzn-ErrorType": "NotFoundException"})


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods under the modelled API: JSON like API Gateway, not plain text."""
    status = getattr(exc, "status_code", 404)
    if status == 405:
        return _message("Method Not Allowed", 405, Allow="GET")
    return _not_found()


class Paging:
    def __init__(self, page: int, size: int) -> None:
        self.page, self.size = page, size

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def body(self, items: list[dict[str, Any]], total: int) -> dict[str, Any]:
        return {"items": items, "page": self.page, "pageSize": self.size, "total": total, "model": MODEL_TAG}


def _paging(request: Request) -> Paging | Response:
    values: dict[str, int] = {}
    for key, default, top in (("page", 1, None), ("pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)):
        raw = request.query_params.get(key)
        try:
            value = default if raw is None else int(raw)
        except ValueError:
            value = 0
        if value < 1 or (top is not None and value > top):
            limit = f"between 1 and {top}" if top else "a positive integer"
            return _message(f"Invalid request: {key} must be {limit}", 400,
                            **{"x-amzn-ErrorType": "BadRequestException"})
        values[key] = value
    return Paging(values["page"], values["pageSize"])


def _window(paging: Paging, first: int, count: int) -> range:
    """Indices [first, first+count) of the page asked for."""
    lo = min(paging.offset, count)
    hi = min(paging.offset + paging.size, count)
    return range(first + lo, first + hi)


def _api(world: World, book: Any) -> Starlette:
    def authorize(request: Request) -> Response | None:
        """API Gateway with a Cognito authorizer: 401 for any bad token, 403 for a missing scope."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _message("Unauthorized", 401, **{"x-amzn-ErrorType": "UnauthorizedException"})
        token = token.strip()
        try:
            if jwt.get_unverified_header(token).get("kid") != jwt_keys.IOTSPOT_KID:
                raise jwt.InvalidTokenError("unknown kid")
            claims = jwt_keys.verify(token, jwt_keys.rsa_private_key().public_key(), "RS256",
                                     options={"require": ["exp", "iat", "iss", "client_id"]})
        except jwt.PyJWTError:
            claims = None
        if (
            claims is None
            or claims.get("token_use") != "access"
            or not str(claims.get("iss", "")).endswith(f"/{NAME}{ISSUER_PATH}")
            or book.access_revoked(token)
        ):
            return _message("Unauthorized", 401, **{"x-amzn-ErrorType": "UnauthorizedException"})
        if SCOPE not in str(claims.get("scope", "")).split():
            return _message("Forbidden", 403, **{"x-amzn-ErrorType": "AccessDeniedException"})
        return None

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            denied = authorize(request)
            return denied if denied is not None else handler(request)

        return endpoint

    def paged(request: Request, first: int, count: int, make: Any) -> Response:
        paging = _paging(request)
        if isinstance(paging, Response):
            return paging
        return JSONResponse(paging.body([make(i) for i in _window(paging, first, count)], count))

    def list_workspaces(request: Request) -> Response:
        return paged(request, 0, world.n_workspaces, world.workspace)

    def get_workspace(request: Request) -> Response:
        w = world.parse_workspace(request.path_params["id"])
        return _not_found() if w is None else JSONResponse(world.workspace(w))

    def workspace_locations(request: Request) -> Response:
        w = world.parse_workspace(request.path_params["id"])
        if w is None:
            return _not_found()
        return paged(request, w * world.per_workspace, world.per_workspace, world.location)

    def get_location(request: Request) -> Response:
        g = world.parse_location(request.path_params["id"])
        return _not_found() if g is None else JSONResponse(world.location(g))

    def location_desks(request: Request) -> Response:
        g = world.parse_location(request.path_params["id"])
        if g is None:
            return _not_found()
        first = world.start(g)
        return paged(request, first, world.start(g + 1) - first, world.desk)

    def list_desks(request: Request) -> Response:
        return paged(request, 0, world.n_desks, world.desk)

    def get_desk(request: Request) -> Response:
        i = world.parse_desk(request.path_params["id"])
        return _not_found() if i is None else JSONResponse(world.desk(i))

    def desk_occupancy(request: Request) -> Response:
        i = world.parse_desk(request.path_params["id"])
        return _not_found() if i is None else JSONResponse(world.occupancy(i))

    def occupancy_summary(request: Request) -> Response:
        ws_param = request.query_params.get("workspaceId")
        if ws_param is not None:
            w = world.parse_workspace(ws_param)
            if w is None:
                return _not_found()
            workspaces = [w]
        else:
            workspaces = list(range(world.n_workspaces))
        totals = {"total": 0, "occupied": 0, "free": 0, "unknown": 0}
        breakdown: list[dict[str, Any]] = []
        for w in workspaces:
            ws_totals = {"total": 0, "occupied": 0, "free": 0, "unknown": 0}
            locations = []
            for g in range(w * world.per_workspace, (w + 1) * world.per_workspace):
                counts = world.location_counts(g)
                _add(ws_totals, counts)
                locations.append({"locationId": world.location_id(g), "name": world.location(g)["name"], **counts})
            _add(totals, ws_totals)
            breakdown.append({"workspaceId": world.workspace_id(w), "name": world.workspace(w)["name"],
                              **ws_totals, "locations": locations})
        body: dict[str, Any] = {"workspaceId": ws_param, **totals}
        if ws_param is not None:
            body["locations"] = breakdown[0]["locations"]
        else:
            body["workspaces"] = breakdown
        body["generatedAt"] = _iso(world.started)
        body["model"] = MODEL_TAG
        return JSONResponse(body)

    routes = [
        ("/workspaces", list_workspaces),
        ("/workspaces/{id}", get_workspace),
        ("/workspaces/{id}/locations", workspace_locations),
        ("/locations/{id}", get_location),
        ("/locations/{id}/desks", location_desks),
        ("/desks", list_desks),
        ("/desks/{id}", get_desk),
        ("/desks/{id}/occupancy", desk_occupancy),
        ("/occupancy", occupancy_summary),
    ]
    return Starlette(
        routes=[Route(path, guarded(handler), methods=["GET"]) for path, handler in routes],
        exception_handlers={404: _http_error, 405: _http_error},
    )


def describe(base: str) -> dict[str, Any]:
    issuer = f"{base}{ISSUER_PATH}"
    return {
        "urls": {
            "token": f"{base}{TOKEN_PATH}",
            "issuer": issuer,
            "jwks": f"{issuer}/.well-known/jwks.json",
            "api (model)": f"{base}{API_PATH}",
        },
        "credentials": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": SCOPE,
        },
        "note": "The iotspot open API is not public: /api/v1 (workspaces -> locations -> desks with "
                "occupancy sensors) is the emulator's model of it, labelled with the "
                f"{MODEL_HEADER} header.",
    }
