"""The emulated plgd hub's world: the demo user's devices (kinds, OCF resources, identities),
generated from their index, and the resource contents with updates kept in an overlay.

Plain Python (no HTTP); `plgd.py` serves it. ApiError carries a gRPC status code, as the hub's
errors do; the world raises it for updates it refuses.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from workbench.emulator.context import EmulatorContext
from workbench.emulator.seeded import ADJECTIVES, LazyList, rng_for, stable_uuid

COAP_GATEWAY = "coaps+tcp://127.0.0.1:5684"
MANUFACTURERS = (
    "Lumina Systems",
    "Nordhaven Devices",
    "Vestra Controls",
    "Brightwave",
    "Kelvinetic",
    "OpenThings Lab",
)


@dataclass(frozen=True, slots=True)
class Kind:
    label: str
    device_type: str
    hrefs: tuple[str, ...]
    models: tuple[str, ...]


KINDS = (
    Kind("Smart Bulb", "oic.d.light", ("/light/1", "/switches/1"), ("LB-A19-RGBW", "LB-GU10-W")),
    Kind(
        "Thermostat",
        "oic.d.thermostat",
        ("/sensor/temperature", "/switches/1"),
        ("TH-300", "TH-310-Z"),
    ),
    Kind(
        "Climate Sensor",
        "oic.d.sensor",
        ("/sensor/temperature", "/sensor/humidity"),
        ("ENV-2", "ENV-2-PRO"),
    ),
    Kind(
        "Cloud Server",
        "oic.d.cloudDevice",
        ("/light/1", "/switches/1", "/sensor/temperature"),
        ("CS-1",),
    ),
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
    """An error with a gRPC status code (the HTTP gateway maps it to an HTTP status)."""

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
        self._mask = int(
            hashlib.sha256(repr((self.seed, "plgd", "mask")).encode()).hexdigest()[:8], 16
        )
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
            connected_at=(
                self.started_ns - (60 + int.from_bytes(b[20:24]) % (30 * 86400)) * 1_000_000_000
            )
            if online
            else 0,
            endpoint=f"10.{b[24]}.{b[25]}.{2 + b[26] % 253}:{40000 + int.from_bytes(b[27:29]) % 21000}",
        )

    def get(self, device_id: str) -> Device | None:
        return self.devices.get(device_id, self.index_of)

    # ------------------------------------------------------------ resource contents
    def _default_content(self, d: Device, href: str) -> dict[str, Any]:
        if href == "/oic/d":
            return {
                "n": d.name,
                "di": d.id,
                "piid": d.piid,
                "icv": "ocf.2.0.5",
                "dmv": "ocf.res.1.3.0,ocf.sh.1.3.0",
                "dmn": [{"language": "en", "value": d.manufacturer}],
                "dmno": d.model,
                "sv": d.firmware,
            }
        if href == "/oic/p":
            return {
                "pi": stable_uuid(self.seed, "plgd", "pi", d.index),
                "mnmn": d.manufacturer,
                "mnmo": d.model,
                "mnfv": d.firmware,
            }
        if href == "/CoapCloudConfResURI":
            return {
                "apn": "plgd",
                "cis": COAP_GATEWAY,
                "sid": self.hub_id,
                "at": "",
                "clec": "",
                "cps": "registered" if d.online else "failed",
            }
        r = rng_for(self.seed, "plgd", "res", d.index, href)
        if href == "/light/1":
            return {
                "name": "Light",
                "power": r.choice((0, 25, 50, 75, 100)),
                "state": r.random() < 0.5,
            }
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
                    raise ApiError(
                        3, f"cannot update resource {d.id}{href}: property {key!r} is not supported"
                    )
                old = current[key]
                same = (isinstance(old, bool) == isinstance(value, bool)) and (
                    isinstance(value, type(old))
                    or (isinstance(old, int | float) and isinstance(value, int | float))
                )
                if not same:
                    raise ApiError(
                        3,
                        f"cannot update resource {d.id}{href}: property {key!r} must be "
                        f"{type(old).__name__}",
                    )
            new = {**current, **patch}
            self.changes[(d.id, href)] = (new, version + 1, time.time_ns())
            return new
