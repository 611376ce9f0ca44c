"""`workbench import openapi SPEC --into COLLECTION [--tag T]... [--profile P [--base NAME]] [--force]`.

Writes a collection with one request per documented operation (or per operation with one of
the tags): relative URLs (``{{urls.NAME}}/...`` with --profile, else the documented path
starting with ``/``), every path parameter a ``{{variable}}`` defined empty in
``[variables]`` for the user to fill, required query parameters and headers with their
documented examples, the example body. No secret is ever written: the session signs the
requests when they are sent.

Exit codes: 0 written; 2 the document cannot be read, no operation matches, the collection
exists (without --force), or an unknown profile / base.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from workbench.cli import EXIT_OK, EXIT_USAGE
from workbench.commands.output import emit, field, show_error
from workbench.core.catalog.cache import open_catalog
from workbench.core.catalog.fill import build_request
from workbench.core.errors import CatalogError, WorkbenchError


def collection_data(
    operations: list[Any], *, name: str, description: str, profile: str | None, base: str
) -> dict[str, Any]:
    variables: dict[str, str] = {}
    requests: list[dict[str, Any]] = []
    used: set[str] = set()
    for op in operations:
        spec = build_request(op, base, as_variables=True)
        for param in op.path_parameters:
            variables.setdefault(param, "")
        request_name = op.operation_id
        n = 2
        while request_name in used:
            request_name, n = f"{op.operation_id}_{n}", n + 1
        used.add(request_name)
        entry: dict[str, Any] = {"name": request_name, "method": spec.method, "url": spec.url}
        if spec.params:
            entry["query"] = [list(p) for p in spec.params]
        if spec.headers:
            entry["headers"] = [list(h) for h in spec.headers]
        if spec.body_kind == "json":
            entry["body"] = {"json": spec.body}
        elif spec.body_kind == "text":
            entry["body"] = {"text": spec.body}
        elif spec.body_kind == "form" and spec.form:
            entry["body"] = {"form": [list(f) for f in spec.form]}
        requests.append(entry)
    meta: dict[str, Any] = {"name": name, "description": description}
    if profile:
        meta["profile"] = profile
    return {"meta": meta, "variables": variables, "requests": requests}


def run(args: argparse.Namespace) -> int:
    from workbench.core.atomic import atomic_write
    from workbench.core.collection.save import document_text

    target = Path(args.into)
    try:
        if target.exists() and not args.force:
            raise CatalogError(
                f"{target} exists", hint="choose another file, or --force to overwrite it"
            )
        base = ""
        if args.profile:
            from workbench.core.profiles import get_profile

            profile = get_profile(args.profile, getattr(args, "profiles", None))
            name = args.base or next(iter(profile.urls))
            if name not in profile.urls:
                raise CatalogError(
                    f"profile '{profile.name}' has no base URL '{name}'",
                    hint=f"its [urls]: {', '.join(profile.urls)}",
                )
            # "/..." is joined to the profile's first URL; any other is named explicitly
            base = "" if name == next(iter(profile.urls)) else "{{urls." + name + "}}"
            base_path = profile.urls[name].split("://", 1)[-1].partition("/")[2]
        opened = open_catalog(args.spec)
        ops = list(opened.catalog.operations)
        if args.tag:
            wanted = {t.lower() for t in args.tag}
            ops = [op for op in ops if wanted & {t.lower() for t in op.tags}]
        if not ops:
            raise CatalogError(
                "no operation to import"
                + (f" with the tag(s) {', '.join(args.tag)}" if args.tag else ""),
                hint="tags in the document: " + ", ".join(opened.catalog.tags()[:20]),
            )
        if args.profile and base_path:
            # the document's paths may repeat the base URL's path (/api/v2 + /api/v2/Device)
            from dataclasses import replace

            from workbench.core.catalog.fill import join_base

            ops = [
                replace(op, path=join_base("/" + base_path, op.path)[len(base_path) + 1 :] or "/")
                for op in ops
            ]
        data = collection_data(
            ops,
            name=target.stem,
            description=f"imported from {opened.catalog.title} {opened.catalog.version}".strip(),
            profile=args.profile,
            base=base,
        )
        atomic_write(target, document_text(data))
    except WorkbenchError as err:
        show_error(err)
        return EXIT_USAGE
    except OSError as exc:
        show_error(f"cannot write {target}: {exc.strerror or exc}")
        return EXIT_USAGE
    emit(
        field(
            f"wrote {target}: {len(data['requests'])} requests, {len(data['variables'])} variables"
        )
    )
    return EXIT_OK
