"""Emulated plgd hub, mounted at /plgd: hub configuration, HTTP gateway, C2C gateway, OAuth server.

    GET  /.well-known/configuration                     hub configuration (no auth)
    /auth/...                                           OAuth server (plgd_oauth.py), the hub's authority
    GET  /api/v1/devices                                stream (NDJSON) of {"result": Device}
    GET  /api/v1/devices/{id}                           bare Device
    GET  /api/v1/devices/{id}/resource-links            stream of {"result": ResourceLinks}
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
Streams are generated lazily from device indexes in batches, so 100,000 devices cost nothing
until read and never exist as one big string.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from .context import EmulatorContext
from .data import ADJECTIVES, LazyList, rng_for, stable_uuid
from .plgd_oauth import (
    CONFIDENTIAL_CLIENT_ID,
    CONFIDENTIAL_CLIENT_SECRET,
    DEVICE_CLIENT_ID,
    OWNER_CLAIM,
    PASSWORD,
    PUBLIC_CLIENT_ID,
    REDIRECT_URI,
    TOKEN_PATH,
    USERNAME,
    WEB_SCOPES,
    OAuthServer,
    TokenInvalid,
    default_audience,
    origin_of,
)

NAME = "plgd"
TOKEN_PATHS: set[str] = {"/auth" + TOKEN_PATH}

COAP_GATEWAY = "coaps+tcp://127.0.0.1:5684"
GRPC_HTTP = {3: 400, 5: 404, 7: 403, 12: 405, 13: 500, 14: 503, 16: 401}
BATCH = 256  # stream lines per chunk
TRUE_WORDS = {"1", "t", "T", "TRUE", "true", "True"}  # Go's strconv.ParseBool
FALSE_WORDS = {"0", "f", "F", "FALSE", "false", "False"}
MANUFACTURERS = ("Lumina Systems", "Nordhaven Devices", "Vestra Controls", "Brightwave", "Kelvinetic",
                 "OpenThings Lab")


# ---------------------------------------------------------------------------- the world
@dataclass(frozen=True, slots=True)
class Kind:
    label: str
    device_type: str
    hrefs: tuple[str, ...]
    models: tuple[str, ...]


KINDS = (
    Kind("Smart Bulb", "oic.d.light", ("/light/1", "/switches/1"), ("LB-A19-RGBW", "LB-GU10-W")),
    Kind("Thermostat", "oic.d.thermostat", ("/sensor/temperature", "/switches/1"), ("TH-300", "TH-310-Z")),
    Kind("Climate Sensor", "oic.d.sensor", ("/sensor/temperature", "/sensor/humidity"), ("ENV-2", "ENV-2-PRO")),
    Kind("Cloud Server", "oic.d.cloudDevice", ("/light/1", "/switches/1", "/sensor/temperature"), ("CS-1",)),
)
KIND_TABLE = (KINDS[0],) * 4 + (KINDS[1],) * 3 + (KINDS[2],) * 3 + (KINDS[3],)  # weighted choice
COMMON_HREFS = ("/oic/d", "/oic/p", "/CoapCloudConfResURI")


@dataclass(frozen=True, slots=True)
class ResSpec:
    types: tuple[str, ...]
    interfaces: tuple[str, ...]
    bit_flags: int  # 1 discoverable, 2 observable

    @property
    def writable(self) -> bool:
        return "oic.if.rw" in self.interfaces or "oic.if.a" in self.interfaces


RESOURCES = {
    "/oic/d": ResSpec(("oic.wk.d",), ("oic.if.r", "oic.if.baseline"), 1),
    "/oic/p": ResSpec(("oic.wk.p",), ("oic.if.r", "oic.if.baseline"), 1),
    "/CoapCloudConfResURI": ResSpec(("oic.r.coapcloudconf",), ("oic.if.rw", "oic.if.baseline"), 3),
    "/light/1": ResSpec(("core.light",), ("oic.if.baseline", "oic.if.rw"), 3),
    "/switches/1": ResSpec(("oic.r.switch.binary",), ("oic.if.baseline", "oic.if.a"), 3),
    "/sensor/temperature": ResSpec(("oic.r.temperature",), ("oic.if.baseline", "oic.if.s"), 3),
    "/sensor/humidity": ResSpec(("oic.r.humidity",), ("oic.if.baseline", "oic.if.s"), 3),
}
DEVICE_INTERFACES = ["oic.if.r", "oic.if.baseline"]


@dataclass(slots=True)
class Device:  # not frozen: a frozen __init__ is 3x slower
    index: int
    id: str
    name: str
    kind: Kind
    online: bool
    manufacturer: str
    model: str
    firmware: str
    piid: str
    connected_at: int  # ns; 0 when offline
    endpoint: str  # the device's remote address as the CoAP gateway sees it

    @property
    def types(self) -> list[str]:
        return [self.kind.device_type, "oic.wk.d"]

    @property
    def hrefs(self) -> tuple[str, ...]:
        return COMMON_HREFS + self.kind.hrefs

    def spec(self, href: str) -> ResSpec | None:
        if href not in self.hrefs:
            return None
        if href == "/oic/d":
            return ResSpec(tuple(self.types), RESOURCES[href].interfaces, RESOURCES[href].bit_flags)
        return RESOURCES[href]


class ApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class World:
    """The devices of the demo user, generated from their index; resource changes in an overlay."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.seed = ctx.config.seed
        self.started_ns = int(ctx.started * 1e9)
        self.hub_id = stable_uuid(self.seed, "plgd", "hub")
        self.service_id = stable_uuid(self.seed, "plgd", "coap-gateway")
        self._mask = int(hashlib.sha256(repr((self.seed, "plgd", "mask")).encode()).hexdigest()[:8], 16)
        self._prefix = hashlib.sha512(repr((self.seed, "plgd", "device")).encode())
        self.devices: LazyList[Device] = LazyList(ctx.config.devices, self._make, lambda d: d.id)
        # (device id, href) -> (content, version, timestamp ns)
        self.changes: dict[tuple[str, str], tuple[dict[str, Any], int, int]] = {}
        self.lock = threading.Lock()

    def _digest(self, index: int) -> bytes:
        h = self._prefix.copy()
        h.update(index.to_bytes(8, "big"))
        return h.digest()

    def device_id(self, index: int, digest: bytes | None = None) -> str:
        # Random-looking, but the last 8 hex digits carry the index so a lookup needs no table.
        h = (digest or self._digest(index))[:12].hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:24]}{(index ^ self._mask) & 0xFFFFFFFF:08x}"

    def index_of(self, device_id: str) -> int | None:
        if len(device_id) != 36:
            return None
        try:
            return int(device_id[-8:], 16) ^ self._mask
        except ValueError:
            return None

    def _make(self, i: int) -> Device:
        # Every attribute comes from one SHA-512 digest of (seed, index): ~5 us a device, so
        # streaming 100,000 of them stays quick. About 60 % are online.
        b = self._digest(i)
        kind = KIND_TABLE[b[12] % len(KIND_TABLE)]
        online = b[19] < 154
        p = b[32:48].hex()
        return Device(
            index=i,
            id=self.device_id(i, b),
            name=f"{ADJECTIVES[b[13] % len(ADJECTIVES)].title()} {kind.label} {i:04d}",
            kind=kind,
            online=online,
            manufacturer=MANUFACTURERS[b[14] % len(MANUFACTURERS)],
            model=kind.models[b[15] % len(kind.models)],
            firmware=f"{1 + b[16] % 3}.{b[17] % 10}.{b[18] % 31}",
            piid=f"{p[:8]}-{p[8:12]}-4{p[13:16]}-{'89ab'[int(p[16], 16) & 3]}{p[17:20]}-{p[20:32]}",
            connected_at=(self.started_ns - (60 + int.from_bytes(b[20:24]) % (30 * 86400)) * 1_000_000_000)
            if online else 0,
            endpoint=f"10.{b[24]}.{b[25]}.{2 + b[26] % 253}:{40000 + int.from_bytes(b[27:29]) % 21000}",
        )

    def get(self, device_id: str) -> Device | None:
        return self.devices.get(device_id, self.index_of)

    # ------------------------------------------------------------ resource contents
    def _default_content(self, d: Device, href: str) -> dict[str, Any]:
        if href == "/oic/d":
            return {"n": d.name, "di": d.id, "piid": d.piid, "icv": "ocf.2.0.5",
                    "dmv": "ocf.res.1.3.0,ocf.sh.1.3.0", "dmn": [{"language": "en", "value": d.manufacturer}],
                    "dmno": d.model, "sv": d.firmware}
        if href == "/oic/p":
            return {"pi": stable_uuid(self.seed, "plgd", "pi", d.index), "mnmn": d.manufacturer,
                    "mnmo": d.model, "mnfv": d.firmware}
        if href == "/CoapCloudConfResURI":
            return {"apn": "plgd", "cis": COAP_GATEWAY, "sid": self.hub_id, "at": "", "clec": "",
                    "cps": "registered" if d.online else "failed"}
        r = rng_for(self.seed, "plgd", "res", d.index, href)
        if href == "/light/1":
            return {"name": "Light", "power": r.choice((0, 25, 50, 75, 100)), "state": r.random() < 0.5}
        if href == "/switches/1":
            return {"value": r.random() < 0.5}
        if href == "/sensor/temperature":
            base = 17.0 + r.random() * 7
            if d.online:  # a live sensor drifts slowly
                base += 0.6 * math.sin(time.time() / 600 + d.index)
            return {"temperature": round(base, 1), "units": "C", "range": [-40.0, 85.0]}
        return {"humidity": r.randint(25, 70)}

    def content(self, d: Device, href: str) -> tuple[dict[str, Any], int, int]:
        changed = self.changes.get((d.id, href))
        if changed is not None:
            return changed
        return self._default_content(d, href), 0, self.default_timestamp(d)

    def default_timestamp(self, d: Device) -> int:
        """When the twin last changed, for resources nobody updated (ns)."""
        return d.connected_at or self.started_ns - (d.index % 86400 + 3600) * 1_000_000_000

    def update(self, d: Device, href: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Merge `patch` into the content (OCF partial update); ApiError(3) for unknown/mistyped keys."""
        with self.lock:
            current, version, _ = self.content(d, href)
            for key, value in patch.items():
                if key not in current:
                    raise ApiError(3, f"cannot update resource {d.id}{href}: property {key!r} is not supported")
                old = current[key]
                same = (isinstance(old, bool) == isinstance(value, bool)) and (
                    isinstance(value, type(old)) or (isinstance(old, int | float) and isinstance(value, int | float))
                )
                if not same:
                    raise ApiError(3, f"cannot update resource {d.id}{href}: property {key!r} must be "
                                      f"{type(old).__name__}")
            new = {**current, **patch}
            self.changes[(d.id, href)] = (new, version + 1, time.time_ns())
            return new


# ---------------------------------------------------------------------------- JSON shapes
def _event_metadata(d: Device, version: int, ts: int) -> dict[str, str]:
    return {"version": str(version), "timestamp": str(ts), "connectionId": d.endpoint if d.online else "",
            "sequence": str(version)}


def resource_json(world: World, owner: str, d: Device, href: str, *, baseline: bool = False) -> dict[str, Any]:
    spec = d.spec(href)
    assert spec is not None
    content, version, ts = world.content(d, href)
    if baseline:
        content = {"rt": list(spec.types), "if": list(spec.interfaces), **content}
    return {
        "resourceId": {"deviceId": d.id, "href": href},
        "content": content,
        "status": "OK",
        "auditContext": {"userId": owner, "correlationId": ""},
        "eventMetadata": _event_metadata(d, version, ts),
        "resourceTypes": list(spec.types),
    }


def device_text(world: World, owner: str, d: Device) -> str:
    """A Device as compact JSON, written from a template: ~6x faster than json.dumps of the dict,
    which is what lets 100,000 devices stream quickly. Only the /oic/d twin is embedded, and
    /oic/d is read-only, so its content is always the generated one."""
    di, ca, ep = d.id, d.connected_at, d.endpoint
    name, maker, model = json.dumps(d.name), json.dumps(d.manufacturer), json.dumps(d.model)
    if d.online:
        conn = (f'{{"status":"ONLINE","connectedAt":"{ca}","protocol":"COAPS_TCP","serviceId":"{world.service_id}",'
                f'"localEndpoints":["coaps+tcp://{ep}"]}}')
        twin = (f'{{"state":"IN_SYNC","syncingAt":"{ca}","inSyncAt":"{ca + 48_000_000}",'
                f'"commandMetadata":{{"connectionId":"{ep}","sequence":"0"}}}}')
    else:
        conn = '{"status":"OFFLINE","connectedAt":"0","protocol":"COAPS_TCP","serviceId":"","localEndpoints":[]}'
        twin = ('{"state":"OUT_OF_SYNC","syncingAt":"0","inSyncAt":"0",'
                '"commandMetadata":{"connectionId":"","sequence":"0"}}')
    types = f'["{d.kind.device_type}","oic.wk.d"]'
    dmn = f'[{{"language":"en","value":{maker}}}]'
    ts = world.default_timestamp(d)
    data = (f'{{"resourceId":{{"deviceId":"{di}","href":"/oic/d"}},"content":{{"n":{name},"di":"{di}",'
            f'"piid":"{d.piid}","icv":"ocf.2.0.5","dmv":"ocf.res.1.3.0,ocf.sh.1.3.0","dmn":{dmn},'
            f'"dmno":{model},"sv":"{d.firmware}"}},"status":"OK","auditContext":{{"userId":"{owner}",'
            f'"correlationId":""}},"eventMetadata":{{"version":"0","timestamp":"{ts}",'
            f'"connectionId":"{ep if d.online else ""}","sequence":"0"}},"resourceTypes":{types}}}')
    return (f'{{"id":"{di}","types":{types},"name":{name},"metadata":{{"connection":{conn},'
            f'"twinSynchronization":{twin},"twinEnabled":true}},"manufacturerName":{dmn},'
            f'"modelNumber":{model},"interfaces":["oic.if.r","oic.if.baseline"],'
            f'"protocolIndependentId":"{d.piid}","data":{data},"ownershipStatus":"OWNED"}}')


def device_json(world: World, owner: str, d: Device) -> dict[str, Any]:
    return json.loads(device_text(world, owner, d))


def links_json(world: World, owner: str, d: Device, types: list[str]) -> dict[str, Any]:
    resources = []
    for href in d.hrefs:
        spec = d.spec(href)
        assert spec is not None
        if types and not set(types) & set(spec.types):
            continue
        resources.append({
            "href": href, "deviceId": d.id, "resourceTypes": list(spec.types),
            "interfaces": list(spec.interfaces), "anchor": f"ocf://{d.id}", "title": "",
            "supportedContentTypes": ["application/vnd.ocf+cbor"], "validUntil": "0",
            "policy": {"bitFlags": spec.bit_flags}, "endpointInformations": [],
        })
    return {"deviceId": d.id, "resources": resources, "auditContext": {"userId": owner, "correlationId": ""},
            "eventMetadata": _event_metadata(d, 0, d.connected_at or world.started_ns)}


def c2c_device_json(d: Device) -> dict[str, Any]:
    return {
        "device": {"di": d.id, "rt": d.types, "if": DEVICE_INTERFACES, "n": d.name,
                   "dmn": [{"language": "en", "value": d.manufacturer}], "dmno": d.model, "piid": d.piid},
        "status": "online" if d.online else "offline",
        "links": [{"href": f"/{d.id}{href}", "rt": list(spec.types), "if": list(spec.interfaces)}
                  for href in d.hrefs if (spec := d.spec(href)) is not None],
    }


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def ndjson(items: Iterable[Any]) -> Iterator[bytes]:
    """grpc-gateway's stream framing: one `{"result": ...}` message per line, sent in batches.
    Items are dicts, or strings that already are JSON."""
    buf: list[str] = []
    for item in items:
        buf.append('{"result":' + (item if isinstance(item, str) else _dumps(item)) + "}\n")
        if len(buf) >= BATCH:
            yield "".join(buf).encode()
            buf = []
    if buf:
        yield "".join(buf).encode()


def json_array(items: Iterable[Any]) -> Iterator[bytes]:
    """A JSON array written piece by piece (the C2C device list)."""
    yield b"["
    first = True
    buf: list[str] = []
    for item in items:
        buf.append(("" if first else ",") + _dumps(item))
        first = False
        if len(buf) >= BATCH:
            yield "".join(buf).encode()
            buf = []
    yield ("".join(buf) + "]").encode()


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
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
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
    raise ApiError(3, f'type mismatch, parameter: {name}, error: strconv.ParseBool: parsing "{raw}": invalid syntax')


def _list_param(request: Request, *names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        for value in request.query_params.getlist(name):
            out.extend(v for v in value.split(",") if v)
    return out


def _statuses(request: Request) -> set[str]:
    out = set()
    for value in _list_param(request, "status", "statusFilter"):
        word = {"0": "OFFLINE", "1": "ONLINE"}.get(value, value.upper())
        if word not in ("ONLINE", "OFFLINE"):
            raise ApiError(3, f"type mismatch, parameter: status, error: {value} is not valid")
        out.add(word)
    return out


def _href(request: Request) -> str:
    return "/" + request.path_params.get("href", "").strip("/")


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

    def _select(self, owner: str, ids: list[str], types: list[str] | None = None,
                statuses: set[str] | None = None) -> Iterator[Device]:
        if owner != self.owner:
            return
        source: Iterable[Device | None] = (self.world.get(i) for i in dict.fromkeys(ids)) if ids else self.world.devices
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
        origin = origin_of(request)
        audience = default_audience(request)
        return JSONResponse({
            "jwtOwnerClaim": OWNER_CLAIM,
            "jwtDeviceIdClaim": "",
            "id": self.world.hub_id,
            "coapGateway": COAP_GATEWAY,
            "certificateAuthorities": ca_pem(),
            "authority": origin + "/plgd/auth",
            "httpGatewayAddress": origin + "/plgd",
            "defaultCommandTimeToLive": "0",
            "currentTime": str(time.time_ns()),
            "webOauthClient": {"clientId": PUBLIC_CLIENT_ID, "audience": audience, "scopes": WEB_SCOPES},
            "deviceOauthClient": {"clientId": DEVICE_CLIENT_ID, "audience": audience, "scopes": [],
                                  "providerName": "plgd"},
            "buildInfo": {"version": "2.7.19", "buildDate": "2023-07-04T15:31:17Z", "commitHash": "emulated",
                          "commitDate": "2023-07-04T15:30:33Z"},
            "ui": {"visibility": {"mainSidebar": {"devices": True, "configuration": True, "pendingCommands": True,
                                                  "certificates": False, "deviceProvisioning": False,
                                                  "docs": True}}},
        })

    # ------------------------------------------------------------ HTTP gateway
    async def devices(self, request: Request, owner: str) -> Response:
        ids = _list_param(request, "deviceId", "deviceIdFilter")
        types = _list_param(request, "type", "typeFilter")
        statuses = _statuses(request)
        w = self.world
        return self._stream(ndjson(device_text(w, owner, d) for d in self._select(owner, ids, types, statuses)))

    async def device(self, request: Request, owner: str) -> Response:
        d = self._device(owner, request.path_params["deviceId"])
        return JSONResponse(device_json(self.world, owner, d))

    async def device_links(self, request: Request, owner: str) -> Response:
        d = self._device(owner, request.path_params["deviceId"])
        types = _list_param(request, "type", "typeFilter")
        return self._stream(ndjson([links_json(self.world, owner, d, types)]))

    async def all_links(self, request: Request, owner: str) -> Response:
        ids = _list_param(request, "deviceId", "deviceIdFilter")
        types = _list_param(request, "type", "typeFilter")
        w = self.world
        items = (links_json(w, owner, d, types) for d in self._select(owner, ids))
        return self._stream(ndjson(x for x in items if x["resources"] or not types))

    def _resources(self, owner: str, devices: Iterable[Device], types: list[str],
                   resource_ids: set[str]) -> Iterator[dict[str, Any]]:
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
            raise ApiError(7, f"cannot update resource {d.id}{href}: the resource is read-only "
                              f"(interfaces {', '.join(spec.interfaces)})")
        if not d.online:
            raise ApiError(14, f"cannot update resource {d.id}{href}: device is offline")
        content = self.world.update(d, href, patch)
        if only:
            return JSONResponse(content)
        data = resource_json(self.world, owner, d, href)
        data["auditContext"] = {"userId": owner, "correlationId": str(uuid.uuid4())}
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
            Route("/devices/{deviceId}/resources/{href:path}", g(self.get_resource), methods=["GET"]),
            Route("/devices/{deviceId}/resources/{href:path}", g(self.put_resource), methods=["PUT"]),
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
            Mount("/auth", routes=self.oauth.routes()),
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
    return {
        "urls": {
            "hub configuration": base + "/.well-known/configuration",
            "http gateway": base + "/api/v1",
            "authority": base + "/auth",
            "openid configuration": base + "/auth/.well-known/openid-configuration",
            "authorize": base + "/auth/authorize",
            "token": base + "/auth" + TOKEN_PATH,
            "c2c gateway": base + "/c2c/api/v1",
        },
        "credentials": {
            "user": USERNAME,
            "password": PASSWORD,
            "client id": PUBLIC_CLIENT_ID,
            "client secret": "(empty: public client)",
            "redirect uri": f"{REDIRECT_URI} or http://127.0.0.1:<any port>/callback",
            "audience": base,
            "scopes": " ".join(WEB_SCOPES),
            "confidential client id": CONFIDENTIAL_CLIENT_ID,
            "confidential client secret": CONFIDENTIAL_CLIENT_SECRET,
        },
    }
