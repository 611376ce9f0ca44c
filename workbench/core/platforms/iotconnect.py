"""IoTConnect device tree: entities -> devices -> child devices, and device detail.

Every request is an operation of the vendor's Swagger 2.0 (``../shared/reference/
iotconnect-{user,device}.swagger.json``, checked by tests/contract/test_iotconnect.py); the tree
relies only on fields those documents define.

Roots
    The entity tree from ``GET {user}/Entity/lookup`` (``EntityLookupResponse``: ``data`` =
    ``[EntityLookup {guid, name, parentEntityGuid, eName, lvl}]``; a bare list is accepted too).
    Root entities have no parent, or a parent that is not in the lookup (a user scoped to a
    sub-entity sees a partial tree). When the lookup fails or is empty, the roots are an error
    node (if any) and an "All devices" node that lists the whole fleet, so the devices are
    still reachable.
Entity children
    Its sub-entities (one batch, from the cached lookup), then the devices that belong to the
    entity ITSELF: ``GET {device}/Device?EntityGuid=<guid>``. The list item (``DeviceList``) has
    no ``entityGuid`` - only ``entityName`` - so a device is the entity's own when its
    ``entityName`` is the entity's name. The spec does not say whether the ``EntityGuid`` filter
    includes sub-entities; both answers work: a server that answers with the whole subtree is
    filtered by name (devices of a sub-entity appear under that sub-entity), and one that
    answers with direct devices only is simply read to the end. Child devices (``reportingTo``
    set: the unique id of their gateway) are left out here, they appear under their gateway.
    When a sub-entity has the same name as the entity, its devices cannot be told apart by
    name and an info node says so. Cost: a leaf entity costs exactly its own pages. For an
    entity with sub-entities, once a page shows devices of another entity, the sub-entities'
    counts (one ``pageSize=1`` request each) give how many devices are the entity's own, and
    the listing stops when all are seen. A listing that was read to its end (the subtree)
    has seen every device of the sub-entities too: their list items are kept, marshalled
    (seen_devices.py: used once, within 30 s, 40 MB at most, never for same-named entities),
    so expanding a sub-entity right after its parent costs no request.
Device children
    ``GET {device}/Device/{deviceGuid}/child-device`` (``ChildDeviceList`` items) when
    ``childDeviceCount > 0``.
Paging
    ``pageNumber`` (from 1) / ``pageSize``, sorted by ``uniqueId asc``. The spec gives no
    maximum page size; the adapter caps it at 1000 (MAX_PAGE_SIZE, our conservative choice).
    In the TUI (``grow_pages``) a listing starts with pages of ``page_size`` (first rows fast)
    and doubles them up to that cap (the rest in few requests).
    A listing ends at 204 (no content), an empty page, when the items seen reach the answer's
    ``count``, or (without a count) at a short page. Each page is one yielded batch;
    ``cancel`` is checked before every page.
Errors
    Become nodes of kind "error" with words (``error_node``). A failed page keeps the
    batches already yielded and carries ``ref["retry"]``: passing that error node to
    ``children()`` (or ``retry()``) resumes the listing at the failed page.
Detail
    ``detail(node)`` fetches ``GET {device}/Device/uniqueId/{uniqueId}`` (``data[0]``, the full
    ``DeviceInformation``, which does carry ``entityGuid`` and ``parentDeviceGuid``) and
    returns a copy of the node with it, or an error node (an unknown device is HTTP 409 on
    IoTConnect, not 404). The v2 spec documents no ``GET /Device/{deviceGuid}``, so a node
    without a unique id has no detail.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from workbench.core.errors import AuthError, TransportError, WorkbenchError
from workbench.core.platforms.base import Adapter as BaseAdapter
from workbench.core.platforms.base import DeviceNode, error_node, path_id
from workbench.core.platforms.seen_devices import Collector, Kept, SeenDevices
from workbench.core.requests import RequestSpec, ResponseRecord
from workbench.core.text import escape_keep_newlines

if TYPE_CHECKING:
    import httpx

    from workbench.core.profiles import Profile

MAX_PAGE_SIZE = 1000  # the spec gives no maximum for pageSize: a conservative cap of our own
SORT = "uniqueId asc"
UNKNOWN_DEVICE = "unknown device (IoTConnect answers 409 for devices it does not know)"
P = "iotconnect"


@dataclass
class Problem:
    """What went wrong with one request, in words."""

    message: str
    hint: str | None = None
    status: int | None = None


def _text(value: Any) -> str:
    return escape_keep_newlines(str(value)) if value is not None else ""


def _server_words(record: ResponseRecord) -> str | None:
    """The server's own message from an error answer (escaped), whatever its shape."""
    body = record.body.strip()
    if not body:
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict):
        msg = data.get("message") or data.get("Message") or data.get("title")
        errors = data.get("error")
        if isinstance(errors, list):
            details = [
                f"{e.get('param')}: {e.get('message')}" if e.get("param") else str(e.get("message"))
                for e in errors
                if isinstance(e, dict) and e.get("message")
            ]
            if details:
                msg = f"{msg} ({'; '.join(details)})" if msg else "; ".join(details)
        if msg:
            return _text(msg)[:300]
    text = record.text().strip()
    if text.lower().startswith(("<!doctype", "<html")):
        return "an HTML page (not an API answer)"
    return _text(text[:300])


