"""Known gaps of vendor documents: fields the vendor's own code sends that its document omits.

The facts are data, in ``known_gaps.toml`` next to this module: per document (matched by
``info.title`` and ``info.version``), the object schemas (JSON pointers) that lack fields, and
the source (repository path@commit) where the vendor's code defines them; and the schemas the
document gets wrong for every answer (a ``oneOf`` nothing can pass), with words saying why.
The response check (:mod:`workbench.core.catalog.validate`) says such a finding as a
documented gap instead of a deviation; anything not listed stays a deviation.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

GAP_PREFIX = "documented gap: "


@dataclass(frozen=True, slots=True)
class Gap:
    schema: str  # JSON pointer of the object schema that lacks the field
    field: str
    source: str  # where the vendor's code defines it: "owner/repo path@commit, ..."
    sender: str  # who sends it, for the words: "the hub's code"


@dataclass(frozen=True, slots=True)
class Defect:
    schema: str  # JSON pointer of the schema the document gets wrong
    keyword: str  # the schema keyword whose errors it explains ("oneOf")
    words: str
    source: str


@dataclass(frozen=True, slots=True)
class DocumentGaps:
    title: str
    version: str
    sha256: str
    gaps: Mapping[tuple[str, str], Gap]  # (schema pointer, field) -> Gap
    defects: tuple[Defect, ...] = ()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@functools.cache
def known_documents() -> tuple[DocumentGaps, ...]:
    """The documents known_gaps.toml describes (read once)."""
    data = tomllib.loads((files("workbench.core.catalog") / "known_gaps.toml").read_text("utf-8"))
    out = []
    for entry in data.get("document", []):
        sender = _text(entry.get("sender")) or "the vendor's code"
        gaps = {
            (_text(g.get("schema")), str(name)): Gap(
                _text(g.get("schema")), str(name), _text(g.get("source")), sender
            )
            for g in entry.get("gap", [])
            for name in g.get("fields", [])
        }
        defects = tuple(
            Defect(
                _text(d.get("schema")),
                _text(d.get("keyword")),
                _text(d.get("words")),
                _text(d.get("source")),
            )
            for d in entry.get("defect", [])
        )
        out.append(
            DocumentGaps(
                _text(entry.get("title")),
                _text(entry.get("version")),
                _text(entry.get("sha256")),
                gaps,
                defects,
            )
        )
    return tuple(out)


def known_for(doc: Any) -> DocumentGaps | None:
    """What known_gaps.toml says about `doc` (a decoded API document): None unless its
    info.title and info.version are those of a document it describes."""
    info = doc.get("info") if isinstance(doc, Mapping) else None
    if not isinstance(info, Mapping):
        return None
    title, version = str(info.get("title", "")), str(info.get("version", ""))
    for known in known_documents():
        if known.title == title and known.version == version:
            return known
    return None


def gaps_for(doc: Any) -> Mapping[tuple[str, str], Gap]:
    """The known field gaps of `doc` (empty for a document known_gaps.toml does not name)."""
    known = known_for(doc)
    return known.gaps if known else {}


def gap_finding(path: str, gap: Gap) -> str:
    """The words for a field the document lacks but the vendor's code sends."""
    return (
        f"{GAP_PREFIX}field `{path}` is not in the vendor's document, but {gap.sender} "
        f"sends it ({gap.source})"
    )


def defect_finding(where: str, defect: Defect) -> str:
    """The words for a check error that a known defect of the document explains."""
    return f"{GAP_PREFIX}`{where}`: {defect.words} ({defect.source})"


def is_gap(finding: str) -> bool:
    return finding.startswith(GAP_PREFIX)


def gap_subject(finding: str) -> str:
    """What a gap finding is about (the field path or the place it names), for a short list."""
    start = finding.find("`")
    end = finding.find("`", start + 1)
    return finding[start + 1 : end] if start >= 0 and end > start else finding
