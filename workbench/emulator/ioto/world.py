"""The seeded Ioto device cloud: the demo credentials, accounts, users, products, devices and
their Store items, all plain Python (no HTTP); `ioto.py` serves them.

Devices are made from their index on demand (an lru_cache holds the recent ones), and a device
id encodes its index, so a cloud of 100,000 devices costs nothing until it is read. Changes
(claim, release, Store updates) live in small overlays.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from workbench.emulator.seeded import device_slug, rng_for, stable_uuid

# The demo credentials (the README documents these exact values).
CLIENT_ID = "ioto-demo-client"
USERNAME = "demo@ioto.example"
PASSWORD = "Ioto-demo-pass-4821"
CLOUDAPI_TOKEN = "ioto-cloudapi-demo-token-9d2f6a"
ORIGIN = "https://manager.ioto.example"
# The demo manager account's id (a CloudAPI token needs it: the demo-ioto-cloudapi profile and
# the README name it), the same whatever the seed; the other ids are seeded.
DEMO_ACCOUNT_ID = "01JDEM0ACC0VNT0000000000AA"

DEVICE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
EPOCH = datetime(2025, 9, 1, tzinfo=UTC).timestamp()  # fixed, so generated dates are stable

PRODUCTS = ("Eco Thermostat", "Smart Meter", "Cold-Chain Tracker", "Pump Controller")
STORE_KEYS = ("firmware", "humidity", "status", "temperature", "uptime")


def _ulid(seed: int, *parts: object) -> str:
    """A stable ULID-looking id (26 Crockford base-32 characters, like Ioto's record ids)."""
    n = int.from_bytes(
        hashlib.sha256(repr((seed, "ioto-ulid", *parts)).encode()).digest()[:16], "big"
    )
    chars = []
    for _ in range(23):
        n, r = divmod(n, 32)
        chars.append(CROCKFORD[r])
    return "01J" + "".join(chars)


def iso(ts: float) -> str:
    """JavaScript toISOString() form, as the Ioto service (Node) writes dates."""
    return (
        datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{int(ts * 1000) % 1000:03d}Z"
    )


ID_SPACE = 36**6
ID_MULTIPLIER = 1_234_577  # coprime to 36, so index -> tail is a bijection on [0, 36**6)
ID_INVERSE = pow(ID_MULTIPLIER, -1, ID_SPACE)


@lru_cache(maxsize=16)
def _id_offset(seed: int) -> int:
    return (
        int.from_bytes(hashlib.sha256(repr((seed, "ioto-id-offset")).encode()).digest()[:8], "big")
        % ID_SPACE
    )


def device_id(seed: int, index: int) -> str:
    """10 uppercase alphanumerics: 4 seeded characters, then the index scrambled into 6 base-36 digits."""
    digest = hashlib.sha256(repr((seed, "ioto-device-id", index)).encode()).digest()
    head = "".join(DEVICE_ALPHABET[b % 36] for b in digest[:4])
    n, tail = (index * ID_MULTIPLIER + _id_offset(seed)) % ID_SPACE, []
    for _ in range(6):
        n, r = divmod(n, 36)
        tail.append(DEVICE_ALPHABET[r])
    return head + "".join(reversed(tail))


def device_index(seed: int, key: str) -> int | None:
    """The generated index a device id encodes (the caller checks the seeded part)."""
    if len(key) != 10 or any(c not in DEVICE_ALPHABET for c in key):
        return None
    return (int(key[4:], 36) - _id_offset(seed)) * ID_INVERSE % ID_SPACE


class World:
    """The seeded Ioto device cloud: accounts, users, products, devices and their Store."""

    def __init__(self, seed: int, count: int) -> None:
        self.seed = seed
        self.count = count
        self.account_id = DEMO_ACCOUNT_ID
        self.other_account_id = _ulid(seed, "account", "field-ops")
        self.cloud_id = _ulid(seed, "cloud", "demo")
        self.accounts = {
            self.account_id: {
                "id": self.account_id,
                "name": "Demo Account",
                "cloudId": self.cloud_id,
                "created": iso(EPOCH - 400 * 86400),
            },
            self.other_account_id: {
                "id": self.other_account_id,
                "name": "Field Ops",
                "cloudId": self.cloud_id,
                "created": iso(EPOCH - 300 * 86400),
            },
        }
        self.products = [{"id": _ulid(seed, "product", name), "name": name} for name in PRODUCTS]
        self.users = [
            self._user(USERNAME, "Dana", "Demo", "owner", 0),
            self._user("ops@ioto.example", "Olu", "Operator", "admin", 1),
            self._user("viewer@ioto.example", "Vic", "Viewer", "user", 2),
        ]
        self.changed: dict[str, dict[str, Any]] = {}  # device id -> changed record
        self.store_changes: dict[tuple[str, str], dict[str, Any]] = {}
        self._generated = lru_cache(maxsize=8192)(self._generate)

    def _user(self, email: str, first: str, last: str, role: str, n: int) -> dict[str, Any]:
        """A User Record as the user reference page lists it (https://www.embedthis.com/doc/ioto/ref/user.html)."""
        return {
            "id": _ulid(self.seed, "user", email),
            "accountId": self.account_id,
            "cloudId": self.cloud_id,
            "email": email,
            "first": first,
            "last": last,
            "role": role,
            "activity": iso(EPOCH - (30 - 5 * n) * 86400),
        }

    def user_sub(self, username: str) -> str:
        return stable_uuid(self.seed, "ioto-cognito-sub", username)

    # devices -----------------------------------------------------------------

    def _generate(self, index: int) -> dict[str, Any]:
        r = rng_for(self.seed, "ioto", "device", index)
        product = self.products[r.randrange(len(self.products))]
        kind = (index + self.seed) % 6
        account = None if kind == 5 else self.other_account_id if kind == 2 else self.account_id
        created = EPOCH - r.randrange(2 * 86400, 360 * 86400)
        return {
            "id": device_id(self.seed, index),
            "name": device_slug(self.seed, "ioto", index),
            "accountId": account,
            "productId": product["id"],
            "product": product["name"],
            "created": iso(created),
            "accessed": iso(EPOCH - r.randrange(0, 2 * 86400)),
            "version": f"{r.choice((1, 1, 2))}.{r.randrange(10)}.{r.randrange(20)}",
            "test": r.random() < 0.1,
        }

    def device_at(self, index: int) -> dict[str, Any]:
        item = self._generated(index)
        return self.changed.get(item["id"], item)

    def device(self, key: str) -> dict[str, Any] | None:
        index = device_index(self.seed, key)
        if index is None or not 0 <= index < self.count:
            return None
        item = self.device_at(index)
        return item if item["id"] == key else None

    def update_device(self, record: dict[str, Any]) -> None:
        self.changed[record["id"]] = record

    # store -------------------------------------------------------------------

    def store_item(self, device: dict[str, Any], key: str) -> dict[str, Any]:
        changed = self.store_changes.get((device["id"], key))
        if changed is not None:
            return changed
        r = rng_for(self.seed, "ioto", "store", device["id"], key)
        value: Any
        if key == "firmware":
            value, kind = device["version"], "string"
        elif key == "humidity":
            value, kind = round(r.uniform(30, 70), 1), "number"
        elif key == "status":
            value, kind = r.choice(("online", "online", "online", "offline", "updating")), "string"
        elif key == "temperature":
            value, kind = round(r.uniform(16, 28), 1), "number"
        else:
            value, kind = r.randrange(60, 90 * 86400), "number"
        # The Store model of the vendor's schema (github.com/embedthis/ioto
        # schemas/parts/CloudSchema.json5): keyed by account, device and key; no id.
        return {
            "accountId": device["accountId"],
            "deviceId": device["id"],
            "key": key,
            "value": value,
            "type": kind,
            "created": iso(EPOCH - 200 * 86400),
            "updated": iso(EPOCH - r.randrange(0, 86400)),
        }
