"""Reading an API document: a file, a document shipped with the package, or an https URL.

``builtin:NAME`` names a document shipped in workbench/core/catalog/vendor (only those whose
licence allows it: see docs/design.md). A URL is fetched with a deadline and a size cap and
kept in the cache dir with its ETag: the next open sends ``If-None-Match`` and a 304 reuses
the copy; when the network fails, the cached copy is used and the note says so. Plain http is
refused except to loopback. YAML is read with a safe loader that refuses aliases (a "billion
laughs" document is an error, not a memory blow-up).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.core import paths
from workbench.core.atomic import atomic_write
from workbench.core.errors import CatalogError

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
FETCH_DEADLINE = 20.0
BUILTIN_PREFIX = "builtin:"


@dataclass(frozen=True, slots=True)
class Document:
    data: bytes
    source: str  # as the user named it
    note: str | None = None  # e.g. "offline: using the copy fetched 2026-12-01"


def is_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


def _loopback(host: str | None) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or bool(host and host.startswith("127."))


def builtin_path(name: str) -> Path:
    from importlib.resources import files

    return Path(str(files("workbench.core.catalog") / "vendor" / name))


def read_document(source: str, *, base_dir: Path | None = None, verify: Any = True) -> Document:
    """The document's bytes. Raises CatalogError with words when it cannot be had."""
    if source.startswith(BUILTIN_PREFIX):
        path = builtin_path(source[len(BUILTIN_PREFIX) :])
        return Document(_read_file(path, source), source)
    if is_url(source):
        return _fetch(source, verify=verify)
    path = Path(source).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return Document(_read_file(path, source), source)


def _read_file(path: Path, source: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise CatalogError(
                f"{source}: {size:,} bytes is larger than the {MAX_DOCUMENT_BYTES // 2**20} MiB "
                "limit for an API document"
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(f"{source}: no such file", hint=f"looked at {path}") from None
    except OSError as exc:
        raise CatalogError(f"{source}: cannot read it: {exc.strerror or exc}") from None


def _cache_paths(url: str) -> tuple[Path, Path]:
    key = hashlib.sha256(url.encode()).hexdigest()[:32]
    base = paths.cache_dir() / "catalogs"
    return base / f"url-{key}.body", base / f"url-{key}.meta.json"


def _fetch(url: str, *, verify: Any) -> Document:
    import httpx

    parts = urlsplit(url)
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise CatalogError(f"{url}: plain http is refused for API documents (use https)")
    body_path, meta_path = _cache_paths(url)
    meta: dict[str, Any] = {}
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        cached: bytes | None = body_path.read_bytes()
    except (OSError, ValueError):
        cached, meta = None, {}
    headers = {"Accept": "application/json, application/yaml, text/yaml, */*"}
    if cached is not None and isinstance(meta.get("etag"), str):
        headers["If-None-Match"] = meta["etag"]
    try:
        with (
            httpx.Client(timeout=FETCH_DEADLINE, verify=verify, trust_env=False) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304 and cached is not None:
                return Document(cached, url, "not modified since it was cached")
            if response.status_code != 200:
                raise CatalogError(f"{url}: the server answered {response.status_code}")
            chunks: list[bytes] = []
            total = 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > MAX_DOCUMENT_BYTES:
                    raise CatalogError(
                        f"{url}: larger than the {MAX_DOCUMENT_BYTES // 2**20} MiB limit"
                    )
                chunks.append(chunk)
            data = b"".join(chunks)
            etag = response.headers.get("etag")
    except httpx.HTTPError as exc:
        if cached is not None:
            return Document(
                cached, url, f"could not fetch it ({type(exc).__name__}); using the cached copy"
            )
        raise CatalogError(f"{url}: cannot fetch it: {exc}") from None
    atomic_write(body_path, data)
    atomic_write(meta_path, json.dumps({"url": url, "etag": etag}))
    return Document(data, url)


def decode_document(data: bytes, source: str) -> Any:
    """JSON or YAML to Python data. Raises CatalogError naming where it is broken."""
    text_start = data.lstrip()[:1]
    if text_start in (b"{", b"["):
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise CatalogError(f"{source}: not valid JSON: {exc}") from None
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise CatalogError(
                    f"{source}: YAML aliases are not supported in API documents "
                    f"(line {event.start_mark.line + 1})"
                )
            return super().compose_node(parent, index)

    try:
        loaded = yaml.load(data, Loader=NoAliasLoader)  # noqa: S506 - a safe loader without aliases
        # as JSON would have it: string keys (YAML reads `200:` as an int), dates as text
        return json.loads(json.dumps(loaded, default=str))
    except yaml.YAMLError as exc:
        raise CatalogError(f"{source}: neither JSON nor valid YAML: {exc}") from None
    except RecursionError:
        raise CatalogError(f"{source}: nested too deeply") from None
