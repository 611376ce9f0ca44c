"""`workbench profiles [--json]`: every profile, where it comes from, and whether you are logged in.

The --json shape (stable; documented in docs/profiles.md)::

    {
      "version": 1,
      "store": "keyring" | "file: <path>",
      "profiles": [
        {"name", "platform", "description", "base_url", "urls": {label: url},
         "flow", "flow_label", "legacy": bool, "interactive": bool,
         "source": "dir" | "user" | "builtin", "path", "demo": bool,
         "tls_verify": bool, "tls_warning": str | null,
         "login": {"state": "logged_in" | "expired" | "not_logged_in",
                   "expires_at": ISO-8601 UTC | null, "expires_in": seconds | null,
                   "refreshable": bool}}
      ],
      "errors": [{"path", "line", "column", "key", "message", "hint"}],
      "notes": [str]
    }
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from workbench.cli import EXIT_OK
from workbench.commands.output import emit, emit_json, field, show_error
from workbench.core.errors import ProfileError, StoreError
from workbench.core.profiles import Profile, discover
from workbench.core.session import expires_text
from workbench.core.store import TokenStore


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def login_state(profile: Profile, store: TokenStore, notes: list[str]) -> dict[str, Any]:
    try:
        tokens = store.get(profile.name, profile.origins(), tls=profile.tls_settings())
    except StoreError as err:
        notes.append(err.describe())
        tokens = None
    if tokens is None:
        return {
            "state": "not_logged_in",
            "expires_at": None,
            "expires_in": None,
            "refreshable": False,
            "text": "not logged in",
        }
    remaining = tokens.remaining()
    expired = remaining is not None and remaining <= 0
    refreshable = bool(tokens.refresh_token) or not profile.auth.spec.interactive
    if expired:
        text = expires_text(tokens) + (
            " (renews on next use)" if refreshable else " (log in again)"
        )
    else:
        text = "logged in, " + expires_text(tokens)
    return {
        "state": "expired" if expired else "logged_in",
        "expires_at": _iso(tokens.expires_at),
        "expires_in": int(remaining) if remaining is not None else None,
        "refreshable": refreshable,
        "text": text,
    }


def profile_json(profile: Profile, login: dict[str, Any]) -> dict[str, Any]:
    spec = profile.auth.spec
    return {
        "name": profile.name,
        "platform": profile.platform,
        "description": profile.description,
        "base_url": profile.base_url,
        "urls": dict(profile.urls),
        "flow": spec.name,
        "flow_label": spec.label,
        "legacy": spec.legacy,
        "interactive": spec.interactive,
        "source": profile.source,
        "path": str(profile.path) if profile.path else None,
        "demo": profile.is_demo,
        "tls_verify": profile.verify_tls,
        "tls_warning": profile.tls_note,
        "login": {k: v for k, v in login.items() if k != "text"},
    }


def error_json(err: ProfileError) -> dict[str, Any]:
    return {
        "path": err.path,
        "line": err.line,
        "column": err.column,
        "key": err.key,
        "message": err.message,
        "hint": err.hint,
    }


def run(args: argparse.Namespace) -> int:
    found = discover(getattr(args, "profiles", None))
    store = TokenStore()
    notes: list[str] = []
    rows = []
    for name in sorted(found.profiles):
        profile = found.profiles[name]
        rows.append((profile, login_state(profile, store, notes)))
    notes.extend(n for n in store.notes if n not in notes)
    if args.json:
        out = {
            "version": 1,
            "store": store.kind,
            "profiles": [profile_json(p, login) for p, login in rows],
            "errors": [error_json(e) for e in found.errors],
            "notes": notes,
        }
        emit_json(out)
        return EXIT_OK
    if not rows:
        emit("no profiles found")
    width = max((len(p.name) for p, _ in rows), default=4)
    for profile, login in rows:
        spec = profile.auth.spec
        name, url = field(profile.name), field(profile.base_url)
        emit(f"{name:<{width}}  {field(profile.platform):<10}  {url}")
        about = f"flow: {spec.label} · source: {field(profile.source)} · {field(login['text'])}"
        emit(f"{'':<{width}}  {about}")
        if profile.tls_note:
            emit(f"{'':<{width}}  WARNING: {field(profile.tls_note)}")
    for err in found.errors:
        show_error(err, lead="error")
    for note in notes:
        emit(f"note: {field(note)}", sys.stderr)
    emit(f"\ntokens are kept in: {field(store.kind)}")
    return EXIT_OK
