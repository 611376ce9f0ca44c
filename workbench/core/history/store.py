"""The request history: one SQLite file (stdlib sqlite3) in the data dir.

- Where: ``<data dir>/history.sqlite3`` (``WORKBENCH_DATA_DIR`` overrides the data dir), the
  file made with mode 0600 before SQLite opens it, its directory 0700.
- What: per entry the profile, the request as edited (``{{variables}}`` unrendered), the
  request as sent (:class:`~workbench.core.history.sent.SentRequest`), the response's status,
  headers, size, time and its body up to ``BODY_CAP`` (256 KiB).
- Redacted BY VALUE before anything is written (:meth:`HistoryStore.add` takes a Masker: the
  session's tokens, the profile's secrets, plus every credential-named field or JWT found in
  the bodies): no token, password or secret ever lands in the file.
- Capped: at most ``max_entries`` (1,000) entries and ``max_bytes`` (64 MiB) of stored
  data; the oldest go first.
- Several writers (two TUIs) are fine: every call is one short transaction with a busy
  timeout. A file that is not a database (corrupt, truncated), or a database that is not a
  history, is moved aside to ``history.sqlite3.corrupt`` and a new one made;
  :attr:`HistoryStore.notes` says so.
- Versioned: the file's ``PRAGMA user_version`` is its schema version. On the first open an
  older file is brought up to :data:`SCHEMA_VERSION` by the steps of :data:`MIGRATIONS`, all
  in one transaction (a step that fails leaves the file as it was). A file of a NEWER
  version (written by a newer workbench) is never changed: it is opened read-only (listing
  and showing work while its tables still read the same; recording and clearing are refused
  in words) and a note says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core import paths
from workbench.core.errors import HistoryError
from workbench.core.history.sent import BODY_CAP, Masker, SentRequest, remask
from workbench.core.requests import BodyPart, RequestSpec, ResponseRecord

FILENAME = "history.sqlite3"
MAX_ENTRIES = 1000
MAX_BYTES = 64 * 1024 * 1024
EDGE_MARGIN = 64 * 1024

ENTRIES_TABLE = """
CREATE TABLE IF NOT EXISTS entries (
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
)
"""
ENTRIES_INDEX = "CREATE INDEX IF NOT EXISTS entries_profile ON entries (profile, id)"
ENTRIES_COLUMNS = frozenset(
    [
        "id",
        "created",
        "profile",
        "method",
        "url",
        "status",
        "reason",
        "size",
        "elapsed_ms",
        "content_type",
        "request",
        "sent",
        "response_headers",
        "body",
        "body_cut",
        "stored_bytes",
    ]
)
_SUMMARY = "id, created, profile, method, url, status, reason, size, elapsed_ms, content_type"


class NotAHistory(Exception):
    """The database is not a history file (a table ``entries`` of another shape)."""


class NewerSchema(Exception):
    """The file's schema version is newer than this code knows (``version``)."""

    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


def baseline(conn: sqlite3.Connection) -> None:
    """Version 1: the entries table and its index. A file of version 0 is one made before
    the version was stamped (the same layout: kept as it is) or a new, empty one; a table
    ``entries`` of another shape means it is not a history (:class:`NotAHistory`)."""
    columns = {str(row[1]) for row in conn.execute("PRAGMA table_info(entries)")}
    if columns and not columns >= ENTRIES_COLUMNS:
        raise NotAHistory(f"its table 'entries' lacks {sorted(ENTRIES_COLUMNS - columns)}")
    conn.execute(ENTRIES_TABLE)
    conn.execute(ENTRIES_INDEX)


Migration = tuple[int, Callable[[sqlite3.Connection], None] | tuple[str, ...]]
"""(the version a step brings the file to, the step: SQL statements or a function)."""

