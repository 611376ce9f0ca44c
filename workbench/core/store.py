"""The token store: where a login's tokens live between runs.

Tokens are kept per profile name AND the origins they were obtained for: the same profile
pointed at two servers (two demo clouds on different ports, say) keeps one login for each,
and logging in to one never logs the other out.

The OS keyring (service "iot-workbench", one entry per profile name) when one answers
within about 3 s, else a JSON file readable only by you (0600) in the user data dir,
written atomically. ``kind`` says which, for the visible note ("keyring" or
"file: <path>"). WORKBENCH_KEYRING=0 turns the keyring off (tests do).

Each entry keeps the origins (scheme, host, port) and the TLS settings (verify, the CA
bundle and its SHA-256, the client certificate: ``Profile.tls_settings()``) of the profile
that obtained the tokens; ``get`` returns nothing for a profile whose origins or TLS
settings differ, so a token never follows a profile that was edited to point somewhere
else or to trust other certificates (a same-named profile with ``verify = false`` from
``--profiles``, say): that profile logs in again, and :meth:`TokenStore.why_not` says why.
An entry written before TLS settings were recorded counts as obtained with verification on
and no CA bundle.

File format (``tokens.json``)::

    {"version": 1, "profiles": {"<name>": {"origins": ["https://api.thinger.io:443"],
                                           "tls": {"verify": true, "ca_bundle": null, ...},
                                           "saved_at": 1700000000.0, "tokens": {TokenSet},
                                           "elsewhere": [<entry>, ...]}}}

The entry of a name is the one saved last; ``elsewhere`` (optional) holds the entries of the
same name for other origins (each without its own ``elsewhere``; at most
``MAX_ORIGINS_PER_PROFILE`` in all, the oldest dropped). An entry written before
``elsewhere`` existed is simply a name with one origin set, and a reader that does not know
``elsewhere`` sees the latest login: the shape only grew. The keyring value of a name is
the same JSON object.

A file that cannot be read as that shape is never overwritten silently: it is moved aside
to ``tokens.json.corrupt-<timestamp>`` and reported.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from workbench.core import paths
from workbench.core.atomic import atomic_write
from workbench.core.auth.base import TokenSet
from workbench.core.errors import StoreError
from workbench.core.keyring_access import (
    keyring_delete,
    keyring_get,
    keyring_set,
    keyring_usable,
)

FILE_NAME = "tokens.json"
KEYRING_PREFIX = "tokens:"
PROBE_KEY = KEYRING_PREFIX + "__probe__"
MAX_ORIGINS_PER_PROFILE = 8  # logins kept per profile name (one per origin set)


# what an entry saved before TLS settings were recorded is taken to have had
DEFAULT_TLS: dict[str, Any] = {
    "verify": True,
    "ca_bundle": None,
    "ca_bundle_sha256": None,
    "client_cert": None,
}


def _tls_of(asking: Any, tls: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The TLS settings to compare: `tls` when given, else those of a Profile passed as
    `origins` (anything with ``.tls_settings()``), else None (no check)."""
    if tls is not None:
        return {**DEFAULT_TLS, **tls}
    own = getattr(asking, "tls_settings", None)
    if asking is not None and callable(own):
        return {**DEFAULT_TLS, **own()}
    return None


def _entry_tls(entry: Mapping[str, Any]) -> dict[str, Any]:
    saved = entry.get("tls")
    return {**DEFAULT_TLS, **saved} if isinstance(saved, dict) else dict(DEFAULT_TLS)


def _tls_words(tls: Mapping[str, Any]) -> str:
    if not tls.get("verify", True):
        return "TLS verification off"
    if tls.get("ca_bundle"):
        return f"TLS verification on with the CA bundle {tls['ca_bundle']}"
    return "TLS verification on (the system's trusted CAs)"


def _origin_strings(origins: Iterable[Any] | Any | None) -> list[str]:
    """Origins as sorted strings; a Profile (anything with `.origins()`) stands for its own."""
    own = getattr(origins, "origins", None)
    if origins is not None and callable(own):
        origins = own()
    return sorted({str(o) for o in origins or ()})


def _valid(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("tokens"), dict)


def _saved_at(entry: Mapping[str, Any]) -> float:
    value = entry.get("saved_at")
    return float(value) if isinstance(value, int | float) and value == value else 0.0


def unpack(record: Any) -> list[dict[str, Any]]:
    """The entries of one name's record (the latest first, then ``elsewhere``), each
    without ``elsewhere``; malformed ones are skipped."""
    if not isinstance(record, dict):
        return []
    out: list[dict[str, Any]] = []
    if _valid(record):
        out.append({k: v for k, v in record.items() if k != "elsewhere"})
    others = record.get("elsewhere")
    if isinstance(others, list):
        out.extend({k: v for k, v in e.items() if k != "elsewhere"} for e in others if _valid(e))
    return out