def problem_of(record: ResponseRecord, what: str) -> Problem:
    """Words for a failed answer (`what` names the request, e.g. "listing the devices")."""
    status = record.status
    said = _server_words(record)
    tail = f": {said}" if said else ""
    html = said == "an HTML page (not an API answer)" or "text/html" in record.content_type.lower()
    if status == 409:
        return Problem(
            UNKNOWN_DEVICE + (f" — {said}" if said else ""),
            "check the unique id / guid; the device may have been deleted",
            status,
        )
    if status == 401:
        return Problem(
            f"not signed in, or the session expired (HTTP 401) while {what}", "log in again", status
        )
    if status == 403:
        return Problem(
            f"forbidden (HTTP 403) while {what}{tail}",
            "this user's role may not see this; ask the company admin for the permission",
            status,
        )
    if status == 429:
        wait = record.header("retry-after")
        return Problem(
            f"rate limited (HTTP 429) while {what}",
            f"wait {wait} s and retry" if wait else "wait a minute and retry",
            status,
        )
    if status == 503 and html:
        wait = record.header("retry-after")
        return Problem(
            f"the service is down for maintenance (HTTP 503) while {what}",
            f"try again in {wait} s" if wait else "try again later",
            status,
        )
    if status >= 500:
        return Problem(
            f"the server had a problem (HTTP {status}) while {what}{tail}",
            "try again later (retry)",
            status,
        )
    if html:
        return Problem(
            f"got an HTML page (HTTP {status}) instead of an API answer while {what}",
            "check the profile's device/user URLs: a proxy or login page is answering",
            status,
        )
    if status == 404:
        return Problem(
            f"not found (HTTP 404) while {what}",
            "check the profile's device and user URLs (they end in /api/v2)",
            status,
        )
    return Problem(
        f"the server refused the request (HTTP {status}) while {what}{tail}",
        "check the request in the composer",
        status,
    )


def _problem_of_error(err: WorkbenchError, what: str) -> Problem:
    if isinstance(err, TransportError):
        return Problem(f"network error while {what}: {_text(err.message)}", err.hint)
    if isinstance(err, AuthError):
        return Problem(
            f"not signed in while {what}: {_text(err.message)}",
            err.hint or "log in again",
            err.status,
        )
    return Problem(f"{_text(err.message)} (while {what})", err.hint)


def _json(record: ResponseRecord, what: str) -> tuple[Any, Problem | None]:
    try:
        return json.loads(record.body), None
    except (ValueError, UnicodeDecodeError):
        said = _server_words(record)
        return None, Problem(
            f"the answer is not valid JSON (HTTP {record.status}) while {what}"
            + (f": {said[:80]}" if said else ""),
            "the server or a proxy sent something broken; retry",
        )


def _envelope_status(data: Any) -> int | None:
    """IoTConnect repeats the HTTP status in the body; a 200 whose body says 4xx/5xx is an error."""
    if isinstance(data, dict):
        status = data.get("status")
        if isinstance(status, int) and not isinstance(status, bool) and status >= 400:
            return status
    return None


def _items(data: Any) -> list[dict[str, Any]] | None:
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, list):
        return [d for d in data if isinstance(d, dict)]
    return None


