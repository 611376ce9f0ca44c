"""The Ioto API controllers (account, user, device, generic Store and Device, metric): each action
takes the authenticated caller and the JSON body and answers a JSON value or a Response.

Shapes follow the metric reference page (https://www.embedthis.com/doc/ioto/ref/metric.html):
metric/getMetricList answers ``{"data": {"namespaces": [...], "metrics": [...]}}`` (the
metrics of the namespace given; with a metric too, its ``dimensions``); metric/fetch answers
a paged ``{"data": [metric...], "next", "prev"}``, each metric ``{metric, namespace,
dimensions, period, statistic, samples, points: [{value, timestamp, count}]}``; with
``accumulate`` the points are accumulated into one. Statistics: avg, min, max, sum, count and
current (the Ioto docs list "current" too, and samples/api/get-metric.sh asks for it).

Modelled choices where the public docs are silent: device/get of an unknown (or, for a login
user, foreign) device is 404 "Unknown device"; metric values are generated from the seed,
the series and the time.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workbench.emulator.ioto.paging import ApiError, matches_filter, paged
from workbench.emulator.ioto.world import STORE_KEYS, USERNAME, World, iso
from workbench.emulator.seeded import rng_for

NAMESPACE = "Embedthis/Device"

METRICS: dict[str, tuple[float, float, float]] = {
    "temperature": (21.0, 3.5, 0.6),
    "humidity": (48.0, 9.0, 2.0),
    "cpu": (22.0, 12.0, 5.0),
    "memory": (61.0, 4.0, 1.5),
}
STATISTICS = ("avg", "min", "max", "sum", "count", "current")


@dataclass(frozen=True)
class Caller:
    kind: str  # "login" | "cloudapi"
    account_id: str | None  # None: the whole device cloud (CloudAPI)
    username: str | None = None


Handler = Callable[[Caller, dict[str, Any]], Any]


def _require_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"Missing {name}")
    return value


class Api:
    """The controllers; each action takes (caller, body) and returns a JSON value or a Response."""

    def __init__(self, world: World) -> None:
        self.w = world

    def handlers(self) -> dict[tuple[str, str], Handler]:
        return {
            ("account", "get"): self.account_get,
            ("device", "find"): self.device_find,
            ("device", "get"): self.device_get,
            ("device", "claim"): self.device_claim,
            ("device", "release"): self.device_release,
            ("generic", "find"): self.generic_find,
            ("generic", "get"): self.generic_get,
            ("generic", "update"): self.generic_update,
            ("metric", "getMetricList"): self.metric_list,
            ("metric", "fetch"): self.metric_fetch,
            ("user", "get"): self.user_get,
            ("user", "find"): self.user_find,
        }

    # helpers

    def visible(self, caller: Caller, device: dict[str, Any] | None) -> dict[str, Any] | None:
        if device is None:
            return None
        if caller.account_id is not None and device["accountId"] != caller.account_id:
            return None
        return device

    def visible_device(self, caller: Caller, key: str) -> dict[str, Any]:
        device = self.visible(caller, self.w.device(key))
        if device is None:
            raise ApiError(404, "Unknown device")
        return device

    # account / user

    def account_get(self, caller: Caller, body: dict[str, Any]) -> Any:
        if caller.kind == "cloudapi" and not body.get("id"):
            # "If no email or id provided, return the logged in account": a CloudAPI token has none.
            raise ApiError(400, "Missing id: a CloudAPI token has no account of its own")
        key = body.get("id") or caller.account_id or self.w.account_id
        if caller.account_id is not None and key != caller.account_id:
            raise ApiError(404, "Unknown account")
        account = self.w.accounts.get(key)
        if account is None:
            raise ApiError(404, "Unknown account")
        return {"data": account}

    def user_get(self, caller: Caller, body: dict[str, Any]) -> Any:
        key = body.get("id")
        for user in self.w.users:
            mine = key is None and user["email"] == (caller.username or USERNAME)
            if mine or user["id"] == key:
                return {"data": user}
        raise ApiError(404, "Unknown user")

    def user_find(self, caller: Caller, body: dict[str, Any]) -> Any:
        flt = body.get("filter")
        users = self.w.users

        def at(i: int) -> Any:
            return users[i] if matches_filter(users[i], flt) else None

        return paged("user", len(users), at, body)

    # devices

    def device_find(self, caller: Caller, body: dict[str, Any]) -> Any:
        conditions: dict[str, Any] = {}
        if "accountId" in body:
            conditions["accountId"] = body["accountId"]
        if caller.account_id is not None:
            conditions["accountId"] = caller.account_id  # a login user only ever sees their account
        if body.get("productId") is not None:
            conditions["productId"] = body["productId"]
        flt = body.get("filter")
        matches_filter({}, flt)  # validates its type even when the list is empty
        known = {p["id"] for p in self.w.products}
        if conditions.get("productId", next(iter(known))) not in known or conditions.get(
            "accountId"
        ) not in (None, *self.w.accounts):
            return paged("device", 0, lambda i: None, body)  # nothing can match: answer at once

        def at(i: int) -> Any:
            d = self.w.device_at(i)
            if any(d.get(k) != v for k, v in conditions.items()):
                return None
            return d if matches_filter(d, flt) else None

        return paged("device", self.w.count, at, body)

    def device_get(self, caller: Caller, body: dict[str, Any]) -> Any:
        return {"data": self.visible_device(caller, _require_str(body, "id"))}

    def device_claim(self, caller: Caller, body: dict[str, Any]) -> Any:
        key = _require_str(body, "id")
        device = self.w.device(key)
        if device is None:
            raise ApiError(404, "Unknown device")
        if device["accountId"] is not None:
            raise ApiError(400, "Device already claimed")
        account = caller.account_id or body.get("accountId") or self.w.account_id
        if account not in self.w.accounts:
            raise ApiError(400, "Unknown account")
        claimed = {**device, "accountId": account}
        self.w.update_device(claimed)
        return {"data": claimed}

    def device_release(self, caller: Caller, body: dict[str, Any]) -> Any:
        key = _require_str(body, "id")
        device = self.w.device(key)
        if device is None:
            raise ApiError(404, "Unknown device")
        if device["accountId"] is None:
            raise ApiError(400, "Device is not claimed")
        if caller.account_id is not None and device["accountId"] != caller.account_id:
            raise ApiError(404, "Unknown device")
        released = {**device, "accountId": None}
        self.w.update_device(released)
        return {"data": released}

    # generic (the Store model)

    @staticmethod
    def _model(body: dict[str, Any]) -> None:
        model = body.get("_type")
        if model is None:
            raise ApiError(400, "Missing _type")
        if model != "Store":
            raise ApiError(400, f"Unknown model: {model}")

    def generic_find(self, caller: Caller, body: dict[str, Any]) -> Any:
        if body.get("_type") == "Device":  # the Device table (samples/api/find-items.sh, login.sh)
            return self.device_find(caller, {k: v for k, v in body.items() if k != "_type"})
        self._model(body)
        nkeys = len(STORE_KEYS)
        key_filter = body.get("key")
        flt = body.get("filter")
        matches_filter({}, flt)
        device_key = body.get("deviceId")
        if device_key is not None:
            device = self.visible(caller, self.w.device(str(device_key)))

            def one(i: int) -> Any:
                if device is None:
                    return None
                item = self.w.store_item(device, STORE_KEYS[i])
                ok = (key_filter is None or item["key"] == key_filter) and matches_filter(item, flt)
                return item if ok else None

            return paged("store", nkeys if device else 0, one, body)

        def every(i: int) -> Any:
            device = self.visible(caller, self.w.device_at(i // nkeys))
            if device is None:
                return None
            item = self.w.store_item(device, STORE_KEYS[i % nkeys])
            ok = (key_filter is None or item["key"] == key_filter) and matches_filter(item, flt)
            return item if ok else None

        return paged("store", self.w.count * nkeys, every, body)

    def _store_target(
        self, caller: Caller, body: dict[str, Any], key_required: bool = True
    ) -> tuple[dict[str, Any], str]:
        self._model(body)
        device = self.visible_device(caller, _require_str(body, "deviceId"))
        if not key_required and body.get("key") is None:
            # generic/get: "Optional item attributes to filter the selected item"
            # (samples/api/get-item.sh names none): the device's first item.
            return device, STORE_KEYS[0]
        key = _require_str(body, "key")
        if key not in STORE_KEYS:
            raise ApiError(404, "Unknown item")
        return device, key

    def generic_get(self, caller: Caller, body: dict[str, Any]) -> Any:
        if body.get("_type") == "Device":
            return self.device_get(caller, body)
        device, key = self._store_target(caller, body, key_required=False)
        return {"data": self.w.store_item(device, key)}

    def generic_update(self, caller: Caller, body: dict[str, Any]) -> Any:
        device, key = self._store_target(caller, body)
        if "value" not in body:
            raise ApiError(400, "Missing value")
        value = body["value"]
        item = {
            **self.w.store_item(device, key),
            "value": value,
            "type": "number"
            if isinstance(value, int | float) and not isinstance(value, bool)
            else "boolean"
            if isinstance(value, bool)
            else "string"
            if isinstance(value, str)
            else "object",
            "updated": iso(datetime.now(UTC).timestamp()),
        }
        self.w.store_changes[(device["id"], key)] = item
        return {"data": item}

    # metrics

    def metric_list(self, caller: Caller, body: dict[str, Any]) -> Any:
        cloud = body.get("cloudId")
        if caller.kind == "cloudapi" and not cloud:
            raise ApiError(400, "Missing cloudId: it is required when using a CloudAPI token")
        if cloud is not None and cloud != self.w.cloud_id:
            raise ApiError(404, "Unknown cloud")
        namespace = body.get("namespace")
        if namespace is None:
            return {"data": {"namespaces": [NAMESPACE]}}
        if namespace != NAMESPACE:
            return {"data": {"namespaces": [namespace], "metrics": []}}
        metric = body.get("metric")
        if metric is None:
            return {"data": {"namespaces": [NAMESPACE], "metrics": list(METRICS)}}
        if metric not in METRICS:
            raise ApiError(404, "Unknown metric")
        return {
            "data": {
                "namespaces": [NAMESPACE],
                "metrics": [metric],
                "dimensions": [{}, {"Device": "*"}],
            }
        }

    def metric_fetch(self, caller: Caller, body: dict[str, Any]) -> Any:
        items = body.get("items")
        if not isinstance(items, list) or not items:
            raise ApiError(400, "Missing items")
        default_device = body.get("deviceId")
        if default_device is None:
            raise ApiError(400, "Missing deviceId")
        self.visible_device(caller, str(default_device))
        series = [self._series(caller, item, default_device) for item in items]
        return {"data": series, "next": None, "prev": None}

    def _series(self, caller: Caller, item: Any, default_device: Any) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise ApiError(400, "Bad metric item: must be an object")
        metric = item.get("metric")
        if not isinstance(metric, str) or not metric:
            raise ApiError(400, "Bad metric item: missing metric")
        namespace = item.get("namespace")
        if not isinstance(namespace, str) or not namespace:
            raise ApiError(400, "Bad metric item: missing namespace (must be Embedthis/Device)")
        cloud = item.get("cloudId")
        if cloud is not None and cloud != self.w.cloud_id:
            raise ApiError(404, "Unknown cloud")
        accumulate = item.get("accumulate", False)
        if not isinstance(accumulate, bool):
            raise ApiError(400, "Bad metric item: accumulate must be true or false")
        dimensions = item.get("dimensions") or {}
        if isinstance(dimensions, list):
            dimensions = dimensions[0] if dimensions and isinstance(dimensions[0], dict) else {}
        if not isinstance(dimensions, dict):
            raise ApiError(400, "Bad metric item: dimensions must be an object")
        device = dimensions.get("Device", default_device)
        if device is not None:
            self.visible_device(caller, str(device))
            dimensions = {**dimensions, "Device": str(device)}
        period = item.get("period", 86400)
        if (
            not isinstance(period, int)
            or isinstance(period, bool)
            or not 60 <= period <= 366 * 86400
        ):
            raise ApiError(400, "Bad metric item: period must be seconds from 60 to 31622400")
        statistic = item.get("statistic")
        if statistic is None:
            raise ApiError(400, "Bad metric item: missing statistic")
        if statistic not in STATISTICS:
            raise ApiError(
                400, f"Bad metric item: statistic must be one of {', '.join(STATISTICS)}"
            )
        npoints = min(24, period // 60)
        interval = period // npoints
        start = _start_seconds(item.get("start"), period, interval)
        points: list[dict[str, Any]] = []
        if namespace == NAMESPACE and metric in METRICS:
            series = str(device) if device is not None else "*"
            for n in range(npoints):
                ts = start + n * interval
                points.append(self._point(series, metric, statistic, ts, interval))
        samples = len(points)
        if accumulate and points:
            points = [self._accumulated(points, statistic)]
        return {
            "metric": metric,
            "namespace": namespace,
            "dimensions": dimensions,
            "period": period,
            "statistic": statistic,
            "samples": samples,
            "points": points,
        }

    @staticmethod
    def _accumulated(points: list[dict[str, Any]], statistic: str) -> dict[str, Any]:
        """The points of a period accumulated into one ("accumulate": true)."""
        values = [p["value"] for p in points]
        count = sum(p["count"] for p in points)
        value = {
            "avg": sum(values) / len(values),
            "min": min(values),
            "max": max(values),
            "sum": sum(values),
            "count": float(count),
            "current": values[-1],
        }[statistic]
        return {"value": round(value, 2), "timestamp": points[-1]["timestamp"], "count": count}

    def _point(
        self, series: str, metric: str, statistic: str, ts: int, interval: int
    ) -> dict[str, Any]:
        base, swing, noise = METRICS[metric]
        r = rng_for(self.w.seed, "ioto", "metric", series, metric, ts, interval)
        phase = (int(hashlib.sha256(series.encode()).hexdigest()[:4], 16) % 24) * 3600
        mean = (
            base
            + swing * math.sin(2 * math.pi * ((ts + phase) % 86400) / 86400)
            + r.uniform(-noise, noise)
        )
        count = max(1, interval // 60)
        spread = noise + r.uniform(0, noise)
        value = {
            "avg": mean,
            "min": mean - spread,
            "max": mean + spread,
            "sum": mean * count,
            "count": float(count),
            "current": mean + r.uniform(-spread, spread),
        }[statistic]
        return {"value": round(value, 2), "timestamp": ts * 1000, "count": count}


def _start_seconds(start: Any, period: int, interval: int) -> int:
    """`start`: epoch ms (or s), an ISO date, or absent (= one period ago); aligned to the interval."""
    if start is None:
        now = int(datetime.now(UTC).timestamp())
        return (now - period) // interval * interval
    if isinstance(start, bool):
        raise ApiError(400, "Bad metric item: start")
    if isinstance(start, int | float):
        seconds = start / 1000 if start > 1e11 else start
    elif isinstance(start, str):
        try:
            seconds = datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise ApiError(
                400, "Bad metric item: start must be a date or epoch milliseconds"
            ) from None
    else:
        raise ApiError(400, "Bad metric item: start must be a date or epoch milliseconds")
    return int(seconds) // interval * interval
