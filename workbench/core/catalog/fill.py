"""From a device-tree node to the catalog operations it can fill, and to a ready request.

Two sources of values, both plain data:
- the node's own request URL, matched against the documented paths (the longest template that
  fits the END of the URL's path wins: ``…/plgd/api/v1/devices/2b70…`` fits
  ``/api/v1/devices/{deviceId}``); the part of the URL before the match is the base URL the
  operations are sent to (so plgd's gateway origin, Ioto's prefix and the emulator's mount
  point come for free);
- per-platform names for fields of the node (ALIASES: IoTConnect's ``guid`` is
  ``{deviceGuid}``, an entity's ``guid`` is ``{entityGuid}``, ...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from workbench.core.catalog.model import Catalog, Operation
from workbench.core.platforms.base import DeviceNode
from workbench.core.requests import RequestSpec

# platform -> node kind -> {path parameter: [where to read it: "ref.KEY" or a detail KEY]}
ALIASES: dict[str, dict[str, dict[str, list[str]]]] = {
    "iotconnect": {
        "device": {
            "deviceGuid": ["ref.guid", "guid"],
            "uniqueId": ["ref.uniqueId", "uniqueId"],
            "deviceTemplateGuid": ["templateGuid", "deviceTemplateGuid"],
            "templateGuid": ["templateGuid", "deviceTemplateGuid"],
            "entityGuid": ["entityGuid"],
        },
        "entity": {"entityGuid": ["ref.entity", "guid"]},
    },
    "plgd": {
        "device": {"deviceId": ["ref.device", "id", "deviceId"]},
        "resource": {"deviceId": ["ref.device", "deviceId"], "resourceHref": ["ref.href", "href"]},
    },
    "thinger": {
        "device": {"device": ["ref.device", "device"]},
        "resource": {"device": ["ref.device"], "resource": ["ref.resource"]},
    },
}
_SEGMENT_PARAM = re.compile(r"\{([^{}/]+)\}")


@dataclass(frozen=True, slots=True)
class NodeValues:
    values: dict[str, str] = field(default_factory=dict)
    base_url: str | None = None  # where the matched operation's path starts
    matched: Operation | None = None  # the operation the node's own request is


def _segment_regex(segment: str) -> re.Pattern[str]:
    out, last = "", 0
    for m in _SEGMENT_PARAM.finditer(segment):
        out += re.escape(segment[last : m.start()]) + f"(?P<p{len(out)}>[^/]+)"
        last = m.end()
    return re.compile(out + re.escape(segment[last:]) + r"\Z", re.IGNORECASE)


def match_tail(template: str, path: str) -> tuple[dict[str, str], str] | None:
    """({param: value}, the path before the match) when `template` fits the end of `path`."""
    t_segs = [s for s in template.split("/") if s]
    p_segs = path.rstrip("/").split("/")
    if len(t_segs) > len(p_segs) - 1 or not t_segs:
        return None
    tail = p_segs[len(p_segs) - len(t_segs) :]
    values: dict[str, str] = {}
    for t, p in zip(t_segs, tail, strict=True):
        names = _SEGMENT_PARAM.findall(t)
        if not names:
            if t.lower() != p.lower():
                return None
            continue
        m = _segment_regex(t).match(p)
        if m is None:
            return None
        for name, value in zip(names, m.groups(), strict=True):
            from urllib.parse import unquote

            values[name] = unquote(value)
    return values, "/".join(p_segs[: len(p_segs) - len(t_segs)])


def _literal_count(template: str) -> int:
    return sum(1 for s in template.split("/") if s and "{" not in s)


def _lookup(node: DeviceNode, where: str) -> str | None:
    source: Any = node.ref if where.startswith("ref.") else node.detail
    key = where.removeprefix("ref.")
    value = source.get(key) if isinstance(source, Mapping) else None
    return (
        str(value)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value)
        else None
    )


def node_values(catalog: Catalog, platform: str, node: DeviceNode) -> NodeValues:
    values: dict[str, str] = {}
    base: str | None = None
    matched: Operation | None = None
    if node.request is not None and node.request.url:
        parts = urlsplit(node.request.url)
        best: tuple[int, int] | None = None
        for op in catalog.operations:
            hit = match_tail(op.path, parts.path)
            if hit is None:
                continue
            rank = (
                _literal_count(op.path) + len(hit[0]),
                1 if op.method == node.request.method else 0,
            )
            if best is None or rank > best:
                best, matched = rank, op
                values = dict(hit[0])
                base = f"{parts.scheme}://{parts.netloc}{hit[1]}"
    for name, sources in ALIASES.get(platform, {}).get(node.kind, {}).items():
        if name in values:
            continue
        for where in sources:
            found = _lookup(node, where)
            if found:
                values[name] = found
                break
    return NodeValues(values, base, matched)


def operations_for(
    catalog: Catalog, values: Mapping[str, str], *, first: Operation | None = None
) -> list[Operation]:
    """Operations with at least one path parameter, every one of which `values` fills.

    Ordered: `first` (the node's own request, when it is one), then the most specific (more
    parameters filled), GET before others, document order."""
    known = {k.lower() for k in values}
    hits = [
        (i, op)
        for i, op in enumerate(catalog.operations)
        if op.path_parameters and all(p.lower() in known for p in op.path_parameters)
    ]
    hits.sort(
        key=lambda t: (t[1] is not first, -len(t[1].path_parameters), t[1].method != "GET", t[0])
    )
    return [op for _, op in hits]


def join_base(base_url: str, path: str) -> str:
    """base + path, with an overlap removed: ``…/api/v2`` + ``/api/v2/Device`` -> ``…/api/v2/Device``."""
    base = base_url.rstrip("/")
    base_path = urlsplit(base).path if "://" in base else base
    b_segs = [s for s in base_path.split("/") if s]
    p_segs = [s for s in path.split("/") if s]
    for k in range(min(len(b_segs), len(p_segs)), 0, -1):
        if [s.lower() for s in b_segs[-k:]] == [s.lower() for s in p_segs[:k]]:
            return base + "/" + "/".join(p_segs[k:]) if p_segs[k:] else base
    return base + "/" + "/".join(p_segs)


def fill_path(path: str, values: Mapping[str, str], *, as_variables: bool = False) -> str:
    lowered = {k.lower(): v for k, v in values.items()}

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if as_variables:
            return "{{" + name + "}}"
        value = values.get(name, lowered.get(name.lower()))
        return quote(value, safe="") if value is not None else m.group(0)

    return _SEGMENT_PARAM.sub(sub, path)


def build_request(
    op: Operation,
    base_url: str,
    values: Mapping[str, str] | None = None,
    *,
    as_variables: bool = False,
) -> RequestSpec:
    """A RequestSpec for `op` under `base_url`: path parameters filled from `values` (or left as
    {{name}} variables), required query parameters and headers listed with their documented
    example, and the example body for operations that take one."""
    url = join_base(base_url, fill_path(op.path, values or {}, as_variables=as_variables))
    params = [
        (p.name, p.example.split("|")[0] if p.example else "")
        for p in op.parameters
        if p.location == "query" and p.required
    ]
    headers = [
        (p.name, p.example.split("|")[0] if p.example else "")
        for p in op.parameters
        if p.location == "header" and p.required and p.name.lower() not in ("authorization",)
    ]
    body_kind, body = "none", ""
    form: list[tuple[str, str]] = []
    if op.body_pointer is not None and op.method not in ("GET", "HEAD", "DELETE"):
        body_kind, body = "json", op.body_example or "{}"
        try:
            json.loads(body)
        except ValueError:
            body_kind = "text"
    elif any(p.location == "formData" for p in op.parameters):
        body_kind = "form"
        form = [(p.name, p.example) for p in op.parameters if p.location == "formData"]
    return RequestSpec(
        method=op.method,
        url=url,
        params=params,
        headers=headers,
        body_kind=body_kind,
        body=body,
        form=form,
        name=op.summary[:80] or op.operation_id,
    )
