"""The seeded IoTConnect company: the demo credentials, its entity tree, device templates and
devices, and the queries the device list answers (filters, sorting, lookup), all plain Python
(no HTTP); `iotconnect.py` serves them.

Devices are made from their index on demand, so 100,000 devices cost nothing until asked for;
a device GUID encodes its index, so lookups are O(1). Every tenth device (index 0, 10, 20, ...)
is a gateway; up to four of the devices right after it are its children.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from workbench.emulator.seeded import (
    ADJECTIVES,
    CITIES,
    PLACES,
    LazyList,
    rng_for,
    stable_uuid,
)

PLATFORM = "iotconnect"

# The demo credentials (the README documents these exact values).
USERNAME = "demo@iotconnect.example"
PASSWORD = "IoTC-demo-pass-7319"
SOLUTION_KEY = "demo-solution-key-5c1e"

PLACE_TEMPLATES = {
    "boiler": 1,
    "chiller": 1,
    "fan": 1,
    "thermostat": 1,
    "compressor": 1,
    "pump": 2,
    "valve": 2,
    "tank": 2,
    "meter": 3,
    "inverter": 3,
    "charger": 3,
    "relay": 3,
    "light": 3,
    "sensor": 4,
    "door": 4,
    "scale": 4,
    "gateway": 4,
    "tracker": 5,
    "beacon": 5,
    "camera": 5,
}
TEMPLATES = (
    ("Gateway Hub", "gwhub"),
    ("HVAC Controller", "hvacctl"),
    ("Pump Controller", "pumpctl"),
    ("Energy Meter", "emeter"),
    ("Environment Sensor", "envsens"),
    ("Asset Tracker", "asset"),
)
AUTH_TYPES = (
    (1, "Key"),
    (2, "CA Signed Certificate"),
    (3, "Self Signed Certificate"),
    (5, "Symmetric Key"),
)
SITE_KINDS = ("Plant", "Warehouse", "Campus", "Factory", "Depot", "Lab")
AREAS = (
    "Production Hall",
    "Boiler Room",
    "Cold Store",
    "Loading Dock",
    "Office Floor 2",
    "Roof",
    "Basement",
    "Assembly Line 1",
    "Assembly Line 2",
    "Yard",
)
CHILD_COUNTS = (0, 1, 2, 2, 3, 4)
GATEWAY_PLACE = PLACES.index("gateway")
SENSOR_PLACE = PLACES.index("sensor")
ENCODED_ITEMS = 32_768  # encoded list items kept (about 1.2 kB each: ~40 MB at most)
SORT_FIELDS = (
    "uniqueid",
    "displayname",
    "entityname",
    "devicetemplatename",
    "isactive",
    "isconnected",
    "guid",
)


@dataclass(frozen=True, slots=True)
class Entity:
    guid: str
    name: str
    parent: str | None


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs ~3 us a device
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
    return stable_uuid(seed, PLATFORM, *parts).upper()


def _format_guid(raw: bytes) -> str:
    d = bytearray(raw[:16])
    d[6] = (d[6] & 0x0F) | 0x40
    d[8] = (d[8] & 0x3F) | 0x80
    h = d.hex().upper()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _iso(ts: float) -> str:
    dt = datetime.fromtimestamp(ts, UTC)
    # the fields by hand: strftime costs more than the rest of a list item's timestamps
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:"
        f"{dt.second:02d}.{dt.microsecond // 1000:03d}Z"
    )


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
        self.cp_id = "WBDEMO" + stable_uuid(seed, PLATFORM, "cpid")[:6].upper()
        self.entities = self._make_entities()
        self.children_of: dict[int, list[int]] = {}
        for i, e in enumerate(self.entities):
            if e.parent is not None:
                self.children_of.setdefault(self._entity_index[e.parent], []).append(i)
        self.homes = list(range(1, len(self.entities)))  # sites and areas hold devices
        self.leaves = [i for i in self.homes if i not in self.children_of]
        self.templates = [
            (_upper_uuid(seed, "template", code), name, code) for name, code in TEMPLATES
        ]
        self.property_guids = (
            _upper_uuid(seed, "property", "serial"),
            _upper_uuid(seed, "property", "installed"),
        )
        # names as JSON, for the list-item template
        self._entity_names_json = [json.dumps(e.name) for e in self.entities]
        self._template_names_json = [json.dumps(name) for _, name, _ in self.templates]
        r = rng_for(seed, PLATFORM, "guid-mix")
        self._mul = r.getrandbits(32) | 1
        self._add = r.getrandbits(32)
        self._inv = pow(self._mul, -1, 1 << 32)
        self.devices: LazyList[dict[str, Any]] = LazyList(
            self.count, self.list_item, lambda d: d["guid"]
        )
        self._queries: OrderedDict[Query, Sequence[int]] = OrderedDict()
        self._lock = threading.Lock()
        # (adjective, place) of each device, memoised as one code (0: not made yet): a listed
        # device needs its name three or four times
        self._slug_codes = array("H", bytes(2 * self.count))
        self._installed: dict[int, str] = {}  # digest byte -> "Installed On" date
        self._child_counts = bytearray(b"\xff") * (self.count // 10 + 1)  # per gateway
        # a real service answers from an indexed database: index the fleet once, up front
        # (one hash per device: ~0.2 s for 100,000), so no listing pays for it
        self._by_entity = self._index_entities()  # entity -> its devices
        self._uid_rank = self._rank_unique_ids()  # device -> its place in uniqueId order
        # index -> its encoded list item: listing an entity and then its sub-entities sends
        # the same devices again (the EntityGuid filter answers with the whole subtree)
        self._encoded: OrderedDict[int, bytes] = OrderedDict()

    # ---- entities

    def _make_entities(self) -> list[Entity]:
        r = rng_for(self.seed, PLATFORM, "entities")
        root = Entity(_upper_uuid(self.seed, "entity", "root"), "Workbench Demo Industries", None)
        out = [root]
        for s, city in enumerate(r.sample(CITIES, 4)):
            site = Entity(
                _upper_uuid(self.seed, "entity", "site", s),
                f"{city} {r.choice(SITE_KINDS)}",
                root.guid,
            )
            out.append(site)
            for a, area in enumerate(r.sample(AREAS, r.randint(2, 3))):
                out.append(
                    Entity(
                        _upper_uuid(self.seed, "entity", "area", s, a), f"{city} {area}", site.guid
                    )
                )
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
        """64 hash bytes of a device: 0-15 its guid and traits, 16-21 its serial, 22-23 its
        name, 24-39 and 40-55 its two property guids (one hash makes a whole list item)."""
        return hashlib.blake2b(f"{self.seed}|{PLATFORM}|{tag}|{index}".encode()).digest()

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

    def slug(self, index: int, digest: bytes | None = None) -> tuple[str, str]:
        """(adjective, place) of a device's name; gateways are called gateways, nothing else is.

        Both words come from the device's digest (bytes 22 and 23, which nothing else uses), so
        a name costs one hash (the digest the traits need anyway), not a seeded Random."""
        code = self._slug_codes[index] if 0 <= index < self.count else 0
        if code:
            return ADJECTIVES[(code - 1) // len(PLACES)], PLACES[(code - 1) % len(PLACES)]
        d = digest or self._digest(index)
        a, p = d[22] % len(ADJECTIVES), d[23] % len(PLACES)
        if index % 10 == 0:
            p = GATEWAY_PLACE
        elif p == GATEWAY_PLACE:
            p = SENSOR_PLACE
        if 0 <= index < self.count:
            self._slug_codes[index] = a * len(PLACES) + p + 1
        return ADJECTIVES[a], PLACES[p]

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
        if gateway % 10 or gateway >= self.count or gateway < 0:
            return 0
        k = self._child_counts[gateway // 10]
        if k == 255:  # not worked out yet
            k = CHILD_COUNTS[self._digest(gateway, "gw")[0] % len(CHILD_COUNTS)]
            k = self._child_counts[gateway // 10] = min(k, self.count - 1 - gateway)
        return k

    def parent_of(self, index: int) -> int | None:
        off = index % 10
        if off and off <= self.child_count(index - off):
            return index - off
        return None

    def _home(self, digest: bytes) -> int:
        """The entity of a device that reports to no gateway, from its digest."""
        if digest[0] < 40:
            return self.homes[digest[1] % len(self.homes)]
        return self.leaves[digest[1] % len(self.leaves)]

    def entity_of(self, index: int) -> int:
        """`traits(index).entity` without the rest of the traits (a child is in its gateway's entity)."""
        parent = self.parent_of(index)
        return self._home(self._digest(index if parent is None else parent))

    def traits(self, index: int) -> Traits:
        d = self._digest(index)
        parent = self.parent_of(index)
        if parent is None:
            entity = self._home(d)
            active = d[2] < 230
            connected = active and d[3] < 160
            acquired = connected or (active and d[4] < 220)
        else:
            p = self.traits(parent)
            entity = p.entity
            active = d[2] < 240
            connected = active and p.connected
            acquired = active and p.acquired
        comm_age = (
            5 + d[5] * 2 if connected else 3600 + int.from_bytes(d[6:9], "big") % (30 * 86400)
        )
        conn_age = 600 + int.from_bytes(d[9:12], "big") % (3 * 86400)
        return Traits(
            index,
            self.guid_of(index, d),
            parent,
            self.child_count(index),
            entity,
            active,
            connected,
            acquired,
            d[13] % len(AUTH_TYPES),
            comm_age,
            conn_age,
            d,
        )

    def template_of(self, index: int) -> int:
        return 0 if index % 10 == 0 else PLACE_TEMPLATES[self.slug(index)[1]]

    def _property_values(self, digest: bytes) -> tuple[str, str]:
        """(serial number, "Installed On" date) of a device."""
        serial = "SN-" + digest[16:22].hex().upper()
        installed = self._installed.get(digest[15])
        if installed is None:
            installed = datetime.fromtimestamp(
                self.started - 86400 * (30 + digest[15] * 4), UTC
            ).strftime("%Y-%m-%d")
            self._installed[digest[15]] = installed
        return serial, installed

    def _properties(self, index: int, device_guid: str, digest: bytes) -> list[dict[str, Any]]:
        serial, installed = self._property_values(digest)
        return [
            {
                "guid": _format_guid(digest[24:40]),
                "deviceGuid": device_guid,
                "name": "Serial Number",
                "value": serial,
                "propertyGuid": self.property_guids[0],
                "options": None,
                "fieldType": "text",
            },
            {
                "guid": _format_guid(digest[40:56]),
                "deviceGuid": device_guid,
                "name": "Installed On",
                "value": installed,
                "propertyGuid": self.property_guids[1],
                "options": None,
                "fieldType": "date",
            },
        ]

    def _times(self, t: Traits) -> tuple[str | None, str | None]:
        """(last communication, last connection) as ISO strings; None for a never-acquired device."""
        if not t.acquired:
            return None, None
        return (
            _iso(self.started - t.comm_age - t.digest[14] * 0.003),
            _iso(self.started - t.comm_age - t.conn_age),
        )

    @staticmethod
    def _status(t: Traits) -> str:
        return "Inactive" if not t.active else ("Connected" if t.connected else "Disconnected")

    def list_item(self, index: int) -> dict[str, Any]:
        """One item of ``GET /Device``: only the fields of the spec's ``DeviceList`` definition
        (iotconnect-device.swagger.json). It has ``entityName`` and ``reportingTo`` (the gateway's
        unique id) but NO ``entityGuid`` and NO ``parentDeviceGuid``."""
        t = self.traits(index)
        tpl_guid, tpl_name, _ = self.templates[self.template_of(index)]
        last_comm, last_conn = self._times(t)
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
            "entityName": self.entities[t.entity].name,
            "IsAcquired": t.acquired,
            "childDeviceCount": t.children,
            "isType2Support": True,
            "isSharedDevice": False,
            "properties": self._properties(index, t.guid, t.digest),
            "deviceStatus": self._status(t),
            "lastConnection": last_conn,
            "lastCommunication": last_comm,
            "solutionGuid": self.solution_guid,
        }

    def list_item_json(self, index: int) -> bytes:
        """`list_item(index)` as compact JSON, byte for byte what ``json.dumps(list_item(index),
        separators=(",", ":"))`` gives (a test checks it), written from a template: encoding
        the dict cost more than making it. The last ENCODED_ITEMS are kept."""
        with self._lock:
            found = self._encoded.get(index)
            if found is not None:
                self._encoded.move_to_end(index)
                return found
        encoded = self._encode_list_item(index)
        with self._lock:
            self._encoded[index] = encoded
            if len(self._encoded) > ENCODED_ITEMS:
                self._encoded.popitem(last=False)
        return encoded

    def _encode_list_item(self, index: int) -> bytes:
        t = self.traits(index)
        tpl = self.template_of(index)
        tpl_guid = self.templates[tpl][0]
        last_comm, last_conn = self._times(t)
        comm = f'"{last_comm}"' if last_comm is not None else "null"
        conn = f'"{last_conn}"' if last_conn is not None else "null"
        adj, place = self.slug(index, t.digest)
        parent = f'"{self.unique_id(t.parent)}"' if t.parent is not None else "null"
        auth, auth_name = AUTH_TYPES[t.auth]
        serial, installed = self._property_values(t.digest)
        p1 = _format_guid(t.digest[24:40])
        p2 = _format_guid(t.digest[40:56])
        flag = ("false", "true")
        return (
            f'{{"guid":"{t.guid}","uniqueId":"{adj}-{place}-{index:04d}",'
            f'"displayName":"{adj.capitalize()} {place} {index}",'
            f'"isConnected":{flag[t.connected]},"lastactivityDate":{comm},'
            f'"isActive":{flag[t.active]},"firmwareupgradeGuid":null,'
            f'"deviceTemplateGuid":"{tpl_guid}","authType":{auth},'
            f'"authenticationType":{json.dumps(auth_name)},"messageVersion":"2.1",'
            f'"deviceTemplateName":{self._template_names_json[tpl]},"reportingTo":{parent},'
            f'"entityName":{self._entity_names_json[t.entity]},"IsAcquired":{flag[t.acquired]},'
            f'"childDeviceCount":{t.children},"isType2Support":true,"isSharedDevice":false,'
            f'"properties":[{{"guid":"{p1}","deviceGuid":"{t.guid}","name":"Serial Number",'
            f'"value":"{serial}","propertyGuid":"{self.property_guids[0]}","options":null,'
            f'"fieldType":"text"}},{{"guid":"{p2}","deviceGuid":"{t.guid}",'
            f'"name":"Installed On","value":"{installed}",'
            f'"propertyGuid":"{self.property_guids[1]}","options":null,"fieldType":"date"}}],'
            f'"deviceStatus":"{self._status(t)}","lastConnection":{conn},'
            f'"lastCommunication":{comm},"solutionGuid":"{self.solution_guid}"}}'
        ).encode()

    def child_item(self, index: int) -> dict[str, Any]:
        """One item of ``GET /Device/{deviceGuid}/child-device``: the spec's ``ChildDeviceList``
        (lower-case ``isAcquired`` here, no ``childDeviceCount``)."""
        t = self.traits(index)
        tpl_guid, tpl_name, _ = self.templates[self.template_of(index)]
        last_comm, _ = self._times(t)
        return {
            "guid": t.guid,
            "uniqueId": self.unique_id(index),
            "displayName": self.display_name(index),
            "tag": None,
            "isConnected": t.connected,
            "lastactivityDate": last_comm,
            "isActive": t.active,
            "firmwareupgradeGuid": None,
            "deviceTemplateGuid": tpl_guid,
            "deviceTemplateName": tpl_name,
            "reportingTo": self.unique_id(t.parent) if t.parent is not None else None,
            "entityName": self.entities[t.entity].name,
            "isAcquired": t.acquired,
            "lastCommunication": last_comm,
        }

    def detail(self, index: int) -> dict[str, Any]:
        """``DeviceInformation`` (the detail answers): only the spec's fields, in its casing. Unlike
        the list item it carries ``entityGuid`` and ``parentDeviceGuid``."""
        t = self.traits(index)
        tpl_guid, tpl_name, _ = self.templates[self.template_of(index)]
        last_comm, last_conn = self._times(t)
        parent_acquired = self.traits(t.parent).acquired if t.parent is not None else False
        props = self._properties(index, t.guid, t.digest)
        return {
            "guid": t.guid,
            "solutionGuid": self.solution_guid,
            "uniqueId": self.unique_id(index),
            "displayName": self.display_name(index),
            "isConnected": t.connected,
            "lastActivityDate": last_comm,
            "isActive": t.active,
            "firmwareUpgradeGuid": None,
            "deviceTemplateGuid": tpl_guid,
            "entityGuid": self.entities[t.entity].guid,
            "certificateGuid": None,
            "certificateName": None,
            "certificateType": None,
            "deviceTemplateAuthType": AUTH_TYPES[t.auth][0],
            "authType": AUTH_TYPES[t.auth][0],
            "entityName": self.entities[t.entity].name,
            "deviceTemplateName": tpl_name,
            "note": f"Installed by the demo integrator; serial {props[0]['value']}.",
            "image": None,
            "cpId": self.cp_id,
            "isAcquired": int(t.acquired),
            "firmwareAvail": 0,
            "parentDeviceGuid": self.guid_of(t.parent) if t.parent is not None else None,
            "tag": "gateway" if t.children or index % 10 == 0 else None,
            "parentDeviceUniqueId": self.unique_id(t.parent) if t.parent is not None else None,
            "isParentAcquired": int(parent_acquired),
            "isSimulatorOn": 0,
            "isType2Support": True,
            "isEdgeSupport": False,
            "imageUrl": None,
            "properties": props,
            "deviceStatus": self._status(t),
            "isLowBandwidth": False,
            "isIotEdgeEnable": False,
            "isSolutionTemplate": False,
            "fileSupport": False,
            "msgCode": self._digest(index, "msg").hex()[:10].upper(),
            "messageVersion": "2.1",
            "hasTwin": index % 10 == 0,
            "hasDirectMethod": False,
            "parentCompanyGuid": None,
            "companyGuid": self.company_guid,
            "lastConnection": last_conn,
            "isDpsDevice": False,
            "authTypeName": AUTH_TYPES[t.auth][1],
        }

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

    def _rank_unique_ids(self) -> array[int]:
        """rank[i]: where device i stands when the fleet is sorted by uniqueId."""
        order = sorted(range(self.count), key=self.unique_id)
        rank = array("l", bytes(array("l").itemsize * self.count))
        for r, i in enumerate(order):
            rank[i] = r
        return rank

    def _sort_key(self, field: str) -> Any:
        if field == "uniqueid":
            return self._uid_rank.__getitem__  # unique ids are lower case already
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
            # the entity index: each entity filter only looks at its own devices
            index = self._by_entity
            candidates = sorted(i for e in q.entities for i in index.get(e, ()))
        else:
            candidates = range(self.count)
        rest = q
        if q.parent is None and q.entities is not None:
            rest = replace(q, entities=None)  # the index already chose the entities' devices
        filtering = rest != Query(parent=q.parent, sort=q.sort, desc=q.desc)
        found = [i for i in candidates if self._matches(i, rest)] if filtering else list(candidates)
        if q.sort:
            key = self._sort_key(q.sort)
            found.sort(key=key, reverse=q.desc)
        result = array("l", found)  # compact: a 100,000-device answer is 800 kB, not 3.6 MB
        with self._lock:
            self._queries[q] = result
            while len(self._queries) > 12:
                self._queries.popitem(last=False)
        return result

    def _index_entities(self) -> dict[int, array[int]]:
        """entity -> its devices, in one pass over the fleet that also names every device
        (one digest per device: its entity and its name both come from it)."""
        groups: dict[int, list[int]] = {}
        home = children = 0
        for i in range(self.count):
            d = self._digest(i)
            self.slug(i, d)
            off = i % 10
            if off == 0:
                children = self.child_count(i)
            if off == 0 or off > children:
                home = self._home(d)  # a gateway or a device on its own: its own entity
            groups.setdefault(home, []).append(i)  # a child: its gateway's entity
        return {e: array("l", v) for e, v in groups.items()}

    def lookup(
        self, *, children: bool, entities: frozenset[int] | None, template: str
    ) -> list[dict[str, Any]]:
        out = []
        for i in range(self.count):
            if not children and self.parent_of(i) is not None:
                continue
            if entities is not None and self.traits(i).entity not in entities:
                continue
            if template and self.templates[self.template_of(i)][0] != template:
                continue
            out.append(
                {
                    "guid": self.guid_of(i),
                    "uniqueId": self.unique_id(i),
                    "displayName": self.display_name(i),
                }
            )
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