MIGRATIONS: list[Migration] = [
    (1, baseline),
    # Append new steps here: (2, ("ALTER TABLE entries ADD COLUMN ...",)), ... Never edit
    # or reorder a step that has shipped; a file remembers the last one it got.
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def schema_version(conn: sqlite3.Connection) -> int:
    """The file's ``PRAGMA user_version`` (0 for a file that never had one)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the file of `conn` (autocommit mode) up to the last version of `migrations`:
    every step above its version, then the new version, in ONE immediate transaction (a
    step that fails rolls everything back; another process migrating at the same time waits,
    then finds nothing left to do). :class:`NewerSchema` for a file newer than the last
    step, untouched. Returns the version the file had."""
    target = migrations[-1][0] if migrations else 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = schema_version(conn)
        if found > target:
            raise NewerSchema(found)
        for version, step in migrations:
            if version <= found:
                continue
            if callable(step):
                step(conn)
            else:
                for statement in step:
                    conn.execute(statement)
        if found != target:
            conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found


def human_bytes(size: int) -> str:
    """1023 -> '1023 B', 1536 -> '1.5 KiB'."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def history_path() -> Path:
    return paths.data_dir() / FILENAME


@dataclass
class HistoryEntry:
    """One sent request and what came back (everything already redacted)."""

    id: int
    created: float
    profile: str
    method: str
    url: str
    status: int
    reason: str
    size: int
    """The response body's full size (``body`` holds at most BODY_CAP bytes of it)."""
    elapsed_ms: float
    content_type: str
    request: RequestSpec | None = None
    sent: SentRequest | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    body_cut: bool = False
    """True when ``body`` holds only the first BODY_CAP bytes (masked) of the answer."""

    @property
    def body_truncated(self) -> bool:
        return self.body_cut

    def summary_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": self.created,
            "profile": self.profile,
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "reason": self.reason,
            "size": self.size,
            "elapsed_ms": self.elapsed_ms,
            "content_type": self.content_type,
        }

    def to_json(self) -> dict[str, Any]:
        data = self.summary_json()
        data["request"] = _spec_to_json(self.request) if self.request else None
        data["sent"] = self.sent.to_json() if self.sent else None
        data["response_headers"] = [list(p) for p in self.response_headers]
        data["body"] = self.body.decode("utf-8", "replace")
        data["body_truncated"] = self.body_truncated
        return data


def _spec_to_json(spec: RequestSpec) -> dict[str, Any]:
    return {
        "method": spec.method,
        "url": spec.url,
        "params": [list(p) for p in spec.params],
        "headers": [list(p) for p in spec.headers],
        "body_kind": spec.body_kind,
        "body": spec.body,
        "form": [list(p) for p in spec.form],
        "parts": [
            {k: v for k in PART_FIELDS if (v := getattr(part, k)) is not None}
            for part in spec.parts
        ],
        "name": spec.name,
        "deadline": spec.deadline,
    }


PART_FIELDS = ("name", "value", "file", "content_type", "filename")


def _parts_from_json(raw: Any) -> list[BodyPart]:
    """The multipart parts of a stored request (an entry written before they were stored
    has none; a malformed part is left out)."""
    out: list[BodyPart] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        fields = {k: item[k] for k in PART_FIELDS[1:] if isinstance(item.get(k), str)}
        out.append(BodyPart(item["name"], **fields))
    return out


def _spec_from_json(data: Any) -> RequestSpec | None:
    if not isinstance(data, dict):
        return None

    def pairs(key: str) -> list[tuple[str, str]]:
        raw = data.get(key)
        return [(str(p[0]), str(p[1])) for p in raw or [] if isinstance(p, list) and len(p) == 2]

    return RequestSpec(
        method=str(data.get("method", "GET")),
        url=str(data.get("url", "")),
        params=pairs("params"),
        headers=pairs("headers"),
        body_kind=str(data.get("body_kind", "none")),
        body=str(data.get("body", "")),
        form=pairs("form"),
        parts=_parts_from_json(data.get("parts")),
        name=str(data.get("name", "")),
        deadline=float(deadline)
        if isinstance(deadline := data.get("deadline"), int | float) and deadline > 0
        else None,
    )


def redact_spec(spec: RequestSpec, masker: Masker) -> RequestSpec:
    """The edited request with every secret masked (a header typed by hand included)."""
    return RequestSpec(
        method=spec.method,
        url=masker.url(spec.url),
        params=[(k, masker.pair(k, v)) for k, v in spec.params],
        headers=[(k, masker.header(k, v)) for k, v in spec.headers],
        body_kind=spec.body_kind,
        body=masker(spec.body),
        form=[(k, masker.pair(k, v)) for k, v in spec.form],
        parts=[redact_part(p, masker) for p in spec.parts],
        name=spec.name,
        deadline=spec.deadline,
    )


