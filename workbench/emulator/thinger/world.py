"""The emulated Thinger.io world: the demo user's devices, their resources, stats, tokens and buckets.

Everything here is plain Python (no HTTP); `thinger.py` turns it into the REST API.

Device 0 is the seed's own example, `nodemcu` (connected; resources location, temperature,
relay, rgb, command, io, reset). Devices 1..N-1 are generated from their index, so a
world of 100,000 devices costs nothing until a page of it is asked for.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Any

from workbench.emulator.seeded import CITIES, LazyList, device_slug, is_online, rng_for

PLATFORM = "thinger"
USER = "demo"
PASSWORD = "thinger-demo-pass-1157"

# Newer OpenAPI pattern. The seed (older docs) allowed only [a-zA-Z0-9_]{1,25}; the newer
# server also accepts '-' and up to 32 characters, and so does the emulator.
DEVICE_ID_RE = re.compile(r"[a-zA-Z0-9_-]{1,32}")
DEVICE_TYPES = ("Generic", "HTTP", "MQTT")

# Resource kinds as the device API description reports them ("fn").
FN_NONE, FN_RUN, FN_IN, FN_OUT, FN_IO, FN_STREAM = 0, 1, 2, 3, 4, 5

CREATED_BASE_MS = 1666915324133  # the OpenAPI examples' timestamp; generated devices are newer
NODEMCU = "nodemcu"


def now_ms() -> int:
    return int(time.time() * 1000)


def object_id() -> str:
    """A 24-hex identifier like the MongoDB ObjectIds the real server hands out."""
    return secrets.token_hex(12)


@dataclass(frozen=True)
class ResourceSpec:
    fn: int
    behaviour: str  # key into the behaviours below
    initial: Any = None  # starting state of input resources
    al: int = 0  # access level flag of the description; the emulator does not enforce it


@dataclass
class Device:
    device: str
    name: str
    description: str
    type: str
    enabled: bool
    connected: bool
    conn_ts: int | None  # ms; last connection (connected) or disconnection (offline)
    created: int
    modified: int
    ip_address: str
    rx_bytes: int
    tx_bytes: int
    index: int = -1  # generated index; -1 for devices created through the API
    credentials: str = ""

    def as_json(self) -> dict[str, Any]:
        connection: dict[str, Any] = {"active": self.connected}
        if self.conn_ts is not None:
            connection["ts"] = self.conn_ts
        return {
            "device": self.device,
            "name": self.name,
            "description": self.description,
            "type": self.type,
            "enabled": self.enabled,
            "connection": connection,
            "created": self.created,
            "modified": self.modified,
        }


@dataclass
class DeviceToken:
    id: str
    name: str
    token: str
    device: str
    resources: list[str] | None
    expiration: int  # ms, 0 = never

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "token": self.token,
            "resources": self.resources or [],
            "expiration": self.expiration,
        }


NODEMCU_RESOURCES: dict[str, ResourceSpec] = {
    "location": ResourceSpec(FN_OUT, "location"),
    "temperature": ResourceSpec(FN_OUT, "fixed_temperature"),
    "relay": ResourceSpec(FN_IN, "input", False),
    "rgb": ResourceSpec(FN_IN, "input", {"r": 0, "g": 0, "b": 0}),
    "command": ResourceSpec(FN_IN, "input", ""),
    "io": ResourceSpec(FN_IO, "sum_mult", {"value1": 0, "value2": 0}),
    "reset": ResourceSpec(FN_RUN, "run"),
}

SENSORS = ("temperature", "humidity", "power", "battery", "rssi")
INPUTS: dict[str, ResourceSpec] = {
    "led": ResourceSpec(FN_IN, "input", False),
    "fan": ResourceSpec(FN_IN, "input", False),
    "setpoint": ResourceSpec(FN_IN, "input", 21.5),
    "mode": ResourceSpec(FN_IN, "input", "auto"),
}
SENSOR_RANGES = {  # base, swing
    "temperature": (21.0, 4.0),
    "humidity": (48.0, 12.0),
    "power": (640.0, 310.0),
    "battery": (78.0, 15.0),
    "rssi": (-67.0, 9.0),
}


def _generated_resources(seed: int, index: int) -> dict[str, ResourceSpec]:
    r = rng_for(seed, PLATFORM, "resources", index)
    out: dict[str, ResourceSpec] = {"status": ResourceSpec(FN_OUT, "status")}
    for name in r.sample(SENSORS, r.randint(1, 3)):
        out[name] = ResourceSpec(FN_OUT, "sensor")
    name = r.choice(sorted(INPUTS))
    out[name] = INPUTS[name]
    if r.random() < 0.25:
        out["scale"] = ResourceSpec(FN_IO, "scale", {"value": 1.0, "factor": 1.0})
    if r.random() < 0.35:
        out["telemetry"] = ResourceSpec(FN_STREAM, "telemetry", al=1)
    out["reboot"] = ResourceSpec(FN_RUN, "run")
    return out


def _ip(r: Any) -> str:
    return f"{r.choice((31, 46, 77, 83, 88, 95, 185, 212))}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"


def _num(name: str, seed: int, device: str, t: float) -> float | int:
    """A sensor reading drifting smoothly with time (deterministic for a device and second)."""
    base, swing = SENSOR_RANGES.get(name, (10.0, 2.0))
    phase = rng_for(seed, PLATFORM, device, name).random() * math.tau
    value = (
        base + swing * math.sin(t / 900.0 + phase) + swing * 0.05 * math.sin(t / 7.0 + 2 * phase)
    )
    if name == "rssi":
        return int(round(value))
    return round(value, 2)


class ResourceError(Exception):
    """A resource call the device cannot serve: (HTTP status, message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ThingerWorld:
    def __init__(self, seed: int, devices: int, started: float | None = None) -> None:
        self.seed = seed
        self.started_ms = int((started or time.time()) * 1000)
        self.devices: LazyList[Device] = LazyList(
            max(devices, 0), self._make_device, lambda d: d.device
        )
        self.inputs: dict[tuple[str, str], Any] = {}  # (device, resource) -> current input state
        self.runs: dict[tuple[str, str], int] = {}
        self.tokens: dict[str, DeviceToken] = {}  # token id (jti) -> token

    # -- devices ---------------------------------------------------------------------------
    def _make_device(self, index: int) -> Device:
        if index == 0:
            return Device(
                device=NODEMCU,
                name="NodeMCU",
                description="NodeMCU With ESP8266",
                type="Generic",
                enabled=True,
                connected=True,
                conn_ts=self.started_ms - 7 * 60_000,
                created=CREATED_BASE_MS + 86_400_000,
                modified=CREATED_BASE_MS + 2 * 86_400_000,
                ip_address="83.52.36.133",
                rx_bytes=810,
                tx_bytes=854,
                index=0,
            )
        r = rng_for(self.seed, PLATFORM, "device", index)
        slug = device_slug(self.seed, PLATFORM, index)
        online = is_online(self.seed, PLATFORM, index)
        words = slug.split("-")
        created = CREATED_BASE_MS + r.randint(3, 700) * 86_400_000 + r.randint(0, 86_399_999)
        ago = r.randint(60_000, 3 * 86_400_000) if online else r.randint(3_600_000, 30 * 86_400_000)
        return Device(
            device=slug,
            name=f"{words[0].title()} {words[1]} {words[2]}",
            description=f"{words[1].title()} at the {words[0]} site, {r.choice(CITIES)}",
            type=r.choices(DEVICE_TYPES, weights=(6, 2, 2))[0],
            enabled=r.random() > 0.04,
            connected=online,
            conn_ts=self.started_ms - ago,
            created=created,
            modified=created + r.randint(0, 90) * 86_400_000,
            ip_address=_ip(r),
            rx_bytes=r.randint(2_000, 4_000_000),
            tx_bytes=r.randint(2_000, 4_000_000),
            index=index,
        )

    @staticmethod
    def _index_hint(key: str) -> int | None:
        if key == NODEMCU:
            return 0
        tail = key.rsplit("-", 1)[-1]
        return int(tail) if tail.isdigit() and "-" in key else None

    def get(self, device: str) -> Device | None:
        return self.devices.get(device, self._index_hint)

    def page(self, index: int, count: int) -> list[Device]:
        return self.devices.page(index, count)

    def create(
        self,
        device: str,
        name: str,
        description: str,
        dtype: str,
        credentials: str,
        enabled: bool = True,
    ) -> Device:
        ts = now_ms()
        d = Device(
            device=device,
            name=name,
            description=description,
            type=dtype,
            enabled=enabled,
            connected=False,
            conn_ts=None,
            created=ts,
            modified=ts,
            ip_address="",
            rx_bytes=0,
            tx_bytes=0,
            credentials=credentials,
        )
        idx = self._index_hint(device)
        if (
            idx is not None
            and idx < self.devices.count
            and self.devices.factory(idx).device == device
        ):
            # Re-creating a deleted generated device: it takes its old place in the list
            # (LazyList.add would list the generated original again as well).
            self.devices.removed.discard(device)
            self.devices.update(d)
        else:
            self.devices.add(d)
        return d

    def update(self, device: Device, **changes: Any) -> Device:
        d = replace(device, modified=now_ms(), **changes)
        self.devices.update(d)
        return d

    def delete(self, device: str) -> None:
        self.devices.remove(device)
        for key in [k for k, t in self.tokens.items() if t.device == device]:
            del self.tokens[key]
        for input_key in [k for k in self.inputs if k[0] == device]:
            del self.inputs[input_key]

    # -- stats -----------------------------------------------------------------------------
    def stats(self, d: Device) -> dict[str, Any]:
        return {
            "connected": d.connected,
            "connected_ts": d.conn_ts or 0,
            "ip_address": d.ip_address,
            "rx_bytes": d.rx_bytes,
            "tx_bytes": d.tx_bytes,
        }

    def traffic(self, d: Device, rx: int, tx: int) -> Device:
        """Counts bytes exchanged with a connected device (keep-alives, resource calls)."""
        if not d.connected:
            return d
        d = replace(d, rx_bytes=d.rx_bytes + rx, tx_bytes=d.tx_bytes + tx)
        self.devices.update(d)
        return d

    def tick(self, d: Device, n: int) -> Device:
        """One live-stats period: the device exchanged a keep-alive and some data."""
        r = rng_for(self.seed, PLATFORM, "tick", d.device, n)
        return self.traffic(d, 4 + r.randint(0, 60), 4 + r.randint(0, 60))

    # -- resources -------------------------------------------------------------------------
    def resources(self, d: Device) -> dict[str, ResourceSpec]:
        if d.index == 0:
            return NODEMCU_RESOURCES
        if d.index < 0:
            return {}
        return _generated_resources(self.seed, d.index)

    def api(self, d: Device, allowed: list[str] | None = None) -> dict[str, dict[str, int]]:
        return {
            name: {"fn": spec.fn, "al": spec.al}
            for name, spec in self.resources(d).items()
            if allowed is None or name in allowed
        }

    def _spec(self, d: Device, resource: str) -> ResourceSpec:
        if not d.connected:
            raise ResourceError(404, "device not connected")
        spec = self.resources(d).get(resource)
        if spec is None:
            raise ResourceError(404, "resource not found")
        return spec

    def _output(self, d: Device, resource: str, spec: ResourceSpec, value_in: Any) -> Any:
        t = time.time()
        b = spec.behaviour
        if b == "location":
            # The seed's documented answer (its device sketch writes lat/lon, its sample
            # response shows latitude/longitude; the emulator returns the sample response).
            return {"latitude": 40.125698, "longitude": -5.466911}
        if b == "fixed_temperature":
            return 21.0
        if b == "sensor":
            return _num(resource, self.seed, d.device, t)
        if b == "status":
            r = rng_for(self.seed, PLATFORM, "fw", d.device)
            return {
                "uptime": max(0, int(t - (d.conn_ts or 0) / 1000)),
                "firmware": f"1.{r.randint(0, 9)}.{r.randint(0, 20)}",
                "free_heap": 18_000 + r.randint(0, 20_000),
                "rssi": _num("rssi", self.seed, d.device, t),
            }
        if b == "telemetry":
            return {
                "temperature": _num("temperature", self.seed, d.device, t),
                "humidity": _num("humidity", self.seed, d.device, t),
                "ts": int(t * 1000),
            }
        if b == "sum_mult":
            a, c = _pair(value_in, ("value1", "in1"), ("value2", "in2"))
            return {"sum": a + c, "mult": a * c}
        if b == "scale":
            a, c = _pair(value_in, ("value",), ("factor",))
            return {"result": a * c}
        return None

    def _run(self, d: Device, key: tuple[str, str]) -> tuple[str, Any]:
        """A run resource (fn 1), called by GET and POST alike: counted, 8 bytes each way."""
        self.runs[key] = self.runs.get(key, 0) + 1
        self.traffic(d, 8, 8)
        return "run", None

    def read(self, d: Device, resource: str) -> tuple[str, Any]:
        """GET on a resource -> ("out"|"in"|"io"|"run", payload)."""
        spec = self._spec(d, resource)
        key = (d.device, resource)
        if spec.fn == FN_RUN:
            return self._run(d, key)
        if spec.fn == FN_IN:
            return "in", self.inputs.get(key, spec.initial)
        value_in = self.inputs.get(key, spec.initial)
        out = self._output(d, resource, spec, value_in)
        self.traffic(d, 8, 16)
        if spec.fn == FN_IO:
            return "io", {"in": value_in, "out": out}
        return "out", out

    def write(self, d: Device, resource: str, value: Any) -> tuple[str, Any]:
        """POST to a resource with an input value -> ("none"|"out"|"run", payload)."""
        spec = self._spec(d, resource)
        key = (d.device, resource)
        if spec.fn == FN_RUN:
            return self._run(d, key)
        if spec.fn == FN_IN:
            self.inputs[key] = value
            self.traffic(d, 16, 8)
            return "none", None
        if spec.fn == FN_IO:
            self.inputs[key] = value
            self.traffic(d, 16, 16)
            return "out", self._output(d, resource, spec, value)
        self.traffic(d, 8, 16)
        return "out", self._output(d, resource, spec, value)

    # -- device tokens ---------------------------------------------------------------------
    def device_tokens(self, device: str) -> list[DeviceToken]:
        return [t for t in self.tokens.values() if t.device == device]


def _pair(
    value: Any, first: tuple[str, ...], second: tuple[str, ...]
) -> tuple[float | int, float | int]:
    """Two numeric fields of an input document (missing or non-numeric -> 0, like pson)."""

    def pick(names: tuple[str, ...]) -> float | int:
        if isinstance(value, dict):
            for n in names:
                v = value.get(n)
                if isinstance(v, int | float) and not isinstance(v, bool):
                    return v
        return 0

    return pick(first), pick(second)


# -- buckets ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bucket:
    bucket: str
    name: str
    description: str
    config: dict[str, Any]
    step_s: int  # one sample every step_s seconds
    retention_days: int = 30
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self, started_ms: int) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "name": self.name,
            "description": self.description,
            "enabled": True,
            "config": self.config,
            "created": CREATED_BASE_MS,
            "modified": started_ms,
        }


