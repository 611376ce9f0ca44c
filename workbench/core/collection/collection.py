"""Collections: TOML files of saved requests, replayable in the TUI and headless.

The format (version 1, stable) is documented in docs/collections.md. In short::

    version = 1

    [collection]
    name = "thinger smoke"
    profile = "demo-thinger"            # optional default profile

    [variables]
    user = "demo"
    token = { session = "access_token" }          # the logged-in session's token
    password = { env = "THINGER_PASSWORD", prompt = "Thinger password" }

    [[requests]]
    name = "list devices"
    method = "GET"
    url = "{{urls.api}}/v1/users/{{user}}/devices"
    query = [
      ["count", "10"],
    ]
    headers = [
      ["Accept", "application/json"],
    ]

    [requests.capture]
    first = "$[0].device"

    [requests.expect]
    status = 200
    max_ms = 500

Loading validates every key and value and raises CollectionError with the file, line,
column and key. Saving is atomic, writes no credential (literal credentials become
references, see :func:`sanitize_request`), refuses to overwrite a file that changed on
disk since it was loaded (CollectionChangedOnDisk) unless forced, and keeps every byte of
the file that is not part of what changed: comments, order, formatting.

The pieces live in small modules of this package: :mod:`workbench.core.collection.model`
(requests, variables, canonical data), :mod:`workbench.core.collection.load` (reading and
checking the TOML), :mod:`workbench.core.collection.save` (writing it: new text, and edits
of the loaded file through tomlkit) and :mod:`workbench.core.collection.credentials`
(credentials turned into references). This
module holds :class:`Collection` (reading, editing, saving), loading files and finding
them, and resolving variables at run time.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from workbench.core.atomic import atomic_write
from workbench.core.collection.credentials import (
    KnownSecrets,
    known_references,
    sanitize_request,
    sanitize_variable,
)
from workbench.core.collection.load import parse_collection
from workbench.core.collection.model import (
    CollectionRequest,
    FileStamp,
    SessionRef,
    Variable,
    request_data,
    variable_data,
)
from workbench.core.collection.save import document_text, edited_text, request_text
from workbench.core.errors import CollectionChangedOnDisk, CollectionError, SecretError
from workbench.core.requests import METHODS
from workbench.core.secrets import (
    JWT,
    SecretRef,
    SecretResolver,
    looks_like_credential,
    secret_kind,
)

# --- the collection ----------------------------------------------------------------------


@dataclass
class Collection:
    path: Path
    name: str
    description: str = ""
    profile: str | None = None
    variables: dict[str, Variable] = field(default_factory=dict)
    requests: list[CollectionRequest] = field(default_factory=list)
    # what was loaded (None for a collection not yet saved)
    loaded_text: str | None = field(default=None, repr=False, compare=False)
    stamp: FileStamp | None = field(default=None, repr=False, compare=False)
    _base: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    # -- reading
    def names(self) -> list[str]:
        return [r.name for r in self.requests]

    def index_of(self, name: str) -> int:
        for i, r in enumerate(self.requests):
            if r.name == name:
                return i
        raise CollectionError(
            f"no request named '{name}' in {self.path}",
            hint=f"requests: {', '.join(self.names()) or 'none'}",
        )

    def request(self, name_or_index: str) -> CollectionRequest:
        """A request by name, or by 1-based position ("3")."""
        if name_or_index not in self.names() and name_or_index.isdigit():
            n = int(name_or_index)
            if 1 <= n <= len(self.requests):
                return self.requests[n - 1]
        return self.requests[self.index_of(name_or_index)]

    def data(self) -> dict[str, Any]:
        return {
            "meta": self._meta(),
            "variables": {k: variable_data(v) for k, v in self.variables.items()},
            "requests": [request_data(r) for r in self.requests],
        }

    def _meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": self.name or self.path.stem}
        if self.description:
            meta["description"] = self.description
        if self.profile:
            meta["profile"] = self.profile
        return meta

    def unique_name(self, base: str) -> str:
        base = base.strip() or "request"
        taken = set(self.names())
        if base not in taken:
            return base
        n = 2
        while f"{base} ({n})" in taken:
            n += 1
        return f"{base} ({n})"

    # -- editing
    def add_request(self, req: CollectionRequest) -> CollectionRequest:
        _check_request(req)
        if req.name in self.names():
            raise CollectionError(
                f"a request named '{req.name}' already exists in {self.path}",
                hint=f"pick another name (e.g. '{self.unique_name(req.name)}')",
            )
        req.origin = None
        self.requests.append(req)
        return req

    def replace_request(self, name: str, req: CollectionRequest) -> CollectionRequest:
        """Put `req` in the place of the request named `name` (it may rename it)."""
        _check_request(req)
        i = self.index_of(name)
        if req.name != name and req.name in self.names():
            raise CollectionError(f"a request named '{req.name}' already exists in {self.path}")
        req.origin = self.requests[i].origin
        self.requests[i] = req
        return req

    def remove_request(self, name: str) -> CollectionRequest:
        return self.requests.pop(self.index_of(name))

    # -- saving
    def changed_on_disk(self) -> bool:
        """True when the file on disk is not what was loaded (or last saved)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return self.stamp is not None
        except OSError:
            return True
        if self.stamp is None:
            return True  # a new collection, but a file appeared at its path
        return len(data) != self.stamp.size or hashlib.sha256(data).hexdigest() != self.stamp.sha256

    def render_text(self, known_secrets: KnownSecrets = ()) -> tuple[str, list[str]]:
        """The text `save` would write, and its notes (credentials turned into references;
        `known_secrets` as for :meth:`save`)."""
        notes = self._sanitize(known_secrets)
        if self.loaded_text is None or self._base is None:
            return document_text(self.data()), notes
        base_requests = len(self._base["requests"])
        used: set[int] = set()
        origins: list[int | None] = []
        for r in self.requests:
            origin = r.origin
            if origin is None or origin >= base_requests or origin in used:
                origin = None
            else:
                used.add(origin)
            origins.append(origin)
        text = edited_text(
            self.loaded_text,
            self._base,
            self.data(),
            origins,
            reads_back=self._reads_back,
            path=str(self.path),
        )
        return text, notes

    def _reads_back(self, text: str) -> bool:
        """True when `text` loads as this collection."""
        try:
            return loads_collection(text, self.path).data() == self.data()
        except CollectionError:
            return False

    def save(self, *, force: bool = False, known_secrets: KnownSecrets = ()) -> list[str]:
        """Write the collection (atomically). Returns notes in plain words (e.g. which
        credentials were replaced by references). Raises CollectionChangedOnDisk when the
        file changed since it was loaded and `force` is false; nothing is written on error.

        `known_secrets`: the secret values the profile and the session hold, each mapped to
        the reference to save instead (see credentials.known_secrets_of), or bare values;
        any of them found in a request is replaced, and the save is refused should one
        still be in the text."""
        known_secrets = known_secrets if isinstance(known_secrets, Mapping) else list(known_secrets)
        text, notes = self.render_text(known_secrets)
        if self.loaded_text is not None and text == self.loaded_text and not self.changed_on_disk():
            return notes  # nothing changed: leave the file (and its mtime) alone
        _refuse_known_secrets(text, self.loaded_text or "", known_secrets, self.path)
        try:
            check = loads_collection(text, self.path)
        except CollectionError as err:  # pragma: no cover - a bug in the writer
            raise CollectionError(
                f"internal error: the text to save does not load back ({err.message})",
                path=str(self.path),
            ) from None
        if check.data() != self.data():  # pragma: no cover - a bug in the writer
            raise CollectionError(
                "internal error: the text to save does not read back as the same collection",
                path=str(self.path),
            )
        if not force and self.changed_on_disk():
            what = "was created" if self.stamp is None else "changed on disk"
            raise CollectionChangedOnDisk(
                f"the file {what} since it was loaded",
                path=str(self.path),
                hint="reload it, or save again to overwrite it (force)",
            )
        try:
            atomic_write(self.path, text.encode("utf-8"))
        except OSError as exc:
            raise CollectionError(
                f"cannot write the collection: {exc.strerror or exc}", path=str(self.path)
            ) from None
        self._mark_loaded(text, text.encode("utf-8"))
        return notes

    def _mark_loaded(self, text: str, raw: bytes) -> None:
        self.loaded_text = text
        self.stamp = FileStamp.of(self.path, raw)
        for i, r in enumerate(self.requests):
            r.origin = i
        self._base = copy.deepcopy(self.data())

    def _sanitize(self, known: KnownSecrets = ()) -> list[str]:
        notes: list[str] = []
        base_requests = (self._base or {}).get("requests", [])
        base_vars = (self._base or {}).get("variables", {})
        for r in self.requests:
            if (
                r.origin is not None
                and r.origin < len(base_requests)
                and request_data(r) == base_requests[r.origin]
            ):
                continue
            notes.extend(sanitize_request(r, self.variables, known))
        for name, value in list(self.variables.items()):
            if name in base_vars and base_vars[name] == variable_data(value):
                continue
            note = sanitize_variable(self.variables, name, known)
            if note:
                notes.append(note)
        return notes


