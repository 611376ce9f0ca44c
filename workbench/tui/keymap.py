"""The user's key remapping: `<config dir>/keymap.toml`, binding id -> keys.

    # keymap.toml
    "main.request" = "f12"         # the Request tab on F12 instead of 3
    "composer.send" = "ctrl+s,f5"  # several keys: comma-separated

Binding ids and their current keys are listed in the help screen (F1). A malformed file is
reported with its line and ignored; it never stops the app. An entry naming an unknown
binding id, or giving a key that another binding of the same screen already has, is
reported with its file:line and ignored; the rest of the keymap still applies.

The checks (``check_keymap``) are pure: they take the entries and, per screen, the chains of
bindings that are active together (``binding_scopes`` builds them from the app's classes).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.binding import Binding

from workbench.core import paths
from workbench.core.errors import ConfigError

_POS = re.compile(r"\(at line (\d+), column (\d+)\)")

_KEY_NAMES = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}


def keymap_path() -> Path:
    return paths.config_dir() / "keymap.toml"


@dataclass(frozen=True)
class KeymapEntry:
    """One line of keymap.toml: a binding id, its new keys (comma-separated), where it is."""

    id: str
    keys: str
    line: int | None = None

    @property
    def key_list(self) -> tuple[str, ...]:
        return split_keys(self.keys)


def normalize_key(key: str) -> str:
    """One key as Textual names it: "/" -> "slash", "F3" -> "f3" (modifiers kept)."""
    key = key.strip()
    if len(key) == 1 and not key.isalnum():
        try:
            name = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
        except ValueError:
            return key
        return _KEY_NAMES.get(name, name)
    if len(key) == 1:
        return key
    return key.lower() if re.fullmatch(r"[Ff]\d{1,2}", key) else key


def split_keys(keys: str) -> tuple[str, ...]:
    """ "ctrl+s, f5" -> ("ctrl+s", "f5"), each normalized."""
    return tuple(normalize_key(k) for k in keys.split(",") if k.strip())


def _line_of(text: str, key: str) -> int | None:
    """The line that sets the (flattened, dotted) ``key``: each line is read as TOML on its
    own, under the table header above it, so quoting and escapes in the key do not matter."""
    prefix = ""
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            data = tomllib.loads(line)
        except tomllib.TOMLDecodeError:
            continue
        if stripped.startswith("["):  # a table header: its keys are the new prefix
            path = next(iter(_flatten(data, keep_tables=True)), None)
            prefix = f"{path[0]}." if path else ""
            continue
        if any(f"{prefix}{name}" == key for name, _ in _flatten(data)):
            return n
    return None


def _flatten(
    data: Mapping[str, Any], prefix: str = "", *, keep_tables: bool = False
) -> Iterable[tuple[str, Any]]:
    """(dotted key, value) of every leaf; with ``keep_tables``, an empty table is a leaf too
    (what a lone ``[a.b]`` header line reads as)."""
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and (value or not keep_tables):
            yield from _flatten(value, f"{name}.", keep_tables=keep_tables)
        else:
            yield name, value


def read_keymap(path: Path | None = None) -> list[KeymapEntry]:
    """The entries of the keymap file, in file order, each with its line; [] when there is no
    file. Raises ConfigError naming file, line, key for a file that cannot be used at all."""
    path = path or keymap_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the keymap: {exc}", path=str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _POS.search(str(exc))
        raise ConfigError(
            f"not valid TOML: {_POS.sub('', str(exc)).strip()}",
            path=str(path),
            line=int(m.group(1)) if m else None,
            column=int(m.group(2)) if m else None,
        ) from None
    out: list[KeymapEntry] = []
    for key, value in _flatten(data):
        line = _line_of(text, key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                'a keymap value must be a key string like "f3" or "ctrl+s,f5"',
                path=str(path),
                line=line,
                key=key,
            )
        out.append(KeymapEntry(key, value.strip(), line))
    out.sort(key=lambda e: e.line if e.line is not None else 1 << 30)
    return out


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """{binding id: keys}; {} when there is no file. Raises ConfigError naming file, line, key."""
    return {e.id: e.keys for e in read_keymap(path)}


# --- checks ---------------------------------------------------------------------------------

Chain = Sequence[Binding]
"""Bindings that are active together (an app, a screen, a focused widget and its parents)."""


@dataclass
class KeymapCheck:
    """What of a keymap applies (``applied``: id -> keys) and what was refused, in words."""

    applied: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _where(path: str, entry: KeymapEntry) -> str:
    return f"{path}:{entry.line}" if entry.line is not None else path


def _name(binding: Binding) -> str:
    return binding.id or binding.description or binding.action


def check_keymap(
    entries: Sequence[KeymapEntry],
    scopes: Mapping[str, Sequence[Chain]],
    *,
    path: str = "keymap.toml",
) -> KeymapCheck:
    """Refuse the entries that name no known binding id, or give a key that another binding
    active at the same time on the same screen already has (``scopes``: screen name -> its
    chains). Every refusal is a problem "path:line: ..."; the rest is ``applied``."""
    known = {b.id for chains in scopes.values() for chain in chains for b in chain if b.id}
    check = KeymapCheck()
    refused: list[tuple[int, str]] = []
    live: dict[str, KeymapEntry] = {}
    for entry in entries:
        if entry.id not in known:
            refused.append(
                (
                    entry.line or 0,
                    f"{_where(path, entry)}: unknown binding id '{entry.id}' (F1 lists them); "
                    "ignored",
                )
            )
        elif not entry.key_list:
            refused.append(
                (entry.line or 0, f"{_where(path, entry)}: no key for '{entry.id}'; ignored")
            )
        else:
            live[entry.id] = entry
    order = {e.id: n for n, e in enumerate(entries)}
    while True:
        clash = _first_clash(live, scopes, order)
        if clash is None:
            break
        entry, key, other, screen = clash
        refused.append(
            (
                entry.line or 0,
                f"{_where(path, entry)}: '{key}' for '{entry.id}' is already bound to "
                f"'{_name(other)}' on the {screen}; ignored",
            )
        )
        del live[entry.id]
    check.problems = [words for _, words in sorted(refused, key=lambda r: r[0])]
    check.applied = {e.id: e.keys for e in entries if e.id in live}
    return check


def _keys_of(binding: Binding, live: Mapping[str, KeymapEntry]) -> tuple[str, ...]:
    if binding.id and binding.id in live:
        return live[binding.id].key_list
    return split_keys(binding.key)


def _first_clash(
    live: Mapping[str, KeymapEntry],
    scopes: Mapping[str, Sequence[Chain]],
    order: Mapping[str, int],
) -> tuple[KeymapEntry, str, Binding, str] | None:
    """The latest remapped entry (in file order) whose key another binding of a chain has."""
    found: list[tuple[int, KeymapEntry, str, Binding, str]] = []
    for screen, chains in scopes.items():
        for chain in chains:
            by_key: dict[str, list[Binding]] = {}
            for binding in chain:
                for key in _keys_of(binding, live):
                    by_key.setdefault(key, []).append(binding)
            for key, bindings in by_key.items():
                ids = {b.id or id(b) for b in bindings}
                if len(ids) < 2:
                    continue
                for binding in bindings:
                    entry = live.get(binding.id or "")
                    if entry is None or key not in entry.key_list:
                        continue
                    other = next(b for b in bindings if (b.id or id(b)) != entry.id)
                    found.append((order[entry.id], entry, key, other, screen))
    if not found:
        return None
    found.sort(key=lambda f: f[0])
    _, entry, key, other, screen = found[-1]
    return entry, key, other, screen


# --- the app's bindings ---------------------------------------------------------------------


def bindings_of(cls: type) -> list[Binding]:
    """The bindings a DOM class declares, its bases' first (as Textual merges them)."""
    out: list[Binding] = []
    for klass in reversed(cls.__mro__):
        declared = klass.__dict__.get("BINDINGS")
        if declared:
            out.extend(Binding.make_bindings(declared))
    return out


