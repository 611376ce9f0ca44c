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
    GET  /device/api/v2/Device/{guid}/childdevice    (also .../child-device) paged children
    GET  /device/api/v2/Entity/{guid}/device         the list filtered by entity
    GET  /user/api/v2/Entity/lookup                  the entity tree
    GET  /user/api/v2/User/{guid or email}
    GET  /discovery/api/uisdk/solutionkey/{key}/env/{env}?version=2&pf=az

The device host also answers under /api/v1.1 (the seed's curl example) and every host under
/api/v2.1 (what discovery hands out for version=2.1).

The world (entities, templates, devices) is generated from the seed; devices are made from
their index on demand, so 100,000 devices cost nothing until asked for. Every tenth device
(index 0, 10, 20, ...) is a gateway; up to four of the devices right after it are its children.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import string
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import jwt_keys
from .context import EmulatorContext
from .data import CITIES, LazyList, device_slug, rng_for, stable_uuid

NAME = "iotconnect"
VERSIONS = ("v2", "v2.1")  # auth and user hosts
DEVICE_VERSIONS = ("v2", "v2.1", "v1.1")
TOKEN_PATHS: set[str] = {
    f"/auth/api/{v}/Auth/{p}" for v in VERSIONS for p in ("login", "refresh-token", "basic-token")
}

USERNAME = "demo@iotconnect.example"
PASSWORD = "IoTC-demo-pass-7319"
SOLUTION_KEY = "demo-solution-key-5c1e"
BASIC_TOKEN = base64.b64encode(b"iotconnect-emulator-client:7f3a9c51e2d84b60").decode()
ISSUER = "emulator.iotconnect.io"
AUDIENCE = "iotconnect"
ENV = "emulator"
DEFAULT_TTL = 86400  # what real login responses say (the seed's 3600 is outdated)
MAX_PAGE_SIZE = 1000
JSON_TYPE = "application/json; charset=utf-8"

# --------------------------------------------------------------------------- responses


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status, media_type=JSON_TYPE, headers=headers)


def _auth_error(message: str, status: int = 401, headers: dict[str, str] | None = None) -> Response:
    """The identity envelope (login, verify, bearer checks)."""
    body = {"status": status, "message": message, "error": {}, "data": {}, "ie": {}}
    return _json(body, status, headers)


def _error(status: int, message: str, *params: tuple[str, str]) -> Response:
    """The general error envelope: {status, message, error: [{param, message}]}."""
    return _json({"status": status, "message": message, "error": [{"param": p, "message": m} for p, m in params]},
                 status)


def _no_content() -> Response:
    return Response(b"", 204)


# --------------------------------------------------------------------------- the world

PLACE_TEMPLATES = {
    "boiler": 1, "chiller": 1, "fan": 1, "thermostat": 1, "compressor": 1,
    "pump": 2, "valve": 2, "tank": 2,
    "meter": 3, "inverter": 3, "charger": 3, "relay": 3, "light": 3,
    "sensor": 4, "door": 4, "scale": 4, "gateway": 4,
    "tracker": 5, "beacon": 5, "camera": 5,
}
TEMPLATES = (
    ("Gateway Hub", "gwhub"),
    ("HVAC Controller", "hvacctl"),
    ("Pump Controller", "pumpctl"),
    ("Energy Meter", "emeter"),
    ("Environment Sensor", "envsens"),
    ("Asset Tracker", "asset"),
)
AUTH_TYPES = ((1, "Key"), (2, "CA Signed Certificate"), (3, "Self Signed Certificate"), (5, "Symmetric Key"))
SITE_KINDS = ("Plant", "Warehouse", "Campus", "Factory", "Depot", "Lab")
AREAS = ("Production Hall", "Boiler Room", "Cold Store", "Loading Dock", "Office Floor 2", "Roof",
         "Basement", "Assembly Line 1", "Assembly Line 2", "Yard")
CHILD_COUNTS = (0, 1, 2, 2, 3, 4)
SORT_FIELDS = ("uniqueid", "displayname", "entityname", "devicetemplatename", "isactive", "isconnected",
               "guid")


@dataclass(frozen=True, slots=True)
class Entity:
    guid: str
    name: str
    parent: str | None