BUCKETS: dict[str, Bucket] = {
    b.bucket: b
    for b in (
        Bucket(
            "temperature_log",
            "Temperature log",
            "nodemcu temperature and humidity, every minute",
            {
                "source": "device",
                "device": NODEMCU,
                "resource": "temperature",
                "update": "interval",
                "interval": 60,
            },
            60,
        ),
        Bucket(
            "energy_meter",
            "Energy meter",
            "Main meter readings written through the API",
            {"source": "api"},
            300,
        ),
        Bucket(
            "door_events",
            "Door events",
            "Front door open/close events written by devices",
            {"source": "write"},
            900,
        ),
    )
}


def bucket_value(seed: int, b: Bucket, k: int) -> dict[str, Any]:
    """The sample at grid slot k (ts = k * step): deterministic for the seed."""
    r = rng_for(seed, PLATFORM, "bucket", b.bucket, k)
    t = k * b.step_s
    if b.bucket == "temperature_log":
        day = math.sin((t % 86_400) / 86_400 * math.tau - math.pi / 2)
        return {
            "temperature": round(21.0 + 3.5 * day + r.uniform(-0.4, 0.4), 2),
            "humidity": round(52.0 - 9.0 * day + r.uniform(-1.5, 1.5), 1),
        }
    if b.bucket == "energy_meter":
        power = round(
            450 + 300 * max(0.0, math.sin((t % 86_400) / 86_400 * math.tau)) + r.uniform(0, 120), 1
        )
        return {"power_w": power, "energy_kwh": round(k * b.step_s / 3600 * 0.55, 3)}
    return {"door": "front", "open": r.random() < 0.3}


def bucket_data(
    seed: int, b: Bucket, now: int, items: int, min_ts: int | None, max_ts: int | None, sort: str
) -> list[dict[str, Any]]:
    """Samples on a fixed time grid inside [min_ts, max_ts] (ms), newest first unless sort='asc'."""
    step = b.step_s * 1000
    oldest = -(-(now - b.retention_days * 86_400_000) // step)
    newest = now // step
    lo = max(oldest, -(-min_ts // step)) if min_ts is not None else oldest
    hi = min(newest, max_ts // step) if max_ts is not None else newest
    if hi < lo or items <= 0:
        return []
    ks = (
        range(lo, min(hi, lo + items - 1) + 1)
        if sort == "asc"
        else range(hi, max(lo, hi - items + 1) - 1, -1)
    )
    return [{"ts": k * step, "val": bucket_value(seed, b, k)} for k in ks]
