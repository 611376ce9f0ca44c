"""Emulated Thinger.io REST API (mounted at /thinger).

    POST /oauth/token                                   password / refresh_token grants (refresh rotates),
                                                        and the device grant (MODEL, below)
    POST /oauth/device                                  MODEL: device authorization (RFC 8628)
    GET|POST /oauth/device/verify                       MODEL: the approval page (?user_code= pre-fills it)
    POST /oauth/revoke                                  MODEL: token revocation (RFC 7009): the refresh or
                                                        access token named by ``token`` is refused from then on
    GET|POST /v1/users/{u}/devices                      list (?count=&index=, ?id=) / create
    GET|PUT|DELETE /v1/users/{u}/devices/{d}            detail / update / delete (400 if connected)
    GET /v1/users/{u}/devices/{d}/stats                 JSON, or Server-Sent Events (Accept: text/event-stream)
    GET|POST /v1/users/{u}/devices/{d}/tokens           device tokens; DELETE .../tokens/{id}
    GET /v2/users/{u}/devices/{d}/api                   {"name": {"fn": 0..5, "al": 0..2}}
    GET|POST /v1|v2/users/{u}/devices/{d}/{resource}    {"out": ...} / {"in": ...}
    GET /v3/users/{u}/devices/{d}/resources[/{r}]       raw JSON values
    GET /v1/users/{u}/buckets[/{b}], GET /v1|v2/users/{u}/buckets/{b}/data
    POST /v1/users/{u}/devices/{d}/firmware             MODEL: a firmware upload (multipart/form-data);
                                                        answers what arrived: each part's name, file
                                                        name, content type, size and sha256

The device authorization grant is NOT something Thinger.io offers: the emulator models one
(device_grant.py) so the demo can show the device-code login on a second platform. Its
client id is ``workbench-cli`` (public); the approval page signs in as the demo user; the
token endpoint's device-grant answers are RFC 8628 / RFC 6749 JSON (``{"error": "..."}``),
not Thinger's ``{"error": {"message"}}``.

Tokens travel as `Authorization: Bearer <t>` or `?authorization=<t>` (case-sensitive).
Errors are `{"error": {"message": "..."}}`.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jwt
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from workbench.emulator import jwt_keys
from workbench.emulator.context import EmulatorContext
from workbench.emulator.device_grant import DEVICE_GRANT, DeviceGrants
from workbench.emulator.thinger.world import (
    BUCKETS,
    DEVICE_ID_RE,
    DEVICE_TYPES,
    PASSWORD,
    USER,
    Device,
    DeviceToken,
    ResourceError,
    ThingerWorld,
    bucket_data,
    now_ms,
    object_id,
)

NAME = "thinger"
TOKEN_PATHS: set[str] = {"/oauth/token"}

ACCESS_TTL = 7200
REFRESH_TTL = 61 * 86_400  # "around 2 months" (the seed's sample refresh token lives 61 days)
SECRET = jwt_keys.THINGER_HS256_SECRET
SSE_MIN_INTERVAL_MS = 50
DEVICE_CLIENT_ID = "workbench-cli"  # the modelled device grant's one (public) client
DEVICE_PATH = "/oauth/device"
VERIFY_PATH = "/oauth/device/verify"
REVOKE_PATH = "/oauth/revoke"  # MODEL: Thinger.io documents no revocation endpoint


class ThingerError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status)


@dataclass(frozen=True)
class Principal:
    user: str
    device: str | None = None  # set for device tokens: the only device they may reach
    resources: tuple[str, ...] | None = None  # device tokens limited to these resources


# -- helpers -----------------------------------------------------------------------------------
async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError as exc:
        raise ThingerError(400, "invalid JSON body") from exc


def int_param(request: Request, name: str, default: int | None, minimum: int = 0) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ThingerError(400, f"invalid parameter '{name}'") from exc
    if value < minimum:
        raise ThingerError(400, f"invalid parameter '{name}'")
    return value


def empty_ok() -> Response:
    return Response(b"", 200)


MAX_UPLOAD = 16 * 1024 * 1024


def multipart_parts(content_type: str, raw: bytes) -> list[dict[str, Any]] | None:
    """What a multipart/form-data body holds, part by part (None when it is malformed):
    name, filename, content_type, size, sha256, and the text of a field without a file."""
    import hashlib
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    if not message.is_multipart():
        return None
    out: list[dict[str, Any]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            return None
        data = part.get_payload(decode=True)
        data = data if isinstance(data, bytes) else b""
        filename = part.get_filename()
        item: dict[str, Any] = {
            "name": name,
            "filename": filename,
            "content_type": part.get("content-type"),
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        if filename is None:
            item["value"] = data.decode("utf-8", "replace")[:200]
        out.append(item)
    return out


class Api:
    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.book = ctx.tokens[NAME]
        self.world = ThingerWorld(ctx.config.seed, ctx.config.devices, ctx.started)
        self.devices = DeviceGrants(
            "Thinger.io (emulated)", self._check_user, demo_login=(USER, PASSWORD)
        )

    @staticmethod
    def _check_user(username: str, password: str) -> str | None:
        return USER if username == USER and password == PASSWORD else None

    @staticmethod
    def _rfc_error(code: str, description: str, status: int = 400) -> JSONResponse:
        return JSONResponse(
            {"error": code, "error_description": description},
            status,
            headers={"Cache-Control": "no-store"},
        )

    async def device_authorization(self, request: Request) -> Response:
        """MODEL (Thinger.io has no device flow): RFC 8628 §3.1-3.2."""
        pairs = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
        form = dict(pairs)
        if form.get("client_id") != DEVICE_CLIENT_ID:
            return self._rfc_error("invalid_client", f"unknown client; use {DEVICE_CLIENT_ID}", 401)
        faults = self.ctx.faults[NAME]
        base = f"{request.url.scheme}://{request.url.netloc}/{NAME}"
        answer = self.devices.start(
            client_id=DEVICE_CLIENT_ID,
            scope=form.get("scope", ""),
            audience="",
            resources=(),
            verification_uri=base + VERIFY_PATH,
            ttl=faults.device_code_ttl,
            interval=faults.device_code_interval,
            slow_downs=faults.device_slow_down,
        )
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    async def device_page(self, request: Request) -> Response:
        return self.devices.page(f"/{NAME}{VERIFY_PATH}", request.query_params.get("user_code", ""))

    async def device_decide(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        return self.devices.decide(f"/{NAME}{VERIFY_PATH}", form)

    def _device_token(self, form: dict[str, Any]) -> Response:
        if form.get("client_id") != DEVICE_CLIENT_ID:
            return self._rfc_error("invalid_client", f"unknown client; use {DEVICE_CLIENT_ID}", 401)
        code = str(form.get("device_code") or "")
        if not code:
            return self._rfc_error("invalid_request", "missing device_code")
        status, pending = self.devices.poll(code, DEVICE_CLIENT_ID)
        if pending is None:
            return self._rfc_error(status, self.devices.describe_error(status))
        return JSONResponse(self._token_pair(pending.subject))

    # -- tokens ------------------------------------------------------------------------------
    def _token_pair(self, user: str) -> dict[str, Any]:
        now = int(time.time())
        ttl = self.ctx.ttl(ACCESS_TTL)
        access = jwt_keys.sign_hs256({"exp": now + ttl, "iat": now, "usr": user}, SECRET)
        # Two logins in the same second give the same JWT; a freshly issued one must work even
        # if an identical earlier copy was expired by the admin switch.
        self.book.expired_access.discard(access)
        self.book.issue_access(access)
        refresh = jwt_keys.sign_hs256(
            {"exp": now + REFRESH_TTL, "iat": now, "jti": object_id()}, SECRET
        )
        self.book.issue_refresh({"usr": user}, token=refresh)
        return {
            "access_token": access,
            "expires_in": ttl,
            "refresh_token": refresh,
            "scope": None,
            "token_type": "bearer",
        }

    async def oauth_token(self, request: Request) -> Response:
        ctype = request.headers.get("content-type", "")
        if "application/json" in ctype:
            body = await json_body(request)
            form: dict[str, Any] = body if isinstance(body, dict) else {}
        else:  # application/x-www-form-urlencoded (parsed here: no python-multipart needed)
            form = dict(
                parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
            )
        grant = form.get("grant_type")
        if grant == "password":
            if form.get("username") == USER and form.get("password") == PASSWORD:
                return JSONResponse(self._token_pair(USER))
            return error(401, "invalid username or password")
        if grant == "refresh_token":
            token = str(form.get("refresh_token") or "")
            try:
                jwt_keys.verify(token, SECRET, "HS256")
            except jwt.PyJWTError:
                return error(401, "invalid refresh token")
            state, data = self.book.use_refresh(token, rotate=True)
            if state != "ok" or data is None:
                return error(401, "invalid refresh token")
            return JSONResponse(self._token_pair(data["usr"]))
        if grant == DEVICE_GRANT:
            return self._device_token(form)
        if not grant:
            return error(400, "missing grant_type")
        return error(400, f"unsupported grant type '{grant}'")

    async def oauth_revoke(self, request: Request) -> Response:
        """MODEL: RFC 7009 §2. No client authentication (the password grant has no client);
        200 also for a token the emulator does not know (§2.2)."""
        form = dict(
            parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
        )
        token = form.get("token", "")
        if not token:
            return self._rfc_error("invalid_request", "missing token")
        if not self.book.revoke_refresh(token):
            self.book.revoke_access(token)
        return Response(b"", 200, headers={"Cache-Control": "no-store"})

    def principal(self, request: Request) -> Principal:
        token = None
        header = request.headers.get("authorization", "")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise ThingerError(401, "invalid authorization header")
            token = value.strip()
        elif "authorization" in request.query_params:  # case-sensitive on purpose
            token = request.query_params["authorization"]
        if not token:
            raise ThingerError(401, "missing authorization")
        try:
            claims = jwt_keys.verify(token, SECRET, "HS256")
        except jwt.ExpiredSignatureError as exc:
            raise ThingerError(401, "token expired") from exc
        except jwt.PyJWTError as exc:
            raise ThingerError(401, "invalid token") from exc
        if "dev" in claims:
            stored = self.world.tokens.get(str(claims.get("jti")))
            if stored is None or stored.token != token:
                raise ThingerError(401, "token revoked")
            res = claims.get("res")
            return Principal(
                str(claims.get("usr")),
                str(claims["dev"]),
                tuple(res) if isinstance(res, list) else None,
            )
        if "usr" in claims and "jti" not in claims:
            if self.book.access_revoked(token):
                raise ThingerError(401, "token expired")
            return Principal(str(claims["usr"]))
        raise ThingerError(401, "invalid token")

    def auth(
        self,
        request: Request,
        *,
        device: str | None = None,
        resource: str | None = None,
        device_token_ok: bool = False,
    ) -> Principal:
        p = self.principal(request)
        if p.user != request.path_params.get("user"):
            raise ThingerError(403, "forbidden: token not valid for this user")
        if p.device is not None:
            if not device_token_ok or device is None or device != p.device:
                raise ThingerError(403, "forbidden: token not valid for this device or action")
            if resource is not None and p.resources is not None and resource not in p.resources:
                raise ThingerError(403, "forbidden: token not valid for this resource")
        return p

    def device_or_404(self, device: str) -> Device:
        d = self.world.get(device)
        if d is None:
            raise ThingerError(404, "device not found")
        return d

    # -- devices -----------------------------------------------------------------------------
    async def list_devices(self, request: Request) -> Response:
        self.auth(request)
        wanted = request.query_params.get("id")
        if wanted is not None:
            if not DEVICE_ID_RE.fullmatch(wanted):
                return error(400, "invalid device identifier")
            d = self.world.get(wanted)
            return JSONResponse([d.as_json()] if d else [])
        index = int_param(request, "index", 0) or 0
        count = int_param(request, "count", None)
        if count is None:
            count = max(len(self.world.devices) - index, 0)
        return JSONResponse([d.as_json() for d in self.world.page(index, count)])

    async def create_device(self, request: Request) -> Response:
        self.auth(request)
        body = await json_body(request)
        if not isinstance(body, dict):
            return error(400, "missing fields")
        # Seed form {"device_id","device_description","device_credentials"}; newer form
        # {"device","description","credentials","type","name","enabled"}.
        device = body.get("device_id", body.get("device"))
        dtype = body.get("device_type", body.get("type", "Generic"))
        creds = body.get("device_credentials", body.get("credentials", ""))
        desc = body.get("device_description", body.get("description", ""))
        name = body.get("device_name", body.get("name", device))
        enabled = body.get("enabled", True)
        if not isinstance(device, str) or not DEVICE_ID_RE.fullmatch(device):
            return error(400, "invalid device identifier: only [a-zA-Z0-9_-]{1,32} is allowed")
        if dtype not in DEVICE_TYPES:
            return error(400, f"invalid device type, expected one of {', '.join(DEVICE_TYPES)}")
        if (
            not isinstance(creds, str)
            or not isinstance(desc, str)
            or not isinstance(name, str)
            or not isinstance(enabled, bool)
        ):
            return error(400, "invalid fields")
        if dtype != "HTTP" and not creds:
            return error(400, "missing fields: device credentials")
        if self.world.get(device) is not None:
            return error(400, "device already exists")
        d = self.world.create(device, name, desc, dtype, creds, enabled)
        return JSONResponse(d.as_json())

    async def device_detail(self, request: Request) -> Response:
        device = request.path_params["device"]
        self.auth(request, device=device, device_token_ok=True)
        return JSONResponse(self.device_or_404(device).as_json())

    async def update_device(self, request: Request) -> Response:
        device = request.path_params["device"]
        self.auth(request)
        d = self.device_or_404(device)
        body = await json_body(request)
        if not isinstance(body, dict):
            return error(400, "missing fields")
        allowed = {"name": str, "description": str, "enabled": bool, "credentials": str}
        changes: dict[str, Any] = {}
        for key, value in body.items():
            kind = allowed.get(key)
            if kind is None:
                return error(400, f"unknown field '{key}'")
            if not isinstance(value, kind):
                return error(400, f"invalid field '{key}'")
            changes[key] = value
        return JSONResponse(self.world.update(d, **changes).as_json())

    async def delete_device(self, request: Request) -> Response:
        device = request.path_params["device"]
        self.auth(request)
        d = self.device_or_404(device)
        if d.connected:
            return error(400, "device is connected")
        self.world.delete(device)
        return empty_ok()

    # -- firmware upload (MODEL: Thinger.io's REST API documents none) --------------------
    async def upload_firmware(self, request: Request) -> Response:
        device = request.path_params["device"]
        self.auth(request)
        self.device_or_404(device)
        ctype = request.headers.get("content-type", "")
        if not ctype.lower().startswith("multipart/form-data") or "boundary=" not in ctype:
            return error(415, "expected a multipart/form-data body")
        size = int(request.headers.get("content-length") or 0)
        if size > MAX_UPLOAD:
            return error(413, "the upload is too large")
        raw = await request.body()
        if len(raw) > MAX_UPLOAD:
            return error(413, "the upload is too large")
        parts = multipart_parts(ctype, raw)
        if parts is None:
            return error(400, "malformed multipart body")
        return JSONResponse({"device": device, "parts": parts})

    # -- stats -------------------------------------------------------------------------------
    async def stats(self, request: Request) -> Response:
        device = request.path_params["device"]
        self.auth(request, device=device, device_token_ok=True)
        d = self.device_or_404(device)
        if "text/event-stream" not in request.headers.get("accept", ""):
            return JSONResponse(self.world.stats(d))
        interval = int_param(request, "interval", 1000, minimum=SSE_MIN_INTERVAL_MS) or 1000
        return StreamingResponse(
            self._stats_events(request, device, interval / 1000),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _stats_events(self, request: Request, device: str, interval: float):  # type: ignore[no-untyped-def]
        n = 0
        while True:
            d = self.world.get(device)
            if d is None:  # deleted while watched
                yield (
                    "event: error\ndata: "
                    + json.dumps({"error": {"message": "device not found"}})
                    + "\n\n"
                )
                return
            if n:
                d = self.world.tick(d, n)
            yield "data: " + json.dumps(self.world.stats(d), separators=(",", ":")) + "\n\n"
            n += 1
            await asyncio.sleep(interval)
            if await request.is_disconnected():
                return

    # -- device tokens -----------------------------------------------------------------------
    async def list_tokens(self, request: Request) -> Response:
        device = request.path_params["device"]
        self.auth(request)
        self.device_or_404(device)
        return JSONResponse([t.as_json() for t in self.world.device_tokens(device)])

    async def create_token(self, request: Request) -> Response:
        device = request.path_params["device"]
        user = self.auth(request).user
        self.device_or_404(device)
        body = await json_body(request)
        if not isinstance(body, dict):
            return error(400, "missing fields")
        name = body.get("token_name")
        resources = body.get("token_resources")
        expiration = body.get("token_expiration") or 0
        if not isinstance(name, str) or not name:
            return error(400, "missing fields: token_name")
        if resources is not None and (
            not isinstance(resources, list) or not all(isinstance(r, str) for r in resources)
        ):
            return error(400, "token_resources must be a list of resource names")
        if not isinstance(expiration, int) or isinstance(expiration, bool) or expiration < 0:
            return error(400, "token_expiration must be a timestamp in milliseconds")
        jti = object_id()
        claims: dict[str, Any] = {"dev": device}
        if expiration:
            claims["exp"] = expiration // 1000
        claims["iat"] = int(time.time())
        claims["jti"] = jti
        if resources:
            claims["res"] = resources
        claims["usr"] = user
        token = DeviceToken(
            jti, name, jwt_keys.sign_hs256(claims, SECRET), device, resources or None, expiration
        )
        self.world.tokens[jti] = token
        return JSONResponse({"id": token.id, "name": token.name, "token": token.token})

    async def delete_token(self, request: Request) -> Response:
        device = request.path_params["device"]
        self.auth(request)
        stored = self.world.tokens.get(request.path_params["token"])
        if stored is None or stored.device != device:
            return error(404, "token not found")
        del self.world.tokens[stored.id]
        return empty_ok()

    # -- resources ---------------------------------------------------------------------------
    async def api_description(self, request: Request) -> Response:
        device = request.path_params["device"]
        p = self.auth(request, device=device, device_token_ok=True)
        d = self.device_or_404(device)
        if not d.connected:
            return error(404, "device not connected")
        return JSONResponse(
            self.world.api(d, list(p.resources) if p.resources is not None else None)
        )

    def _resource_target(self, request: Request) -> tuple[Device, str]:
        device = request.path_params["device"]
        resource = request.path_params["resource"]
        self.auth(request, device=device, resource=resource, device_token_ok=True)
        return self.device_or_404(device), resource

    async def resource_v2(self, request: Request) -> Response:
        d, resource = self._resource_target(request)
        try:
            if request.method == "GET":
                kind, payload = self.world.read(d, resource)
            else:
                body = await json_body(request)
                # {"in": value} per the docs; a bare document (the seed's io curl example) is the input itself.
                value = body["in"] if isinstance(body, dict) and "in" in body else body
                kind, payload = self.world.write(d, resource, value)
        except ResourceError as exc:
            return error(exc.status, exc.message)
        if kind in ("run", "none"):
            return empty_ok()
        if kind == "io":
            return JSONResponse(payload)
        return JSONResponse({kind: payload})

    async def resources_v3(self, request: Request) -> Response:
        return await self.api_description(request)

    async def resource_v3(self, request: Request) -> Response:
        d, resource = self._resource_target(request)
        try:
            if request.method == "GET":
                kind, payload = self.world.read(d, resource)
            else:
                kind, payload = self.world.write(d, resource, await json_body(request))
        except ResourceError as exc:
            return error(exc.status, exc.message)
        if kind in ("run", "none"):
            return empty_ok()
        if kind == "io":
            return JSONResponse(payload["out"])
        return JSONResponse(payload)

    # -- buckets -----------------------------------------------------------------------------
    async def list_buckets(self, request: Request) -> Response:
        self.auth(request)
        return JSONResponse([b.as_json(self.world.started_ms) for b in BUCKETS.values()])

    def _bucket(self, request: Request) -> Any:
        self.auth(request)
        b = BUCKETS.get(request.path_params["bucket"])
        if b is None:
            raise ThingerError(404, "bucket not found")
        return b

    async def bucket_config(self, request: Request) -> Response:
        return JSONResponse(self._bucket(request).as_json(self.world.started_ms))

    async def bucket_read(self, request: Request) -> Response:
        if request.path_params["version"] not in ("v1", "v2"):
            return error(404, "not found")
        b = self._bucket(request)
        items = min(int_param(request, "items", 10) or 0, 10_000)
        min_ts = int_param(request, "min_ts", None)
        max_ts = int_param(request, "max_ts", None)
        sort = request.query_params.get("sort", "desc")
        if sort not in ("asc", "desc"):
            return error(400, "invalid parameter 'sort'")
        return JSONResponse(bucket_data(self.world.seed, b, now_ms(), items, min_ts, max_ts, sort))


async def _thinger_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ThingerError)
    return error(exc.status, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error(exc.status_code, str(exc.detail).lower())


def build(ctx: EmulatorContext) -> Starlette:
    api = Api(ctx)
    dev = "/v1/users/{user}/devices/{device}"
    routes = [
        Route("/oauth/token", api.oauth_token, methods=["POST"]),
        Route(DEVICE_PATH, api.device_authorization, methods=["POST"]),
        Route(REVOKE_PATH, api.oauth_revoke, methods=["POST"]),
        Route(VERIFY_PATH, api.device_page, methods=["GET"]),
        Route(VERIFY_PATH, api.device_decide, methods=["POST"]),
        Route("/v1/users/{user}/devices", api.list_devices, methods=["GET"]),
        Route("/v1/users/{user}/devices", api.create_device, methods=["POST"]),
        Route(dev, api.device_detail, methods=["GET"]),
        Route(dev, api.update_device, methods=["PUT"]),
        Route(dev, api.delete_device, methods=["DELETE"]),
        Route(dev + "/stats", api.stats, methods=["GET"]),
        Route(dev + "/firmware", api.upload_firmware, methods=["POST"]),
        Route(dev + "/tokens", api.list_tokens, methods=["GET"]),
        Route(dev + "/tokens", api.create_token, methods=["POST"]),
        Route(dev + "/tokens/{token}", api.delete_token, methods=["DELETE"]),
        Route(dev + "/{resource:path}", api.resource_v2, methods=["GET", "POST"]),
        Route("/v2/users/{user}/devices/{device}/api", api.api_description, methods=["GET"]),
        Route(
            "/v2/users/{user}/devices/{device}/{resource:path}",
            api.resource_v2,
            methods=["GET", "POST"],
        ),
        Route("/v3/users/{user}/devices/{device}/resources", api.resources_v3, methods=["GET"]),
        Route(
            "/v3/users/{user}/devices/{device}/resources/{resource:path}",
            api.resource_v3,
            methods=["GET", "POST"],
        ),
        Route("/v1/users/{user}/buckets", api.list_buckets, methods=["GET"]),
        Route("/v1/users/{user}/buckets/{bucket}", api.bucket_config, methods=["GET"]),
        Route("/{version}/users/{user}/buckets/{bucket}/data", api.bucket_read, methods=["GET"]),
    ]
    return Starlette(
        routes=routes, exception_handlers={ThingerError: _thinger_error, HTTPException: _http_error}
    )


def describe(base: str) -> dict[str, Any]:
    return {
        "urls": {
            "api": base,
            "token": base + "/oauth/token",
            "device authorization (model)": base + DEVICE_PATH,
            "device approval page (model)": base + VERIFY_PATH,
        },
        "credentials": {"user": USER, "password": PASSWORD},
    }
