"""Emulated Avnet IoTConnect: basic token -> login -> refresh, devices, entities, discovery.

URL layout under the /iotconnect mount (paths match case-insensitively, as on the real
ASP.NET hosts):

    GET  /auth/api/v2/Auth/basic-token               -> {"data": <basic token>, ...}
    POST /auth/api/v2/Auth/login                     Basic <basic token> + solution-key + {"username","password"}
    POST /auth/api/v2/Auth/refresh-token             {"refreshtoken": ...} (single use: rotated)
    GET  /auth/api/v2/Auth/verify-token              Bearer -> 200 / 401
    GET  /device/api/v2/Device                       paged list (204 when nothing matches)
    GET  /device/api/v2/Device/lookup
    GET  /device/api/v2/Device/uniqueId/{uniqueId}   -> {"data": [detail]}; unknown -> 409
    GET  /device/api/v2/Device/{guid}                -> {"data": [detail]}; unknown -> 409
    GET  /device/api/v2/Device/{guid}/child-device   paged ChildDeviceList items (no "childdevice" alias:
                                                     the vendor spec has only the hyphenated path)
    GET  /device/api/v2/Entity/{guid}/device         the list filtered by entity
    GET  /user/api/v2/Entity/lookup                  the entity tree
    GET  /user/api/v2/User/{guid or email}
    GET  /discovery/api/uisdk/solutionkey/{key}/env/{env}?version=2&pf=az

Shapes follow the vendor's Swagger 2.0 (../shared/reference/iotconnect-*.swagger.json):
list items carry only the fields of ``DeviceList`` (no ``entityGuid``, no ``parentDeviceGuid``;
an entity's devices are found with the ``EntityGuid`` query filter, which here answers with
the entity's whole subtree - the spec is silent on that, so the client copes with either).

The device host also answers under /api/v1.1 (the seed's curl example) and every host under
/api/v2.1 (what discovery hands out for version=2.1).

The world (entities, templates, devices) is generated from the seed; devices are made from
their index on demand, so 100,000 devices cost nothing until asked for. Every tenth device
(index 0, 10, 20, ...) is a gateway; up to four of the devices right after it are its children.

This module holds the tokens and the routes; the world is in iotconnect_world.py, the answer
envelopes and request parsing in iotconnect_http.py.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from workbench.emulator import jwt_keys
from workbench.emulator.context import EmulatorContext
from workbench.emulator.iotconnect.conventions import (
    JSON_TYPE,
    auth_error,
    bearer,
    bool_param,
    case_insensitive,
    error,
    int_param,
    json_body,
    json_response,
    no_content,
    params_of,
)
from workbench.emulator.iotconnect.world import (
    PASSWORD,
    SOLUTION_KEY,
    SORT_FIELDS,
    USERNAME,
    Query,
    World,
)

NAME = "iotconnect"
VERSIONS = ("v2", "v2.1")  # auth and user hosts
DEVICE_VERSIONS = ("v2", "v2.1", "v1.1")
TOKEN_PATHS: set[str] = {
    f"/auth/api/{v}/Auth/{p}" for v in VERSIONS for p in ("login", "refresh-token", "basic-token")
}

BASIC_TOKEN = base64.b64encode(b"iotconnect-emulator-client:7f3a9c51e2d84b60").decode()
ISSUER = "emulator.iotconnect.io"
AUDIENCE = "iotconnect"
ENV = "emulator"
DEFAULT_TTL = 86400  # what real login responses say (the seed's 3600 is outdated)
MAX_PAGE_SIZE = 1000  # the emulator's own cap: the vendor spec documents no maximum pageSize
PAGE_CACHE = 16  # encoded list pages kept (about 1.2 MB each at 1000 devices)


class IoTConnect:
    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.book = ctx.tokens[NAME]
        self.world = World(ctx.config.seed, ctx.config.devices, ctx.started)
        # (query, offset, size, message, shaped) -> (count, encoded body); the world never
        # changes, so an encoded page stays right (a page asked again costs no encoding)
        self._pages: OrderedDict[tuple[Any, ...], tuple[int, bytes]] = OrderedDict()
        self._pages_lock = threading.Lock()

    # ---- tokens

    def _login_response(self) -> dict[str, Any]:
        now = self.ctx.now()
        ttl = self.ctx.ttl(DEFAULT_TTL)
        claims = {
            "exp": now + ttl,
            "iat": now,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "jti": secrets.token_hex(8),
            "user": self.world.user_claims(),
        }
        access = self.book.issue_access(
            jwt_keys.sign_hs256(claims, jwt_keys.IOTCONNECT_HS256_SECRET)
        )
        refresh = "".join(secrets.choice(string.ascii_lowercase) for _ in range(50))
        self.book.issue_refresh({"userId": USERNAME}, token=refresh)
        return {
            "access_token": access,
            "expires_in": ttl,
            "refresh_token": refresh,
            "status": 200,
            "token_type": "bearer",
        }

    def authorize(self, request: Request) -> dict[str, Any] | Response:
        """The token's claims, or the 401 answer."""
        token = bearer(request)
        if token is None:
            return auth_error("Unauthorized", headers={"WWW-Authenticate": "Bearer"})
        try:
            claims = jwt_keys.verify(token, jwt_keys.IOTCONNECT_HS256_SECRET, "HS256")
        except jwt.ExpiredSignatureError:
            return auth_error(
                "Unauthorized",
                headers={
                    "WWW-Authenticate": 'Bearer error="invalid_token", error_description="The token is expired"'
                },
            )
        except jwt.PyJWTError:
            return auth_error(
                "Unauthorized", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        if self.book.access_revoked(token):
            return auth_error(
                "Unauthorized",
                headers={
                    "WWW-Authenticate": 'Bearer error="invalid_token", error_description="The token is expired"'
                },
            )
        return claims

    # ---- auth host

    async def basic_token(self, request: Request) -> Response:
        return json_response(
            {
                "data": BASIC_TOKEN,
                "message": "Basic token has been generated successfully",
                "status": 200,
            }
        )

    async def login(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "").strip()
        basic = auth[6:].strip() if auth[:6].lower() == "basic " else auth
        if basic != BASIC_TOKEN:
            return auth_error("Invalid basic token.")
        if request.headers.get("solution-key", "").strip() != SOLUTION_KEY:
            return auth_error("Invalid solution key.")
        body = await json_body(request)
        if body is None:
            return error(
                400,
                "The request body must be a JSON object.",
                ("body", "A JSON object is required."),
            )
        missing = [
            k
            for k in ("username", "password")
            if not isinstance(body.get(k), str) or not body.get(k)
        ]
        if missing:
            return error(
                400,
                "One or more validation errors occurred.",
                *((k, f"The {k} field is required.") for k in missing),
            )
        if body["username"].strip().lower() != USERNAME or body["password"] != PASSWORD:
            return auth_error("Invalid username or password.")
        return json_response(self._login_response())

    async def refresh(self, request: Request) -> Response:
        body = await json_body(request)
        token = body.get("refreshtoken") if body else None
        if not isinstance(token, str) or not token.strip():
            return error(
                400,
                "One or more validation errors occurred.",
                ("refreshtoken", "The refreshtoken field is required."),
            )
        state, _ = self.book.use_refresh(token.strip(), rotate=True)
        if state != "ok":
            reason = {
                "used": "The refresh token has already been used.",
                "revoked": "The refresh token has been revoked.",
            }.get(state, "The refresh token is invalid.")
            return error(409, "Invalid refresh token.", ("refreshtoken", reason))
        return json_response(self._login_response())

    async def verify_token(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        return json_response(
            {
                "data": {"user": claims.get("user"), "exp": claims.get("exp")},
                "status": 200,
                "message": "Token is valid",
            }
        )

    # ---- device host

    def _query(
        self, params: dict[str, str], parent: int | None = None, entity: str | None = None
    ) -> Query | Response:
        problems: list[tuple[str, str]] = []
        status: bool | None = None
        raw_status = params.get("status", "").strip().lower()
        if raw_status in ("active", "inactive"):
            status = raw_status == "active"
        elif raw_status:
            problems.append(("Status", "Status must be 'active' or 'inactive'."))
        connected = bool_param(params, "isConnected")
        if isinstance(connected, tuple):
            problems.append(connected)
            connected = None
        gateways = bool_param(params, "isGateway")
        if isinstance(gateways, tuple):
            problems.append(gateways)
            gateways = None
        sort, desc = "", False
        raw_sort = params.get("sortby", "").strip()
        if raw_sort:
            parts = raw_sort.split()
            field = parts[0].lower()
            direction = parts[1].lower() if len(parts) > 1 else "asc"
            if field not in SORT_FIELDS or direction not in ("asc", "desc") or len(parts) > 2:
                problems.append(("sortBy", f"Cannot sort by '{raw_sort}'."))
            else:
                sort, desc = field, direction == "desc"
        if problems:
            return error(400, "One or more validation errors occurred.", *problems)
        entities: frozenset[int] | None = None
        entity = entity if entity is not None else params.get("entityguid", "").strip() or None
        if entity is not None:
            idx = self.world.entity_index(entity)
            entities = self.world.subtree(idx) if idx is not None else frozenset()
        entity_name = params.get("entityname", "").strip().lower()
        if entity_name:
            named = {i for i, e in enumerate(self.world.entities) if e.name.lower() == entity_name}
            subtree = (
                frozenset().union(*(self.world.subtree(i) for i in named)) if named else frozenset()
            )
            entities = subtree if entities is None else entities & subtree
        return Query(
            name=params.get("name", "").strip().lower(),
            unique_id=params.get("uniqueid", "").strip().lower(),
            status=status,
            connected=connected,
            entities=entities,
            parent=parent,
            template=params.get("templatename", "").strip().lower(),
            gateways_only=bool(gateways),
            sort=sort,
            desc=desc,
        )

    async def _paged(
        self,
        request: Request,
        message: str,
        parent: int | None = None,
        entity: str | None = None,
        shape: Callable[[int], dict[str, Any]] | None = None,
    ) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        params = params_of(request)
        q = self._query(params, parent, entity)
        if isinstance(q, Response):
            return q
        number = int_param(params, "pageNumber", 1)
        size = int_param(params, "pageSize", 0)
        bad = [p for p in (number, size) if isinstance(p, tuple)]
        if bad:
            return error(400, "One or more validation errors occurred.", *bad)
        assert isinstance(number, int) and isinstance(size, int)
        number = max(number, 1)
        size = MAX_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)
        offset = (number - 1) * size
        world = self.world
        item = shape or world.list_item

        key = (q, offset, size, message, shape is not None)

        def work() -> tuple[int, bytes]:
            with self._pages_lock:
                if key in self._pages:
                    self._pages.move_to_end(key)
                    return self._pages[key]
            devices = world.devices
            if shape is None and not (devices.changed or devices.removed or devices.added):
                # the generated fleet: join the items' encodings (the same bytes as encoding
                # the whole answer, without encoding a device again when it is asked again)
                found = world.select(q)
                chosen = found[offset : offset + size]
                body = (
                    b'{"data":['
                    + b",".join(map(world.list_item_json, chosen))
                    + b'],"status":200,"message":'
                    + json.dumps(message).encode()
                    + f',"count":{len(found)}}}'.encode()
                    if len(chosen)
                    else b""
                )
                total = len(found)
            else:
                if q.trivial() and shape is None:
                    total, items = world.count, devices.page(offset, size)
                else:
                    found = world.select(q)
                    total, items = len(found), [item(i) for i in found[offset : offset + size]]
                body = (
                    json.dumps(
                        {"data": items, "status": 200, "message": message, "count": total},
                        separators=(",", ":"),
                    ).encode()
                    if items
                    else b""
                )
            with self._pages_lock:
                self._pages[key] = (total, body)
                while len(self._pages) > PAGE_CACHE:
                    self._pages.popitem(last=False)
            return total, body

        _, body = await run_in_threadpool(work)
        if not body:
            return no_content()
        return Response(body, 200, media_type=JSON_TYPE)

    async def device_list(self, request: Request) -> Response:
        return await self._paged(request, "Device list fetched successfully")

    async def entity_devices(self, request: Request) -> Response:
        return await self._paged(
            request, "Device list fetched successfully", entity=request.path_params["guid"]
        )

    async def child_devices(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        idx = self.world.index_of_guid(request.path_params["guid"])
        if idx is None:
            return self._unknown("deviceGuid")
        return await self._paged(
            request,
            "Child device list fetched successfully",
            parent=idx,
            shape=self.world.child_item,
        )

    def _unknown(self, param: str) -> Response:
        return error(409, "Device not found", (param, "Device does not exist."))

    async def device_by_guid(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        guid = request.path_params["guid"].strip().upper()
        if self.world.devices.get(guid, self.world.index_of_guid) is None:
            return self._unknown("deviceGuid")
        idx = self.world.index_of_guid(guid)
        assert idx is not None
        return json_response(
            {
                "data": [self.world.detail(idx)],
                "status": 200,
                "message": "Device detail fetched successfully",
            }
        )

    async def device_by_unique_id(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        idx = self.world.index_of_unique_id(request.path_params["uniqueId"])
        if idx is None:
            return self._unknown("uniqueId")
        return json_response(
            {
                "data": [self.world.detail(idx)],
                "status": 200,
                "message": "Device detail fetched successfully",
            }
        )

    async def device_lookup(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        params = params_of(request)
        children = bool_param(params, "getChildDevice")
        if isinstance(children, tuple):
            return error(400, "One or more validation errors occurred.", children)
        entities = None
        if params.get("deviceentityguid", "").strip():
            idx = self.world.entity_index(params["deviceentityguid"])
            entities = self.world.subtree(idx) if idx is not None else frozenset()
        template = params.get("devicetemplateguid", "").strip().upper()
        data = await run_in_threadpool(
            self.world.lookup, children=bool(children), entities=entities, template=template
        )
        if not data:
            return no_content()
        return json_response(
            {"data": data, "status": 200, "message": "Device lookup fetched successfully"}
        )

    # ---- user host

    async def entity_lookup(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        data = [
            {"guid": e.guid, "name": e.name, "parentEntityGuid": e.parent}
            for e in self.world.entities
        ]
        return json_response(
            {"data": data, "status": 200, "message": "Entity lookup fetched successfully"}
        )

    async def user(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        who = request.path_params["user"].strip().lower()
        w = self.world
        if who not in (w.user_guid.lower(), USERNAME):
            return error(409, "User not found", ("userGuid", "User does not exist."))
        data = {
            "guid": w.user_guid,
            "userId": USERNAME,
            "firstName": "Demo",
            "lastName": "User",
            "companyGuid": w.company_guid,
            "roleGuid": w.role_guid,
            "roleName": "Company Admin",
            "entityGuid": w.entities[0].guid,
            "entityName": w.entities[0].name,
            "isActive": True,
            "timezone": "(UTC) Coordinated Universal Time",
            "contactNo": None,
        }
        return json_response(
            {"data": [data], "status": 200, "message": "User detail fetched successfully"}
        )

    # ---- discovery

    async def discovery(self, request: Request) -> Response:
        if request.path_params["key"] != SOLUTION_KEY:
            return error(
                404, "Solution key not found", ("solutionkey", "The solution key is not valid.")
            )
        version = request.query_params.get("version", "2").strip() or "2"
        version = "2.1" if version == "2.1" else "2"
        path = request.url.path
        prefix = path[: path.lower().rfind("/discovery/api/uisdk/")]
        base = f"{request.url.scheme}://{request.url.netloc}{prefix}"
        data = {
            "authBaseUrl": f"{base}/auth/api/v{version}",
            "userBaseUrl": f"{base}/user/api/v{version}",
            "deviceBaseUrl": f"{base}/device/api/v{version}",
            "env": request.path_params["env"],
            "pf": request.query_params.get("pf", "az"),
            "version": version,
        }
        return json_response({"data": data, "status": 200, "message": "Success"})

    # ---- routes

    def routes(self) -> list[Route]:
        routes: list[Route] = []
        for v in VERSIONS:
            a = f"/auth/api/{v}/Auth"
            routes += [
                Route(f"{a}/basic-token", self.basic_token, methods=["GET"]),
                Route(f"{a}/login", self.login, methods=["POST"]),
                Route(f"{a}/refresh-token", self.refresh, methods=["POST"]),
                Route(f"{a}/verify-token", self.verify_token, methods=["GET"]),
                Route(f"/user/api/{v}/Entity/lookup", self.entity_lookup, methods=["GET"]),
                Route(f"/user/api/{v}/User/{{user}}", self.user, methods=["GET"]),
            ]
        for v in DEVICE_VERSIONS:
            d = f"/device/api/{v}"
            routes += [
                Route(f"{d}/Device", self.device_list, methods=["GET"]),
                Route(f"{d}/Device/lookup", self.device_lookup, methods=["GET"]),
                Route(
                    f"{d}/Device/uniqueId/{{uniqueId}}", self.device_by_unique_id, methods=["GET"]
                ),
                Route(f"{d}/Device/{{guid}}/child-device", self.child_devices, methods=["GET"]),
                Route(f"{d}/Device/{{guid}}", self.device_by_guid, methods=["GET"]),
                Route(f"{d}/Entity/{{guid}}/device", self.entity_devices, methods=["GET"]),
            ]
        routes.append(
            Route(
                "/discovery/api/uisdk/solutionkey/{key}/env/{env}", self.discovery, methods=["GET"]
            )
        )
        return case_insensitive(routes)


def build(ctx: EmulatorContext) -> Starlette:
    return Starlette(routes=IoTConnect(ctx).routes())


def describe(base: str) -> dict[str, Any]:
    base = base.rstrip("/")
    return {
        "urls": {
            "auth": f"{base}/auth/api/v2",
            "device": f"{base}/device/api/v2",
            "user": f"{base}/user/api/v2",
            "discovery": f"{base}/discovery/api/uisdk/solutionkey/{SOLUTION_KEY}/env/{ENV}?version=2&pf=az",
        },
        "credentials": {"username": USERNAME, "password": PASSWORD, "solution_key": SOLUTION_KEY},
    }
