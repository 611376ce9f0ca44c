"""Thinger.io device tree: the account, its devices (count/index paging until a short page),
each device's resources (from the v2 API description), stats and device tokens; buckets.

Tree::

    account  "Thinger.io user demo"
    group    "devices"                       GET {api}/v1/users/{u}/devices?count=N&index=I
      device "nodemcu (NodeMCU)"             GET {api}/v1/users/{u}/devices/{d}   status online/offline
        resource "temperature" [output]      GET  {api}/v2/users/{u}/devices/{d}/{r}
        resource "relay" [input]             POST {api}/v2/users/{u}/devices/{d}/{r}  {"in": null}
        stats                                GET {api}/v1/users/{u}/devices/{d}/stats (fetched on demand)
        group "tokens"                       GET {api}/v1/users/{u}/devices/{d}/tokens (secrets masked)
    group    "buckets"                       GET {api}/v1/users/{u}/buckets
      bucket "temperature_log (...)"         GET {api}/v1/users/{u}/buckets/{b}/data?items=10

The user (`{u}`) is, in this order: the `user` argument, the profile's `[variables] user`,
or the `usr` claim of the access token the client sends (decoded without verification —
Thinger's clients take the user from it the same way).

Private servers: a token issued by a private Thinger server names that server in its `svr`
claim (a host name; the vendor's own mobile app, thinger-io/Mobile-App src/utils/jwt.ts,
talks to ``https://<svr>`` and to ``https://api.thinger.io`` when the claim is absent). The
account node shows the server; when `svr` names another host than the profile's API, an
error node says so and names the fix (``[urls] api = "https://<svr>"``). The adapter never
re-points requests by itself: a session sends its token only to the origins the profile
names, and a claim inside the token must not widen that.

An offline device cannot describe its resources: Thinger answers 404 while it is
disconnected, and the tree says so in an error node. A failed page becomes an error node
whose ``ref["retry"]`` lets ``children(error_node)`` go on from the page that failed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from workbench.core.errors import WorkbenchError
from workbench.core.platforms.base import Adapter as BaseAdapter
from workbench.core.platforms.base import DeviceNode, bearer_from_client, error_node, path_id
from workbench.core.platforms.problems import Problem, check_response, fetch_record
from workbench.core.requests import RequestSpec
from workbench.core.text import escape_keep_newlines

if TYPE_CHECKING:
    import httpx

    from workbench.core.profiles import Profile

RESOURCE_KINDS = {1: "run", 2: "input", 3: "output", 4: "input-output", 5: "stream"}
WRITE_KINDS = {"input", "input-output"}
OFFLINE_TEXT = "device offline: resources cannot be listed (Thinger answers 404 while a device is disconnected)"
MASK_KEEP = 6
BUCKET_ITEMS = "10"


def mask_token(value: str) -> str:
    """The first 6 characters of a token and an ellipsis: enough to tell tokens apart."""
    return value[:MASK_KEEP] + "…" if value else value


def mask_secrets(doc: Any) -> Any:
    """A copy of `doc` with every ``"token"`` string value masked (the secret of a device token)."""
    if isinstance(doc, dict):
        return {
            k: mask_token(v) if k == "token" and isinstance(v, str) else mask_secrets(v)
            for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [mask_secrets(v) for v in doc]
    return doc


def token_claims(token: str) -> dict[str, Any]:
    """The token's claims, decoded without verification ({} when it is not a JWT)."""
    from workbench.core.tokens.inspect import inspect_token

    report = inspect_token(token)
    return dict(report.claims) if report.ok else {}


def user_from_token(token: str) -> str | None:
    usr = token_claims(token).get("usr")
    return usr if isinstance(usr, str) and usr else None


def server_from_token(token: str) -> str | None:
    """The private server a token names in its ``svr`` claim (a host, maybe with a port)."""
    svr = token_claims(token).get("svr")
    return svr.strip() if isinstance(svr, str) and svr.strip() else None


