"""iotspot device tree over the MODELLED open API (the real iotspot API is not public).

Tree::

    info      "iotspot API (modelled: the real API is not public)"
    entity    workspace "Amsterdam office"        GET {api}/workspaces/{id}
      entity  location "Floor 1 - North zone"     GET {api}/locations/{id}
        device desk "Desk 1N-001 (desk-000001)"   GET {api}/desks/{id}   status from sensor.online,
                                                  badge = occupancy status (occupied / free / unknown)

`{api}` is the profile's ``[urls] api`` (for the emulator ``{{demo_url}}/iotspot/api/v1``).
Lists are paged with ``page`` (1-based) and ``pageSize`` and answer
``{"items", "page", "pageSize", "total", "model"}``; every page is loaded until ``total``
items have arrived (a short or empty page also ends the list). Each node's detail carries
the model label (the body's ``model`` or the ``X-Emulator-Model`` header).

Scopes: the token's ``scope`` claim says what AWS Cognito GRANTED, which need not be what the
profile asked for (the vendor's sample answer asks for ``iotspot/openapi`` and its token carries
``iotspot/outlook iotspot/production``; the token answer itself has no ``scope`` field). The
info node shows both, and a 403 names the granted scopes; nothing here checks the token for
the requested scope.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
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

MODEL_LABEL = "iotspot API (modelled: the real API is not public)"
MODEL_NOTE = (
    "The iotspot open API is not publicly documented; this tree follows the emulator's model "
    "(workspaces -> locations -> desks with occupancy sensors), not the real API."
)
MODEL_HEADER = "X-Emulator-Model"
MAX_PAGE_SIZE = 1000  # the modelled API refuses larger pages
SCOPE = "iotspot/openapi"  # what the vendor's docs (seeds/003) tell a client to ask for


class Adapter(BaseAdapter):
    platform = "iotspot"

    def __init__(self, profile: Profile, client: httpx.Client, page_size: int = 100) -> None:
        super().__init__(profile, client, page_size=max(1, min(int(page_size), MAX_PAGE_SIZE)))
        self.api = (profile.urls.get("api") or profile.base_url).rstrip("/")
        scope = profile.auth.params.get("scope")
        self.scope = scope if isinstance(scope, str) and scope else None

    # -- scopes ---------------------------------------------------------------------------
    def granted_scopes(self) -> list[str] | None:
        """The scopes in the access token's ``scope`` claim (what Cognito granted); None when
        the token cannot be read."""
        from workbench.core.tokens.inspect import inspect_token

        try:
            token = bearer_from_client(self.client, self.api + "/workspaces")
        except WorkbenchError:
            return None
        report = inspect_token(token) if token else None
        claim = report.claims.get("scope") if report is not None and report.ok else None
        return claim.split() if isinstance(claim, str) else None

    def forbidden_hint(self) -> str:
        granted = self.granted_scopes()
        asked = self.scope or "(none: every scope the client may have)"
        if granted is None:
            return (
                f"the API refused this token; it was asked with scope {asked}: "
                "ask iotspot which scope the open API needs, set it in the profile and log in again"
            )
        return (
            f"the API refused this token, which carries the scopes {' '.join(granted) or '(none)'} "
            f"- what Cognito granted for the scope asked for, {asked}, not necessarily the same; "
            "ask iotspot which scope the open API needs and whether your client may have it"
        )

    # -- fetching -------------------------------------------------------------------------
    def fetch_page(self, spec: RequestSpec, what: str) -> tuple[list[Any], int | None, str]:
        """(items, total, model label) of one page, or Problem."""
        record = fetch_record(self, spec, what)
        hint = self.forbidden_hint() if record.status == 403 else ""
        body = check_response(record, what=what, forbidden_hint=hint)
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise Problem(
                f'unexpected answer for {what}: expected a page {{"items": [...], "total": N}}'
            )
        total = body.get("total")
        model = body.get("model") or record.header(MODEL_HEADER) or "modelled API"
        return (
            body["items"],
            total if isinstance(total, int) and not isinstance(total, bool) else None,
            str(model),
        )

    def _paged(
        self,
        path: str,
        what: str,
        parent: str,
        retry: dict[str, Any],
        start: int,
        make: Callable[[dict[str, Any], str], DeviceNode],
        cancel: threading.Event | None,
    ) -> Iterator[list[DeviceNode]]:
        """Pages from `start` until `total` items (or a short page); an error node ends it."""
        page = start
        size = self.page_size
        loaded = (start - 1) * size
        while True:
            if cancel is not None and cancel.is_set():
                return
            spec = RequestSpec(
                "GET",
                f"{self.api}{path}",
                params=[("page", str(page)), ("pageSize", str(size))],
                name=f"list {what}",
            )
            try:
                items, total, model = self.fetch_page(spec, f"{what} (page {page})")
            except Problem as p:
                yield [
                    error_node(
                        parent,
                        p.message,
                        hint=p.hint,
                        status=p.status,
                        request=spec,
                        retry={**retry, "page": page, "parent": parent},
                    )
                ]
                return
            loaded += len(items)
            nodes = [
                make(item, model) for item in items if isinstance(item, dict) and item.get("id")
            ]
            if not items and page == 1:
                nodes = [
                    DeviceNode(id=f"{parent}:empty", kind="info", label=f"no {what}", request=spec)
                ]
            if nodes:
                yield nodes
            if not items or len(items) < size or (total is not None and loaded >= total):
                return
            page += 1

    # -- nodes ----------------------------------------------------------------------------
    def _container(
        self,
        item: dict[str, Any],
        model: str,
        what: str,
        count_key: str,
        children: str,
        uncounted: str | None,
    ) -> DeviceNode:
        """An expandable workspace or location: badge "<count> <children>" (`uncounted` without a count)."""
        ident = str(item["id"])
        name = item.get("name") or ident
        count = item.get(count_key)
        return DeviceNode(
            id=f"iotspot:{what}:{ident}",
            kind="entity",
            label=escape_keep_newlines(str(name)),
            badge=f"{count} {children}" if isinstance(count, int) else uncounted,
            detail={**item, "model": model},
            request=RequestSpec(
                "GET", f"{self.api}/{what}s/{path_id(ident)}", name=f"{what} {ident}"
            ),
            expandable=True,
            ref={"type": children, what: ident},
        )

    def _workspace(self, item: dict[str, Any], model: str) -> DeviceNode:
        return self._container(item, model, "workspace", "locationCount", "locations", "model")

    def _location(self, item: dict[str, Any], model: str) -> DeviceNode:
        return self._container(item, model, "location", "deskCount", "desks", None)

    def _desk(self, item: dict[str, Any], model: str) -> DeviceNode:
        did = str(item["id"])
        name = item.get("name")
        label = f"{name} ({did})" if isinstance(name, str) and name and name != did else did
        sensor = item.get("sensor")
        online = sensor.get("online") if isinstance(sensor, dict) else None
        occupancy = item.get("occupancy")
        occ = occupancy.get("status") if isinstance(occupancy, dict) else None
        return DeviceNode(
            id=f"iotspot:desk:{did}",
            kind="device",
            label=escape_keep_newlines(label),
            status=None if not isinstance(online, bool) else "online" if online else "offline",
            badge=escape_keep_newlines(str(occ)) if occ else "model",
            detail={**item, "model": model},
            request=RequestSpec("GET", f"{self.api}/desks/{path_id(did)}", name=f"desk {did}"),
        )

    # -- the tree -------------------------------------------------------------------------
    def roots(self) -> list[DeviceNode]:
        nodes = [
            DeviceNode(
                id="iotspot:model",
                kind="info",
                label=MODEL_LABEL,
                badge="model",
                detail={
                    "note": MODEL_NOTE,
                    "api": self.api,
                    "scope asked for": self.scope,
                    "scopes granted (the token's scope claim)": self.granted_scopes(),
                },
                request=RequestSpec(
                    "GET",
                    f"{self.api}/workspaces",
                    params=[("page", "1"), ("pageSize", str(self.page_size))],
                    name="list workspaces",
                ),
            )
        ]
        for batch in self._workspaces(1, None):
            nodes.extend(batch)
        return nodes

    def _workspaces(self, start: int, cancel: threading.Event | None) -> Iterator[list[DeviceNode]]:
        return self._paged(
            "/workspaces",
            "workspaces",
            "iotspot:workspaces",
            {"type": "workspaces"},
            start,
            self._workspace,
            cancel,
        )

    def children(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        ref = node.ref.get("retry") if node.kind == "error" else node.ref
        if not isinstance(ref, dict) or "type" not in ref:
            return iter(())
        start = int(ref.get("page", 1))
        kind = ref["type"]
        if kind == "workspaces":
            return self._workspaces(start, cancel)
        if kind == "locations":
            wid = str(ref["workspace"])
            parent = ref.get("parent", node.id)
            return self._paged(
                f"/workspaces/{path_id(wid)}/locations",
                "locations",
                parent,
                {"type": "locations", "workspace": wid},
                start,
                self._location,
                cancel,
            )
        if kind == "desks":
            lid = str(ref["location"])
            parent = ref.get("parent", node.id)
            return self._paged(
                f"/locations/{path_id(lid)}/desks",
                "desks",
                parent,
                {"type": "desks", "location": lid},
                start,
                self._desk,
                cancel,
            )
        return iter(())

    def retry(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        """For an error node with a retry ref: the batches from the page that failed."""
        return self.children(node, cancel)
