"""plgd hub as a device tree: devices (HTTP gateway and C2C views) -> resources, and onboarding.

::

    devices (HTTP gateway)           group     GET {gateway}/devices   (NDJSON stream)
      Smart Bulb 0001 (<id>)         device    online/offline; GET {gateway}/devices/{id}
        /light/1                     resource  badge "core.light rw";
                                               GET {gateway}/devices/{id}/resources/light/1?onlyContent=true
    devices (C2C)                    group     GET {c2c}/api/v1/devices   (one JSON array)
      Smart Bulb 0001 (<di>)         device    links come with the device
        /light/1                     resource  GET {c2c}/api/v1/devices/{di}/light/1 (raw)
    onboarding                       info      GET {hub}/.well-known/configuration
      secured device                 info      detail: OnboardingValues; request: the coapcloudconf PUT
        apn: plgd                    info
        ...

URLs. The profile's ``urls.hub`` (else its first URL) is the hub. The HTTP gateway's API base
is, in this order: the profile's ``urls.gateway`` when it names one; the hub configuration's
``httpGatewayAddress`` + ``/api/v1`` (``GET {hub}/.well-known/configuration``, fetched once,
no auth); the hub URL + ``/api/v1`` while the configuration cannot be read (the group node's
hint then says why, and the next use asks the hub again). When the gateway is at an origin the session will not send the token to
(not one of the profile's, and not the one its login found in the hub configuration), the
group's hint says to log in again or add it to ``[urls]``.
The C2C group is shown only when the profile names a ``c2c`` URL (``urls.c2c``, its API at
``{c2c}/api/v1``): the C2C gateway's address is not in the hub configuration, and guessing a
path would show an error tree for most hubs.

Streams. ``GET /devices`` answers NDJSON, one ``{"result": ...}`` or ``{"error": ...}`` per
line, a blank line after each (the hub's marshaler ends a message with a newline and
grpc-gateway adds its delimiter: docs/platforms/plgd.md); ``GET /devices/{id}/resource-links`` one bare ResourceLinks object (the hub unwraps the
stream for one device; an enveloped line is read too). They are read with ``client.stream`` and
parsed line by line as they arrive (:mod:`.ndjson`); children come out in batches of
``page_size`` nodes, and ``cancel`` is checked between batches (leaving the stream's ``with``
block closes the connection). The C2C device list is one JSON array, parsed element by
element as it arrives (:func:`.ndjson.parse_array`), batched the same way.

Errors never escape ``children``: an HTTP error answer, an ``{"error": ...}`` line, a line that
is not JSON, an HTML page (maintenance, a proxy) or a broken connection become error nodes
with words and a hint (gRPC 16 -> "log in again", 7 permission denied, 5 not found,
14 unavailable / "device offline"). Stream errors keep the nodes already yielded. When the
whole listing failed (an HTTP error, no connection) or the stream broke, the error node's
``ref["retry"]`` replays the listing when passed to ``children``, skipping the lines already
shown; an error about one line (an ``{"error"}`` message, a line that is not JSON) carries no
retry, since the rest of the stream was read. Resource contents are fetched on demand with :meth:`Adapter.content`, which
raises ``ResponseError`` / ``TransportError`` with the same words.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from workbench.core.errors import ResponseError, WorkbenchError
from workbench.core.platforms import base
from workbench.core.platforms import plgd_onboarding as onboarding
from workbench.core.platforms.base import DeviceNode, error_node
from workbench.core.platforms.ndjson import (
    Line,
    Malformed,
    excerpt,
    parse_array,
    parse_lines,
    unwrap,
)
from workbench.core.requests import RequestSpec, ResponseRecord
from workbench.core.text import escape_keep_newlines

if TYPE_CHECKING:
    from workbench.core.profiles import Profile

GRPC_NAMES = {
    0: "OK",
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}
# gRPC code -> (what happened, what to do)
GRPC_WORDS: dict[int, tuple[str, str]] = {
    16: (
        "not authenticated: the hub refused the access token",
        "log in again (the token is missing, expired or was revoked)",
    ),
    7: ("permission denied", "the token lacks the scope for this, or the resource is read-only"),
    5: (
        "not found",
        "the device or resource is not (or no longer) registered with this hub, or belongs to another user",
    ),
    14: (
        "unavailable: device offline",
        "the device is offline or the hub cannot reach it; try again when it is online",
    ),
    3: ("invalid request", "check the request's parameters and body"),
    4: ("timed out", "the device or hub did not answer in time; try again"),
    12: ("not supported by this hub", "check the URL and method"),
    13: ("internal error in the hub", "try again later"),
}
HTTP_WORDS: dict[int, tuple[str, str]] = {
    401: GRPC_WORDS[16],
    403: GRPC_WORDS[7],
    404: GRPC_WORDS[5],
    400: GRPC_WORDS[3],
    503: ("unavailable", "the hub or the device is unavailable; try again later"),
    502: ("bad gateway", "a proxy in front of the hub could not reach it; try again later"),
    504: ("gateway timeout", "a proxy in front of the hub timed out; try again later"),
    500: ("internal server error", "try again later"),
}
STATUS_WORDS = {"online": "ONLINE", "offline": "OFFLINE"}
WRITABLE_IFS = ("oic.if.rw", "oic.if.a")
READABLE_IFS = ("oic.if.r", "oic.if.s", "oic.if.ll", "oic.if.b", "oic.if.baseline")


# --- small pure helpers ----------------------------------------------------------------------


def status_filter(value: str | None) -> str | None:
    """ "online" / "ONLINE" -> "ONLINE"; "offline" -> "OFFLINE"; None / "" / "all" -> None.

    Numbers are refused: the hub's filter counts ONLINE = 0, OFFLINE = 1
    (grpc-gateway/pb/devices.proto GetDevicesRequest.Status) while a device's status counts
    OFFLINE = 0, ONLINE = 1 (resource-aggregate/pb/commands.proto Connection.Status), so "1"
    would mean one thing to the hub and the other to a reader. The name is what is sent."""
    if value is None or not value.strip() or value.strip().lower() in ("all", "any", "*"):
        return None
    if value.strip().isdigit():
        raise WorkbenchError(
            f"device status {escape_keep_newlines(value)!r} is a number",
            hint="plgd numbers the filter ONLINE=0, OFFLINE=1 but a device's status "
            "OFFLINE=0, ONLINE=1: say online or offline (or all)",
        )
    word = STATUS_WORDS.get(value.strip().lower())
    if word is None:
        raise WorkbenchError(
            f"unknown device status {escape_keep_newlines(value)!r}",
            hint="use online or offline (or all)",
        )
    return word


def device_status(device: dict[str, Any]) -> str | None:
    """A Device's connection status as "online" / "offline" (None when unknown)."""
    raw_meta = device.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    raw_conn = meta.get("connection")
    raw = raw_conn.get("status") if isinstance(raw_conn, dict) else None
    old = meta.get("status")
    if raw is None and isinstance(old, dict):  # older hubs: metadata.status.value
        raw = old.get("value")
    if isinstance(raw, str):
        return {"ONLINE": "online", "OFFLINE": "offline"}.get(raw.upper())
    return None