@dataclass(frozen=True, slots=True)
class Traits:
    """The cheap, hash-derived facts of one device (no names: those cost more)."""

    index: int
    guid: str
    parent: int | None  # index of the gateway this device reports to
    children: int
    entity: int  # index into World.entities
    active: bool
    connected: bool
    acquired: bool
    auth: int  # index into AUTH_TYPES
    comm_age: int  # seconds between the last communication and the emulator's start
    conn_age: int  # seconds between the last connection and the last communication
    digest: bytes


@dataclass(frozen=True)
class Query:
    name: str = ""
    unique_id: str = ""
    status: bool | None = None  # active?
    connected: bool | None = None
    entities: frozenset[int] | None = None
    parent: int | None = None  # -1: a parent that does not exist
    template: str = ""
    gateways_only: bool = False
    sort: str = ""
    desc: bool = False

    def trivial(self) -> bool:
        return self == Query()


def _upper_uuid(seed: int, *parts: object) -> str:
    return stable_uuid(seed, NAME, *parts).upper()


def _format_guid(raw: bytes) -> str:
    d = bytearray(raw[:16])
    d[6] = (d[6] & 0x0F) | 0x40
    d[8] = (d[8] & 0x3F) | 0x80
    h = d.hex().upper()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _iso(ts: float) -> str:
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class World:
    """Everything one emulated IoTConnect company holds."""

    def __init__(self, seed: int, count: int, started: float) -> None:
        self.seed = seed
        self.count = max(0, count)
        self.started = float(int(started))
        self.company_guid = _upper_uuid(seed, "company")
        self.solution_guid = _upper_uuid(seed, "solution")
        self.user_guid = _upper_uuid(seed, "user")
        self.role_guid = _upper_uuid(seed, "role")
        self.cp_id = "WBDEMO" + stable_uuid(seed, NAME, "cpid")[:6].upper()
        self.entities = self._make_entities()
        self.children_of: dict[int, list[int]] = {}
        for i, e in enumerate(self.entities):
            if e.parent is not None:
                self.children_of.setdefault(self._entity_index[e.parent], []).append(i)
        self.homes = list(range(1, len(self.entities)))  # sites and areas hold devices
        self.leaves = [i for i in self.homes if i not in self.children_of]
        self.templates = [(_upper_uuid(seed, "template", code), name, code) for name, code in TEMPLATES]
        self.property_guids = (_upper_uuid(seed, "property", "serial"), _upper_uuid(seed, "property", "installed"))
        r = rng_for(seed, NAME, "guid-mix")
        self._mul = r.getrandbits(32) | 1
        self._add = r.getrandbits(32)
        self._inv = pow(self._mul, -1, 1 << 32)
        self.devices: LazyList[dict[str, Any]] = LazyList(self.count, self.list_item, lambda d: d["guid"])
        self._queries: OrderedDict[Query, Sequence[int]] = OrderedDict()
        self._lock = threading.Lock()
        self._by_entity: dict[int, array] | None = None  # entity -> its devices, built on first use

    # ---- entities

    def _make_entities(self) -> list[Entity]:
        r = rng_for(self.seed, NAME, "entities")
        root = Entity(_upper_uuid(self.seed, "entity", "root"), "Workbench Demo Industries", None)
        out = [root]
        for s, city in enumerate(r.sample(CITIES, 4)):
            site = Entity(_upper_uuid(self.seed, "entity", "site", s), f"{city} {r.choice(SITE_KINDS)}", root.guid)
            out.append(site)
            for a, area in enumerate(r.sample(AREAS, r.randint(2, 3))):
                out.append(Entity(_upper_uuid(self.seed, "entity", "area", s, a), f"{city} {area}", site.guid))
        self._entity_index = {e.guid: i for i, e in enumerate(out)}
        return out

    def entity_index(self, guid: str) -> int | None:
        return self._entity_index.get(guid.strip().upper())

    def subtree(self, index: int) -> frozenset[int]:
        found, todo = {index}, [index]
        while todo:
            for c in self.children_of.get(todo.pop(), []):
                found.add(c)
                todo.append(c)
        return frozenset(found)

    # ---- device identity

    def _digest(self, index: int, tag: str = "") -> bytes:
        return hashlib.blake2b(f"{self.seed}|{NAME}|{tag}|{index}".encode(), digest_size=24).digest()

    def guid_of(self, index: int, digest: bytes | None = None) -> str:
        """A random-looking upper-case v4 GUID whose last 32 bits encode the index (so lookups are O(1))."""
        d = bytearray((digest or self._digest(index))[:16])
        d[12:16] = ((index * self._mul + self._add) & 0xFFFFFFFF).to_bytes(4, "big")
        return _format_guid(bytes(d))

    def index_of_guid(self, guid: str) -> int | None:
        g = guid.strip().upper()
        if not re.fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}", g):
            return None
        idx = ((int(g[-8:], 16) - self._add) * self._inv) & 0xFFFFFFFF
        if idx < self.count and self.guid_of(idx) == g:
            return idx
        return None

    def slug(self, index: int) -> tuple[str, str]:
        """(adjective, place) of a device's name; gateways are called gateways, nothing else is."""
        adj, place, _ = device_slug(self.seed, NAME, index).split("-")
        if index % 10 == 0:
            place = "gateway"
        elif place == "gateway":
            place = "sensor"
        return adj, place

    def unique_id(self, index: int) -> str:
        adj, place = self.slug(index)
        return f"{adj}-{place}-{index:04d}"

    def display_name(self, index: int) -> str:
        adj, place = self.slug(index)
        return f"{adj.capitalize()} {place} {index}"

    def index_of_unique_id(self, unique_id: str) -> int | None:
        tail = unique_id.strip().rsplit("-", 1)[-1]
        if not tail.isdigit():
            return None
        idx = int(tail)
        if idx < self.count and self.unique_id(idx).lower() == unique_id.strip().lower():
            return idx
        return None

    # ---- device facts

    def child_count(self, gateway: int) -> int:
        if gateway % 10 or gateway >= self.count:
            return 0
        k = CHILD_COUNTS[self._digest(gateway, "gw")[0] % len(CHILD_COUNTS)]
        return min(k, self.count - 1 - gateway)

    def parent_of(self, index: int) -> int | None:
        off = index % 10
        if off and off <= self.child_count(index - off):
            return index - off
        return None

    def traits(self, index: int) -> Traits:
        d = self._digest(index)
        parent = self.parent_of(index)
        if parent is None:
            entity = self.homes[d[1] % len(self.homes)] if d[0] < 40 else self.leaves[d[1] % len(self.leaves)]
            active = d[2] < 230
            connected = active and d[3] < 160
            acquired = connected or (active and d[4] < 220)
        else:
            p = self.traits(parent)
            entity = p.entity
            active = d[2] < 240
            connected = active and p.connected
            acquired = active and p.acquired
        comm_age = 5 + d[5] * 2 if connected else 3600 + int.from_bytes(d[6:9], "big") % (30 * 86400)
        conn_age = 600 + int.from_bytes(d[9:12], "big") % (3 * 86400)
        return Traits(index, self.guid_of(index, d), parent, self.child_count(index), entity, active,
                      connected, acquired, d[13] % len(AUTH_TYPES), comm_age, conn_age, d)

    def template_of(self, index: int) -> int:
        return 0 if index % 10 == 0 else PLACE_TEMPLATES[self.slug(index)[1]]

    def list_item(self, index: int) -> dict[str, Any]:
        t = self.traits(index)
        tpl_guid, tpl_name, _ = self.templates[self.template_of(index)]
        entity = self.entities[t.entity]
        if t.acquired:
            last_comm: str | None = _iso(self.started - t.comm_age - t.digest[14] * 0.003)
            last_conn: str | None = _iso(self.started - t.comm_age - t.conn_age)
        else:
            last_comm = last_conn = None
        status = "Inactive" if not t.active else ("Connected" if t.connected else "Disconnected")
        serial = "SN-" + t.digest[16:22].hex().upper()
        installed = datetime.fromtimestamp(self.started - 86400 * (30 + t.digest[15] * 4), UTC).strftime("%Y-%m-%d")
        props = [
            {"guid": _format_guid(self._digest(index, "p1")[:16]), "deviceGuid": t.guid, "name": "Serial Number",
             "value": serial, "propertyGuid": self.property_guids[0], "options": None, "fieldType": "text"},
            {"guid": _format_guid(self._digest(index, "p2")[:16]), "deviceGuid": t.guid, "name": "Installed On",
             "value": installed, "propertyGuid": self.property_guids[1], "options": None, "fieldType": "date"},
        ]
        return {
            "guid": t.guid,
            "uniqueId": self.unique_id(index),
            "displayName": self.display_name(index),
            "isConnected": t.connected,
            "lastactivityDate": last_comm,
            "isActive": t.active,
            "firmwareupgradeGuid": None,
            "deviceTemplateGuid": tpl_guid,
            "authType": AUTH_TYPES[t.auth][0],
            "authenticationType": AUTH_TYPES[t.auth][1],
            "messageVersion": "2.1",
            "deviceTemplateName": tpl_name,
            "reportingTo": self.unique_id(t.parent) if t.parent is not None else None,
            "entityName": entity.name,
            "entityGuid": entity.guid,
            "IsAcquired": t.acquired,
            "childDeviceCount": t.children,
            "isType2Support": True,
            "isSharedDevice": False,
            "properties": props,
            "deviceStatus": status,
            "lastConnection": last_conn,
            "lastCommunication": last_comm,
            "solutionGuid": self.solution_guid,
            "parentDeviceGuid": self.guid_of(t.parent) if t.parent is not None else None,
        }

    def detail(self, index: int) -> dict[str, Any]:
        """DeviceInformation: the list fields plus a few more (some in the detail's own casing)."""
        item = self.list_item(index)
        t = self.traits(index)
        parent_acquired = self.traits(t.parent).acquired if t.parent is not None else False
        item.update({
            "lastActivityDate": item["lastactivityDate"],
            "firmwareUpgradeGuid": None,
            "certificateGuid": None,
            "certificateName": None,
            "certificateType": None,
            "deviceTemplateAuthType": item["authType"],
            "note": f"Installed by the demo integrator; serial {item['properties'][0]['value']}.",
            "image": None,
            "imageUrl": None,
            "cpId": self.cp_id,
            "isAcquired": int(t.acquired),
            "firmwareAvail": 0,
            "tag": "gateway" if t.children or index % 10 == 0 else None,
            "parentDeviceUniqueId": item["reportingTo"],
            "isParentAcquired": int(parent_acquired),
            "isSimulatorOn": 0,
            "isEdgeSupport": False,
            "isLowBandwidth": False,
            "isIotEdgeEnable": False,
            "isSolutionTemplate": False,
            "fileSupport": False,
            "msgCode": self._digest(index, "msg").hex()[:10].upper(),
            "hasTwin": index % 10 == 0,
            "hasDirectMethod": False,
            "companyGuid": self.company_guid,
            "parentCompanyGuid": None,
            "isDpsDevice": False,
        })
        return item

    # ---- queries

    def _matches(self, i: int, q: Query) -> bool:
        if q.status is not None or q.connected is not None or q.entities is not None:
            t = self.traits(i)
            if q.status is not None and t.active != q.status:
                return False
            if q.connected is not None and t.connected != q.connected:
                return False
            if q.entities is not None and t.entity not in q.entities:
                return False
        if q.gateways_only and i % 10:
            return False
        if q.unique_id or q.name or q.template:
            adj, place = self.slug(i)
            uid = f"{adj}-{place}-{i:04d}"
            if q.unique_id and q.unique_id not in uid:
                return False
            if q.name and q.name not in uid and q.name not in f"{adj} {place} {i}":
                return False
            tpl = 0 if i % 10 == 0 else PLACE_TEMPLATES[place]
            if q.template and q.template not in self.templates[tpl][1].lower():
                return False
        return True

    def _sort_key(self, field: str) -> Any:
        if field == "uniqueid":
            return lambda i: self.unique_id(i).lower()
        if field == "displayname":
            return lambda i: self.display_name(i).lower()
        if field == "entityname":
            return lambda i: self.entities[self.traits(i).entity].name.lower()
        if field == "devicetemplatename":
            return lambda i: self.templates[self.template_of(i)][1].lower()
        if field == "isactive":
            return lambda i: self.traits(i).active
        if field == "isconnected":
            return lambda i: self.traits(i).connected
        return self.guid_of

    def select(self, q: Query) -> Sequence[int]:
        """Indices of the devices that match, in order. Big results are cached per query."""
        if q.trivial():
            return range(self.count)
        with self._lock:
            if q in self._queries:
                self._queries.move_to_end(q)
                return self._queries[q]
        if q.parent is not None:
            k = self.child_count(q.parent) if q.parent >= 0 else 0
            candidates: Sequence[int] = range(q.parent + 1, q.parent + 1 + k)
        elif q.entities is not None:
            # One pass over the fleet builds an entity index; each entity filter then only
            # looks at its own devices (a tree of entities over 100,000 devices stays fast).
            index = self._devices_by_entity()
            candidates = sorted(i for e in q.entities for i in index.get(e, ()))
        else:
            candidates = range(self.count)
        filtering = q != Query(parent=q.parent, sort=q.sort, desc=q.desc)
        found = [i for i in candidates if self._matches(i, q)] if filtering else list(candidates)
        if q.sort:
            key = self._sort_key(q.sort)
            found.sort(key=key, reverse=q.desc)
        result = array("l", found)  # compact: a 100,000-device answer is 800 kB, not 3.6 MB
        with self._lock:
            self._queries[q] = result
            while len(self._queries) > 12:
                self._queries.popitem(last=False)
        return result

    def _devices_by_entity(self) -> dict[int, array]:
        with self._lock:
            if self._by_entity is None:
                groups: dict[int, list[int]] = {}
                for i in range(self.count):
                    groups.setdefault(self.traits(i).entity, []).append(i)
                self._by_entity = {e: array("l", v) for e, v in groups.items()}
            return self._by_entity

    def lookup(self, *, children: bool, entities: frozenset[int] | None, template: str) -> list[dict[str, Any]]:
        out = []
        for i in range(self.count):
            if not children and self.parent_of(i) is not None:
                continue
            if entities is not None and self.traits(i).entity not in entities:
                continue
            if template and self.templates[self.template_of(i)][0] != template:
                continue
            out.append({"guid": self.guid_of(i), "uniqueId": self.unique_id(i), "displayName": self.display_name(i)})
        return out

    def user_claims(self) -> dict[str, Any]:
        return {
            "id": self.user_guid,
            "companyId": self.company_guid,
            "roleId": self.role_guid,
            "roleName": "Company Admin",
            "cpId": self.cp_id,
            "entityGuid": self.entities[0].guid,
            "solutionGuid": self.solution_guid,
            "solutionKey": SOLUTION_KEY,
            "userId": USERNAME,
        }


