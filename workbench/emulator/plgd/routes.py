"""Emulated plgd hub, mounted at /plgd: hub configuration, HTTP gateway, C2C gateway, authority.

    GET  /.well-known/configuration                     hub configuration (no auth)
    /auth/realms/shared/...                             the authority, a Keycloak-shaped realm (oauth.py)
    GET  /api/v1/devices                                stream (NDJSON) of {"result": Device}
    GET  /api/v1/devices/{id}                           bare Device
    GET  /api/v1/devices/{id}/resource-links            bare ResourceLinks (the stream unwrapped)
    GET  /api/v1/resource-links                         stream, every device
    GET  /api/v1/resources, /api/v1/devices/{id}/resources/   stream of {"result": {"types", "data"}}
    GET  /api/v1/devices/{id}/resources/{href}          {"types", "data": Resource}  (?onlyContent=true)
    PUT  /api/v1/devices/{id}/resources/{href}          update -> {"data": Resource} (?onlyContent=true)
    GET  /c2c/api/v1/devices[/{id}[/{href}]]            OCF Cloud2Cloud view; update is POST

HTTP gateway errors are grpc-gateway's bare `{"code","message","details":[]}`; the HTTP status
follows the gRPC code (16->401, 5->404, 3->400, 7->403, 14->503). Updating a resource of an
OFFLINE device answers 503 with code 14 (UNAVAILABLE) at once; the real hub would queue a pending
command until timeToLive. Reads of an offline device come from the twin (shadow) and succeed,
except with `shadow=false`, which needs the device (503, code 14). C2C errors are text/plain.
The HTTP gateway is another origin, as on try.plgd.cloud (the hub configuration names
``httpGatewayAddress`` ``https://api.try.plgd.cloud`` while the hub is ``https://try.plgd.cloud``;
../shared/reference/plgd-try-cloud.md). Here it is the same listener under another host name:
the configuration names ``http://localhost:<port>/plgd`` and the gateway API (``/api/v1/...``)
answers only there — asked at the hub's numeric host (127.0.0.1, ::1, the demo URL's) it
answers 404 with the gateway's address. (A hub reached as ``localhost`` shares the origin.) So a client that does not discover the gateway, or that will not
send its token to the gateway's origin, fails here as it would against the real hub.

Streams are generated lazily from device indexes in batches, so 100,000 devices cost nothing
until read and never exist as one big string.

This module holds the hub (request checks, handlers, routes); the devices are in plgd_world.py,
the JSON shapes and stream framings in plgd_json.py, the OAuth server in plgd_oauth.py.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from workbench.emulator.context import EmulatorContext
from workbench.emulator.plgd.oauth import (
    AUTH_PATH,
    CONFIDENTIAL_CLIENT_ID,
    CONFIDENTIAL_CLIENT_SECRET,
    DEVICE_CLIENT_ID,
    MOUNT,
    OWNER_CLAIM,
    PASSWORD,
    PUBLIC_CLIENT_ID,
    REALM_PATH,
    REDIRECT_URI,
    TOKEN_PATH,
    USERNAME,
    WEB_SCOPES,
    OAuthServer,
    TokenInvalid,
    issuer_of,
)
from workbench.emulator.plgd.payloads import (
    c2c_device_json,
    device_json,
    device_text,
    json_array,
    links_json,
    ndjson,
    resource_json,
)
from workbench.emulator.plgd.world import COAP_GATEWAY, ApiError, Device, ResSpec, World

NAME = "plgd"
TOKEN_PATHS: set[str] = {"/auth" + TOKEN_PATH}

GATEWAY_HOST = "localhost"  # the gateway's host name when the hub is asked at a numeric host


def gateway_origin(request: Request) -> str:
    """The HTTP gateway's origin: same scheme and port, host ``localhost`` (the real hub's
    gateway is on api.<domain>). Another origin than a hub reached at 127.0.0.1 / ::1 (the
    demo URL); a hub reached as localhost itself shares it."""
    port = request.url.port
    return f"{request.url.scheme}://{GATEWAY_HOST}" + (f":{port}" if port else "")


def on_gateway_host(request: Request) -> bool:
    """True when the request came to the gateway's host name (never to a numeric hub host)."""
    return (request.url.hostname or "") == GATEWAY_HOST


