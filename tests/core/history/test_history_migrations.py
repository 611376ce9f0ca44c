"""The history file's schema version (PRAGMA user_version) and its migrations: an old file
(version 0, today's layout, written here by raw sqlite3) is brought up to date keeping its
entries; the steps run in one transaction; a file of a NEWER version is never changed
(read-only, writes refused in words); a database that is not a history is set aside."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from workbench.cli import main
from workbench.core.errors import HistoryError
from workbench.core.history.sent import Masker, capture_sent
from workbench.core.history.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    HistoryStore,
    baseline,
    history_path,
    migrate,
)
from workbench.core.requests import RequestSpec, ResponseRecord

# The layout as the first history files had it, written out here on purpose (not imported):
# it is what a user's old file holds, whatever the code says today.
OLD_LAYOUT = """
CREATE TABLE entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    profile TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    size INTEGER NOT NULL,
    elapsed_ms REAL NOT NULL,
    content_type TEXT NOT NULL,
    request TEXT NOT NULL,
    sent TEXT NOT NULL,
    response_headers TEXT NOT NULL,
    body BLOB NOT NULL,
    body_cut INTEGER NOT NULL,
    stored_bytes INTEGER NOT NULL
);
CREATE INDEX entries_profile ON entries (profile, id);
"""


def old_file(path: Path, *, version: int = 0, entries: int = 2) -> None:
    """A history file written with raw sqlite3: the old layout, `entries` rows, `version`."""
    sent = capture_sent(
        httpx.Request("GET", "https://api.example.test/v1/things?n=1"), Masker([])
    ).to_json()
    request = {"method": "GET", "url": "{{urls.api}}/v1/things", "body_kind": "none"}
    conn = sqlite3.connect(path)
    conn.executescript(OLD_LAYOUT)
    for n in range(entries):
        conn.execute(
            "INSERT INTO entries (created, profile, method, url, status, reason, size,"
            " elapsed_ms, content_type, request, sent, response_headers, body, body_cut,"
            " stored_bytes) VALUES (?, ?, 'GET', ?, 200, 'OK', 11, 5.0, 'application/json',"
            " ?, ?, ?, ?, 0, 100)",
            (
                1_700_000_000.0 + n,
                f"old-{n}",
                f"https://api.example.test/v1/things?n={n}",
                json.dumps(request),
                json.dumps(sent),
                json.dumps([["Content-Type", "application/json"]]),
                b'{"n": %d}' % n,
            ),
        )
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


def version_of(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def add_one(store: HistoryStore) -> int:
    request = httpx.Request("GET", "https://api.example.test/v1/new")
    response = ResponseRecord(
        status=201,
        reason="Created",
        http_version="HTTP/1.1",
        url=str(request.url),
        method="GET",
        headers=[],
        body=b"{}",
        elapsed_ms=1.0,
    )
    masker = Masker([])
    return store.add(
        profile="new",
        spec=RequestSpec(url=str(request.url)),
        sent=capture_sent(request, masker),
        response=response,
        masker=masker,
    )


# --- an old file is migrated, its entries kept ----------------------------------------------


def test_a_version_0_file_is_migrated_and_keeps_its_entries(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    old_file(path, version=0, entries=3)
    store = HistoryStore(path)
    listed = store.list()
    assert [e.profile for e in listed] == ["old-2", "old-1", "old-0"]
    assert version_of(path) == SCHEMA_VERSION
    assert store.notes == [] and not (tmp_path / "h.sqlite3.corrupt").exists()
    entry = store.get(listed[0].id)
    assert entry is not None and entry.body == b'{"n": 2}'
    assert entry.request is not None and entry.request.url == "{{urls.api}}/v1/things"
    assert entry.sent is not None and entry.sent.url.startswith("https://api.example.test/")
    new_id = add_one(store)
    assert new_id > listed[0].id and store.count() == 4
    assert [e.profile for e in HistoryStore(path).list()][:2] == ["new", "old-2"]


def test_a_current_file_is_not_migrated_again(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    old_file(path, version=SCHEMA_VERSION)
    before = digest(path)
    assert len(HistoryStore(path).list()) == 2
    assert digest(path) == before  # opening for reading changes nothing


def test_several_stores_migrate_one_old_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    old_file(path, entries=5)
    counts: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            counts.append(HistoryStore(path).count())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and counts == [5] * 6
    assert version_of(path) == SCHEMA_VERSION


# --- the steps run in one transaction ----------------------------------------------------


def test_the_steps_run_in_one_transaction(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    old_file(path, entries=2)

    def broken(conn: sqlite3.Connection) -> None:
        raise RuntimeError("step 3 failed")

    steps = [
        (1, baseline),
        (2, ("ALTER TABLE entries ADD COLUMN note TEXT NOT NULL DEFAULT ''",)),
        (3, broken),
    ]
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(RuntimeError, match="step 3"):
        migrate(conn, steps)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(entries)")}
    assert "note" not in columns  # step 2 was rolled back with step 3
    assert version_of(path) == 0
    assert migrate(conn, steps[:2]) == 0  # from version 0 ...
    assert version_of(path) == 2  # ... to 2, the column added, the entries kept
    assert conn.execute("SELECT COUNT(*), MIN(note) FROM entries").fetchone() == (2, "")
    assert migrate(conn, steps[:2]) == 2  # nothing left to do
    conn.close()


def test_the_migrations_list_is_ordered() -> None:
    versions = [v for v, _ in MIGRATIONS]
    assert versions == sorted(set(versions)) and versions[0] == 1
    assert versions[-1] == SCHEMA_VERSION


# --- a newer file is never changed --------------------------------------------------------


def test_a_newer_file_is_read_only_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    old_file(path, version=SCHEMA_VERSION + 7, entries=2)
    before = digest(path)
    store = HistoryStore(path)
    assert [e.profile for e in store.list()] == ["old-1", "old-0"]  # still readable
    assert store.read_only
    assert len(store.notes) == 1 and "newer version of workbench" in store.notes[0]
    assert f"schema {SCHEMA_VERSION + 7}" in store.notes[0]
    with pytest.raises(HistoryError, match="newer version") as info:
        add_one(store)
    assert info.value.hint and "newer workbench" in info.value.hint
    with pytest.raises(HistoryError, match="left untouched"):
        store.clear()
    fresh = HistoryStore(path)  # a new store (the next send, the next command) as well
    with pytest.raises(HistoryError, match="newer version"):
        add_one(fresh)
    assert digest(path) == before
    assert version_of(path) == SCHEMA_VERSION + 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.sqlite3"]


def test_a_newer_file_of_another_layout_is_an_error_in_words(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE exchanges (id INTEGER PRIMARY KEY, data BLOB)")
    conn.execute("INSERT INTO exchanges (data) VALUES (x'00')")
    conn.execute("PRAGMA user_version = 1000")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(HistoryError, match="could not be read"):
        HistoryStore(path).list()
    assert digest(path) == before


def test_the_cli_lists_a_newer_file_and_refuses_to_clear_it(capsys) -> None:
    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    old_file(path, version=SCHEMA_VERSION + 1)
    before = digest(path)
    assert main(["history"]) == 0
    out, err = capsys.readouterr()
    assert "old-1" in out and "old-0" in out
    assert "newer version of workbench" in err and "Traceback" not in err
    assert main(["history", "clear"]) == 2
    out, err = capsys.readouterr()
    assert "left untouched" in err and "Traceback" not in err
    assert digest(path) == before


# --- a database that is not a history ------------------------------------------------------


def test_a_database_that_is_not_a_history_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, what TEXT)")
    conn.execute("INSERT INTO entries (what) VALUES ('someone else''s data')")
    conn.commit()
    conn.close()
    before = digest(path)
    store = HistoryStore(path)
    assert store.list() == []
    assert store.notes and "not a history" in store.notes[0]
    aside = tmp_path / "h.sqlite3.corrupt"
    assert digest(aside) == before  # kept, byte for byte
    add_one(store)
    assert store.count() == 1 and version_of(path) == SCHEMA_VERSION