def class_chains() -> dict[str, list[list[type]]]:
    """Screen name -> the chains of classes whose bindings are active together on it.

    Imports every screen and widget of the app: call it after the first frame."""
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.help import HelpScreen
    from workbench.tui.screens.login import LoginScreen
    from workbench.tui.screens.main import MainScreen, TimelineScreen
    from workbench.tui.screens.new_profile import NewProfileScreen
    from workbench.tui.screens.profile_picker import ProfilePicker
    from workbench.tui.widgets.body_view.body_view import BodyView
    from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser
    from workbench.tui.widgets.device_tree.device_tree import DeviceTree, DeviceTreePanel
    from workbench.tui.widgets.dialogs import AskScreen, ConfirmScreen
    from workbench.tui.widgets.request_composer.dialogs import CurlScreen, SaveRequestScreen
    from workbench.tui.widgets.request_composer.request_composer import RequestComposer
    from workbench.tui.widgets.response_view import ResponseView, SaveBodyScreen
    from workbench.tui.widgets.token_inspector.token_inspector import TokenInspector

    app: type = WorkbenchApp
    return {
        "everywhere": [[app]],
        "profile picker": [[app, ProfilePicker]],
        "new-profile dialog": [[app, NewProfileScreen]],
        "login screen": [[app, LoginScreen]],
        "main screen": [
            [app, MainScreen, DeviceTreePanel, DeviceTree],
            [app, MainScreen, TokenInspector],
            [app, MainScreen, RequestComposer, ResponseView, BodyView],
            [app, MainScreen, CollectionBrowser],
        ],
        "auth timeline": [[app, TimelineScreen]],
        "help screen": [[app, HelpScreen]],
        "confirm dialog": [[app, ConfirmScreen]],
        "question dialog": [[app, AskScreen]],
        "curl import dialog": [[app, CurlScreen]],
        "save-request dialog": [[app, SaveRequestScreen]],
        "save-body dialog": [[app, SaveBodyScreen]],
    }


def binding_scopes() -> dict[str, list[list[Binding]]]:
    """Screen name -> chains of the bindings active together (for ``check_keymap``)."""
    return {
        screen: [[b for cls in chain for b in bindings_of(cls)] for chain in chains]
        for screen, chains in class_chains().items()
    }


def bound_ids(scopes: Mapping[str, Sequence[Chain]]) -> dict[str, list[tuple[str, Binding]]]:
    """Screen name -> [(binding id, binding)] of the bindings with an id, each id once with
    all its default keys (``binding.key``, comma-separated), in the order the classes declare
    them (the help screen's table)."""
    out: dict[str, list[tuple[str, Binding]]] = {}
    where: dict[str, tuple[str, int]] = {}
    for screen, chains in scopes.items():
        rows = out.setdefault(screen, [])
        for chain in chains:
            for b in chain:
                if not b.id:
                    continue
                if b.id not in where:
                    where[b.id] = (screen, len(rows))
                    rows.append((b.id, b))
                    continue
                at_screen, at = where[b.id]
                first = out[at_screen][at][1]
                if b is not first and b.key not in split_keys(first.key):
                    out[at_screen][at] = (b.id, first.with_key(f"{first.key},{b.key}"))
    return {screen: rows for screen, rows in out.items() if rows}