def _check_request(req: CollectionRequest) -> None:
    if not isinstance(req, CollectionRequest):
        raise CollectionError("not a collection request")
    if not req.name.strip():
        raise CollectionError("a request needs a name")
    if req.spec.method.upper() not in METHODS:
        raise CollectionError(
            f"unknown method '{req.spec.method}'", hint=f"methods: {', '.join(METHODS)}"
        )
    if req.spec.body_kind not in ("none", "json", "text", "form", "multipart"):
        raise CollectionError(f"unknown body kind '{req.spec.body_kind}'")


def _refuse_known_secrets(text: str, before: str, secrets: Iterable[str], path: Path) -> None:
    for secret in secrets:
        if secret and len(secret) >= 4:
            for form in {secret, quote(secret, safe="")}:
                if text.count(form) > before.count(form):
                    raise CollectionError(
                        "refusing to save: the collection would contain a secret value",
                        path=str(path),
                        hint="use a {{variable}} with an env/prompt/keyring/session reference",
                    )


# --- variables a request carries into another collection ---------------------------------


def carry_variables(
    target: Collection,
    names: Iterable[str],
    *,
    definitions: Mapping[str, Variable] | None = None,
    values: Mapping[str, str] | None = None,
    provided: Iterable[str] = (),
    known_secrets: KnownSecrets = (),
    source: str = "",
) -> list[str]:
    """Define in `target` the `{{names}}` a request uses, so that the collection runs on its
    own; returns notes in plain words.

    A name the profile gives at run time (`provided`: ``urls.*``, ``demo_url``, the
    profile's variables) or that `target` already defines is left alone. Otherwise its
    DEFINITION is copied from `definitions` (the collection the request came from: a
    literal, or an env / prompt / keyring / session reference, never a resolved value).
    A name only known by its value (`values`: captured by a replay, typed in the composer)
    is written as that literal, unless the value is a secret the profile or session holds
    (its reference is written), or is named or looks like a credential (an env/prompt
    reference, the value never). A name known nowhere is named in a note."""
    defs = dict(definitions or {})
    vals = dict(values or {})
    given = set(provided)
    refs = known_references(known_secrets)
    notes: list[str] = []
    where = f" (from {source})" if source else ""
    for name in dict.fromkeys(names):
        if name in given:
            continue
        if name in target.variables:
            if name in defs and variable_data(defs[name]) != variable_data(target.variables[name]):
                notes.append(
                    f"{{{{{name}}}}} is defined differently in {target.path.name}; kept its definition"
                )
            continue
        if name in defs:
            value = copy.deepcopy(defs[name])
            target.variables[name] = value
            what = "" if isinstance(value, str) else f": {_ref_words(value)}"
            notes.append(f"added the variable '{name}'{where}{what}")
            continue
        if name in vals:
            literal = vals[name]
            base = name.rsplit(".", 1)[-1]
            if literal in refs:
                target.variables[name] = refs[literal]
                notes.append(
                    f"{{{{{name}}}}} held a secret the profile or session holds; "
                    f"saved as a reference ({_ref_words(refs[literal])}), not its value"
                )
            elif (
                secret_kind(base, "field")
                or secret_kind(base, "header")
                or JWT.search(literal)
                or looks_like_credential(literal)
            ):
                ref = SecretRef(
                    name=name,
                    env=re.sub(r"[^A-Za-z0-9_]", "_", name).upper(),
                    prompt=name.replace("_", " ").replace(".", " "),
                )
                target.variables[name] = ref
                notes.append(
                    f"{{{{{name}}}}} held a value that may be a credential; saved as a "
                    f"reference ({_ref_words(ref)}), not its value — set it before running"
                )
            else:
                target.variables[name] = literal
                notes.append(
                    f"{{{{{name}}}}} was only known by its value (captured or typed): "
                    f"saved as '{literal}'; capture it in an earlier request to keep it fresh"
                )
            continue
        notes.append(
            f"{{{{{name}}}}} is defined nowhere: add it to [variables] of "
            f"{target.path.name} or run with --var {name}=VALUE"
        )
    return notes