GRPC_HTTP = {3: 400, 5: 404, 7: 403, 12: 405, 13: 500, 14: 503, 16: 401}
TRUE_WORDS = {"1", "t", "T", "TRUE", "true", "True"}  # Go's strconv.ParseBool
FALSE_WORDS = {"0", "f", "F", "FALSE", "false", "False"}


@functools.cache
def ca_pem() -> str:
    """A self-signed CA standing in for the hub's certificate authority (made once per process)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Emulated plgd hub Root CA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


# ---------------------------------------------------------------------------- request helpers
def _bool_param(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return False
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise ApiError(
        3,
        f'type mismatch, parameter: {name}, error: strconv.ParseBool: parsing "{raw}": invalid syntax',
    )


def _list_param(request: Request, *names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        for value in request.query_params.getlist(name):
            out.extend(v for v in value.split(",") if v)
    return out


# grpc-gateway/pb/devices.proto GetDevicesRequest.Status: ONLINE = 0, OFFLINE = 1 (the
# opposite of Connection.Status's numbers). grpc-gateway reads an enum query value by its
# exact name, else as a number (runtime/query.go, v2.26.3): "online" is refused.
STATUS_FILTER = {"ONLINE": "ONLINE", "OFFLINE": "OFFLINE", "0": "ONLINE", "1": "OFFLINE"}


def _statuses(request: Request) -> set[str]:
    out = set()
    for value in _list_param(request, "status", "statusFilter"):
        word = STATUS_FILTER.get(value)
        if word is None:
            raise ApiError(
                3, f'parsing field "status_filter": {json.dumps(value)} is not a valid value'
            )
        out.add(word)
    return out


def _href(request: Request) -> str:
    return "/" + str(request.path_params.get("href", "")).strip("/")


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except ValueError as exc:
        raise ApiError(3, f"cannot parse body: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(3, "cannot parse body: the content must be a JSON object")
    return body


Handler = Callable[[Request, str], Awaitable[Response]]


class Hub:
    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.oauth = OAuthServer(ctx)
        self.world = World(ctx)
        self.owner = self.oauth.owner

    # ------------------------------------------------------------ auth
    def _token_owner(self, request: Request) -> str:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if not auth:
            raise ApiError(16, "invalid token: missing authorization header")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(16, "invalid token: authorization header must be 'bearer <token>'")
        try:
            claims = self.oauth.verify_access(token.strip())
        except TokenInvalid as exc:
            raise ApiError(16, f"invalid token: {exc}") from None
        return str(claims[OWNER_CLAIM])

    def gateway(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if not on_gateway_host(request):
                return PlainTextResponse(
                    "404 page not found: this is the hub's origin; its HTTP gateway is at "
                    f"{gateway_origin(request)}/plgd (httpGatewayAddress of "
                    "/.well-known/configuration)",
                    404,
                )
            try:
                return await handler(request, self._token_owner(request))
            except ApiError as exc:
                return grpc_error(exc.code, exc.message)

        return endpoint

    def c2c(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request, self._token_owner(request))
            except ApiError as exc:
                return PlainTextResponse(exc.message, GRPC_HTTP.get(exc.code, 500))

        return endpoint

    def _device(self, owner: str, device_id: str) -> Device:
        d = self.world.get(device_id) if owner == self.owner else None
        if d is None:
            raise ApiError(5, f"cannot retrieve device {device_id}: not found")
        return d

    def _resource(self, owner: str, device_id: str, href: str) -> tuple[Device, ResSpec]:
        d = self._device(owner, device_id)
        spec = d.spec(href)
        if spec is None:
            raise ApiError(5, f"cannot retrieve resource {device_id}{href}: not found")
        return d, spec

    def _select(
        self,
        owner: str,
        ids: list[str],
        types: list[str] | None = None,
        statuses: set[str] | None = None,
    ) -> Iterator[Device]:
        if owner != self.owner:
            return
        source: Iterable[Device | None] = (
            (self.world.get(i) for i in dict.fromkeys(ids)) if ids else self.world.devices
        )
        for d in source:
            if d is None:
                continue
            if types and not set(types) & set(d.types):
                continue
            if statuses and ("ONLINE" if d.online else "OFFLINE") not in statuses:
                continue
            yield d

    @staticmethod
    def _stream(chunks: Iterator[bytes]) -> Response:
        return StreamingResponse(chunks, media_type="application/json")

    # ------------------------------------------------------------ hub configuration
    async def configuration(self, request: Request) -> Response:
        """The fields of try.plgd.cloud's answer (plgd-try-cloud.md: getHubConfiguration.go,
        protojson with EmitUnpopulated: int64 strings become numbers)."""
        authority = issuer_of(request)
        return JSONResponse(
            {
                "currentTime": time.time_ns(),
                "jwtOwnerClaim": OWNER_CLAIM,
                "jwtDeviceIdClaim": "",
                "id": self.world.hub_id,
                "coapGateway": COAP_GATEWAY,
                "certificateAuthorities": ca_pem(),
                "authority": authority,
                "defaultCommandTimeToLive": 0,
                "certificateAuthority": "",
                "httpGatewayAddress": gateway_origin(request) + "/plgd",
                "webOauthClient": {
                    "clientId": PUBLIC_CLIENT_ID,
                    "audience": "",
                    "scopes": WEB_SCOPES,
                    "providerName": "",
                    "clientAssertionType": "",
                    "authority": "",
                    "grantType": "",
                },
                "deviceOauthClient": {
                    "clientId": DEVICE_CLIENT_ID,
                    "audience": "",
                    "scopes": ["offline_access"],
                    "providerName": "plgd.web",
                    "clientAssertionType": "",
                    "authority": "",
                    "grantType": "",
                },
                "m2mOauthClient": None,
                "ui": {
                    "visibility": {
                        "mainSidebar": {
                            "devices": True,
                            "configuration": True,
                            "remoteClients": False,
                            "pendingCommands": True,
                            "certificates": False,
                            "deviceProvisioning": False,
                            "docs": True,
                            "chatRoom": False,
                            "dashboard": False,
                            "integrations": False,
                            "deviceFirmwareUpdate": False,
                            "deviceLogs": False,
                            "apiTokens": False,
                            "schemaHub": False,
                            "snippetService": False,
                        }
                    },
                    "deviceProvisioningService": "",
                    "snippetService": "",
                },
                "buildInfo": {
                    "version": "2.7.19",
                    "buildDate": "2023-07-04T15:31:17Z",
                    "commitHash": "emulated",
                    "commitDate": "2023-07-04T15:30:33Z",
                    "releaseUrl": "",
                },
            }
        )

    # ------------------------------------------------------------ HTTP gateway
    async def devices(self, request: Request, owner: str) -> Response:
        ids = _list_param(request, "deviceId", "deviceIdFilter")
        types = _list_param(request, "type", "typeFilter")
        statuses = _statuses(request)
        w = self.world
        return self._stream(
            ndjson(device_text(w, owner, d) for d in self._select(owner, ids, types, statuses))
        )

    async def device(self, request: Request, owner: str) -> Response:
        d = self._device(owner, request.path_params["deviceId"])
        return JSONResponse(device_json(self.world, owner, d))

    async def device_links(self, request: Request, owner: str) -> Response:
        d = self._device(owner, request.path_params["deviceId"])
        types = _list_param(request, "type", "typeFilter")
        # one bare ResourceLinks object: the hub unwraps the stream's "result"
        # (plgd-dev/hub http-gateway/service/getDeviceResourceLinks.go, toSimpleResponse)
        return JSONResponse(links_json(self.world, owner, d, types))

    async def all_links(self, request: Request, owner: str) -> Response:
        ids = _list_param(request, "deviceId", "deviceIdFilter")
        types = _list_param(request, "type", "typeFilter")
        w = self.world
        items = (links_json(w, owner, d, types) for d in self._select(owner, ids))
        return self._stream(ndjson(x for x in items if x["resources"] or not types))

    def _resources(
        self, owner: str, devices: Iterable[Device], types: list[str], resource_ids: set[str]
    ) -> Iterator[dict[str, Any]]:
        for d in devices:
            for href in d.hrefs:
                spec = d.spec(href)
                assert spec is not None
                if types and not set(types) & set(spec.types):
                    continue
                if resource_ids and d.id + href not in resource_ids:
                    continue
                yield {"types": list(spec.types), "data": resource_json(self.world, owner, d, href)}

    async def all_resources(self, request: Request, owner: str) -> Response:
        ids = _list_param(request, "deviceId", "deviceIdFilter")
        types = _list_param(request, "type", "typeFilter")
        rids = {r.split("?", 1)[0] for r in _list_param(request, "resourceId", "resourceIdFilter")}
        if rids and not ids:
            ids = [r[:36] for r in rids]
        return self._stream(ndjson(self._resources(owner, self._select(owner, ids), types, rids)))

    async def device_resources(self, request: Request, owner: str) -> Response:
        d = self._device(owner, request.path_params["deviceId"])
        types = _list_param(request, "type", "typeFilter")
        return self._stream(ndjson(self._resources(owner, [d], types, set())))

    async def get_resource(self, request: Request, owner: str) -> Response:
        if not request.path_params.get("href", "").strip("/"):
            return await self.device_resources(request, owner)
        href = _href(request)
        d, spec = self._resource(owner, request.path_params["deviceId"], href)
        only = _bool_param(request, "onlyContent")
        shadow = request.query_params.get("shadow", "true")
        if shadow in FALSE_WORDS and not d.online:
            raise ApiError(14, f"cannot retrieve resource {d.id}{href}: device is offline")
        baseline = request.query_params.get("interface") == "oic.if.baseline"
        data = resource_json(self.world, owner, d, href, baseline=baseline)
        return JSONResponse(data["content"] if only else {"types": list(spec.types), "data": data})

    async def put_resource(self, request: Request, owner: str) -> Response:
        href = _href(request)
        d, spec = self._resource(owner, request.path_params["deviceId"], href)
        only = _bool_param(request, "onlyContent")
        patch = await _json_object(request)
        if not spec.writable:
            raise ApiError(
                7,
                f"cannot update resource {d.id}{href}: the resource is read-only "
                f"(interfaces {', '.join(spec.interfaces)})",
            )
        if not d.online:
            raise ApiError(14, f"cannot update resource {d.id}{href}: device is offline")
        content = self.world.update(d, href, patch)
        if only:
            return JSONResponse(content)
        data = resource_json(self.world, owner, d, href)
        data["auditContext"] = {
            "userId": owner,
            "correlationId": str(uuid.uuid4()),
            "owner": owner,
        }
        data.pop("resourceTypes", None)
        return JSONResponse({"data": data})

    # ------------------------------------------------------------ C2C gateway
    async def c2c_devices(self, request: Request, owner: str) -> Response:
        return self._stream(json_array(c2c_device_json(d) for d in self._select(owner, [])))

    async def c2c_device(self, request: Request, owner: str) -> Response:
        return JSONResponse(c2c_device_json(self._device(owner, request.path_params["deviceId"])))

    async def c2c_get(self, request: Request, owner: str) -> Response:
        if not request.path_params.get("href", "").strip("/"):
            return await self.c2c_device(request, owner)
        href = _href(request)
        d, _ = self._resource(owner, request.path_params["deviceId"], href)
        return JSONResponse(self.world.content(d, href)[0])

    async def c2c_post(self, request: Request, owner: str) -> Response:
        href = _href(request)
        d, spec = self._resource(owner, request.path_params["deviceId"], href)
        patch = await _json_object(request)
        if not spec.writable:
            raise ApiError(7, f"resource {href} is read-only")
        if not d.online:
            raise ApiError(14, f"device {d.id} is offline")
        return JSONResponse(self.world.update(d, href, patch))

    def routes(self) -> list[Route | Mount]:
        g, c = self.gateway, self.c2c
        api = [
            Route("/devices", g(self.devices), methods=["GET"]),
            Route("/devices/{deviceId}", g(self.device), methods=["GET"]),
            Route("/devices/{deviceId}/resource-links", g(self.device_links), methods=["GET"]),
            Route("/devices/{deviceId}/resources", g(self.device_resources), methods=["GET"]),
            Route(
                "/devices/{deviceId}/resources/{href:path}", g(self.get_resource), methods=["GET"]
            ),
            Route(
                "/devices/{deviceId}/resources/{href:path}", g(self.put_resource), methods=["PUT"]
            ),
            Route("/resource-links", g(self.all_links), methods=["GET"]),
            Route("/resources", g(self.all_resources), methods=["GET"]),
        ]
        c2c = [
            Route("/devices", c(self.c2c_devices), methods=["GET"]),
            Route("/devices/{deviceId}", c(self.c2c_device), methods=["GET"]),
            Route("/devices/{deviceId}/{href:path}", c(self.c2c_get), methods=["GET"]),
            Route("/devices/{deviceId}/{href:path}", c(self.c2c_post), methods=["POST"]),
        ]
        return [
            Route("/.well-known/configuration", self.configuration, methods=["GET"]),
            Mount(MOUNT.removeprefix("/" + NAME), routes=self.oauth.routes()),
            Mount("/api/v1", routes=api),
            Mount("/c2c/api/v1", routes=c2c),
        ]


def grpc_error(code: int, message: str) -> Response:
    return JSONResponse({"code": code, "message": message, "details": []}, GRPC_HTTP.get(code, 500))


async def _http_error(request: Request, exc: Exception) -> Response:
    """404/405 in the shape of the part of the hub that was asked."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = getattr(exc, "headers", None)
    path = request.url.path
    if "/plgd/api/" in path:
        code = {404: 5, 405: 12}.get(status, 13)
        word = {404: "Not Found", 405: "Method Not Allowed"}.get(status, "Internal error")
        return JSONResponse({"code": code, "message": word, "details": []}, status, headers=headers)
    word = {404: "Not Found", 405: "Method Not Allowed"}.get(status, "Error")
    return PlainTextResponse(word, status, headers=headers)


