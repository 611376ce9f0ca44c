"""Opening a catalog fast: pre-parsed catalogs in the cache dir, keyed by the document's hash.

The first open of a document parses it (parse.py) and writes ``<sha256>.v<N>.json`` (the
catalog) and, for YAML sources, ``<sha256>.doc.json`` (the document as JSON, for validation);
the next open reads the document's bytes, hashes them and loads the JSON (a few ms for the
500 KB IoTConnect device spec). A damaged cache file is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core import paths
from workbench.core.atomic import atomic_write
from workbench.core.catalog.document import decode_document, read_document
from workbench.core.catalog.model import FORMAT_VERSION, Catalog
from workbench.core.catalog.parse import parse_catalog


@dataclass(slots=True)
class OpenedCatalog:
    catalog: Catalog
    problems: list[str] = field(default_factory=list)
    note: str | None = None
    from_cache: bool = False
    _document: Any = None

    def document(self) -> Any:
        """The whole document (for schema validation), loaded on first use."""
        if self._document is None:
            self._document = load_document(self.catalog.sha256)
        return self._document


_DOCUMENTS: dict[str, Any] = {}  # sha256 -> decoded document, for this process


def _dir() -> Path:
    return paths.cache_dir() / "catalogs"


def load_document(sha256: str) -> Any:
    doc = _DOCUMENTS.get(sha256)
    if doc is None:
        doc = json.loads((_dir() / f"{sha256}.doc.json").read_bytes())
        _DOCUMENTS[sha256] = doc
    return doc


def open_catalog(source: str, *, base_dir: Path | None = None, verify: Any = True) -> OpenedCatalog:
    """The catalog of `source` (path, builtin:NAME or URL). Raises CatalogError."""
    document = read_document(source, base_dir=base_dir, verify=verify)
    sha = hashlib.sha256(document.data).hexdigest()
    pre = _dir() / f"{sha}.v{FORMAT_VERSION}.json"
    doc_file = _dir() / f"{sha}.doc.json"
    try:
        data = json.loads(pre.read_bytes())
        catalog = Catalog.from_json(data["catalog"])
        if doc_file.exists():
            return OpenedCatalog(
                catalog, list(data.get("problems", [])), document.note, from_cache=True
            )
    except (OSError, ValueError, KeyError, TypeError):
        pass
    doc = decode_document(document.data, source)
    catalog, problems = parse_catalog(doc, source=source, sha256=sha)
    _DOCUMENTS[sha] = doc
    try:
        atomic_write(doc_file, json.dumps(doc, separators=(",", ":")))
        atomic_write(
            pre,
            json.dumps({"catalog": catalog.to_json(), "problems": problems}, separators=(",", ":")),
        )
    except OSError:
        pass  # a read-only cache only costs speed
    return OpenedCatalog(catalog, problems, document.note, _document=doc)