def _ref_words(value: Variable) -> str:
    if isinstance(value, SessionRef | SecretRef):
        return value.describe()
    return "a literal"


# --- loading -----------------------------------------------------------------------------


def loads_collection(text: str, path: str | Path = "<collection>") -> Collection:
    """A collection from TOML text (no file state: saving it writes a new file)."""
    return _collection(Path(path), text)


def load_collection(path: str | Path) -> Collection:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise CollectionError("no such collection file", path=str(p)) from None
    except OSError as exc:
        raise CollectionError(
            f"cannot read the collection: {exc.strerror or exc}", path=str(p)
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CollectionError(
            f"the collection is not UTF-8 text (byte {exc.start})", path=str(p)
        ) from None
    coll = _collection(p, text)
    coll._mark_loaded(text, raw)
    return coll


def _collection(path: Path, text: str) -> Collection:
    parsed = parse_collection(text, path)
    return Collection(
        path=path,
        name=parsed.name,
        description=parsed.description,
        profile=parsed.profile,
        variables=parsed.variables,
        requests=parsed.requests,
    )


def new_collection(
    path: str | Path, name: str | None = None, *, description: str = "", profile: str | None = None
) -> Collection:
    """A collection not yet on disk; `save()` creates the file (refusing to overwrite one)."""
    p = Path(path)
    return Collection(path=p, name=name or p.stem, description=description, profile=profile)


def load_or_new(path: str | Path, name: str | None = None) -> Collection:
    p = Path(path)
    return load_collection(p) if p.exists() else new_collection(p, name)


@dataclass
class Discovered:
    collections: list[Collection]
    errors: list[CollectionError]


def discover_collections(directory: str | Path) -> Discovered:
    """Every `*.toml` collection in `directory` (sorted by file name); broken files are
    reported with their file:line:column, not fatal."""
    found = Discovered([], [])
    d = Path(directory)
    if not d.is_dir():
        return found
    for path in sorted(d.glob("*.toml")):
        try:
            found.collections.append(load_collection(path))
        except CollectionError as err:
            found.errors.append(err)
    return found


# --- writing -----------------------------------------------------------------------------


def to_toml(collection: Collection) -> str:
    """The whole collection as a new TOML document (credentials turned into references)."""
    work = copy.deepcopy(collection)
    work.loaded_text = None
    work._base = None
    work._sanitize()
    return document_text(work.data())


def request_to_toml(
    req: CollectionRequest, variables: dict[str, Variable] | None = None
) -> tuple[str, dict[str, Variable], list[str]]:
    """One request as a [[requests]] table, sanitized. Returns (text, the variables it
    needs that were added, notes)."""
    work = req.copy()
    vars_ = dict(variables or {})
    before = set(vars_)
    notes = sanitize_request(work, vars_)
    added = {k: v for k, v in vars_.items() if k not in before}
    return request_text(request_data(work)), added, notes


# --- variables at run time ---------------------------------------------------------------


def resolve_variables(
    variables: Mapping[str, Variable],
    *,
    resolver: SecretResolver | None = None,
    session: Mapping[str, str] | Callable[[str], str | None] | None = None,
    names: Iterable[str] | None = None,
) -> dict[str, str]:
    """Values for `variables` (only `names` when given): literals as they are, secret
    references through `resolver`, session references from `session` (a mapping such as
    {"access_token": ...} or a function field -> value). Raises SecretError when a value
    cannot be had."""
    wanted = list(variables) if names is None else [n for n in names if n in variables]
    resolver = resolver or SecretResolver()
    out: dict[str, str] = {}
    for name in wanted:
        value = variables[name]
        if isinstance(value, str):
            out[name] = value
        elif isinstance(value, SessionRef):
            got = session(value.field) if callable(session) else (session or {}).get(value.field)
            if not got:
                raise SecretError(
                    f"the variable '{name}' needs {value.describe()}, and there is no session",
                    hint="log in with the collection's profile first (or pass --profile)",
                )
            out[name] = got
        else:
            out[name] = resolver.resolve(value)
    return out