def same_host(server: str, api: str) -> bool:
    """Does the ``svr`` host (``host`` or ``host:port``) name the API URL's host?"""
    import httpx

    url = httpx.URL(api)
    wanted = server.strip().lower().rstrip("/")
    if "://" in wanted:
        wanted = wanted.split("://", 1)[1]
    host = (url.host or "").lower()
    default = {"https": 443, "http": 80}.get(url.scheme)
    port = url.port or default
    if ":" in wanted:
        name, _, p = wanted.rpartition(":")
        return name == host and p.isdigit() and int(p) == port
    return wanted == host


class Adapter(BaseAdapter):
    """Thinger.io adapter.

    ``user``: the Thinger user name to browse; when None it comes from the profile's
    ``[variables] user`` or else from the access token's ``usr`` claim.
    """

    platform = "thinger"

    def __init__(
        self,
        profile: Profile,
        client: httpx.Client,
        page_size: int = 100,
        *,
        user: str | None = None,
    ) -> None:
        super().__init__(profile, client, page_size=max(1, int(page_size)))
        self.api = (profile.urls.get("api") or profile.base_url).rstrip("/")
        self._user = user or profile.variables.get("user") or None
        self.user_source = "argument" if user else "profile variables" if self._user else None
        self._server: str | None = None
        self._server_known = False

    # -- the user -------------------------------------------------------------------------
    def user(self) -> str:
        """The user whose devices are listed (Problem when it cannot be found out)."""
        if self._user:
            return self._user
        try:
            token = bearer_from_client(self.client, self.api + "/v1/users")
        except WorkbenchError as err:
            raise Problem(
                f"cannot find out the Thinger user: {err.message}", hint=err.hint
            ) from None
        if not token:
            raise Problem(
                "cannot find out the Thinger user: the client sends no bearer token",
                hint='log in first, or set [variables] user = "..." in the profile',
            )
        usr = user_from_token(token)
        if not usr:
            raise Problem(
                "cannot find out the Thinger user: the access token has no 'usr' claim",
                hint='set [variables] user = "..." in the profile',
            )
        self._user = usr
        self.user_source = "token usr claim"
        return usr

    def server(self) -> str | None:
        """The private server named by the token's ``svr`` claim (None: none named, or no token)."""
        if not self._server_known:
            try:
                token = bearer_from_client(self.client, self.api + "/v1/users")
            except WorkbenchError:
                return None
            self._server = server_from_token(token) if token else None
            self._server_known = True
        return self._server

    def _server_nodes(self) -> list[DeviceNode]:
        """An error node when the token belongs to another server than the profile's API."""
        svr = self.server()
        if not svr or same_host(svr, self.api):
            return []
        return [
            error_node(
                "thinger:server",
                f"this token was issued by the Thinger server {escape_keep_newlines(svr)} "
                f"(its 'svr' claim), but the profile sends requests to {self.api}",
                hint=f'point the profile at that server: [urls] api = "https://{svr}" '
                "(in a copy of the profile); the token is only ever sent to the hosts the "
                "profile names",
            )
        ]

    def _u(self, user: str) -> str:
        return f"{self.api}/v1/users/{path_id(user)}"

    def _v2(self, user: str) -> str:
        return f"{self.api}/v2/users/{path_id(user)}"

    # -- fetching -------------------------------------------------------------------------
    def fetch(self, spec: RequestSpec, what: str) -> Any:
        record = fetch_record(self, spec, what)
        return check_response(
            record,
            what=what,
            forbidden_hint=(
                "this token may not do that: device tokens reach only their own device and resources; "
                "log in with the account's user"
            ),
        )

    # -- roots ----------------------------------------------------------------------------
    def roots(self) -> list[DeviceNode]:
        try:
            user = self.user()
        except Problem as p:
            return [error_node("thinger:account", p.message, hint=p.hint)]
        base = self._u(user)
        svr = self.server()
        account: dict[str, Any] = {"user": user, "user_from": self.user_source, "api": self.api}
        if svr:
            account.update(server=svr, server_from="token svr claim")
        return [
            *self._server_nodes(),
            DeviceNode(
                id="thinger:account",
                kind="account",
                label=f"Thinger.io user {user}"
                + (f" on {escape_keep_newlines(svr)}" if svr else ""),
                detail=account,
            ),
            DeviceNode(
                id="thinger:devices",
                kind="group",
                label="devices",
                expandable=True,
                request=RequestSpec(
                    "GET",
                    f"{base}/devices",
                    params=[("count", str(self.page_size)), ("index", "0")],
                    name="list devices",
                ),
                ref={"type": "devices", "index": 0},
            ),
            DeviceNode(
                id="thinger:buckets",
                kind="group",
                label="buckets",
                expandable=True,
                request=RequestSpec("GET", f"{base}/buckets", name="list buckets"),
                ref={"type": "buckets"},
            ),
        ]

    # -- children -------------------------------------------------------------------------
    def children(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        ref = node.ref.get("retry") if node.kind == "error" else node.ref
        if not isinstance(ref, dict) or "type" not in ref:
            return
        parent = ref.get("parent", node.id)
        try:
            user = self.user()
        except Problem as p:
            yield [error_node(parent, p.message, hint=p.hint, retry=ref)]
            return
        kind = ref["type"]
        if kind == "devices":
            yield from self._devices(user, parent, int(ref.get("index", 0)), cancel)
        elif kind == "device":
            yield from self._device(user, parent, ref, cancel)
        elif kind == "resources":
            yield self._resources(user, parent, ref)
        elif kind == "stats":
            yield self._stats(user, node if node.kind == "stats" else None, parent, ref)
        elif kind == "tokens":
            yield self._tokens(user, parent, ref)
        elif kind == "buckets":
            yield self._buckets(user, parent, ref)

    def retry(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        """For an error node with a retry ref: the batches from where it failed."""
        return self.children(node, cancel)

    def _devices(
        self, user: str, parent: str, index: int, cancel: threading.Event | None
    ) -> Iterator[list[DeviceNode]]:
        count = self.page_size
        first = index
        while True:
            if cancel is not None and cancel.is_set():
                return
            spec = RequestSpec(
                "GET",
                f"{self._u(user)}/devices",
                params=[("count", str(count)), ("index", str(index))],
                name="list devices",
            )
            try:
                page = self.fetch(spec, f"devices {index + 1}-{index + count}")
                if not isinstance(page, list):
                    raise Problem(
                        f"unexpected answer for devices {index + 1}-{index + count}: "
                        "expected a JSON list of devices"
                    )
            except Problem as p:
                yield [
                    error_node(
                        parent,
                        p.message,
                        hint=p.hint,
                        status=p.status,
                        request=spec,
                        retry={"type": "devices", "index": index, "parent": parent},
                    )
                ]
                return
            nodes = [
                self._device_node(user, rec)
                for rec in page
                if isinstance(rec, dict) and rec.get("device")
            ]
            if not page and index == first == 0:
                nodes = [
                    DeviceNode(id=f"{parent}:empty", kind="info", label="no devices", request=spec)
                ]
            if nodes:
                yield nodes
            # A short page ends the list; a page longer than asked means the server ignores paging.
            if len(page) != count:
                return
            index += count

    def _device_node(self, user: str, rec: dict[str, Any]) -> DeviceNode:
        device = str(rec["device"])
        name = rec.get("name")
        label = (
            f"{device} ({name})" if isinstance(name, str) and name and name != device else device
        )
        connection = rec.get("connection")
        active = connection.get("active") if isinstance(connection, dict) else None
        status = None if not isinstance(active, bool) else "online" if active else "offline"
        dtype = rec.get("type")
        return DeviceNode(
            id=f"thinger:device:{device}",
            kind="device",
            label=escape_keep_newlines(label),
            status=status,
            detail=rec,
            badge=escape_keep_newlines(dtype) if isinstance(dtype, str) and dtype else None,
            request=RequestSpec(
                "GET", f"{self._u(user)}/devices/{path_id(device)}", name=f"device {device}"
            ),
            expandable=True,
            ref={"type": "device", "device": device, "online": active},
        )

    def _device(
        self, user: str, parent: str, ref: dict[str, Any], cancel: threading.Event | None
    ) -> Iterator[list[DeviceNode]]:
        device = str(ref["device"])
        yield self._resources(
            user, parent, {"type": "resources", "device": device, "parent": parent}
        )
        if cancel is not None and cancel.is_set():
            return
        dev = f"{self._u(user)}/devices/{path_id(device)}"
        yield [
            DeviceNode(
                id=f"thinger:stats:{device}",
                kind="stats",
                label="stats",
                expandable=True,
                request=RequestSpec("GET", f"{dev}/stats", name=f"stats of {device}"),
                ref={"type": "stats", "device": device},
            ),
            DeviceNode(
                id=f"thinger:tokens:{device}",
                kind="group",
                label="tokens",
                expandable=True,
                request=RequestSpec("GET", f"{dev}/tokens", name=f"tokens of {device}"),
                ref={"type": "tokens", "device": device},
            ),
        ]

    def _resources(self, user: str, parent: str, ref: dict[str, Any]) -> list[DeviceNode]:
        device = str(ref["device"])
        base = f"{self._v2(user)}/devices/{path_id(device)}"
        spec = RequestSpec("GET", f"{base}/api", name=f"resources of {device}")
        retry = {"type": "resources", "device": device, "parent": parent}
        try:
            api = self.fetch(spec, f"the resources of {device}")
        except Problem as p:
            if p.status == 404 and not (
                p.server_message
                and "not found" in p.server_message.lower()
                and "connect" not in p.server_message.lower()
            ):
                node = error_node(
                    f"{parent}:resources",
                    OFFLINE_TEXT,
                    status=404,
                    request=spec,
                    retry=retry,
                    hint="connect the device and retry; its stats and tokens can still be read",
                )
                node.badge = "offline"
                node.status = "offline"
                return [node]
            return [
                error_node(
                    f"{parent}:resources",
                    p.message,
                    hint=p.hint,
                    status=p.status,
                    request=spec,
                    retry=retry,
                )
            ]
        if not isinstance(api, dict):
            return [
                error_node(
                    f"{parent}:resources",
                    f"unexpected answer for the resources of {device}: "
                    "expected a JSON object of resources",
                    request=spec,
                    retry=retry,
                )
            ]
        nodes = []
        for name, desc in api.items():
            fn = desc.get("fn") if isinstance(desc, dict) else None
            kind = (
                RESOURCE_KINDS.get(fn, f"fn {fn}" if fn is not None else "unknown")
                if isinstance(fn, int)
                else "unknown"
            )
            url = f"{base}/{path_id(name)}"
            if kind in WRITE_KINDS:
                req = RequestSpec(
                    "POST",
                    url,
                    body_kind="json",
                    body='{"in": null}',
                    name=f"{kind} {device}/{name}",
                )
            else:
                req = RequestSpec("GET", url, name=f"{kind} {device}/{name}")
            detail = {
                "resource": name,
                "kind": kind,
                **(desc if isinstance(desc, dict) else {"description": desc}),
                "read": f"GET {url}",
            }
            nodes.append(
                DeviceNode(
                    id=f"thinger:resource:{device}:{name}",
                    kind="resource",
                    label=escape_keep_newlines(name),
                    badge=kind,
                    detail=detail,
                    request=req,
                )
            )
        if not nodes:
            nodes = [
                DeviceNode(
                    id=f"{parent}:resources:empty", kind="info", label="no resources", request=spec
                )
            ]
        return nodes

    def _stats(
        self, user: str, node: DeviceNode | None, parent: str, ref: dict[str, Any]
    ) -> list[DeviceNode]:
        device = str(ref["device"])
        spec = RequestSpec(
            "GET",
            f"{self._u(user)}/devices/{path_id(device)}/stats",
            name=f"stats of {device}",
        )
        try:
            stats = self.fetch(spec, f"the stats of {device}")
        except Problem as p:
            return [
                error_node(
                    parent,
                    p.message,
                    hint=p.hint,
                    status=p.status,
                    request=spec,
                    retry={"type": "stats", "device": device, "parent": parent},
                )
            ]
        if node is not None:
            node.detail = stats
        if not isinstance(stats, dict):
            return [
                DeviceNode(
                    id=f"{parent}:value",
                    kind="info",
                    label=escape_keep_newlines(str(stats)),
                    detail=stats,
                )
            ]
        return [
            DeviceNode(
                id=f"{parent}:{key}",
                kind="info",
                label=escape_keep_newlines(f"{key}: {value}"),
                detail={key: value},
            )
            for key, value in stats.items()
        ]

    def fetch_detail(self, node: DeviceNode) -> DeviceNode:
        """Fill a lazily loaded node's detail (the stats node); an error node when that fails."""
        if node.kind != "stats":
            return node
        try:
            user = self.user()
        except Problem as p:
            return error_node(node.id, p.message, hint=p.hint)
        batch = self._stats(user, node, node.id, node.ref)
        return batch[0] if batch and batch[0].kind == "error" else node

    def _tokens(self, user: str, parent: str, ref: dict[str, Any]) -> list[DeviceNode]:
        device = str(ref["device"])
        spec = RequestSpec(
            "GET",
            f"{self._u(user)}/devices/{path_id(device)}/tokens",
            name=f"tokens of {device}",
        )
        try:
            tokens = self.fetch(spec, f"the tokens of {device}")
            if not isinstance(tokens, list):
                raise Problem(f"unexpected answer for the tokens of {device}: expected a JSON list")
        except Problem as p:
            return [
                error_node(
                    parent,
                    p.message,
                    hint=p.hint,
                    status=p.status,
                    request=spec,
                    retry={"type": "tokens", "device": device, "parent": parent},
                )
            ]
        nodes = []
        for i, rec in enumerate(tokens):
            if not isinstance(rec, dict):
                continue
            tid = str(rec.get("id") or i)
            name = rec.get("name")
            label = name if isinstance(name, str) and name else f"token {tid}"
            expiration = rec.get("expiration")
            badge = "no expiry" if not expiration else "expires"
            nodes.append(
                DeviceNode(
                    id=f"thinger:token:{device}:{tid}",
                    kind="token",
                    label=escape_keep_newlines(label),
                    badge=badge,
                    detail=mask_secrets(rec),
                    request=spec,
                )
            )
        if not nodes:
            nodes = [
                DeviceNode(
                    id=f"{parent}:empty", kind="info", label="no device tokens", request=spec
                )
            ]
        return nodes

    def _buckets(self, user: str, parent: str, ref: dict[str, Any]) -> list[DeviceNode]:
        spec = RequestSpec("GET", f"{self._u(user)}/buckets", name="list buckets")
        try:
            buckets = self.fetch(spec, "the buckets")
            if not isinstance(buckets, list):
                raise Problem("unexpected answer for the buckets: expected a JSON list")
        except Problem as p:
            return [
                error_node(
                    parent,
                    p.message,
                    hint=p.hint,
                    status=p.status,
                    request=spec,
                    retry={"type": "buckets", "parent": parent},
                )
            ]
        nodes = []
        for rec in buckets:
            if not isinstance(rec, dict) or not rec.get("bucket"):
                continue
            bucket = str(rec["bucket"])
            name = rec.get("name")
            label = (
                f"{bucket} ({name})"
                if isinstance(name, str) and name and name != bucket
                else bucket
            )
            enabled = rec.get("enabled")
            nodes.append(
                DeviceNode(
                    id=f"thinger:bucket:{bucket}",
                    kind="bucket",
                    label=escape_keep_newlines(label),
                    badge=None if enabled is None else "enabled" if enabled else "disabled",
                    detail=rec,
                    request=RequestSpec(
                        "GET",
                        f"{self._u(user)}/buckets/{path_id(bucket)}/data",
                        params=[("items", BUCKET_ITEMS)],
                        name=f"bucket {bucket} data",
                    ),
                )
            )
        if not nodes:
            nodes = [
                DeviceNode(id=f"{parent}:empty", kind="info", label="no buckets", request=spec)
            ]
        return nodes