def resource_badge(types: Iterable[str] | None, interfaces: Iterable[str] | None) -> str | None:
    """ "core.light rw": the first resource type and whether the interfaces allow writing."""
    ifs = list(interfaces or [])
    access = (
        "rw"
        if any(i in WRITABLE_IFS for i in ifs)
        else ("r" if any(i in READABLE_IFS for i in ifs) else "")
    )
    rt = next(iter(types or []), "")
    return " ".join(x for x in (rt, access) if x) or None


def explain(status: int, headers: httpx.Headers | dict[str, str], body: bytes) -> tuple[str, str]:
    """(message, hint) in words for an error answer of the hub (HTTP gateway or C2C)."""
    h = httpx.Headers(headers)
    ctype = h.get("content-type", "").lower()
    text = body.decode("utf-8", "replace")
    head = text.lstrip()[:15].lower()
    if "text/html" in ctype or head.startswith(("<!doctype", "<html")):
        msg = f"the server answered an HTML page instead of the API (HTTP {status}: {onboarding.page_summary(text)})"
        retry = h.get("retry-after")
        if status == 503:
            hint = "the hub says it is down for maintenance; try again" + (
                f" in {escape_keep_newlines(retry)} s" if retry and retry.isdigit() else " later"
            )
        else:
            hint = "check the profile's URLs: a proxy, login page or wrong path answered instead of the hub"
        return msg, hint
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        data = None
    if isinstance(data, dict) and ("code" in data or "grpcCode" in data):
        return grpc_words(data, status)
    http_msg, http_hint = HTTP_WORDS.get(
        status, (f"HTTP {status}", "see the answer in the request composer")
    )
    if text.strip() and data is None and "json" in ctype:
        return (
            f"{http_msg} (HTTP {status}); the answer is not valid JSON: {excerpt(text)}",
            "the hub or a proxy garbled the answer; try again",
        )
    server = f": {excerpt(text, 200)}" if text.strip() else ""
    return f"{http_msg} (HTTP {status}){server}", http_hint


