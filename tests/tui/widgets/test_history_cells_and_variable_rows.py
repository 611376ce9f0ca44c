"""Pure helpers of the history list and the variables panel (no Pilot)."""

from __future__ import annotations

import time

from workbench.core.history.store import HistoryEntry
from workbench.tui.widgets.history_list.history_list import MARK, entry_cells
from workbench.tui.widgets.variables_panel.layers import (
    is_secret_variable,
    secret_variable_values,
    variable_rows,
)


def test_entry_cells_escape_hostile_text() -> None:
    now = time.time()
    entry = HistoryEntry(
        id=1,
        created=now,
        profile="p",
        method="GET",
        url="http://x.test/\x1b[31mred\u202eevil",
        status=404,
        reason="",
        size=1536,
        elapsed_ms=12.4,
        content_type="",
    )
    cells = entry_cells(entry, marked=True, now=now)
    assert cells[0] == MARK and cells[2:6] == ["GET", "404", "1.5 KiB", "12 ms"]
    assert "\x1b" not in cells[6] and "\u202e" not in cells[6]


def test_collection_wins_and_secrets_are_masked() -> None:
    rows = variable_rows(
        {"base": "http://p", "token_hint": "see docs", "x": "opaque-known-value"},
        {"base": "http://c", "password": "pw-1234567"},
        known_secrets=["opaque-known-value"],
    )
    by = {(r.name, r.source): r for r in rows}
    assert by[("base", "collection")].wins and not by[("base", "profile")].wins
    assert by[("password", "collection")].shown == "•••• (10 chars)"
    assert by[("x", "profile")].shown == "•••• (18 chars)"  # a known secret, by value
    assert by[("token_hint", "profile")].shown == "see docs"  # describes, holds nothing
    assert [r.name for r in rows][:2] == ["base", "base"]


def test_secret_variables_by_name_or_look() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    assert is_secret_variable("api_key", "abc")
    assert is_secret_variable("anything", jwt)
    assert not is_secret_variable("device", "nodemcu")
    assert secret_variable_values({"device": "nodemcu", "client_secret": "s3cr3t-v"}) == [
        "s3cr3t-v"
    ]


def test_session_rows_mask_what_the_auth_adds() -> None:
    from workbench.tui.widgets.variables_panel.layers import session_rows

    token = "opaque-Token-7777-abcd"
    rows = session_rows(
        [("Authorization", f"bearer {token}"), ("Origin", "https://manager.ioto.example")],
        [("authorization", token)],
        [token],
        path="/api -> /tok/api",
    )
    shown = {r.name: r.shown for r in rows}
    assert shown["header Authorization"] == f"•••• (bearer, {len(token)} chars)"
    assert shown["header Origin"] == "https://manager.ioto.example"
    assert shown["query authorization"] == f"•••• ({len(token)} chars)"
    assert shown["url path"] == "/api -> /tok/api"
    assert all(r.source == "session" for r in rows)
