"""What the collection browser lists and shows, as plain data: Entry (one collection file),
RequestRef, Run (one replay's results), and the text helpers (short_url, error_line,
entry_label, request_label, info_text, detail_text) — no widgets. Text from a collection
file or from a server (names, URLs, error messages) goes through :mod:`workbench.core.text`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from workbench.core.errors import CollectionError
from workbench.core.text import escape_control, escape_keep_newlines

if TYPE_CHECKING:
    from workbench.core.collection.collection import Collection
    from workbench.core.collection.model import CollectionRequest
    from workbench.core.collection.runner import RequestResult

URL_WIDTH = 24  # characters of a request's URL shown in the sidebar


def collections_dir() -> Path:
    """Where the collections live (the browser lists it; the composer's Ctrl+B saves there)."""
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


def load_entries(directory: Path, opened: list[Path] | None = None) -> list[Entry]:
    """Every collection of `directory` (by file name; broken ones with their error), then the
    files in `opened` not already listed."""
    from workbench.core.collection.collection import discover_collections, load_collection

    found = discover_collections(directory)
    entries = [Entry(c.path, collection=c) for c in found.collections]
    entries += [Entry(Path(err.path or "?"), error=err) for err in found.errors]
    entries.sort(key=lambda e: e.path.name)
    seen = {e.path.resolve() for e in entries}
    for path in opened or []:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        try:
            entries.append(Entry(path, collection=load_collection(path), opened=True))
        except CollectionError as err:
            entries.append(Entry(path, error=err, opened=True))
    return entries


def stamp_files(directory: Path, opened: list[Path] | None = None) -> dict[Path, tuple[int, int]]:
    """(mtime, size) of every ``*.toml`` of `directory` and of the `opened` files: when this
    changes, the collections changed on disk (one stat a file, cheap enough to poll)."""
    out: dict[Path, tuple[int, int]] = {}
    paths = list(directory.glob("*.toml")) if directory.is_dir() else []
    for path in [*paths, *(opened or [])]:
        try:
            st = path.stat()
        except OSError:
            continue
        out[path] = (st.st_mtime_ns, st.st_size)
    return out


def profile_first(entries: list[Entry], profile: str) -> list[Entry]:
    """`entries` with the collections of `profile` first (the order is kept otherwise)."""
    return sorted(
        entries,
        key=lambda e: 0 if e.collection is not None and e.collection.profile == profile else 1,
    )


def fmt_ms(ms: float | None) -> str:
    """``1,234 ms``; ``—`` for no time."""
    return "—" if ms is None else f"{ms:,.0f} ms"


def error_line(err: CollectionError) -> str:
    """One line for the sidebar: ``file.toml:3:1: unknown key 'x' …`` (file name only)."""
    text = str(err)
    if err.path and text.startswith(str(err.path)):
        text = Path(err.path).name + text[len(str(err.path)) :]
    return escape_control(text.splitlines()[0]) if text else "broken file"


def entry_label(entry: Entry) -> Text:
    """A collection's sidebar line: its name, file and number of requests (or ✗ file)."""
    if entry.error is not None:
        return Text.assemble(("✗ ", "bold red"), (escape_control(entry.path.name), "red"))
    assert entry.collection is not None
    count = len(entry.collection.requests)
    return Text.assemble(
        (escape_control(entry.title), "bold"),
        ("  ", ""),
        (
            f"{escape_control(entry.path.name)} · {count} request{'s' if count != 1 else ''}",
            "dim",
        ),
    )


def request_label(req: CollectionRequest) -> Text:
    """A request's sidebar line: method, name and the short URL."""
    return Text.assemble(
        (f"{escape_control(req.spec.method.upper()):<6} ", "bold cyan"),
        (escape_control(req.name), ""),
        ("  " + escape_control(short_url(req.spec.url)), "dim"),
    )


def check_collection_path(value: str) -> str | None:
    """Why ``value`` is not a collection file to open (None: it is a file)."""
    if not value:
        return "give the path of a collection file (.toml)"
    path = Path(value).expanduser()
    if not path.is_file():
        return f"no such file: {path}"
    return None


def detail_text(result: RequestResult) -> Text:
    """The failures of a result first (red), then what passed (dim); every message escaped
    (a server's error message may hold anything)."""
    text = Text()
    text.append(f"{escape_control(result.method)} {escape_control(result.url)}\n", style="bold")
    if result.error:
        text.append(f"✗ {escape_keep_newlines(result.error)}\n", style="red")
    for check in result.checks:
        if not check.passed:
            text.append(f"✗ {escape_keep_newlines(check.message)}\n", style="red")
    for cap in result.captures:
        if not cap.ok:
            text.append(f"✗ {escape_keep_newlines(cap.message)}\n", style="red")
    for check in result.checks:
        if check.passed:
            text.append(f"✓ {escape_keep_newlines(check.message)}\n", style="dim")
    for cap in result.captures:
        if cap.ok:
            text.append(f"✓ {escape_keep_newlines(cap.message)}\n", style="dim")
    if not result.error and not result.checks and not result.captures:
        text.append("no expectations: any answer passes\n", style="dim")
    text.rstrip()
    return text


def info_text(data: Entry | RequestRef, screen_profile: str) -> str:
    """What the sidebar's info box says about a collection or request (escaped, multi-line):
    a broken file's error, a request's method, URL, profile, expectations and captures, a
    collection's path, description and profile."""
    from workbench.core.collection.expectations import expect_to_data

    entry = data.entry if isinstance(data, RequestRef) else data
    if entry.error is not None:
        return (
            escape_keep_newlines(entry.error.describe())
            + "\n(the file is left as it is: fix it, then F5)"
        )
    assert entry.collection is not None
    coll = entry.collection
    if isinstance(data, RequestRef):
        try:
            req = coll.request(data.name)
        except CollectionError:
            return ""
        lines = [f"{req.spec.method.upper()} {req.spec.url}"]
        profile = req.profile or coll.profile
        if profile:
            lines.append(f"profile {profile}")
        if not req.expect.is_empty():
            lines.append("expects " + ", ".join(expect_to_data(req.expect)))
        if req.captures:
            lines.append("captures " + ", ".join(req.captures))
        return "\n".join(escape_control(line) for line in lines)
    lines = [str(entry.path)]
    if coll.description:
        lines.extend(coll.description.splitlines())
    lines.append(
        f"profile {coll.profile or screen_profile}" + ("" if coll.profile else " (this screen's)")
    )
    return "\n".join(escape_control(line) for line in lines)
