"""What the collection browser lists and shows, as plain data: Entry (one collection file),
RequestRef, Run (one replay's results), and the text helpers (short_url, error_line,
detail_text) — no widgets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from workbench.core.errors import CollectionError

if TYPE_CHECKING:
    from workbench.core.collection.collection import Collection
    from workbench.core.collection.runner import RequestResult

URL_WIDTH = 24  # characters of a request's URL shown in the sidebar


def collections_dir() -> Path:
    from workbench.core import paths

    return paths.data_dir() / "collections"


def short_url(url: str, width: int = URL_WIDTH) -> str:
    """The part of a URL worth reading in a narrow list: no ``{{urls.X}}`` / scheme+host."""
    text = url
    if text.startswith("{{"):
        end = text.find("}}")
        if end != -1 and text[end + 2 : end + 3] in ("/", "?", ""):
            text = text[end + 2 :] or "/"
    elif "://" in text:
        rest = text.split("://", 1)[1]
        slash = rest.find("/")
        text = rest[slash:] if slash != -1 else "/"
    return text if len(text) <= width else "…" + text[-(width - 1) :]


@dataclass
class Entry:
    """One collection file: loaded, or broken (with its error)."""

    path: Path
    collection: Collection | None = None
    error: CollectionError | None = None
    opened: bool = False  # opened with "o" (not from the collections directory)

    @property
    def title(self) -> str:
        return self.collection.name if self.collection is not None else self.path.name


@dataclass
class RequestRef:
    entry: Entry
    name: str


@dataclass
class Run:
    """What one replay showed (kept to show the failures of a highlighted row)."""

    title: str
    total: int
    results: list[RequestResult] = field(default_factory=list)
    duration_s: float | None = None


def _fmt_ms(ms: float | None) -> str:
    return "—" if ms is None else f"{ms:,.0f} ms"


def error_line(err: CollectionError) -> str:
    """One line for the sidebar: ``file.toml:3:1: unknown key 'x' …`` (file name only)."""
    text = str(err)
    if err.path and text.startswith(str(err.path)):
        text = Path(err.path).name + text[len(str(err.path)) :]
    return text.splitlines()[0] if text else "broken file"


def _check_collection_path(value: str) -> str | None:
    if not value:
        return "give the path of a collection file (.toml)"
    path = Path(value).expanduser()
    if not path.is_file():
        return f"no such file: {path}"
    return None


def detail_text(result: RequestResult) -> Text:
    """The failures of a result first (red), then what passed (dim)."""
    text = Text()
    text.append(f"{result.method} {result.url}\n", style="bold")
    if result.error:
        text.append(f"✗ {result.error}\n", style="red")
    for check in result.checks:
        if not check.passed:
            text.append(f"✗ {check.message}\n", style="red")
    for cap in result.captures:
        if not cap.ok:
            text.append(f"✗ {cap.message}\n", style="red")
    for check in result.checks:
        if check.passed:
            text.append(f"✓ {check.message}\n", style="dim")
    for cap in result.captures:
        if cap.ok:
            text.append(f"✓ {cap.message}\n", style="dim")
    if not result.error and not result.checks and not result.captures:
        text.append("no expectations: any answer passes\n", style="dim")
    text.rstrip()
    return text