def redact_part(part: BodyPart, masker: Masker) -> BodyPart:
    """A multipart part with its value masked like a form field (a credential-named field
    whatever its value) and known secrets masked in its file path and names."""
    return BodyPart(
        name=part.name,
        value=masker.pair(part.name, part.value) if part.value is not None else None,
        file=masker(part.file) if part.file is not None else None,
        content_type=masker(part.content_type) if part.content_type is not None else None,
        filename=masker(part.filename) if part.filename is not None else None,
    )


class HistoryStore:
    """The history file. Every method opens, works and closes (safe across threads and
    processes); errors are :class:`HistoryError` in words."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        body_cap: int = BODY_CAP,
    ) -> None:
        self.path = path or history_path()
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.body_cap = body_cap
        self.notes: list[str] = []
        self.read_only = False
        """True for a file of a newer schema version: read, never written."""
        self.newer_version: int | None = None
        self._ready = False

    # ------------------------------------------------------------------ opening

    def _create_file(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        os.chmod(self.path, 0o600)

    def _open(self) -> sqlite3.Connection:
        if self.read_only:
            uri = self.path.resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=15.0, isolation_level=None)
        else:
            conn = sqlite3.connect(self.path, timeout=15.0, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 15000")
            if not self._ready and not self.read_only and schema_version(conn) != SCHEMA_VERSION:
                migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_newer(self, version: int) -> sqlite3.Connection:
        """The file is of a newer version: from now on read-only, and say so once."""
        self.read_only = True
        self.newer_version = version
        self.notes.append(
            f"the history file {self.path} was written by a newer version of workbench "
            f"(schema {version}; this one knows up to {SCHEMA_VERSION}): it is left as it is, "
            "shown read-only, and nothing new is recorded in it"
        )
        return self._open()

    def _refuse_writes(self) -> None:
        if self.read_only:
            raise HistoryError(
                f"the history file {self.path} was written by a newer version of workbench "
                f"(schema {self.newer_version}; this one knows up to {SCHEMA_VERSION}); "
                "it is left untouched, so nothing is recorded or cleared",
                hint="use the newer workbench, or move the file away to start a new history",
            )

    def _set_aside(self, why: str = "was not a database (corrupt?)") -> None:
        aside = self.path.with_name(self.path.name + ".corrupt")
        for suffix in ("-journal", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                self.path.with_name(self.path.name + suffix).unlink()
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            raise HistoryError(
                f"the history file {self.path} is not a database and cannot be moved aside: "
                f"{exc.strerror or exc}",
                hint="delete it (workbench history clear, or by hand)",
            ) from None
        self.notes.append(
            f"the history file {self.path} {why}; it was moved to "
            f"{aside} and a new, empty history started"
        )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            if not self.read_only:
                self._create_file()
            try:
                conn = self._open()
            except NewerSchema as newer:
                conn = self._open_newer(newer.version)
            except NotAHistory as exc:
                self._set_aside(f"is a database but not a history ({exc})")
                self._create_file()
                conn = self._open()
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                    raise
                self._set_aside()
                self._create_file()
                conn = self._open()
            self._ready = True
        except sqlite3.Error as exc:
            raise HistoryError(
                f"cannot open the history {self.path}: {exc}",
                hint="check the data directory's permissions and free space",
            ) from None
        except OSError as exc:
            raise HistoryError(
                f"cannot open the history {self.path}: {exc.strerror or exc}",
                hint="check the data directory's permissions and free space",
            ) from None
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            raise HistoryError(
                f"the history {self.path} could not be read or written: {exc}",
                hint="if it keeps failing, clear it: workbench history clear",
            ) from None
        finally:
            conn.close()

    # ------------------------------------------------------------------ writing

    def add(
        self,
        *,
        profile: str,
        spec: RequestSpec,
        sent: SentRequest,
        response: ResponseRecord,
        masker: Masker,
        created: float | None = None,
    ) -> int:
        """Record one exchange (redacted here, before writing); returns its id. `sent` is
        already masked (capture_sent); the rest is masked with `masker`, which first learns
        every credential-named value and JWT in the bodies."""
        # Only what is kept is looked at (a 10 MB body costs no more than 256 KiB): the
        # margin lets a secret that crosses the cap be masked whole before the cut.
        body = response.body[: self.body_cap + EDGE_MARGIN]
        masker.learn(body.decode("utf-8", "replace"))
        masker.learn(sent.body.decode("utf-8", "replace"))
        masker.learn(spec.body)
        masked_body = masker.bytes(body)
        stored_body = masked_body[: self.body_cap]
        body_cut = len(response.body) > len(body) or len(masked_body) > self.body_cap
        sent = remask(sent, masker)
        template = redact_spec(spec, masker)
        headers = [(k, masker.header(k, v)) for k, v in response.headers]
        sent_json = json.dumps(sent.to_json())
        request_json = json.dumps(_spec_to_json(template))
        headers_json = json.dumps([list(p) for p in headers])
        url = masker.url(sent.url)
        row_bytes = (
            len(stored_body) + len(sent_json) + len(request_json) + len(headers_json) + len(url)
        )
        with self._connect() as conn:
            self._refuse_writes()  # (known once the file was opened)
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.execute(
                    "INSERT INTO entries (created, profile, method, url, status, reason, size,"
                    " elapsed_ms, content_type, request, sent, response_headers, body,"
                    " body_cut, stored_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        created if created is not None else time.time(),
                        profile,
                        sent.method,
                        url,
                        response.status,
                        masker(response.reason or ""),
                        response.size,
                        response.elapsed_ms,
                        masker(response.content_type),
                        request_json,
                        sent_json,
                        headers_json,
                        stored_body,
                        int(body_cut),
                        row_bytes,
                    ),
                )
                new_id = int(cur.lastrowid or 0)
                self._prune(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return new_id

    def _prune(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "DELETE FROM entries WHERE id NOT IN (SELECT id FROM entries ORDER BY id DESC LIMIT ?)",
            (self.max_entries,),
        )
        total = conn.execute("SELECT COALESCE(SUM(stored_bytes), 0) FROM entries").fetchone()[0]
        if total <= self.max_bytes:
            return
        rows = conn.execute("SELECT id, stored_bytes FROM entries ORDER BY id ASC").fetchall()
        cut = None
        for row_id, size in rows[:-1]:  # the newest entry always stays
            if total <= self.max_bytes:
                break
            total -= size
            cut = row_id
        if cut is not None:
            conn.execute("DELETE FROM entries WHERE id <= ?", (cut,))

    def clear(self, profile: str | None = None) -> int:
        """Delete every entry (of `profile`); returns how many."""
        with self._connect() as conn:
            self._refuse_writes()
            if profile is None:
                cur = conn.execute("DELETE FROM entries")
            else:
                cur = conn.execute("DELETE FROM entries WHERE profile = ?", (profile,))
            conn.execute("VACUUM")
            return int(cur.rowcount)

    # ------------------------------------------------------------------ reading

    def list(self, *, profile: str | None = None, limit: int = 100) -> list[HistoryEntry]:
        """Summaries, newest first (no bodies)."""
        query = f"SELECT {_SUMMARY} FROM entries"
        args: list[Any] = []
        if profile is not None:
            query += " WHERE profile = ?"
            args.append(profile)
        query += " ORDER BY id DESC LIMIT ?"
        args.append(max(0, limit))
        with self._connect() as conn:
            return [self._summary(row) for row in conn.execute(query, args)]

    def count(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def total_bytes(self) -> int:
        with self._connect() as conn:
            row = conn.execute("SELECT COALESCE(SUM(stored_bytes), 0) FROM entries").fetchone()
            return int(row[0])

    def get(self, entry_id: int) -> HistoryEntry | None:
        """One entry with its request, sent request, headers and body; None when gone."""
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT {_SUMMARY}, request, sent, response_headers, body, body_cut FROM entries "
                "WHERE id = ?",
                (entry_id,),
            ).fetchone()
        if row is None:
            return None
        entry = self._summary(row[:10])
        try:
            entry.request = _spec_from_json(json.loads(row[10]))
            entry.sent = SentRequest.from_json(json.loads(row[11]))
            entry.response_headers = [
                (str(p[0]), str(p[1])) for p in json.loads(row[12]) if len(p) == 2
            ]
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise HistoryError(
                f"history entry {entry_id} is damaged: {exc}",
                hint="clear the history: workbench history clear",
            ) from None
        entry.body = bytes(row[13])
        entry.body_cut = bool(row[14])
        return entry

    @staticmethod
    def _summary(row: Any) -> HistoryEntry:
        return HistoryEntry(
            id=int(row[0]),
            created=float(row[1]),
            profile=str(row[2]),
            method=str(row[3]),
            url=str(row[4]),
            status=int(row[5]),
            reason=str(row[6]),
            size=int(row[7]),
            elapsed_ms=float(row[8]),
            content_type=str(row[9]),
        )