def grpc_words(err: dict[str, Any], status: int | None = None) -> tuple[str, str]:
    """(message, hint) for a grpc-gateway error object ``{"code","message","details"}``."""
    raw = err.get("code", err.get("grpcCode"))
    try:
        code: int | None = int(raw) if raw is not None else None
    except (TypeError, ValueError):
        code = None
    server = err.get("message") or err.get("error") or ""
    server = excerpt(str(server), 200) if server else ""
    words, hint = (
        GRPC_WORDS.get(code, ("error", "see the answer in the request composer"))
        if code is not None
        else ("error", "see the answer in the request composer")
    )
    name = GRPC_NAMES.get(code, str(code)) if code is not None else "?"
    where = f"HTTP {status}, " if status else ""
    return f"{words} ({where}code {code} {name})" + (f": {server}" if server else ""), hint


# --- the adapter -----------------------------------------------------------------------------


class Adapter(base.Adapter):
    platform = "plgd"

    def __init__(
        self,
        profile: Profile,
        client: httpx.Client,
        page_size: int = 100,
        status: str | None = None,
    ) -> None:
        super().__init__(profile, client, page_size=max(1, page_size))
        self.hub_url = (profile.urls.get("hub") or profile.base_url).rstrip("/")
        self.c2c_url = profile.urls["c2c"].rstrip("/") if profile.urls.get("c2c") else None
        self.status = status_filter(status)
        self._config: dict[str, Any] | None = None
        self._config_error: WorkbenchError | None = None
        self._gateway: str | None = None
        self._lock = threading.Lock()

    # --- hub facts ------------------------------------------------------------------------
    def configuration(self, *, refresh: bool = False) -> dict[str, Any]:
        """The hub configuration (fetched once; raises TransportError / ResponseError)."""
        with self._lock:
            if self._config is None or refresh:
                self._config = onboarding.hub_configuration(self.client, self.hub_url)
                self._config_error = None
            return self._config

    @property
    def gateway(self) -> str:
        """The HTTP gateway's API base URL (…/api/v1), resolved once (see the module docs)."""
        if self._gateway is None:
            explicit = self.profile.urls.get("gateway")
            if explicit:
                self._gateway = onboarding.gateway_url(None, explicit)
            else:
                try:
                    config = self.configuration()
                except WorkbenchError as err:
                    # not kept: the next use asks the hub again (the gateway may be elsewhere)
                    self._config_error = err
                    return onboarding.gateway_url(None, self.hub_url)
                self._gateway = onboarding.gateway_url(config, self.hub_url)
        return self._gateway

    def _token_origins(self) -> set[Any]:
        """Where the session sends the token: the profile's origins plus what its login
        discovered (the session behind this client's auth, when there is one)."""
        session = getattr(getattr(self.client, "auth", None), "session", None)
        origins = getattr(session, "token_origins", None)
        found = origins() if callable(origins) else None
        return set(found) if isinstance(found, set) else set(self.profile.origins())

    @property
    def c2c_api(self) -> str | None:
        if self.c2c_url is None:
            return None
        return (
            self.c2c_url
            if self.c2c_url.endswith(onboarding.API_PATH)
            else self.c2c_url + onboarding.API_PATH
        )

    def _gateway_note(self) -> str | None:
        gateway = self.gateway
        notes: list[str] = []
        if self._config_error is not None:
            notes.append(
                f"the hub configuration could not be read ({self._config_error.message}); "
                f"using {gateway}"
            )
        from workbench.core.profiles import Origin

        if Origin.of(gateway) not in self._token_origins():
            notes.append(
                f"the gateway {gateway} is not where the session sends the token (the "
                "profile's URLs and the gateway its login found), so it will not be signed: log "
                'in again, or add it to the profile\'s [urls] (e.g. gateway = "...")'
            )
        return "; ".join(notes) or None

    # --- requests --------------------------------------------------------------------------
    def devices_spec(self, status: str | None = None) -> RequestSpec:
        word = status_filter(status)
        return RequestSpec(
            method="GET",
            url=f"{self.gateway}/devices",
            params=[("status", word)] if word else [],
            name="plgd devices" + (f" ({word.lower()})" if word else ""),
        )

    def device_spec(self, device_id: str) -> RequestSpec:
        return RequestSpec(
            method="GET",
            url=f"{self.gateway}/devices/{quote(device_id, safe='')}",
            name=f"plgd device {device_id}",
        )

    def links_spec(self, device_id: str) -> RequestSpec:
        return RequestSpec(
            method="GET",
            url=f"{self.gateway}/devices/{quote(device_id, safe='')}/resource-links",
            name=f"plgd resource links of {device_id}",
        )

    def resource_spec(self, device_id: str, href: str) -> RequestSpec:
        path = quote("/" + href.lstrip("/"), safe="/")
        return RequestSpec(
            method="GET",
            url=f"{self.gateway}/devices/{quote(device_id, safe='')}/resources{path}",
            params=[("onlyContent", "true")],
            name=f"plgd resource {href}",
        )

    def c2c_devices_spec(self) -> RequestSpec:
        return RequestSpec(method="GET", url=f"{self.c2c_api}/devices", name="plgd C2C devices")

    # --- roots -----------------------------------------------------------------------------
    def devices_group(self, status: str | None = None) -> DeviceNode:
        """The HTTP gateway's device list, optionally only ONLINE or OFFLINE devices."""
        word = status_filter(status)
        label = "devices (HTTP gateway" + (f", {word.lower()} only)" if word else ")")
        return DeviceNode(
            id="plgd:gateway" + (f":{word.lower()}" if word else ""),
            kind="group",
            label=label,
            request=self.devices_spec(word),
            expandable=True,
            hint=self._gateway_note(),
            detail={"gateway": self.gateway, "hub": self.hub_url, "status": word},
            ref={"list": "devices", "status": word},
        )

    def roots(self) -> list[DeviceNode]:
        nodes = [self.devices_group(self.status)]
        if self.c2c_api:
            nodes.append(
                DeviceNode(
                    id="plgd:c2c",
                    kind="group",
                    label="devices (C2C)",
                    request=self.c2c_devices_spec(),
                    expandable=True,
                    detail={"c2c": self.c2c_api},
                    ref={"list": "c2c-devices"},
                )
            )
        nodes.append(
            DeviceNode(
                id="plgd:onboarding",
                kind="info",
                label="onboarding (coapcloudconf values)",
                request=RequestSpec(
                    method="GET",
                    url=onboarding.configuration_url(self.hub_url),
                    name="plgd hub configuration",
                ),
                expandable=True,
                detail={"hub": self.hub_url},
                ref={"list": "onboarding"},
            )
        )
        return nodes

    # --- children --------------------------------------------------------------------------
    def children(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        ref = node.ref
        parent_id = node.id
        skip = 0
        if node.kind == "error":
            retry = ref.get("retry")
            if not retry:
                return
            ref, parent_id, skip = retry["ref"], retry["parent_id"], int(retry.get("skip", 0))
        listing = ref.get("list")
        if cancel is not None and cancel.is_set():
            return
        if listing == "devices":
            yield from self._stream_lines(
                parent_id,
                ref,
                self.devices_spec(ref.get("status")),
                self._device_nodes,
                cancel,
                skip,
            )
        elif listing == "links":
            did = ref["device_id"]
            # one bare ResourceLinks object: the hub unwraps the stream's "result" for one
            # device (plgd-dev/hub http-gateway/service/getDeviceResourceLinks.go,
            # toSimpleResponse); an enveloped {"result": ...} line is read too
            yield from self._stream(
                parent_id,
                ref,
                self.links_spec(did),
                cancel,
                skip,
                lambda response: parse_lines(response.iter_lines()),
                lambda line, value: self._resource_nodes(did, _links_value(value)),
                envelope=False,
            )
        elif listing == "c2c-devices":
            yield from self._stream_array(parent_id, ref, self.c2c_devices_spec(), cancel, skip)
        elif listing == "c2c-links":
            yield [
                self._c2c_resource(ref["device_id"], link)
                for link in ref.get("links", [])
                if isinstance(link, dict) and link.get("href")
            ]
        elif listing == "onboarding":
            yield self._onboarding_nodes(parent_id, node)
        elif listing == "onboarding-values":
            yield self._value_nodes(parent_id, ref.get("values", {}), ref.get("reasons", {}))

    # --- node makers -----------------------------------------------------------------------
    def device_node(self, device: dict[str, Any]) -> DeviceNode:
        did = str(device["id"])
        name = device.get("name")
        label = f"{name} ({did})" if name else did
        types = [t for t in device.get("types") or [] if t != "oic.wk.d"]
        return DeviceNode(
            id=f"plgd:device:{did}",
            kind="device",
            label=label,
            status=device_status(device),
            detail=device,
            request=self.device_spec(did),
            expandable=True,
            badge=types[0] if types else None,
            ref={"list": "links", "device_id": did},
        )

    def _device_nodes(self, line: Line, value: Any) -> list[DeviceNode]:
        if isinstance(value, dict) and value.get("id"):
            return [self.device_node(value)]
        raise _BadMessage("a device without an id")

    def resource_node(self, device_id: str, link: dict[str, Any]) -> DeviceNode:
        href = str(link["href"])
        return DeviceNode(
            id=f"plgd:resource:{device_id}{href}",
            kind="resource",
            label=href,
            badge=resource_badge(link.get("resourceTypes"), link.get("interfaces")),
            request=self.resource_spec(device_id, href),
            ref={"device_id": device_id, "href": href, "link": link, "view": "gateway"},
        )

    def _resource_nodes(self, device_id: str, value: Any) -> list[DeviceNode]:
        if not isinstance(value, dict) or not isinstance(value.get("resources"), list):
            raise _BadMessage("resource links without a 'resources' list")
        did = str(value.get("deviceId") or device_id)
        return [
            self.resource_node(did, link)
            for link in value["resources"]
            if isinstance(link, dict) and link.get("href")
        ]

    def c2c_device_node(self, item: dict[str, Any]) -> DeviceNode:
        raw_dev = item.get("device")
        dev: dict[str, Any] = raw_dev if isinstance(raw_dev, dict) else {}
        di = str(dev["di"])
        name = dev.get("n")
        status = item.get("status")
        links = item.get("links") if isinstance(item.get("links"), list) else []
        rts = [t for t in dev.get("rt") or [] if t != "oic.wk.d"]
        return DeviceNode(
            id=f"plgd:c2c:device:{di}",
            kind="device",
            label=f"{name} ({di})" if name else di,
            status=status.lower()
            if isinstance(status, str) and status.lower() in ("online", "offline")
            else None,
            detail=item,
            expandable=bool(links),
            badge=rts[0] if rts else None,
            request=RequestSpec(
                method="GET",
                url=f"{self.c2c_api}/devices/{quote(di, safe='')}",
                name=f"plgd C2C device {di}",
            ),
            ref={"list": "c2c-links", "device_id": di, "links": links},
        )

    def _c2c_resource(self, di: str, link: dict[str, Any]) -> DeviceNode:
        full = "/" + str(link["href"]).lstrip("/")
        prefix = f"/{di}"
        href = full[len(prefix) :] if full.startswith(prefix + "/") else full
        full = prefix + href
        return DeviceNode(
            id=f"plgd:c2c:resource:{di}{href}",
            kind="resource",
            label=href,
            badge=resource_badge(link.get("rt"), link.get("if")),
            request=RequestSpec(
                method="GET",
                url=f"{self.c2c_api}/devices{quote(full, safe='/')}",
                name=f"plgd C2C resource {href}",
            ),
            ref={"device_id": di, "href": href, "link": link, "view": "c2c"},
        )

    # --- streaming -------------------------------------------------------------------------
    def _open(self, spec: RequestSpec) -> httpx.Response:
        """Send a GET for streaming (redirects followed hop by hop); the body is not read."""
        from workbench.core.http import send_following_redirects

        request = spec.to_httpx(self.client)
        return send_following_redirects(self.client, request, stream=True)

    def _fail_node(
        self,
        parent_id: str,
        ref: dict[str, Any],
        spec: RequestSpec,
        skip: int | None,
        message: str,
        hint: str | None,
        status: int | None = None,
        suffix: str = "",
    ) -> DeviceNode:
        """An error node; with `skip` (lines already shown) it carries a retry of the listing."""
        retry = None if skip is None else {"ref": ref, "parent_id": parent_id, "skip": skip}
        node = error_node(parent_id, message, hint=hint, status=status, request=spec, retry=retry)
        if suffix:
            node.id = f"{node.id}:{suffix}"
        return node

    def _stream_lines(
        self,
        parent_id: str,
        ref: dict[str, Any],
        spec: RequestSpec,
        make: Callable[[Line, Any], list[DeviceNode]],
        cancel: threading.Event | None,
        skip: int = 0,
    ) -> Iterator[list[DeviceNode]]:
        yield from self._stream(
            parent_id,
            ref,
            spec,
            cancel,
            skip,
            lambda response: parse_lines(response.iter_lines()),
            make,
            envelope=True,
        )

    def _stream_array(
        self,
        parent_id: str,
        ref: dict[str, Any],
        spec: RequestSpec,
        cancel: threading.Event | None,
        skip: int = 0,
    ) -> Iterator[list[DeviceNode]]:
        def make(line: Line, value: Any) -> list[DeviceNode]:
            dev = value.get("device") if isinstance(value, dict) else None
            if not isinstance(dev, dict) or not dev.get("di"):
                raise _BadMessage("a C2C device without device.di")
            return [self.c2c_device_node(value)]

        yield from self._stream(
            parent_id,
            ref,
            spec,
            cancel,
            skip,
            lambda response: parse_array(response.iter_text()),
            make,
            envelope=False,
        )

    def _stream(
        self,
        parent_id: str,
        ref: dict[str, Any],
        spec: RequestSpec,
        cancel: threading.Event | None,
        skip: int,
        parse: Callable[[httpx.Response], Iterator[Line | Malformed]],
        make: Callable[[Line, Any], list[DeviceNode]],
        *,
        envelope: bool,
    ) -> Iterator[list[DeviceNode]]:
        def fail(
            message: str,
            hint: str | None,
            status: int | None = None,
            suffix: str = "",
            at: int | None = skip,
        ) -> DeviceNode:
            return self._fail_node(parent_id, ref, spec, at, message, hint, status, suffix)

        try:
            response = self._open(spec)
        except WorkbenchError as err:  # TransportError, AuthError / LoginRequired from the session
            yield [fail(err.message, err.hint)]
            return
        batch: list[DeviceNode] = []
        last = skip  # a line number: the hub writes a blank line after each message
        shown = 0  # messages (non-blank lines) read in this attempt
        try:
            if response.status_code >= 300:
                try:
                    body = response.read()
                except httpx.HTTPError:
                    body = b""
                message, hint = explain(response.status_code, response.headers, body)
                yield [fail(message, hint, response.status_code)]
                return
            for item in parse(response):
                if item.number <= skip:
                    continue
                last = item.number
                shown += 1
                if isinstance(item, Malformed):
                    batch.append(
                        fail(
                            item.describe(),
                            "the hub (or a proxy) sent something that is not JSON; "
                            "the other lines are shown",
                            suffix=f"line{item.number}",
                            at=None,
                        )
                    )
                else:
                    batch.extend(self._message_nodes(item, make, envelope, fail))
                if len(batch) >= self.page_size:
                    yield batch
                    batch = []
                    if cancel is not None and cancel.is_set():
                        return
        except httpx.HTTPError as exc:
            from workbench.core.http import transport_error

            broken = transport_error(exc, spec.url)
            batch.append(
                fail(
                    f"the stream broke after {shown} message{'s' if shown != 1 else ''}: {broken.message}",
                    "retry to load the rest (the messages already shown are skipped)",
                    suffix="broken",
                    at=last,
                )
            )
        finally:
            response.close()
        if batch:
            yield batch

    def _message_nodes(
        self,
        item: Line,
        make: Callable[[Line, Any], list[DeviceNode]],
        envelope: bool,
        fail: Callable[..., DeviceNode],
    ) -> list[DeviceNode]:
        suffix = f"line{item.number}"
        if envelope:
            kind, value = unwrap(item.value)
            if kind == "error":
                message, hint = grpc_words(
                    value if isinstance(value, dict) else {"message": str(value)}
                )
                return [fail(f"line {item.number}: {message}", hint, suffix=suffix, at=None)]
            if kind == "other":
                return [
                    fail(
                        f'line {item.number} is not a stream message ({{"result"}} or {{"error"}}): '
                        f"{excerpt(json.dumps(item.value))}",
                        "is the URL a plgd HTTP gateway stream?",
                        suffix=suffix,
                        at=None,
                    )
                ]
        else:
            value = item.value
        try:
            return make(item, value)
        except _BadMessage as bad:
            return [
                fail(
                    f"line {item.number}: {bad}: {excerpt(json.dumps(value))}",
                    "the hub sent an unexpected message; it is skipped",
                    suffix=suffix,
                    at=None,
                )
            ]

    # --- onboarding ------------------------------------------------------------------------
    def _onboarding_nodes(self, parent_id: str, node: DeviceNode) -> list[DeviceNode]:
        try:
            config = self.configuration()
        except WorkbenchError as err:
            return [
                error_node(
                    parent_id,
                    f"cannot read the hub configuration: {err.message}",
                    hint=err.hint,
                    status=getattr(err, "status", None),
                    request=node.request,
                    retry={"ref": node.ref, "parent_id": parent_id, "skip": 0},
                )
            ]
        secured = onboarding.onboarding_values(
            self.client, self.hub_url, secured=True, configuration=config
        )
        # one authorization-code attempt serves both views
        plain = onboarding.onboarding_values(
            self.client,
            self.hub_url,
            secured=False,
            configuration=config,
            provider_token_fetcher=_given(secured.at, secured.at_reason),
        )
        nodes = []
        for values in (secured, plain):
            kind = "secured" if values.secured else "unsecured"
            reasons = dict(values.missing)
            nodes.append(
                DeviceNode(
                    id=f"plgd:onboarding:{kind}",
                    kind="info",
                    label=f"{kind} device",
                    detail=values.to_json(),
                    request=values.update_request,
                    expandable=True,
                    badge="at missing" if values.at is None else None,
                    hint=values.at_reason,
                    ref={
                        "list": "onboarding-values",
                        "values": values.coapcloudconf(),
                        "reasons": reasons,
                        "onboarding": values,
                    },
                )
            )
        return nodes

    def _value_nodes(
        self, parent_id: str, values: dict[str, str | None], reasons: dict[str, str]
    ) -> list[DeviceNode]:
        nodes = []
        for key, value in values.items():
            shown = value if value is not None else "(not available)"
            nodes.append(
                DeviceNode(
                    id=f"{parent_id}:{key}",
                    kind="info",
                    label=f"{key}: {shown}",
                    detail={key: value},
                    badge=None if value is not None else "missing",
                    hint=reasons.get(key),
                )
            )
        return nodes

    # --- on demand -------------------------------------------------------------------------
    def content(self, node: DeviceNode) -> Any:
        """Fetch a node's document with its request (a resource's content, a device's detail);
        stores it in ``node.detail`` and returns it. Raises ResponseError with words on an
        error answer, TransportError on a network failure."""
        if node.request is None:
            return node.detail
        record = self.get(node.request)
        if record.status >= 300:
            message, hint = explain(record.status, dict(record.headers), record.body)
            raise ResponseError(message, status=record.status, hint=hint)
        value = _json_or_text(record)
        node.detail = value
        return value


class _BadMessage(Exception):
    """A stream message that parsed but is not what the listing expects."""


def _links_value(value: Any) -> Any:
    """A device's resource links, bare or in a stream envelope."""
    kind, inner = unwrap(value)
    return inner if kind == "result" else value


def _given(at: str | None, reason: str | None) -> onboarding.CodeFetcher:
    """A fetcher that hands back an already-obtained code (or its failure reason)."""

    def fetch(_request: onboarding.DeviceCodeRequest) -> str | None:
        if at is None:
            raise WorkbenchError(reason or "no authorization code")
        return at

    return fetch


def _json_or_text(record: ResponseRecord) -> Any:
    try:
        return json.loads(record.body) if record.body else None
    except (ValueError, UnicodeDecodeError):
        ctype = record.content_type.lower()
        if "json" in ctype:
            raise ResponseError(
                f"the answer is not valid JSON: {excerpt(record.text())}",
                status=record.status,
                hint="the hub or a proxy garbled the answer; try again",
            ) from None
        return record.text()
