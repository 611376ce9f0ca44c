"""EmbedThis Ioto as a device tree: account -> devices -> store keys and metrics.

::

    Demo Account                     account   (Cognito login: account/get, user/get)
    All devices (device cloud)       group     (CloudAPI token: the whole cloud, every account)
      thermo-east-17                 device    device/find, paged by `next` cursors
        store                        group     generic/find {"_type": "Store", "deviceId"}, paged
          temperature                resource  (badge: the value)
        metrics                      group     metric/getMetricList {"deviceId"}
          temperature                stats     (request: metric/fetch for the last day)

Every Ioto call is ``POST {urls.api}/{controller}/{action}`` with a JSON body. The request
specs on the nodes hold the profile's concrete API URL (already rendered when the profile
was loaded), not a ``{{urls.api}}`` template, so they can be sent as they are; they never
contain the CloudAPI ``/tok`` prefix: the ``ioto_cloudapi`` flow inserts it when the
request is signed, so one spec works with either flow.

Paging: list answers are ``{"data": [...], "next": cursor|null, "prev": cursor|null}`` with
opaque cursors. The adapter follows ``next`` until it is null, even after a short or empty
page (a filtered DynamoDB query can return fewer items than ``limit`` and still have more).
Each page is one yielded batch (possibly empty); ``cancel`` is checked before every page.
A page size above MAX_PAGE is capped (the emulator refuses more than 1000).

Errors never escape ``children``: a failed page becomes an error node (kind "error") with
words, a hint, the request that failed and ``ref["retry"]``; the batches already yielded
stay. Calling ``children(error_node)`` retries that page and goes on from there.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from workbench.core.errors import TransportError, WorkbenchError
from workbench.core.platforms import base
from workbench.core.platforms.base import DeviceNode, error_node
from workbench.core.requests import RequestSpec
from workbench.core.text import escape_keep_newlines

if TYPE_CHECKING:
    import httpx

    from workbench.core.profiles import Profile
    from workbench.core.requests import ResponseRecord

MAX_PAGE = 1000
METRIC_PERIOD = 86400  # metric nodes fetch the last day
STORE_TYPE = "Store"


class _Failed(Exception):
    """A call that did not give a usable answer, in words."""

    def __init__(self, message: str, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status


def _server_text(record: ResponseRecord) -> str:
    text = record.text().strip()
    if not text:
        return "(empty answer)"
    if _is_html(record):
        return "an HTML page (not an API answer)"
    text = " ".join(text.split())
    if len(text) > 200:
        text = text[:200] + "…"
    return escape_keep_newlines(text)


def _is_html(record: ResponseRecord) -> bool:
    head = record.text().lstrip()[:15].lower()
    return "text/html" in record.content_type.lower() or head.startswith(("<!doctype", "<html"))


def _short(value: Any, limit: int = 24) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = escape_keep_newlines(" ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Adapter(base.Adapter):
    platform = "ioto"

    def __init__(self, profile: Profile, client: httpx.Client, page_size: int = 100) -> None:
        super().__init__(profile, client, page_size=max(1, min(int(page_size), MAX_PAGE)))
        self.api = profile.urls.get("api", profile.base_url).rstrip("/")
        self.cloudapi = profile.auth.flow == "ioto_cloudapi"

    # --- requests ----------------------------------------------------------------------

    def spec(self, path: str, body: dict[str, Any], name: str = "") -> RequestSpec:
        """``POST {api}/{path}`` with a JSON body (no /tok: the CloudAPI flow adds it when signing)."""
        return RequestSpec(
            method="POST",
            url=f"{self.api}/{path}",
            body_kind="json",
            body=json.dumps(body, ensure_ascii=False),
            name=name or path,
        )

    def call(self, spec: RequestSpec) -> Any:
        """Send `spec` and return its JSON answer; anything else raises _Failed with words."""
        try:
            record = self.get(spec)
        except TransportError as err:
            raise _Failed(f"network: {err.message}", hint=err.hint) from None
        except WorkbenchError as err:  # e.g. the session could not log in again
            raise _Failed(err.message, hint=err.hint, status=getattr(err, "status", None)) from None
        status = record.status
        if not 200 <= status < 300:
            raise self._http_failure(record)
        try:
            return json.loads(record.body)
        except (ValueError, UnicodeDecodeError):
            raise _Failed(
                f"the answer is not JSON: {_server_text(record)}",
                status=status,
                hint="a proxy or maintenance page may be answering; retry, or check urls.api",
            ) from None

    def _http_failure(self, record: ResponseRecord) -> _Failed:
        status, said = record.status, _server_text(record)
        if status in (401, 403):
            hint = (
                "the CloudAPI token was refused (expired or deleted?) or lacks access: log in with a valid token"
                if self.cloudapi
                else "the login token was refused (expired?) or the Origin is not allowed: log in again, "
                "and check origin in the profile"
            )
            return _Failed(f"forbidden: {said}", hint=hint, status=status)
        if status == 404:
            return _Failed(
                f"not found: {said}",
                status=status,
                hint="it no longer exists or is not visible to you; or urls.api is not the Ioto API",
            )
        if status == 400:
            return _Failed(
                f"bad request: {said}",
                status=status,
                hint="the API refused the request's parameters",
            )
        if status == 429:
            return _Failed(
                f"rate limited: {said}", status=status, hint="too many requests; retry in a moment"
            )
        if status >= 500:
            if _is_html(record):
                return _Failed(
                    f"service unavailable (HTTP {status}): an HTML page, not an API answer",
                    status=status,
                    hint="the service or a proxy answered with a web page "
                    "(down for maintenance?); retry later",
                )
            return _Failed(
                f"service error (HTTP {status}): {said}",
                status=status,
                hint="the Ioto service failed; retry later",
            )
        return _Failed(f"HTTP {status}: {said}", status=status)

    @staticmethod
    def _page(data: Any) -> tuple[list[Any], str | None]:
        """(items, next cursor) of a list answer; a bare array is a single page."""
        if isinstance(data, list):
            return data, None
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            nxt = data.get("next")
            return data["data"], nxt if isinstance(nxt, str) and nxt else None
        raise _Failed(
            f"unexpected answer: expected a list, got {_short(data, 60)}",
            hint="the API answered in a shape this adapter does not know",
        )

    # --- the tree ----------------------------------------------------------------------

    def roots(self) -> list[DeviceNode]:
        if self.cloudapi:
            return [self._all_devices()]
        spec = self.spec("account/get", {}, "account/get")
        try:
            data = self.call(spec)
            account = data.get("data") if isinstance(data, dict) else None
            if not isinstance(account, dict):
                raise _Failed(f"unexpected answer to account/get: {_short(data, 60)}")
        except _Failed as f:
            err = error_node(
                "ioto:account",
                f"account: {f.message}",
                hint=f.hint,
                status=f.status,
                request=spec,
                retry={"op": "roots"},
            )
            return [err, self._all_devices()]
        user = self._user()
        key = str(account.get("id") or "account")
        return [
            DeviceNode(
                id=f"ioto:account:{key}",
                kind="account",
                label=str(account.get("name") or key),
                detail=account,
                request=spec,
                expandable=True,
                badge=_short(user.get("role")) if user and user.get("role") else None,
                ref={
                    "op": "devices",
                    "parent": f"ioto:account:{key}",
                    "accountId": account.get("id"),
                },
            )
        ]

    def _user(self) -> dict[str, Any] | None:
        try:
            data = self.call(self.spec("user/get", {}, "user/get"))
        except _Failed:
            return None
        user = data.get("data") if isinstance(data, dict) else None
        return user if isinstance(user, dict) else None

    def _all_devices(self) -> DeviceNode:
        return DeviceNode(
            id="ioto:devices",
            kind="group",
            label="All devices (device cloud)" if self.cloudapi else "All devices",
            request=self.spec("device/find", {"limit": self.page_size}, "device/find"),
            expandable=True,
            badge="CloudAPI" if self.cloudapi else None,
            ref={"op": "devices", "parent": "ioto:devices"},
        )

    def children(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        ref = node.ref.get("retry") or node.ref
        op = ref.get("op")
        if op == "roots":
            if cancel is None or not cancel.is_set():
                yield self.roots()
        elif op == "devices":
            yield from self._list(ref, "device/find", {}, self._device_node, cancel)
        elif op == "device":
            yield self._device_groups(ref["deviceId"])
        elif op == "store":
            device = ref["deviceId"]
            yield from self._list(
                ref,
                "generic/find",
                {"_type": STORE_TYPE, "deviceId": device},
                lambda item: self._store_node(device, item),
                cancel,
            )
        elif op == "metrics":
            device = ref["deviceId"]
            yield from self._list(
                ref,
                "metric/getMetricList",
                {"deviceId": device},
                lambda item: self._metric_node(device, item),
                cancel,
                paged=False,
            )

    def _list(
        self,
        ref: dict[str, Any],
        path: str,
        body: dict[str, Any],
        make: Callable[[dict[str, Any]], DeviceNode],
        cancel: threading.Event | None,
        paged: bool = True,
    ) -> Iterator[list[DeviceNode]]:
        """One batch per page, following `next` until null; a failed page ends with an error node."""
        parent = ref["parent"]
        cursor: str | None = ref.get("cursor")
        seen: set[str] = set()
        while True:
            if cancel is not None and cancel.is_set():
                return
            page_body = dict(body)
            if paged:
                page_body["limit"] = self.page_size
                if cursor:
                    page_body["next"] = cursor
            spec = self.spec(path, page_body, path)
            try:
                items, nxt = self._page(self.call(spec))
            except _Failed as f:
                yield [
                    error_node(
                        parent,
                        f.message,
                        hint=f.hint,
                        status=f.status,
                        request=spec,
                        retry={**ref, "cursor": cursor},
                    )
                ]
                return
            yield [make(item) for item in items if isinstance(item, dict)]
            if nxt is None or not paged:
                return
            if nxt in seen or nxt == cursor:
                yield [
                    error_node(
                        parent,
                        "the server sent a page cursor again (the list would loop)",
                        hint="stopped listing here; the items above are complete up to this page",
                        request=spec,
                    )
                ]
                return
            seen.add(nxt)
            cursor = nxt

    # --- nodes -------------------------------------------------------------------------

    def _device_node(self, record: dict[str, Any]) -> DeviceNode:
        key = str(record.get("id") or "")
        badge = None
        if "accountId" in record and record.get("accountId") is None:
            badge = "unclaimed"
        elif record.get("test") is True:
            badge = "test"
        return DeviceNode(
            id=f"ioto:device:{key}",
            kind="device",
            label=str(record.get("name") or key),
            detail=record,
            request=self.spec("device/get", {"id": key}, f"device/get {key}"),
            expandable=bool(key),
            badge=badge,
            ref={"op": "device", "deviceId": key},
        )

    def _device_groups(self, device: str) -> list[DeviceNode]:
        prefix = f"ioto:device:{device}"
        return [
            DeviceNode(
                id=f"{prefix}:store",
                kind="group",
                label="store",
                request=self.spec(
                    "generic/find",
                    {"_type": STORE_TYPE, "deviceId": device, "limit": self.page_size},
                    f"store of {device}",
                ),
                expandable=True,
                ref={"op": "store", "deviceId": device, "parent": f"{prefix}:store"},
            ),
            DeviceNode(
                id=f"{prefix}:metrics",
                kind="group",
                label="metrics",
                request=self.spec(
                    "metric/getMetricList", {"deviceId": device}, f"metrics of {device}"
                ),
                expandable=True,
                ref={"op": "metrics", "deviceId": device, "parent": f"{prefix}:metrics"},
            ),
        ]

    def _store_node(self, device: str, item: dict[str, Any]) -> DeviceNode:
        key = str(item.get("key") or item.get("id") or "?")
        body: dict[str, Any] = {"_type": STORE_TYPE, "deviceId": device}
        if item.get("id"):
            body["id"] = item["id"]
        else:
            body["key"] = key
        return DeviceNode(
            id=f"ioto:device:{device}:store:{key}",
            kind="resource",
            label=key,
            badge=_short(item["value"]) if "value" in item else None,
            detail=item,
            request=self.spec("generic/get", body, f"store {key} of {device}"),
        )

    def _metric_node(self, device: str, item: dict[str, Any]) -> DeviceNode:
        metric = str(item.get("metric") or "?")
        namespace = str(item.get("namespace") or "Embedthis/Device")
        query = {
            "deviceId": device,
            "items": [
                {
                    "namespace": namespace,
                    "metric": metric,
                    "dimensions": {"Device": device},
                    "period": METRIC_PERIOD,
                    "statistic": "avg",
                }
            ],
        }
        return DeviceNode(
            id=f"ioto:device:{device}:metric:{namespace}/{metric}",
            kind="stats",
            label=metric,
            detail=item,
            request=self.spec("metric/fetch", query, f"metric {metric} of {device}"),
        )
