"""EmbedThis Ioto as a device tree: account -> devices -> store keys and metrics.

::

    Demo Account                     account   account/get (Cognito: the login's account;
                                               CloudAPI: {"id": accountId}), user/get
      thermo-east-17                 device    device/find, paged by `next` cursors
        store                        group     generic/find {"_type": "Store", "deviceId"}, paged
          temperature                resource  (badge: the value)
        metrics                      group     metric/getMetricList {"namespace"}
          temperature                stats     (request: metric/fetch, as get-metric.sh sends it)

Every Ioto call is ``POST {urls.api}/{controller}/{action}`` with a JSON body. The request
specs on the nodes hold the profile's concrete API URL (already rendered when the profile
was loaded), not a ``{{urls.api}}`` template, so they can be sent as they are; they never
contain the CloudAPI ``/tok`` prefix: the ``ioto_cloudapi`` flow inserts it when the
request is signed, so one spec works with either flow.

Where things go (the vendor's sources; the emulator is never evidence):

- ``accountId`` in the body of device/find, device/get, generic/* and metric/fetch with a
  CloudAPI token ("Required if using CloudAPI token", https://www.embedthis.com/doc/ioto/ref/device.html;
  samples/api/find-items.sh, get-item.sh, get-metric.sh). The account id is the one the
  login checked (the token set's ``extra``), else the profile's ``account_id`` /
  ``[variables] accountId``. A login user acts on their own account: no accountId.
- The find options ``limit``, ``next`` (and ``filter``, ``prev``, ``index``) are
  **query-string options** (the "Query String Options" tables of the device and generic
  reference pages; samples/api/set-item.sh puts its option, ``?exists``, in the URL too):
  ``device/find?limit=100&next=<cursor>``; never body fields.
- metric/fetch follows samples/api/get-metric.sh: ``{accountId, deviceId, items: [{cloudId,
  namespace: "Embedthis/Device", metric, dimensions: {Device}, statistic: "current",
  period, accumulate: true}]}`` (cloudId from the account record when known).
- metric/getMetricList takes ``{cloudId (owner), namespace}`` and answers an object
  (``namespaces`` / ``metrics`` / ``dimensions``, metric reference page); a bare array of
  metric records is accepted as well.

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
METRIC_PERIOD = 86400  # metric nodes fetch the last day (get-metric.sh: period 86400)
METRIC_STATISTIC = "current"  # get-metric.sh
NAMESPACE = "Embedthis/Device"  # "Must be set to Embedthis/Device" (metric reference page)
STORE_TYPE = "Store"
ACCOUNT_PARAM = "account_id"
ACCOUNT_VARIABLE = "accountId"
ACCOUNT_HINT = (
    "a CloudAPI token needs the manager account id (accountId): give account_id in the "
    "profile's [auth] (or $IOTO_ACCOUNT with the built-in profile) and log in again"
)


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
        self._account: str | None = None
        self._cloud: str | None = None
        self._resolved = False
        self._login_error: WorkbenchError | None = None

    # --- the account the calls act on ----------------------------------------------------

    def _login_extra(self) -> dict[str, Any]:
        """The ``extra`` of the session's tokens (logging in unattended when needed), or {}."""
        from workbench.core.session import SessionAuth

        auth = self.client.auth
        if not isinstance(auth, SessionAuth):
            return {}
        try:
            tokens = auth.session.ensure_fresh()
        except WorkbenchError as err:  # e.g. not logged in: the roots say so
            self._login_error = err
            return {}
        self._login_error = None
        return dict(tokens.extra) if isinstance(tokens.extra, dict) else {}

    def _resolve(self) -> None:
        if self._resolved:
            return
        extra = self._login_extra()
        account = extra.get("accountId")
        if not isinstance(account, str) or not account:
            literal = self.profile.auth.params.get(ACCOUNT_PARAM)
            account = literal if isinstance(literal, str) and literal else None
        if not account:
            account = self.profile.variables.get(ACCOUNT_VARIABLE) or None
        cloud = extra.get("cloudId")
        if not isinstance(cloud, str) or not cloud:
            cloud = self.profile.variables.get("cloudId") or None
        self._account = account
        self._cloud = self._cloud or cloud
        self._resolved = bool(account) or not self.cloudapi

    @property
    def account_id(self) -> str | None:
        """The account a CloudAPI token acts on (None with a login token: the user's own)."""
        if not self.cloudapi:
            return None
        self._resolve()
        return self._account

    @property
    def cloud_id(self) -> str | None:
        self._resolve()
        return self._cloud

    def scoped(self, body: dict[str, Any]) -> dict[str, Any]:
        """`body` with ``accountId`` first when a CloudAPI token needs it."""
        account = self.account_id
        if account and "accountId" not in body:
            return {"accountId": account, **body}
        return body

    # --- requests ----------------------------------------------------------------------

    def spec(
        self,
        path: str,
        body: dict[str, Any],
        name: str = "",
        query: list[tuple[str, str]] | None = None,
    ) -> RequestSpec:
        """``POST {api}/{path}?{query}`` with a JSON body (no /tok: the CloudAPI flow adds it
        when signing). Options go in `query`, the documented place, never in `body`."""
        return RequestSpec(
            method="POST",
            url=f"{self.api}/{path}",
            params=list(query or []),
            body_kind="json",
            body=json.dumps(body, ensure_ascii=False),
            name=name or path,
        )

    def page_query(self, cursor: str | None = None) -> list[tuple[str, str]]:
        """The paging options as the docs put them: in the query string."""
        query = [("limit", str(self.page_size))]
        if cursor:
            query.append(("next", cursor))
        return query

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

    @staticmethod
    def _metric_list(data: Any) -> tuple[list[Any], str | None]:
        """The metrics of a getMetricList answer: the documented object (``metrics``: names or
        records, maybe inside ``data``) or a bare array of metric records."""
        if isinstance(data, dict) and "data" in data and not isinstance(data.get("metrics"), list):
            data = data["data"]
        if isinstance(data, dict) and isinstance(data.get("metrics"), list):
            data = data["metrics"]
        if isinstance(data, list):
            return [
                {"metric": item, "namespace": NAMESPACE} if isinstance(item, str) else item
                for item in data
            ], None
        raise _Failed(
            f"unexpected answer to metric/getMetricList: {_short(data, 60)}",
            hint="the API answered in a shape this adapter does not know",
        )

    # --- the tree ----------------------------------------------------------------------

    def roots(self) -> list[DeviceNode]:
        body: dict[str, Any] = {}
        if self.cloudapi:
            account_id = self.account_id
            if not account_id:
                failed = self._login_error
                return [
                    error_node(
                        "ioto:account",
                        f"account: {failed.message}"
                        if failed is not None
                        else "account: no account id (accountId) for the CloudAPI token",
                        hint=failed.hint if failed is not None else ACCOUNT_HINT,
                        retry={"op": "roots"},
                    )
                ]
            body = {"id": account_id}  # account/get: "id", role owner (a CloudAPI token)
        spec = self.spec("account/get", body, "account/get")
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
        cloud = account.get("cloudId")
        if isinstance(cloud, str) and cloud:
            self._cloud = cloud
        user = None if self.cloudapi else self._user()
        key = str(account.get("id") or "account")
        badge = _short(user.get("role")) if user and user.get("role") else None
        return [
            DeviceNode(
                id=f"ioto:account:{key}",
                kind="account",
                label=str(account.get("name") or key),
                detail=account,
                request=spec,
                expandable=True,
                badge="CloudAPI" if self.cloudapi else badge,
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
            label="All devices",
            request=self.spec(
                "device/find", self.scoped({}), "device/find", query=self.page_query()
            ),
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
            yield from self._list(ref, "device/find", self.scoped({}), self._device_node, cancel)
        elif op == "device":
            yield self._device_groups(ref["deviceId"])
        elif op == "store":
            device = ref["deviceId"]
            yield from self._list(
                ref,
                "generic/find",
                self.scoped({"_type": STORE_TYPE, "deviceId": device}),
                lambda item: self._store_node(device, item),
                cancel,
            )
        elif op == "metrics":
            device = ref["deviceId"]
            yield from self._list(
                ref,
                "metric/getMetricList",
                self._metric_list_body(),
                lambda item: self._metric_node(device, item),
                cancel,
                paged=False,
            )

    def _metric_list_body(self) -> dict[str, Any]:
        """getMetricList: ``cloudId`` (role owner: the CloudAPI token's) and the namespace."""
        body: dict[str, Any] = {"namespace": NAMESPACE}
        cloud = self.cloud_id
        if cloud:
            body = {"cloudId": cloud, **body}
        return body

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
            query = self.page_query(cursor) if paged else []
            spec = self.spec(path, body, path, query=query)
            try:
                data = self.call(spec)
                items, nxt = self._page(data) if paged else self._metric_list(data)
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
            request=self.spec("device/get", self.scoped({"id": key}), f"device/get {key}"),
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
                    self.scoped({"_type": STORE_TYPE, "deviceId": device}),
                    f"store of {device}",
                    query=self.page_query(),
                ),
                expandable=True,
                ref={"op": "store", "deviceId": device, "parent": f"{prefix}:store"},
            ),
            DeviceNode(
                id=f"{prefix}:metrics",
                kind="group",
                label="metrics",
                request=self.spec(
                    "metric/getMetricList", self._metric_list_body(), f"metrics of {device}"
                ),
                expandable=True,
                ref={"op": "metrics", "deviceId": device, "parent": f"{prefix}:metrics"},
            ),
        ]

    def _store_node(self, device: str, item: dict[str, Any]) -> DeviceNode:
        key = str(item.get("key") or item.get("id") or "?")
        # The Store model is keyed by account, device and key (the vendor's
        # schemas/parts/CloudSchema.json5; set-item.sh names the key): get it by its key.
        body: dict[str, Any] = {"_type": STORE_TYPE, "deviceId": device}
        if item.get("key") or not item.get("id"):
            body["key"] = key
        else:
            body["id"] = item["id"]
        return DeviceNode(
            id=f"ioto:device:{device}:store:{key}",
            kind="resource",
            label=key,
            badge=_short(item["value"]) if "value" in item else None,
            detail=item,
            request=self.spec("generic/get", self.scoped(body), f"store {key} of {device}"),
        )

    def metric_query(self, device: str, metric: str, namespace: str = NAMESPACE) -> dict[str, Any]:
        """The metric/fetch body of samples/api/get-metric.sh: ``{accountId, deviceId,
        items: [{cloudId, namespace, metric, dimensions, statistic: "current", period,
        accumulate: true}]}`` (accountId with a CloudAPI token, cloudId when known)."""
        item: dict[str, Any] = {}
        if self.cloud_id:
            item["cloudId"] = self.cloud_id
        item.update(
            {
                "namespace": namespace,
                "metric": metric,
                "dimensions": {"Device": device},
                "statistic": METRIC_STATISTIC,
                "period": METRIC_PERIOD,
                "accumulate": True,
            }
        )
        return self.scoped({"deviceId": device, "items": [item]})

    def _metric_node(self, device: str, item: dict[str, Any]) -> DeviceNode:
        metric = str(item.get("metric") or "?")
        namespace = str(item.get("namespace") or NAMESPACE)
        return DeviceNode(
            id=f"ioto:device:{device}:metric:{namespace}/{metric}",
            kind="stats",
            label=metric,
            detail=item,
            request=self.spec(
                "metric/fetch",
                self.metric_query(device, metric, namespace),
                f"metric {metric} of {device}",
            ),
        )