# --------------------------------------------------------------------------- request helpers


def _params(request: Request) -> dict[str, str]:
    """Query parameters with lower-case names (ASP.NET binds them case-insensitively)."""
    return {k.lower(): v for k, v in request.query_params.items()}


def _int_param(params: dict[str, str], name: str, default: int) -> int | tuple[str, str]:
    raw = params.get(name.lower(), "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        return name, f"The value '{raw}' is not valid for {name}."


def _bool_param(params: dict[str, str], name: str) -> bool | None | tuple[str, str]:
    raw = params.get(name.lower(), "").strip().lower()
    if not raw:
        return None
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    return name, f"The value '{raw}' is not valid for {name}."


async def _json_body(request: Request) -> dict[str, Any] | None:
    """The JSON object body with trimmed, lower-case keys; None when it is not a JSON object."""
    try:
        data = json.loads(await request.body() or b"null")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return {str(k).strip().lower(): v for k, v in data.items()}


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "").strip()
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


def _case_insensitive(routes: list[Route]) -> list[Route]:
    for r in routes:
        r.path_regex = re.compile(r.path_regex.pattern, re.IGNORECASE)
    return routes


# --------------------------------------------------------------------------- the app


class IoTConnect:
    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.book = ctx.tokens[NAME]
        self.world = World(ctx.config.seed, ctx.config.devices, ctx.started)

    # ---- tokens

    def _login_response(self) -> dict[str, Any]:
        now = self.ctx.now()
        ttl = self.ctx.ttl(DEFAULT_TTL)
        claims = {"exp": now + ttl, "iat": now, "iss": ISSUER, "aud": AUDIENCE, "jti": secrets.token_hex(8),
                  "user": self.world.user_claims()}
        access = self.book.issue_access(jwt_keys.sign_hs256(claims, jwt_keys.IOTCONNECT_HS256_SECRET))
        refresh = "".join(secrets.choice(string.ascii_lowercase) for _ in range(50))
        self.book.issue_refresh({"userId": USERNAME}, token=refresh)
        return {"access_token": access, "expires_in": ttl, "refresh_token": refresh, "status": 200,
                "token_type": "bearer"}

    def authorize(self, request: Request) -> dict[str, Any] | Response:
        """The token's claims, or the 401 answer."""
        token = _bearer(request)
        if token is None:
            return _auth_error("Unauthorized", headers={"WWW-Authenticate": "Bearer"})
        try:
            claims = jwt_keys.verify(token, jwt_keys.IOTCONNECT_HS256_SECRET, "HS256")
        except jwt.ExpiredSignatureError:
            return _auth_error("Unauthorized", headers={
                "WWW-Authenticate": 'Bearer error="invalid_token", error_description="The token is expired"'})
        except jwt.PyJWTError:
            return _auth_error("Unauthorized", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if self.book.access_revoked(token):
            return _auth_error("Unauthorized", headers={
                "WWW-Authenticate": 'Bearer error="invalid_token", error_description="The token is expired"'})
        return claims

    # ---- auth host

    async def basic_token(self, request: Request) -> Response:
        return _json({"data": BASIC_TOKEN, "message": "Basic token has been generated successfully", "status": 200})

    async def login(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "").strip()
        basic = auth[6:].strip() if auth[:6].lower() == "basic " else auth
        if basic != BASIC_TOKEN:
            return _auth_error("Invalid basic token.")
        if request.headers.get("solution-key", "").strip() != SOLUTION_KEY:
            return _auth_error("Invalid solution key.")
        body = await _json_body(request)
        if body is None:
            return _error(400, "The request body must be a JSON object.", ("body", "A JSON object is required."))
        missing = [k for k in ("username", "password") if not isinstance(body.get(k), str) or not body.get(k)]
        if missing:
            return _error(400, "One or more validation errors occurred.",
                          *((k, f"The {k} field is required.") for k in missing))
        if body["username"].strip().lower() != USERNAME or body["password"] != PASSWORD:
            return _auth_error("Invalid username or password.")
        return _json(self._login_response())

    async def refresh(self, request: Request) -> Response:
        body = await _json_body(request)
        token = body.get("refreshtoken") if body else None
        if not isinstance(token, str) or not token.strip():
            return _error(400, "One or more validation errors occurred.",
                          ("refreshtoken", "The refreshtoken field is required."))
        state, _ = self.book.use_refresh(token.strip(), rotate=True)
        if state != "ok":
            reason = {"used": "The refresh token has already been used.",
                      "revoked": "The refresh token has been revoked."}.get(state, "The refresh token is invalid.")
            return _error(409, "Invalid refresh token.", ("refreshtoken", reason))
        return _json(self._login_response())

    async def verify_token(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        return _json({"data": {"user": claims.get("user"), "exp": claims.get("exp")}, "status": 200,
                      "message": "Token is valid"})

    # ---- device host

    def _query(self, params: dict[str, str], parent: int | None = None,
               entity: str | None = None) -> Query | Response:
        problems: list[tuple[str, str]] = []
        status: bool | None = None
        raw_status = params.get("status", "").strip().lower()
        if raw_status in ("active", "inactive"):
            status = raw_status == "active"
        elif raw_status:
            problems.append(("Status", "Status must be 'active' or 'inactive'."))
        connected = _bool_param(params, "isConnected")
        if isinstance(connected, tuple):
            problems.append(connected)
            connected = None
        gateways = _bool_param(params, "isGateway")
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
            return _error(400, "One or more validation errors occurred.", *problems)
        entities: frozenset[int] | None = None
        entity = entity if entity is not None else params.get("entityguid", "").strip() or None
        if entity is not None:
            idx = self.world.entity_index(entity)
            entities = self.world.subtree(idx) if idx is not None else frozenset()
        entity_name = params.get("entityname", "").strip().lower()
        if entity_name:
            named = {i for i, e in enumerate(self.world.entities) if e.name.lower() == entity_name}
            subtree = frozenset().union(*(self.world.subtree(i) for i in named)) if named else frozenset()
            entities = subtree if entities is None else entities & subtree
        if parent is None and params.get("parentdeviceguid", "").strip():
            found = self.world.index_of_guid(params["parentdeviceguid"])
            parent = found if found is not None else -1
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

    async def _paged(self, request: Request, message: str, parent: int | None = None,
                     entity: str | None = None) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        params = _params(request)
        q = self._query(params, parent, entity)
        if isinstance(q, Response):
            return q
        number = _int_param(params, "pageNumber", 1)
        size = _int_param(params, "pageSize", 0)
        bad = [p for p in (number, size) if isinstance(p, tuple)]
        if bad:
            return _error(400, "One or more validation errors occurred.", *bad)
        assert isinstance(number, int) and isinstance(size, int)
        number = max(number, 1)
        size = MAX_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)
        offset = (number - 1) * size
        world = self.world

        def work() -> tuple[int, list[dict[str, Any]]]:
            if q.trivial():
                return world.count, world.devices.page(offset, size)
            found = world.select(q)
            return len(found), [world.list_item(i) for i in found[offset:offset + size]]

        total, items = await run_in_threadpool(work)
        if not items:
            return _no_content()
        return _json({"data": items, "status": 200, "message": message, "count": total})

    async def device_list(self, request: Request) -> Response:
        return await self._paged(request, "Device list fetched successfully")

    async def entity_devices(self, request: Request) -> Response:
        return await self._paged(request, "Device list fetched successfully", entity=request.path_params["guid"])

    async def child_devices(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        idx = self.world.index_of_guid(request.path_params["guid"])
        if idx is None:
            return self._unknown("deviceGuid")
        return await self._paged(request, "Child device list fetched successfully", parent=idx)

    def _unknown(self, param: str) -> Response:
        return _error(409, "Device not found", (param, "Device does not exist."))

    async def device_by_guid(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        guid = request.path_params["guid"].strip().upper()
        if self.world.devices.get(guid, self.world.index_of_guid) is None:
            return self._unknown("deviceGuid")
        idx = self.world.index_of_guid(guid)
        assert idx is not None
        return _json({"data": [self.world.detail(idx)], "status": 200, "message": "Device detail fetched successfully"})

    async def device_by_unique_id(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        idx = self.world.index_of_unique_id(request.path_params["uniqueId"])
        if idx is None:
            return self._unknown("uniqueId")
        return _json({"data": [self.world.detail(idx)], "status": 200, "message": "Device detail fetched successfully"})

    async def device_lookup(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        params = _params(request)
        children = _bool_param(params, "getChildDevice")
        if isinstance(children, tuple):
            return _error(400, "One or more validation errors occurred.", children)
        entities = None
        if params.get("deviceentityguid", "").strip():
            idx = self.world.entity_index(params["deviceentityguid"])
            entities = self.world.subtree(idx) if idx is not None else frozenset()
        template = params.get("devicetemplateguid", "").strip().upper()
        data = await run_in_threadpool(self.world.lookup, children=bool(children), entities=entities,
                                       template=template)
        if not data:
            return _no_content()
        return _json({"data": data, "status": 200, "message": "Device lookup fetched successfully"})

    # ---- user host

    async def entity_lookup(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        data = [{"guid": e.guid, "name": e.name, "parentEntityGuid": e.parent} for e in self.world.entities]
        return _json({"data": data, "status": 200, "message": "Entity lookup fetched successfully"})

    async def user(self, request: Request) -> Response:
        claims = self.authorize(request)
        if isinstance(claims, Response):
            return claims
        who = request.path_params["user"].strip().lower()
        w = self.world
        if who not in (w.user_guid.lower(), USERNAME):
            return _error(409, "User not found", ("userGuid", "User does not exist."))
        data = {"guid": w.user_guid, "userId": USERNAME, "firstName": "Demo", "lastName": "User",
                "companyGuid": w.company_guid, "roleGuid": w.role_guid, "roleName": "Company Admin",
                "entityGuid": w.entities[0].guid, "entityName": w.entities[0].name, "isActive": True,
                "timezone": "(UTC) Coordinated Universal Time", "contactNo": None}
        return _json({"data": [data], "status": 200, "message": "User detail fetched successfully"})

    # ---- discovery

    async def discovery(self, request: Request) -> Response:
        if request.path_params["key"] != SOLUTION_KEY:
            return _error(404, "Solution key not found", ("solutionkey", "The solution key is not valid."))
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
        return _json({"data": data, "status": 200, "message": "Success"})

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
                Route(f"{d}/Device/uniqueId/{{uniqueId}}", self.device_by_unique_id, methods=["GET"]),
                Route(f"{d}/Device/{{guid}}/childdevice", self.child_devices, methods=["GET"]),
                Route(f"{d}/Device/{{guid}}/child-device", self.child_devices, methods=["GET"]),
                Route(f"{d}/Device/{{guid}}", self.device_by_guid, methods=["GET"]),
                Route(f"{d}/Entity/{{guid}}/device", self.entity_devices, methods=["GET"]),
            ]
        routes.append(Route("/discovery/api/uisdk/solutionkey/{key}/env/{env}", self.discovery, methods=["GET"]))
        return _case_insensitive(routes)


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
