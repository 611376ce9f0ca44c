"""The emulated iotspot world: workspaces (offices in real cities) -> locations (floors and
zones) -> desks with one occupancy sensor each, all computed from indices and the seed, so
100,000 desks cost nothing at start-up. Plain Python (no HTTP); `iotspot_api.py` serves it.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Any

from workbench.emulator.seeded import rng_for

PLATFORM = "iotspot"

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


def iso(ts: int) -> str:
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
        rng_for(seed, PLATFORM, "offices").shuffle(offices)
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
        if (
            len(parts) != 3
            or parts[0] != "loc"
            or not all(len(p) == 2 and p.isdigit() for p in parts[1:])
        ):
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
        return hashlib.sha256(f"{self.seed}:{PLATFORM}:desk:{i}".encode()).digest()

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
                "lastSeen": iso(last_seen),
                "online": online,
            },
            "occupancy": {"status": status, "since": iso(since)},
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
    digits = ident[len(prefix) :]
    if len(digits) != width or not digits.isdigit():
        return None
    return int(digits)
