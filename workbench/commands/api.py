"""`workbench api PROFILE [SEARCH...|OPERATION_ID] [--device ID] [--set N=V] [--send] [--json]`.

A profile's API catalogs (its ``[[catalogs]]``: the vendors' OpenAPI / Swagger documents):

- with search words (or none): the matching operations, one per line
  (``METHOD path  operationId  summary``), ``--tag`` to narrow; ``--json`` prints
  ``{"version": 1, "profile", "count", "operations": [{"catalog", "operationId", "method",
  "path", "tags", "summary", "pathParameters"}]}``;
- with one operationId: the request it makes, path parameters filled from ``--device`` (a
  device-tree node: its id, or the id's last part) and ``--set NAME=VALUE``, the warnings of
  the documented-schema check; ``--send`` sends it with the profile's session and checks the
  response against the documented schema (deviations listed, never blocking; fields the
  vendor's own code is known to send are listed apart, ``documented_gaps`` in ``--json``).

Exit codes: 0 ok; 1 sent and the server answered 4xx/5xx; 2 unknown profile / operation /
device, a profile without catalogs, or a document that cannot be read; 3 auth failed;
4 network or server error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import Any

from workbench.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from workbench.commands.output import emit, emit_json, field, show_error
from workbench.core.catalog.fill import build_request, node_values
from workbench.core.catalog.model import Operation
from workbench.core.catalog.profile_catalogs import (
    ProfileCatalog,
    base_url_for,
    find_operation,
    open_profile_catalogs,
    search_all,
)
from workbench.core.errors import CatalogError, WorkbenchError
from workbench.core.profiles import Profile, get_profile

BODY_PREVIEW = 64 * 1024


def operation_json(pc: ProfileCatalog, op: Operation) -> dict[str, Any]:
    return {
        "catalog": pc.name,
        "operationId": op.operation_id,
        "method": op.method,
        "path": op.path,
        "tags": list(op.tags),
        "summary": op.summary,
        "pathParameters": op.path_parameters,
    }


def _catalogs(profile: Profile) -> list[ProfileCatalog]:
    if not profile.catalogs:
        raise CatalogError(
            f"profile '{profile.name}' names no API catalog",
            hint='add [[catalogs]] spec = "<the vendor\'s OpenAPI/Swagger file or https URL>" '
            '(base = "<one of its [urls]>") to the profile; see docs/profiles.md',
        )
    return open_profile_catalogs(profile)


def _list(args: argparse.Namespace, profile: Profile, catalogs: list[ProfileCatalog]) -> int:
    hits = search_all(catalogs, " ".join(args.words), tag=args.tag)
    if args.json:
        emit_json(
            {
                "version": 1,
                "profile": profile.name,
                "count": len(hits),
                "operations": [operation_json(pc, op) for pc, op in hits],
            }
        )
        return EXIT_OK
    for pc in catalogs:
        note = f"  ({pc.opened.note})" if pc.opened.note else ""
        emit(
            field(
                f"# {pc.name}: {pc.opened.catalog.title} {pc.opened.catalog.version} · "
                f"{len(pc.opened.catalog.operations)} operations{note}"
            ),
            sys.stderr,
        )
    for _pc, op in hits:
        emit(field(f"{op.method:<7}{op.path}  {op.operation_id}  {op.summary}"))
    if not hits:
        emit("no operation matches", sys.stderr)
    return EXIT_OK


def _find_node(profile: Profile, client: Any, wanted: str, depth: int) -> Any:
    from workbench.core.platforms.base import adapter_for, walk

    adapter = adapter_for(profile, client, page_size=1000)
    low = wanted.lower()
    for _level, node in walk(adapter, max(1, depth)):
        node_id = node.id.lower()
        if node.kind != "error" and (node_id == low or node_id.endswith(":" + low)):
            return adapter, node
    raise CatalogError(
        f"no device-tree node '{wanted}' within {depth} levels",
        hint="`workbench devices PROFILE --json` lists the node ids; raise --depth",
    )


def run(args: argparse.Namespace) -> int:
    from workbench.commands.auth import exit_code_for

    try:
        profile = get_profile(args.profile, getattr(args, "profiles", None))
        catalogs = _catalogs(profile)
    except WorkbenchError as err:
        show_error(err)
        return exit_code_for(err)
    for pc in catalogs:
        for problem in pc.opened.problems[:5]:
            emit(field(f"note: {pc.name}: {problem}"), sys.stderr)
    found = find_operation(catalogs, args.words[0]) if len(args.words) == 1 else None
    if found is None:
        if args.device or args.send or args.set:
            what = " ".join(args.words) or "(none)"
            show_error(
                CatalogError(
                    f"no operation with the operationId '{what}'",
                    hint="list them: workbench api PROFILE [SEARCH]",
                )
            )
            return EXIT_USAGE
        return _list(args, profile, catalogs)
    return _operation(args, profile, *found)


def _operation(
    args: argparse.Namespace, profile: Profile, pc: ProfileCatalog, op: Operation
) -> int:
    from workbench.commands.auth import exit_code_for
    from workbench.core.catalog.validate import check_request, check_response
    from workbench.core.requests import send

    values: dict[str, str] = {}
    for item in args.set:
        name, eq, value = item.partition("=")
        if not eq or not name:
            show_error(f"--set wants NAME=VALUE, not {item!r}")
            return EXIT_USAGE
        values[name] = value
    session = None
    result: dict[str, Any] = {"operation": operation_json(pc, op)}
    try:
        needs_session = bool(args.device or args.send)
        if needs_session:
            from workbench.commands.common import headless_session

            session = headless_session(profile, quiet=args.json)
        client_cm = session.client() if session is not None else None
        client = client_cm.__enter__() if client_cm is not None else None
        try:
            base: str | None = None
            adapter = None
            if args.device:
                adapter, node = _find_node(profile, client, args.device, args.depth)
                found = node_values(pc.opened.catalog, profile.platform, node)
                values = {**found.values, **values}
                base = found.base_url
                result["device"] = node.id
            if base is None:
                gateway = getattr(adapter, "gateway", None) if adapter is not None else None
                if gateway is None and profile.platform == "plgd" and client is not None:
                    from workbench.core.platforms.base import adapter_for

                    gateway = getattr(adapter_for(profile, client), "gateway", None)
                base = base_url_for(profile, pc.ref, gateway)
            spec = build_request(op, base, values)
            document = pc.opened.document()
            warnings = check_request(document, op, spec)
            result["request"] = {
                "method": spec.method,
                "url": spec.url,
                "query": [list(p) for p in spec.params],
                "headers": [list(h) for h in spec.headers],
                "body": spec.body if spec.body_kind != "none" else None,
            }
            result["warnings"] = warnings
            if args.send and client is not None:
                record = send(client, spec)
                deviations = check_response(
                    document, op, record.status, record.body, record.content_type
                )
                body_text = record.body[:BODY_PREVIEW].decode("utf-8", "replace")
                result["response"] = {
                    "status": record.status,
                    "elapsed_ms": record.elapsed_ms,
                    "size": record.size,
                    "content_type": record.content_type,
                    "body": body_text,
                    "truncated": record.size > BODY_PREVIEW,
                }
                from workbench.core.catalog.gaps import is_gap

                # what the vendor's own code is known to send is no deviation (known_gaps.toml)
                result["deviations"] = [d for d in deviations if not is_gap(d)]
                result["documented_gaps"] = [d for d in deviations if is_gap(d)]
        finally:
            if client_cm is not None:
                client_cm.__exit__(None, None, None)
    except WorkbenchError as err:
        show_error(err)
        return exit_code_for(err)
    finally:
        if session is not None:
            session.close()
    if args.json:
        emit_json({"version": 1, "profile": profile.name, **result})
    else:
        _print(op, result)
    response = result.get("response")
    return EXIT_FAILED if response and response["status"] >= 400 else EXIT_OK


def _print(op: Operation, result: dict[str, Any]) -> None:
    req = result["request"]
    emit(field(f"{op.operation_id} · {op.summary}" if op.summary else op.operation_id))
    if "device" in result:
        emit(field(f"  from node {result['device']}"))
    emit(field(f"{req['method']} {req['url']}"))
    for name, value in req["query"]:
        emit(field(f"  query {name}={value}"))
    for name, value in req["headers"]:
        emit(field(f"  header {name}: {value}"))
    if req["body"]:
        emit("  body:")
        for line in req["body"].splitlines()[:60]:
            emit(field(f"    {line}"))
    for warning in result["warnings"]:
        emit(field(f"  ⚠ {warning}"))
    response = result.get("response")
    if response is None:
        return
    emit(
        field(f"→ {response['status']} · {response['size']:,} bytes · {response['elapsed_ms']} ms")
    )
    body = response["body"]
    with contextlib.suppress(ValueError):
        body = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    for line in body.splitlines()[:200]:
        emit(field(line))
    deviations = result.get("deviations") or []
    gaps = result.get("documented_gaps") or []
    if deviations:
        emit("schema check: deviations from the documented response:")
        for d in deviations:
            emit(field(f"  ✗ {d}"))
    else:
        emit(
            "schema check: the response fits the documented schema"
            + (", but for documented gaps of the vendor's document:" if gaps else "")
        )
    for d in gaps:
        emit(field(f"  · {d}"))