IDENTITY = ("guid", "uniqueId", "displayName")  # a device record names itself by one of these


def has_identity(item: dict[str, Any]) -> bool:
    """True when a device record has a guid, a uniqueId or a displayName (a string)."""
    return any(isinstance(v := item.get(k), str) and v.strip() for k in IDENTITY)


def foreign_list(items: list[dict[str, Any]], what: str) -> Problem:
    """The words for a page whose records are not IoTConnect devices (none names itself)."""
    fields = ", ".join(_text(str(k))[:40] for k in list(items[0])[:6]) or "none"
    return Problem(
        f"not an IoTConnect device list while {what}: {len(items):,} record(s), none with a "
        f"guid, uniqueId or displayName (the first record's fields: {fields})",
        "check the profile's device API URL: the server answered some other JSON document",
    )


def _same(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.strip().lower() == b.strip().lower()


def is_child(item: dict[str, Any]) -> bool:
    """A child device: ``reportingTo`` (DeviceList / ChildDeviceList) names its gateway;
    ``DeviceInformation`` says ``parentDeviceGuid`` / ``parentDeviceUniqueId``."""
    return bool(
        item.get("reportingTo") or item.get("parentDeviceGuid") or item.get("parentDeviceUniqueId")
    )


def device_status(item: dict[str, Any]) -> str | None:
    connected = item.get("isConnected")
    if isinstance(connected, bool):
        return "online" if connected else "offline"
    return None


def device_badge(item: dict[str, Any]) -> str | None:
    parts: list[str] = []
    count = item.get("childDeviceCount")
    if isinstance(count, int) and not isinstance(count, bool) and count > 0:
        parts.append(f"gateway · {count} child{'ren' if count != 1 else ''}")
    if is_child(item):
        parts.append("child")
    if item.get("isActive") is False:
        parts.append("inactive")
    return " · ".join(parts) or None


class Adapter(BaseAdapter):
    platform = P

    def __init__(
        self,
        profile: Profile,
        client: httpx.Client,
        page_size: int = 100,
        sort_by: str | None = SORT,
    ) -> None:
        super().__init__(profile, client, page_size=max(1, min(int(page_size), MAX_PAGE_SIZE)))
        self.sort_by = sort_by
        self._entities: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()
        # sub-entities' devices seen while a parent's listing was read (see seen_devices.py)
        self.seen = SeenDevices()
        self.device_url = self._url("device")  # asked for every device node

    # ------------------------------------------------------------------ urls and requests

    def _url(self, name: str) -> str | None:
        url = self.profile.urls.get(name)
        return url.rstrip("/") if url else None

    def _fetch(
        self, spec: RequestSpec, what: str
    ) -> tuple[Any, ResponseRecord | None, Problem | None]:
        """(parsed JSON or None for 204, the record, a problem)."""
        try:
            record = self.get(spec)
        except WorkbenchError as err:
            return None, None, _problem_of_error(err, what)
        if record.status == 204 or (record.status == 200 and not record.body.strip()):
            return None, record, None
        if record.status >= 400:
            return None, record, problem_of(record, what)
        data, problem = _json(record, what)
        if problem is None:
            status = _envelope_status(data)
            if status is not None:
                fake = replace(record, status=status)
                problem = problem_of(fake, what)
        return data, record, problem

    def device_request(self, unique_id: str) -> RequestSpec:
        return RequestSpec(
            method="GET",
            url=f"{self.device_url}/Device/uniqueId/{path_id(unique_id)}",
            name=f"Device {unique_id}",
        )

    def _list_spec(self, url: str, params: list[tuple[str, str]], name: str) -> RequestSpec:
        return RequestSpec(method="GET", url=url, params=list(params), name=name)

    # ------------------------------------------------------------------ nodes

    def entity_node(self, entity: dict[str, Any]) -> DeviceNode:
        guid = str(entity.get("guid") or "")
        name = _text(entity.get("name") or guid or "(unnamed entity)")
        device = self._url("device")
        request = None
        if device:
            params = [("EntityGuid", guid), ("pageNumber", "1"), ("pageSize", str(self.page_size))]
            if self.sort_by:
                params.append(("sortBy", self.sort_by))
            request = self._list_spec(f"{device}/Device", params, f"Devices of {name}")
        return DeviceNode(
            id=f"{P}:entity:{guid.upper()}",
            kind="entity",
            label=name,
            detail=entity,
            request=request,
            expandable=True,
            ref={"entity": guid},
        )

    def device_node(self, item: dict[str, Any]) -> DeviceNode:
        guid = str(item.get("guid") or "")
        unique_id = str(item.get("uniqueId") or "")
        name = item.get("displayName") or unique_id or guid
        label = _text(f"{name} ({unique_id})" if unique_id and name != unique_id else name)
        count = item.get("childDeviceCount")
        has_children = (
            isinstance(count, int) and not isinstance(count, bool) and count > 0 and bool(guid)
        )
        return DeviceNode(
            id=f"{P}:device:{(guid or unique_id).upper()}",
            kind="device",
            label=label,
            status=device_status(item),
            detail=item,
            request=self.device_request(unique_id) if unique_id and self.device_url else None,
            expandable=has_children,
            badge=device_badge(item),
            ref={"guid": guid, "uniqueId": unique_id},
        )

    def all_devices_node(self) -> DeviceNode:
        device = self._url("device") or ""
        params = [("pageNumber", "1"), ("pageSize", str(self.page_size))]
        return DeviceNode(
            id=f"{P}:all-devices",
            kind="group",
            label="All devices",
            request=self._list_spec(f"{device}/Device", params, "All devices"),
            expandable=True,
            ref={"all": True},
        )

    # ------------------------------------------------------------------ entities

    def entities(self) -> tuple[list[dict[str, Any]], Problem | None]:
        """The entity lookup (cached after the first success)."""
        with self._lock:
            if self._entities is not None:
                return self._entities, None
        user = self._url("user")
        if not user:
            return [], Problem(
                "the profile has no 'user' URL, so the entity tree is unknown",
                'add user = "https://user.iotconnect.io/api/v2" to the profile\'s [urls]',
            )
        spec = RequestSpec(method="GET", url=f"{user}/Entity/lookup", name="Entity lookup")
        data, _, problem = self._fetch(spec, "reading the entity tree")
        if problem is not None:
            return [], problem
        found = _items(data) if data is not None else []
        if found is None:
            return [], Problem(
                "the entity lookup answered something that is not a list of entities",
                "open the request in the composer to see the answer",
            )
        entities = [e for e in found if e.get("guid")]
        with self._lock:
            self._entities = entities
        return entities, None

    def _sub_entities(self, guid: str | None) -> list[dict[str, Any]]:
        entities = self._entities or []
        known = {str(e["guid"]).strip().lower() for e in entities}
        out = []
        for e in entities:
            parent = e.get("parentEntityGuid")
            parent = parent.strip().lower() if isinstance(parent, str) else ""
            is_root = not parent or parent not in known or parent == str(e["guid"]).strip().lower()
            if (guid is None and is_root) or (
                guid is not None and not is_root and parent == guid.lower()
            ):
                out.append(e)
        return out

    def roots(self) -> list[DeviceNode]:
        entities, problem = self.entities()
        if problem is not None:
            spec = RequestSpec(
                method="GET", url=f"{self._url('user') or ''}/Entity/lookup", name="Entity lookup"
            )
            err = error_node(
                f"{P}:entities",
                problem.message,
                hint=problem.hint,
                status=problem.status,
                request=spec,
                retry={"roots": True},
            )
            return [err, *([self.all_devices_node()] if self._url("device") else [])]
        roots = self._sub_entities(None)
        if not roots:
            return [self.all_devices_node()]
        return [self.entity_node(e) for e in roots]

    # ------------------------------------------------------------------ children

    def children(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        if node.kind == "error":
            return self.retry(node, cancel)
        if node.kind == "entity":
            return self._entity_children(node, cancel)
        if node.kind == "device" and node.expandable and node.ref.get("guid"):
            return self._child_devices(node, cancel)
        if node.kind == "group" and node.ref.get("all"):
            return self.devices(cancel, top_level_only=True, parent_id=node.id)
        return iter(())

    def _entity_children(
        self, node: DeviceNode, cancel: threading.Event | None
    ) -> Iterator[list[DeviceNode]]:
        guid = str(node.ref.get("entity") or "")
        if self._entities is None:
            _, problem = self.entities()
            if problem is not None:
                yield [
                    error_node(node.id, problem.message, hint=problem.hint, status=problem.status)
                ]
                return
        subs = self._sub_entities(guid)
        name = str((node.detail or {}).get("name") or "")
        if subs:
            yield [self.entity_node(e) for e in subs]
        if name and any(_same(d.get("name"), name) for d in self._descendants(guid)):
            yield [
                DeviceNode(
                    id=f"{node.id}:same-name",
                    kind="info",
                    label="a sub-entity has the same name: its devices may be listed here too",
                    detail={
                        "why": "IoTConnect's device list items name their entity (entityName) but "
                        "carry no entity guid, so devices of same-named entities look alike"
                    },
                )
            ]
        kept = self.seen.take(guid) if guid else None
        if kept is not None:  # its devices were all seen in its parent's listing just now
            yield from self._kept_pages(node.id, kept, cancel)
            return
        yield from self.devices(
            cancel,
            entity=guid,
            entity_name=name or None,
            top_level_only=True,
            parent_id=node.id,
            sub_entities=[str(e["guid"]) for e in subs],
        )

    def _kept_groups(self, guid: str, name: str) -> dict[str, str]:
        """Lower-cased name -> guid of the descendants whose devices a listing of `guid` can
        keep for later: those whose name no other descendant (nor the entity) shares."""
        names: dict[str, list[str]] = {}
        for e in self._descendants(guid):
            if isinstance(e.get("name"), str):
                names.setdefault(e["name"].strip().lower(), []).append(str(e["guid"]))
        own = name.strip().lower()
        return {n: guids[0] for n, guids in names.items() if len(guids) == 1 and n != own}

    def _kept_pages(
        self, parent_id: str, kept: Kept, cancel: threading.Event | None
    ) -> Iterator[list[DeviceNode]]:
        """An entity's devices from what its parent's listing kept, page by page."""
        items: list[dict[str, Any]] = []
        page = 1
        for item in kept.items():
            items.append(item)
            if len(items) == self.page_size:
                if cancel is not None and cancel.is_set():
                    return
                yield self._batch(parent_id, page, items, None)
                items, page = [], page + 1
        if items and not (cancel is not None and cancel.is_set()):
            yield self._batch(parent_id, page, items, None)

    def _descendants(self, guid: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        todo = [guid]
        while todo:
            for e in self._sub_entities(todo.pop()):
                out.append(e)
                todo.append(str(e["guid"]))
        return out

    def _child_devices(
        self, node: DeviceNode, cancel: threading.Event | None
    ) -> Iterator[list[DeviceNode]]:
        device = self._url("device")
        guid = str(node.ref["guid"])
        url = f"{device}/Device/{path_id(guid)}/child-device"
        yield from self._pages(node.id, url, [], None, cancel, 1, name=f"Children of {node.label}")

    def devices(
        self,
        cancel: threading.Event | None = None,
        *,
        entity: str | None = None,
        entity_name: str | None = None,
        top_level_only: bool = False,
        parent_id: str = f"{P}:devices",
        start_page: int = 1,
        sub_entities: list[str] | None = None,
    ) -> Iterator[list[DeviceNode]]:
        """The device list (the whole fleet, or one entity's own devices) as batches of nodes.

        With `entity` (its guid, sent as the ``EntityGuid`` filter) and `entity_name`, only
        devices whose ``entityName`` is that name are kept (a server whose filter includes
        sub-entities answers with their devices too); `top_level_only` leaves out child
        devices. Given the entity's `sub_entities`, a listing that turns out to include them
        ends as soon as the entity's own devices are all seen (own = count(entity) - sum of
        count(sub)), so an entity that only groups others costs one page, not its subtree."""
        device = self._url("device")
        if not device:
            yield [
                error_node(
                    parent_id,
                    "the profile has no 'device' URL",
                    hint='add device = "https://device.iotconnect.io/api/v2" to [urls]',
                )
            ]
            return
        params: list[tuple[str, str]] = [("EntityGuid", entity)] if entity else []
        keep: dict[str, Any] = {
            "entity": entity,
            "name": entity_name if entity else None,
            "top": top_level_only,
            "subs": list(sub_entities or []),
        }
        name = "Devices of entity" if entity else "Devices"
        yield from self._pages(
            parent_id, f"{device}/Device", params, keep, cancel, start_page, name=name
        )

    def _batch(
        self,
        parent_id: str,
        page: int,
        kept: list[dict[str, Any]],
        spec: RequestSpec | None,
    ) -> list[DeviceNode]:
        """The nodes of a page's kept items (and an error node for records that name nothing)."""
        batch = [self.device_node(item) for item in kept if has_identity(item)]
        blank = len(kept) - len(batch)
        if blank:
            batch.append(
                error_node(
                    f"{parent_id}:page{page}:blank",
                    f"{blank} record(s) of page {page} have no guid, uniqueId or "
                    "displayName: not shown as devices",
                    hint="open the request in the composer to see the answer",
                    request=spec,
                )
            )
        return batch

    def _pages(
        self,
        parent_id: str,
        url: str,
        params: list[tuple[str, str]],
        keep: dict[str, Any] | None,
        cancel: threading.Event | None,
        start_page: int,
        *,
        name: str,
        start_size: int | None = None,
    ) -> Iterator[list[DeviceNode]]:
        """Page through a device listing; one batch per page (pages with nothing kept are skipped).

        With `grow_pages`, the page size doubles (up to MAX_PAGE_SIZE) whenever the next
        window starts at a multiple of the doubled size: pages of 100 go 100, 100, 200, 400,
        800, 800, ... (pageNumber 1, 2, 2, 2, 2, 3, ...), each window right after the last."""
        size = max(1, min(int(start_size or self.page_size), MAX_PAGE_SIZE))
        page = max(1, start_page)
        seen = (page - 1) * size
        previous_first: Any = None
        entity = keep.get("entity") if keep else None
        entity_name = keep.get("name") if keep else None
        own_key = entity_name.strip().lower() if isinstance(entity_name, str) else None
        top = bool(keep and keep.get("top"))
        subs = keep.get("subs") if keep else None
        own_seen, own_expected = 0, None  # the entity's own devices (children included)
        probe = bool(
            entity and entity_name and subs and page == 1
        )  # work out own_expected once the subtree shows
        collector: Collector | None = None
        if probe and entity and own_key is not None:
            groups = self._kept_groups(entity, own_key)
            collector = self.seen.collector(groups) if groups else None
        while True:
            if cancel is not None and cancel.is_set():
                return
            query = [*params, ("pageNumber", str(page)), ("pageSize", str(size))]
            if self.sort_by:
                query.append(("sortBy", self.sort_by))
            spec = self._list_spec(url, query, f"{name} (page {page})")
            what = f"listing the devices (page {page})"
            data, _, problem = self._fetch(spec, what)
            if problem is None and data is not None:
                items = _items(data)
                if items is None:
                    problem = Problem(
                        f"the answer has no device list while {what}",
                        "open the request in the composer to see the answer",
                    )
                elif items and not any(map(has_identity, items)):
                    problem = foreign_list(items, what)
            if problem is not None:
                retry = {
                    "listing": {
                        "parent_id": parent_id,
                        "url": url,
                        "params": params,
                        "keep": keep,
                        "page": page,
                        "size": size,
                        "name": name,
                    }
                }
                yield [
                    error_node(
                        f"{parent_id}:page{page}",
                        problem.message,
                        hint=problem.hint,
                        status=problem.status,
                        request=spec,
                        retry=retry,
                    )
                ]
                return
            if data is None:  # 204: nothing (more)
                if collector is not None:
                    collector.commit()
                return
            assert items is not None
            if not items:
                if collector is not None:
                    collector.commit()
                return
            first = items[0].get("guid")
            if page > start_page and first is not None and first == previous_first:
                yield [
                    error_node(
                        f"{parent_id}:page{page}",
                        f"the server sent page {page} twice (it ignores pageNumber?); stopped here",
                        hint="open the request in the composer to check the paging",
                        request=spec,
                    )
                ]
                return
            previous_first = first
            seen += len(items)
            kept: list[dict[str, Any]] = []
            found: dict[str, list[dict[str, Any]]] = {}  # a sub-entity's items, to keep
            others = False  # a device of another entity on this page
            for item in items:
                child = top and is_child(item)
                if own_key is None or "entityName" not in item:
                    if not child:
                        kept.append(item)  # no entity to tell by: shown
                    continue
                en = item["entityName"]
                if not isinstance(en, str):
                    continue
                if en == entity_name or (key := en.strip().lower()) == own_key:
                    own_seen += 1  # the entity's own (children included)
                    if not child:
                        kept.append(item)
                    continue
                others = True
                if collector is not None and not child and key in collector.groups:
                    found.setdefault(key, []).append(item)
            if collector is not None:
                collector.add_page(found)
            batch = self._batch(parent_id, page, kept, spec)
            count = data.get("count") if isinstance(data, dict) else None
            if probe and others and isinstance(count, int):
                probe = False  # the filter includes sub-entities: how many devices are the entity's own?
                own_expected = self._own_count(url, count, subs or [], cancel)
            if batch:
                yield batch
            if isinstance(count, int) and not isinstance(count, bool):
                at_end = seen >= count
            else:
                at_end = len(items) < size
            if at_end and collector is not None:
                collector.commit()
            if at_end or (own_expected is not None and own_seen >= own_expected):
                return
            window_end = page * size  # where the next page starts
            if self.grow_pages and window_end % min(2 * size, MAX_PAGE_SIZE) == 0:
                size = min(2 * size, MAX_PAGE_SIZE)
            page = window_end // size + 1

    def _own_count(
        self, url: str, total: int, subs: list[str], cancel: threading.Event | None
    ) -> int | None:
        """total - the device count of each sub-entity's subtree; None when any count is unknown."""
        rest = 0
        for guid in subs:
            if cancel is not None and cancel.is_set():
                return None
            query = [("EntityGuid", guid), ("pageNumber", "1"), ("pageSize", "1")]
            data, _, problem = self._fetch(self._list_spec(url, query, "count"), "counting devices")
            if problem is not None:
                return None
            if data is None:  # 204: none there
                continue
            count = data.get("count") if isinstance(data, dict) else None
            if not isinstance(count, int) or isinstance(count, bool):
                return None
            rest += count
        own = total - rest
        return own if own >= 0 else None

    def retry(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        """Resume what an error node failed at: a listing from its failed page, or the roots."""
        retry = node.ref.get("retry") or {}
        listing = retry.get("listing")
        if listing:
            yield from self._pages(
                listing["parent_id"],
                listing["url"],
                list(map(tuple, listing["params"])),
                listing.get("keep"),
                cancel,
                int(listing["page"]),
                name=listing["name"],
                start_size=int(listing.get("size") or self.page_size),
            )
        elif retry.get("roots"):
            with self._lock:
                self._entities = None
            yield self.roots()

    # ------------------------------------------------------------------ detail

    def detail(self, node: DeviceNode) -> DeviceNode:
        """The full DeviceInformation (`data[0]`) of a device node, as a copy of the node; or an error node."""
        unique_id = node.ref.get("uniqueId") or (node.detail or {}).get("uniqueId")
        device = self._url("device")
        if not device or not unique_id:
            return error_node(
                node.id,
                "this node is not a device with a unique id",
                hint="pick a device node (IoTConnect's v2 API reads a device by its unique id)",
            )
        spec = self.device_request(str(unique_id))
        data, _, problem = self._fetch(spec, f"reading device {unique_id}")
        items: list[dict[str, Any]] | None = None
        if problem is None:
            items = _items(data) if data is not None else None
            if not items:
                problem = Problem(
                    f"the answer for device {unique_id} holds no device",
                    "open the request in the composer to see the answer",
                )
        if problem is not None:
            return error_node(
                node.id, problem.message, hint=problem.hint, status=problem.status, request=spec
            )
        assert items  # no problem means a device was found
        full = items[0]
        # DeviceInformation lacks the list's childDeviceCount / reportingTo: keep what the list said
        fresh = self.device_node({**(node.detail or {}), **full})
        return replace(
            node,
            detail=full,
            status=fresh.status,
            badge=fresh.badge,
            request=spec,
            expandable=fresh.expandable or node.expandable,
        )

    def device(self, unique_id: str) -> DeviceNode:
        """A device node by unique id, with its full detail (or an error node)."""
        stub = DeviceNode(
            id=f"{P}:device:{unique_id.upper()}",
            kind="device",
            label=unique_id,
            ref={"uniqueId": unique_id},
        )
        found = self.detail(stub)
        if found.kind == "error":
            return found
        return replace(self.device_node(found.detail), detail=found.detail)