def build(ctx: EmulatorContext) -> Starlette:
    hub = Hub(ctx)
    return Starlette(routes=hub.routes(), exception_handlers={404: _http_error, 405: _http_error})


def describe(base: str) -> dict[str, Any]:
    base = base.rstrip("/")
    parts = urlsplit(base)
    port = f":{parts.port}" if parts.port else ""
    gateway = f"{parts.scheme}://{GATEWAY_HOST}{port}/{NAME}"
    realm = base + "/auth" + REALM_PATH
    return {
        "urls": {
            "hub configuration": base + "/.well-known/configuration",
            "http gateway (another origin)": gateway + "/api/v1",
            "authority": realm,
            "openid configuration": realm + "/.well-known/openid-configuration",
            "authorize": base + "/auth" + AUTH_PATH,
            "token": base + "/auth" + TOKEN_PATH,
            "c2c gateway": base + "/c2c/api/v1",
        },
        "credentials": {
            "user": USERNAME,
            "password": PASSWORD,
            "web client id": PUBLIC_CLIENT_ID,
            "client secret": "(empty: public client)",
            "redirect uri": f"{REDIRECT_URI} or http://127.0.0.1:<any port>/callback",
            "scopes": " ".join(WEB_SCOPES),
            "confidential client id": CONFIDENTIAL_CLIENT_ID,
            "confidential client secret": CONFIDENTIAL_CLIENT_SECRET,
        },
    }