def pack(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One name's record from its entries: one per origin set (the newest wins), the latest
    saved on top, at most MAX_ORIGINS_PER_PROFILE; None when there is none."""
    newest: dict[tuple[str, ...], dict[str, Any]] = {}
    for entry in sorted(entries, key=_saved_at, reverse=True):
        newest.setdefault(tuple(_origin_strings(entry.get("origins"))), entry)
    kept = list(newest.values())[:MAX_ORIGINS_PER_PROFILE]
    if not kept:
        return None
    record = dict(kept[0])
    if len(kept) > 1:
        record["elsewhere"] = kept[1:]
    return record


def _for(entries: list[dict[str, Any]], origins: list[str]) -> dict[str, Any] | None:
    return next((e for e in entries if _origin_strings(e.get("origins")) == origins), None)


class TokenStore:
    """Tokens per profile name and origins, in the keyring or a 0600 file (see the module doc)."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, use_keyring: bool | None = None
    ) -> None:
        self.path = Path(path) if path is not None else paths.data_dir() / FILE_NAME
        self._use_keyring = use_keyring
        self._lock = threading.RLock()
        self.notes: list[str] = []  # things the user should be told (corrupt file moved aside, ...)

    # --- which backend -------------------------------------------------------------------
    @property
    def uses_keyring(self) -> bool:
        if self._use_keyring is None:
            self._use_keyring = keyring_usable(PROBE_KEY)
        return self._use_keyring

    @property
    def kind(self) -> str:
        """ "keyring" or "file: <path>" — shown to the user next to a login."""
        return "keyring" if self.uses_keyring else f"file: {self.path}"

    # --- public API ----------------------------------------------------------------------
    def get(
        self,
        profile_name: str,
        origins: Iterable[Any] | Any | None = None,
        *,
        tls: Mapping[str, Any] | None = None,
    ) -> TokenSet | None:
        """The tokens saved for `profile_name`, or None (absent, or saved for other origins
        or other TLS settings).

        `origins`: the asking profile's origins (or the Profile itself, which stands for
        its TLS settings too); None skips the check. `tls`: the asking profile's
        ``tls_settings()``.

        Without `origins`, the tokens saved last under `profile_name` (whatever their
        origins).

        Raises StoreError when the store file is corrupt (after moving it aside)."""
        entries = self._entries(profile_name)
        entry = (
            (entries[0] if entries else None)
            if origins is None
            else _for(entries, _origin_strings(origins))
        )
        if entry is None:
            return None
        wanted = _tls_of(origins, tls)
        if wanted is not None and _entry_tls(entry) != wanted:
            return None
        try:
            return TokenSet.from_json(entry["tokens"])
        except (KeyError, TypeError, ValueError):
            return None

    def why_not(
        self,
        profile_name: str,
        origins: Iterable[Any] | Any,
        *,
        tls: Mapping[str, Any] | None = None,
    ) -> str | None:
        """Why :meth:`get` gives nothing for tokens that ARE stored under `profile_name`
        (their origins or TLS settings differ from the asking profile's), in words; None
        when nothing is stored or the stored tokens are usable."""
        try:
            entries = self._entries(profile_name)
        except StoreError:
            return None
        if not entries:
            return None
        lead = f"the stored tokens of '{profile_name}' are not used"
        asking = _origin_strings(origins)
        entry = _for(entries, asking) or entries[0]
        saved_origins = _origin_strings(entry.get("origins"))
        if saved_origins != asking:
            return (
                f"{lead}: they were obtained for {', '.join(saved_origins) or 'no server'}, "
                f"and this profile's servers are {', '.join(asking) or 'none'}"
            )
        wanted = _tls_of(origins, tls)
        saved_tls = _entry_tls(entry)
        if wanted is None or saved_tls == wanted:
            return None
        if saved_tls["verify"] != wanted["verify"]:
            return (
                f"{lead}: they were obtained with {_tls_words(saved_tls)}, and this profile "
                f"has {_tls_words(wanted)}"
            )
        return (
            f"{lead}: they were obtained with other TLS settings ({_tls_words(saved_tls)}), "
            f"and this profile has {_tls_words(wanted)}"
        )

    def put(
        self,
        profile_name: str,
        tokens: TokenSet,
        origins: Iterable[Any] | Any,
        *,
        tls: Mapping[str, Any] | None = None,
    ) -> None:
        """Save `tokens` with the origins and TLS settings (`tls`, or those of a Profile
        passed as `origins`; default: verification on) they were obtained with."""
        entry = {
            "origins": _origin_strings(origins),
            "tls": _tls_of(origins, tls) or dict(DEFAULT_TLS),
            "saved_at": time.time(),
            "tokens": tokens.to_json(),
        }
        if self.uses_keyring:
            with self._lock, self._file_lock():
                data = self._read_file(strict=False)
                in_file = unpack(data["profiles"].get(profile_name))
                record = pack([*self._keyring_entries(profile_name), *in_file, entry])
                if keyring_set(KEYRING_PREFIX + profile_name, json.dumps(record)):
                    # the file's entries of this name moved to the keyring with this one:
                    # a stale copy in the file must not outlive the keyring one
                    if profile_name in data["profiles"]:
                        del data["profiles"][profile_name]
                        self._write_file(data)
                    return
            self._use_keyring = False
            self.notes.append(
                f"the keyring did not answer; tokens are kept in {self.path} (mode 0600)"
            )
        with self._lock, self._file_lock():
            data = self._read_file(strict=False)
            record = pack([*unpack(data["profiles"].get(profile_name)), entry])
            data["profiles"][profile_name] = record
            self._write_file(data)

    def delete(self, profile_name: str, origins: Iterable[Any] | Any | None = None) -> bool:
        """Forget `profile_name`'s tokens: those obtained for `origins` (a Profile stands for
        its own), or, without `origins`, all of them, everywhere. True when something was
        removed."""
        removed = False
        if self.uses_keyring:
            with self._lock, self._file_lock():
                entries = self._keyring_entries(profile_name)
                kept = self._without(entries, origins)
                if len(kept) != len(entries):
                    removed = True
                record = pack(kept)
                if record is None:
                    keyring_delete(KEYRING_PREFIX + profile_name)
                elif len(kept) != len(entries):
                    keyring_set(KEYRING_PREFIX + profile_name, json.dumps(record))
        with self._lock, self._file_lock():
            data = self._read_file(strict=False)
            if profile_name in data["profiles"]:
                entries = unpack(data["profiles"][profile_name])
                kept = self._without(entries, origins)
                record = pack(kept)
                if record is None:
                    del data["profiles"][profile_name]
                    self._write_file(data)
                    removed = True
                elif len(kept) != len(entries):
                    data["profiles"][profile_name] = record
                    self._write_file(data)
                    removed = True
        return removed

    @staticmethod
    def _without(entries: list[dict[str, Any]], origins: Any) -> list[dict[str, Any]]:
        if origins is None:
            return []
        wanted = _origin_strings(origins)
        return [e for e in entries if _origin_strings(e.get("origins")) != wanted]

    def names(self) -> list[str]:
        """Profile names with tokens in the file (the keyring cannot be listed)."""
        with self._lock:
            return sorted(self._read_file(strict=False)["profiles"])

    # --- internals -----------------------------------------------------------------------
    def _keyring_entries(self, profile_name: str) -> list[dict[str, Any]]:
        raw = keyring_get(KEYRING_PREFIX + profile_name)
        if not raw:
            return []
        try:
            return unpack(json.loads(raw))
        except ValueError:
            return []

    def _entries(self, profile_name: str) -> list[dict[str, Any]]:
        """Every entry of `profile_name` (keyring first, then the file), the latest first."""
        entries: list[dict[str, Any]] = []
        if self.uses_keyring:
            entries = self._keyring_entries(profile_name)
        with self._lock:
            # a corrupt file is an error only when the keyring had nothing either
            data = self._read_file(strict=not entries)
        record = pack([*entries, *unpack(data["profiles"].get(profile_name))])
        return unpack(record)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """An advisory lock so two workbench processes do not interleave read-modify-write."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _read_file(self, *, strict: bool) -> dict[str, Any]:
        """The parsed file, or an empty store. A corrupt file is moved aside (and, when
        `strict`, reported as StoreError; otherwise noted in `notes`)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {"version": 1, "profiles": {}}
        except OSError as exc:
            raise StoreError(
                f"cannot read the token store {self.path}: {exc.strerror or exc}",
                hint="check the file's permissions",
            ) from None
        problem: str | None = None
        data: Any = None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            problem = f"not valid JSON ({exc})"
        if problem is None and not (
            isinstance(data, dict) and isinstance(data.get("profiles"), dict)
        ):
            problem = "not a token store (no 'profiles' table)"
        if problem is None:
            store: dict[str, Any] = data
            return store
        aside = self._move_aside()
        note = (
            f"the token store {self.path} was corrupt ({problem}); it was moved aside to {aside} "
            "and a new one is started: log in again"
        )
        self.notes.append(note)
        if strict:
            raise StoreError(
                note,
                hint=f"inspect or delete {aside}; `workbench login PROFILE` stores fresh tokens",
            )
        return {"version": 1, "profiles": {}}

    def _move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            n += 1
        try:
            os.replace(self.path, target)
        except OSError as exc:
            raise StoreError(
                f"the token store {self.path} is corrupt and could not be moved aside: {exc}",
                hint="move or delete the file yourself",
            ) from None
        return target

    def _write_file(self, data: dict[str, Any]) -> None:
        data = {"version": 1, "profiles": data.get("profiles", {})}
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            atomic_write(self.path, text, mode=0o600)
        except OSError as exc:
            raise StoreError(
                f"cannot write the token store {self.path}: {exc.strerror or exc}",
                hint="check that the data directory is writable (WORKBENCH_DATA_DIR)",
            ) from None
