"""The history store: caps, 0600, redaction by value (grepping the file's bytes), a corrupt
file set aside, concurrent writers."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from workbench.core.errors import HistoryError
from workbench.core.history.sent import Masker, capture_sent
from workbench.core.history.store import HistoryStore, history_path
from workbench.core.requests import RequestSpec, ResponseRecord

TOKEN = "tok-" + "A1b2C3d4" * 12  # a long opaque access token
PASSWORD = "hunter2-Pa55word-xyz"


def _exchange(
    body: bytes = b'{"ok": true}', url: str = "https://api.example.test/v1/things"
) -> tuple[RequestSpec, ResponseRecord, httpx.Request]:
    spec = RequestSpec(method="POST", url=url, body_kind="json", body='{"a": 1}')
    request = httpx.Request(
        "POST",
        url + "?authorization=" + TOKEN,
        headers={"Authorization": f"Bearer {TOKEN}", "X-Note": f"pw={PASSWORD}"},
        content=json.dumps({"password": PASSWORD, "n": 1}).encode(),
    )
    response = ResponseRecord(
        status=200,
        reason="OK",
        http_version="HTTP/1.1",
        url=url,
        method="POST",
        headers=[("Content-Type", "application/json"), ("Set-Cookie", f"sid={TOKEN}")],
        body=body,
        elapsed_ms=12.5,
    )
    return spec, response, request


def _add(store: HistoryStore, body: bytes = b'{"ok": true}', profile: str = "p") -> int:
    spec, response, request = _exchange(body)
    masker = Masker([TOKEN, PASSWORD])
    sent = capture_sent(request, masker)
    return store.add(profile=profile, spec=spec, sent=sent, response=response, masker=masker)


def test_lives_in_the_data_dir_with_mode_0600(isolated_dirs: Path) -> None:
    store = HistoryStore()
    _add(store)
    assert history_path() == isolated_dirs / "data" / "history.sqlite3"
    assert stat.S_IMODE(os.stat(history_path()).st_mode) == 0o600
    assert store.count() == 1


def test_no_secret_lands_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = HistoryStore(path)
    leaked = json.dumps({"access_token": "fresh-" + "Zz9" * 20, "token": TOKEN}).encode()
    entry_id = _add(store, body=leaked)
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (TOKEN, PASSWORD, "fresh-" + "Zz9" * 20):
        assert secret.encode() not in raw
        assert base64.b64encode(secret.encode()) not in raw
    entry = store.get(entry_id)
    assert entry is not None and entry.sent is not None
    assert ("Authorization", f"•••• (Bearer, {len(TOKEN)} chars)") in [
        (k.title(), v) for k, v in entry.sent.headers
    ]
    assert b"access_token" in entry.body  # the field is kept, its value masked


def test_capped_by_count_and_by_size(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3", max_entries=5)
    ids = [_add(store) for _ in range(8)]
    assert [e.id for e in store.list()] == ids[::-1][:5]

    big = HistoryStore(tmp_path / "big.sqlite3", max_bytes=50_000, body_cap=20_000)
    for _ in range(6):
        _add(big, body=b"x" * 30_000)
    assert big.total_bytes() <= 50_000
    newest = big.get(big.list(limit=1)[0].id)
    assert newest is not None and len(newest.body) == 20_000 and newest.body_truncated
    assert newest.size == 30_000


def test_newest_first_per_profile_and_clear(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    a = _add(store, profile="a")
    b = _add(store, profile="b")
    a2 = _add(store, profile="a")
    assert [e.id for e in store.list(profile="a")] == [a2, a]
    assert [e.id for e in store.list()] == [a2, b, a]
    assert store.clear(profile="a") == 2
    assert [e.id for e in store.list()] == [b]
    assert store.clear() == 1 and store.count() == 0


def test_a_corrupt_file_is_set_aside_and_a_new_one_made(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not SQLite at all\x00" * 100)
    store = HistoryStore(path)
    assert store.list() == []
    assert store.notes and "not a database" in store.notes[0]
    assert (tmp_path / "h.sqlite3.corrupt").exists()
    _add(store)
    assert store.count() == 1


def test_an_unusable_place_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = HistoryStore(blocker / "h.sqlite3")  # its "directory" is a file
    with pytest.raises(HistoryError, match="cannot open the history"):
        store.list()


def test_concurrent_writers_threads_and_processes(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            store = HistoryStore(path)
            for _ in range(15):
                _add(store)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from pathlib import Path;"
        "from tests.core.history.test_history_store import _add;"
        "from workbench.core.history.store import HistoryStore;"
        "s = HistoryStore(Path(sys.argv[2]));"
        "[_add(s) for _ in range(15)]"
    )
    root = str(Path(__file__).resolve().parents[3])
    proc = subprocess.Popen([sys.executable, "-c", script, root, str(path)])
    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert proc.wait(timeout=60) == 0
    assert not errors
    assert HistoryStore(path).count() == 60


def test_a_secret_no_one_knew_is_masked_everywhere_once_seen(tmp_path: Path) -> None:
    """A password typed into a JSON body (not a profile secret) and echoed in a header of the
    request and in the answer: learnt from the body, masked in every part of the entry."""
    typed = "Typed-Passw0rd-Nobody-Knew"
    path = tmp_path / "h.sqlite3"
    store = HistoryStore(path)
    spec = RequestSpec(method="POST", url="https://x.test/login", body_kind="json")
    spec.body = json.dumps({"username": "u", "password": typed})
    request = httpx.Request(
        "POST", "https://x.test/login", headers={"X-Echo": typed}, content=spec.body.encode()
    )
    masker = Masker()
    sent = capture_sent(request, masker)
    assert typed not in "\n".join(sent.lines())
    response = ResponseRecord(
        status=200,
        reason="OK",
        http_version="HTTP/1.1",
        url=spec.url,
        method="POST",
        headers=[("X-Seen", typed)],
        body=f"welcome, you typed {typed}".encode(),
        elapsed_ms=1.0,
    )
    store.add(profile="p", spec=spec, sent=sent, response=response, masker=Masker())
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert typed.encode() not in raw
