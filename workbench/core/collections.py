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
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from .atomic import atomic_write
from .errors import CollectionError, SecretError
from .expectations import (
    Expect,
    ExpectError,
    JsonPathError,
    expect_to_data,
    parse_expect,
    parse_source,
)
from .requests import METHODS, RequestSpec
from .secrets import SecretRef, SecretResolver
from .tomltext import TomlIndex, format_key, format_pairs, format_value

FORMAT_VERSION = 1
TOP_KEYS = ("version", "collection", "variables", "requests")
COLLECTION_KEYS = ("name", "description", "profile")
REQUEST_KEYS = ("name", "method", "url", "profile", "query", "headers", "body", "capture", "expect")
BODY_KEYS = ("json", "text", "form")
REF_KEYS = ("env", "prompt", "keyring")
SESSION_FIELDS = ("access_token", "id_token")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_PROFILE_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")
_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}")
_INLINE_LIMIT = 100


class CollectionChangedOnDisk(CollectionError):
    """The file changed on disk since it was loaded; save(force=True) overwrites it."""


@dataclass(frozen=True)
class SessionRef:
    """`{ session = "access_token" }`: a value the logged-in session provides at send time."""

    field: str = "access_token"

    def describe(self) -> str:
        return f"the session's {self.field.replace('_', ' ')}"


Variable = str | SecretRef | SessionRef


@dataclass(frozen=True)
class FileStamp:
    mtime_ns: int
    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path, data: bytes) -> FileStamp:
        st = path.stat()
        return cls(st.st_mtime_ns, st.st_size, hashlib.sha256(data).hexdigest())


@dataclass
class CollectionRequest:
    spec: RequestSpec
    captures: dict[str, str] = field(default_factory=dict)  # variable -> "$.path" | "header:Name"
    expect: Expect = field(default_factory=Expect)
    profile: str | None = None
    origin: int | None = field(default=None, repr=False, compare=False)  # index in the loaded file

    @property
    def name(self) -> str:
        return self.spec.name

    def data(self) -> dict[str, Any]:
        return request_data(self)

    def copy(self) -> CollectionRequest:
        return copy.deepcopy(self)

    def prepare(self, variables: Mapping[str, object], base_url: str | None = None) -> RequestSpec:
        """The spec with every {{name}} rendered and a relative URL ("/path") joined to
        `base_url`. Unknown variables raise CollectionError naming them."""
        try:
            spec = self.spec.render(variables)
        except KeyError as exc:
            names = exc.args[0]
            raise CollectionError(f"request '{self.name}' uses unknown variable(s): {names}",
                                  hint="define them in [variables], capture them from an earlier request, or pass --var NAME=VALUE") from None
        spec.url = resolve_url(spec.url, base_url)
        return spec


def resolve_url(url: str, base_url: str | None) -> str:
    """A URL starting with "/" is relative to the profile's base URL."""
    if url.startswith("/") and base_url:
        return base_url.rstrip("/") + url
    return url


# --- canonical data (what is written, and what round-trips) -------------------------------

def variable_data(value: Variable) -> Any:
    if isinstance(value, SessionRef):
        return {"session": value.field}
    if isinstance(value, SecretRef):
        return {k: getattr(value, k) for k in REF_KEYS if getattr(value, k) is not None}
    return value


def request_data(req: CollectionRequest) -> dict[str, Any]:
    spec = req.spec
    out: dict[str, Any] = {"name": spec.name, "method": spec.method.upper(), "url": spec.url}
    if req.profile:
        out["profile"] = req.profile
    if spec.params:
        out["query"] = [[k, v] for k, v in spec.params]
    if spec.headers:
        out["headers"] = [[k, v] for k, v in spec.headers]
    if spec.body_kind in ("json", "text"):
        out["body"] = {spec.body_kind: spec.body}
    elif spec.body_kind == "form":
        keys = [k for k, _ in spec.form]
        if len(set(keys)) == len(keys):
            out["body"] = {"form": dict(spec.form)}
        else:
            out["body"] = {"form": [[k, v] for k, v in spec.form]}
    if req.captures:
        out["capture"] = dict(req.captures)
    if not req.expect.is_empty():
        out["expect"] = expect_to_data(req.expect)
    return out


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
        raise CollectionError(f"no request named '{name}' in {self.path}",
                              hint=f"requests: {', '.join(self.names()) or 'none'}")

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
            raise CollectionError(f"a request named '{req.name}' already exists in {self.path}",
                                  hint=f"pick another name (e.g. '{self.unique_name(req.name)}')")
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

    def render_text(self) -> tuple[str, list[str]]:
        """The text `save` would write, and its notes (credentials turned into references)."""
        notes = self._sanitize()
        if self.loaded_text is None or self._base is None:
            return _document_text(self), notes
        return _Splicer(self).run(), notes

    def save(self, *, force: bool = False, known_secrets: Iterable[str] = ()) -> list[str]:
        """Write the collection (atomically). Returns notes in plain words (e.g. which
        credentials were replaced by references). Raises CollectionChangedOnDisk when the
        file changed since it was loaded and `force` is false; nothing is written on error."""
        text, notes = self.render_text()
        if self.loaded_text is not None and text == self.loaded_text and not self.changed_on_disk():
            return notes  # nothing changed: leave the file (and its mtime) alone
        _refuse_known_secrets(text, self.loaded_text or "", known_secrets, self.path)
        try:
            check = loads_collection(text, self.path)
        except CollectionError as err:  # pragma: no cover - a bug in the writer
            raise CollectionError(f"internal error: the text to save does not load back ({err.message})",
                                  path=str(self.path)) from None
        if check.data() != self.data():  # pragma: no cover - a bug in the writer
            raise CollectionError("internal error: the text to save does not read back as the same collection",
                                  path=str(self.path))
        if not force and self.changed_on_disk():
            what = "was created" if self.stamp is None else "changed on disk"
            raise CollectionChangedOnDisk(f"the file {what} since it was loaded", path=str(self.path),
                                          hint="reload it, or save again to overwrite it (force)")
        try:
            atomic_write(self.path, text.encode("utf-8"))
        except OSError as exc:
            raise CollectionError(f"cannot write the collection: {exc.strerror or exc}", path=str(self.path)) from None
        self._mark_loaded(text, text.encode("utf-8"))
        return notes

    def _mark_loaded(self, text: str, raw: bytes) -> None:
        self.loaded_text = text
        self.stamp = FileStamp.of(self.path, raw)
        for i, r in enumerate(self.requests):
            r.origin = i
        self._base = copy.deepcopy(self.data())

    def _sanitize(self) -> list[str]:
        notes: list[str] = []
        base_requests = (self._base or {}).get("requests", [])
        base_vars = (self._base or {}).get("variables", {})
        for r in self.requests:
            if r.origin is not None and r.origin < len(base_requests) and request_data(r) == base_requests[r.origin]:
                continue
            notes.extend(sanitize_request(r, self.variables))
        for name, value in list(self.variables.items()):
            if name in base_vars and base_vars[name] == variable_data(value):
                continue
            note = _sanitize_variable(self.variables, name)
            if note:
                notes.append(note)
        return notes


def _check_request(req: CollectionRequest) -> None:
    if not isinstance(req, CollectionRequest):
        raise CollectionError("not a collection request")
    if not req.name.strip():
        raise CollectionError("a request needs a name")
    if req.spec.method.upper() not in METHODS:
        raise CollectionError(f"unknown method '{req.spec.method}'", hint=f"methods: {', '.join(METHODS)}")
    if req.spec.body_kind not in ("none", "json", "text", "form"):
        raise CollectionError(f"unknown body kind '{req.spec.body_kind}'")


def _refuse_known_secrets(text: str, before: str, secrets: Iterable[str], path: Path) -> None:
    for secret in secrets:
        if secret and len(secret) >= 4:
            for form in {secret, quote(secret, safe="")}:
                if text.count(form) > before.count(form):
                    raise CollectionError("refusing to save: the collection would contain a secret value",
                                          path=str(path), hint="use a {{variable}} with an env/prompt/keyring/session reference")


# --- loading -----------------------------------------------------------------------------

class _Loader:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self._index: TomlIndex | None = None

    @property
    def index(self) -> TomlIndex:
        if self._index is None:
            self._index = TomlIndex(self.text)
        return self._index

    def error(self, message: str, where: tuple[str | int, ...], hint: str | None = None) -> CollectionError:
        line, column = self.index.locate(where)
        return CollectionError(message, path=str(self.path), line=line, column=column,
                               key=_key_words(where) or None, hint=hint)

    def load(self) -> Collection:
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            m = _TOML_POS.search(str(exc))
            msg = _TOML_POS.sub("", str(exc)).strip()
            raise CollectionError(f"not valid TOML: {msg}", path=str(self.path),
                                  line=int(m.group(1)) if m else None,
                                  column=int(m.group(2)) if m else None) from None
        for key in data:
            if key not in TOP_KEYS:
                raise self.error(f"unknown key '{key}'", (key,), hint=f"known top-level keys: {', '.join(TOP_KEYS)}")
        if "version" not in data:
            raise CollectionError("'version' is missing", path=str(self.path), line=1, column=1, key="version",
                                  hint="add `version = 1` at the top")
        if data["version"] != FORMAT_VERSION or isinstance(data["version"], bool):
            raise self.error(f"'version' must be {FORMAT_VERSION}", ("version",),
                             hint="this workbench reads collection format version 1")
        meta = self._meta(data.get("collection", {}))
        variables = self._variables(data.get("variables", {}))
        raw_requests = data.get("requests", [])
        if not isinstance(raw_requests, list):
            raise self.error("'requests' must be [[requests]] tables", ("requests",))
        requests: list[CollectionRequest] = []
        seen: set[str] = set()
        for i, raw in enumerate(raw_requests):
            req = self._request(raw, i)
            if req.name in seen:
                raise self.error(f"two requests are named '{req.name}'", ("requests", i, "name"),
                                 hint="request names must be unique in a collection")
            seen.add(req.name)
            req.origin = i
            requests.append(req)
        return Collection(path=self.path, name=meta.get("name") or self.path.stem,
                          description=meta.get("description", ""), profile=meta.get("profile"),
                          variables=variables, requests=requests)

    def _meta(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.error("[collection] must be a table", ("collection",))
        for key, value in raw.items():
            if key not in COLLECTION_KEYS:
                raise self.error(f"unknown key '{key}' in [collection]", ("collection", key),
                                 hint=f"known keys: {', '.join(COLLECTION_KEYS)}")
            if not isinstance(value, str):
                raise self.error(f"'{key}' must be a string", ("collection", key))
        if "profile" in raw and not _PROFILE_NAME.fullmatch(raw["profile"]):
            raise self.error("'profile' must be a profile name (letters, digits, '.', '_', '-')", ("collection", "profile"))
        return raw

    def _variables(self, raw: Any) -> dict[str, Variable]:
        if not isinstance(raw, dict):
            raise self.error("[variables] must be a table", ("variables",))
        out: dict[str, Variable] = {}
        for name, value in raw.items():
            where = ("variables", name)
            if not _VAR_NAME.fullmatch(name):
                raise self.error(f"'{name}' is not a variable name (letters, digits, '_', '.', '-'; not starting with a digit)", where)
            out[name] = self._variable(name, value, where)
        return out

    def _variable(self, name: str, value: Any, where: tuple[str | int, ...]) -> Variable:
        if isinstance(value, str):
            return value
        if not isinstance(value, dict):
            raise self.error(f"variable '{name}' must be a string or a reference table", where,
                             hint='quote numbers: x = "10"; references: { env = "VAR" }, { prompt = "..." }, '
                                  '{ keyring = "..." }, { session = "access_token" }')
        if "session" in value:
            extra = [k for k in value if k != "session"]
            if extra:
                raise self.error(f"'{extra[0]}' cannot be combined with 'session'", (*where, extra[0]))
            if value["session"] not in SESSION_FIELDS:
                raise self.error(f"'session' must be one of {', '.join(SESSION_FIELDS)}", (*where, "session"))
            return SessionRef(value["session"])
        if not value:
            raise self.error(f"variable '{name}' is an empty reference", where,
                             hint="use { env = \"VAR\" }, { prompt = \"...\" }, { keyring = \"...\" } or { session = \"access_token\" }")
        for k, v in value.items():
            if k not in REF_KEYS:
                raise self.error(f"unknown key '{k}' in the reference", (*where, k),
                                 hint="a reference takes env, prompt, keyring (or session alone)")
            if not isinstance(v, str) or not v:
                raise self.error(f"'{k}' must be a non-empty string", (*where, k))
        if "env" in value and not _ENV_NAME.fullmatch(value["env"]):
            raise self.error(f"'{value['env']}' is not an environment variable name", (*where, "env"))
        return SecretRef(name=name, env=value.get("env"), prompt=value.get("prompt"), keyring=value.get("keyring"))

    def _request(self, raw: Any, i: int) -> CollectionRequest:
        here: tuple[str | int, ...] = ("requests", i)
        if not isinstance(raw, dict):
            raise self.error("each request must be a table", here)
        for key in raw:
            if key not in REQUEST_KEYS:
                raise self.error(f"unknown key '{key}' in request {i + 1}", (*here, key),
                                 hint=f"known keys: {', '.join(REQUEST_KEYS)}")
        for key in ("name", "url"):
            if key not in raw:
                raise self.error(f"request {i + 1} has no '{key}'", here)
            if not isinstance(raw[key], str) or not raw[key].strip():
                raise self.error(f"'{key}' must be a non-empty string", (*here, key))
        name = raw["name"]
        if any(c in raw["url"] for c in "\r\n"):
            raise self.error("'url' must be on one line", (*here, "url"))
        method = raw.get("method", "GET")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise self.error(f"'method' must be one of {', '.join(METHODS)}", (*here, "method"))
        profile = raw.get("profile")
        if profile is not None and (not isinstance(profile, str) or not _PROFILE_NAME.fullmatch(profile)):
            raise self.error("'profile' must be a profile name", (*here, "profile"))
        spec = RequestSpec(method=method.upper(), url=raw["url"], name=name,
                           params=self._pairs(raw, "query", here), headers=self._pairs(raw, "headers", here))
        for k, v in spec.headers:
            if not k.strip() or ":" in k or any(c in k + v for c in "\r\n"):
                raise self.error(f"header '{k}' is not a valid header (no ':' in names, no line breaks)", (*here, "headers"))
        if "body" in raw:
            self._body(raw["body"], spec, (*here, "body"))
        return CollectionRequest(spec=spec, captures=self._captures(raw.get("capture", {}), (*here, "capture")),
                                 expect=self._expect(raw.get("expect", {}), (*here, "expect")), profile=profile)

    def _pairs(self, raw: dict[str, Any], key: str, here: tuple[str | int, ...]) -> list[tuple[str, str]]:
        value = raw.get(key, [])
        hint = f'write {key} as an array of [name, value] pairs: {key} = [["Accept", "application/json"]]'
        if not isinstance(value, list):
            raise self.error(f"'{key}' must be an array of [name, value] pairs", (*here, key), hint=hint)
        out = []
        for n, pair in enumerate(value):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
                raise self.error(f"item {n + 1} of '{key}' must be a [name, value] pair of strings",
                                 (*here, key, n), hint=hint)
            out.append((pair[0], pair[1]))
        return out

    def _body(self, raw: Any, spec: RequestSpec, where: tuple[str | int, ...]) -> None:
        hint = 'body = { json = """...""" }, { text = "..." } or { form = { name = "value" } }'
        if not isinstance(raw, dict) or len(raw) != 1:
            raise self.error("'body' must be a table with one of json, text or form", where, hint=hint)
        (kind, value), = raw.items()
        if kind not in BODY_KEYS:
            raise self.error(f"unknown body kind '{kind}'", (*where, kind), hint=hint)
        spec.body_kind = kind
        if kind in ("json", "text"):
            if not isinstance(value, str):
                raise self.error(f"'{kind}' must be a string", (*where, kind),
                                 hint='write JSON as text: json = """{"a": 1}"""')
            spec.body = value
            return
        if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            spec.form = list(value.items())
        elif isinstance(value, list) and all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in value):
            spec.form = [(k, v) for k, v in value]
        else:
            raise self.error("'form' must be a table of strings or an array of [name, value] pairs", (*where, kind))

    def _captures(self, raw: Any, where: tuple[str | int, ...]) -> dict[str, str]:
        if not isinstance(raw, dict):
            raise self.error("'capture' must be a table of variable = \"$.json.path\" or \"header:Name\"", where)
        for name, source in raw.items():
            if not _VAR_NAME.fullmatch(name):
                raise self.error(f"'{name}' is not a variable name", (*where, name))
            try:
                parse_source(source)
            except JsonPathError as exc:
                raise self.error(str(exc), (*where, name)) from None
        return dict(raw)

    def _expect(self, raw: Any, where: tuple[str | int, ...]) -> Expect:
        try:
            return parse_expect(raw)
        except ExpectError as exc:
            raise self.error(exc.message, (*where, *exc.key_path)) from None


def _key_words(where: tuple[str | int, ...]) -> str:
    out = ""
    for part in where:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + (part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part))
    return out


def loads_collection(text: str, path: str | Path = "<collection>") -> Collection:
    """A collection from TOML text (no file state: saving it writes a new file)."""
    return _Loader(Path(path), text).load()


def load_collection(path: str | Path) -> Collection:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise CollectionError("no such collection file", path=str(p)) from None
    except OSError as exc:
        raise CollectionError(f"cannot read the collection: {exc.strerror or exc}", path=str(p)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CollectionError(f"the collection is not UTF-8 text (byte {exc.start})", path=str(p)) from None
    coll = _Loader(p, text).load()
    coll._mark_loaded(text, raw)
    return coll


def new_collection(path: str | Path, name: str | None = None, *, description: str = "",
                   profile: str | None = None) -> Collection:
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

def _line(key: str, value: Any, *, multiline: bool = False) -> str:
    return f"{format_key(key)} = {format_value(value, multiline=multiline)}"


def _meta_text(meta: dict[str, Any]) -> str:
    return "\n".join(["[collection]", *(_line(k, v) for k, v in meta.items())]) + "\n"


def _variables_text(variables: dict[str, Any]) -> str:
    return "\n".join(["[variables]", *(_line(k, v) for k, v in variables.items())]) + "\n"


REQUEST_KEY_ORDER = ("name", "method", "url", "profile", "query", "headers", "body")
SUBTABLES = ("capture", "expect")


def request_key_text(key: str, value: Any) -> str:
    """One key of a request table, as written (may span lines for pairs and bodies)."""
    if key in ("query", "headers"):
        return f"{key} = {format_pairs(value)}"
    if key == "body":
        (kind, inner), = value.items()
        if kind == "form" and isinstance(inner, list):
            return f"body = {{ form = {format_value(inner)} }}"
        return f"body = {{ {kind} = {format_value(inner, multiline=True)} }}"
    return _line(key, value)


def subtable_key_text(key: str, value: Any) -> str:
    """One key of [requests.capture] / [requests.expect]; a long inline table becomes
    one dotted line per entry (one check per line)."""
    text = _line(key, value)
    if isinstance(value, dict) and value and len(text) > _INLINE_LIMIT:
        return "\n".join(f"{format_key(key)}.{format_key(k)} = {format_value(v)}" for k, v in value.items())
    return text


def subtable_text(name: str, data: dict[str, Any]) -> str:
    return "\n".join([f"[requests.{name}]", *(subtable_key_text(k, v) for k, v in data.items())]) + "\n"


def request_text(data: dict[str, Any]) -> str:
    """The [[requests]] table (and its capture/expect sub-tables) for canonical request data."""
    lines = ["[[requests]]", *(request_key_text(k, data[k]) for k in REQUEST_KEY_ORDER if k in data)]
    text = "\n".join(lines) + "\n"
    for name in SUBTABLES:
        if name in data:
            text += "\n" + subtable_text(name, data[name])
    return text


def _document_text(coll: Collection) -> str:
    data = coll.data()
    parts = [f"version = {FORMAT_VERSION}\n", _meta_text(data["meta"])]
    if data["variables"]:
        parts.append(_variables_text(data["variables"]))
    parts.extend(request_text(r) for r in data["requests"])
    return "\n".join(parts)


def to_toml(collection: Collection) -> str:
    """The whole collection as a new TOML document (credentials turned into references)."""
    work = copy.deepcopy(collection)
    work.loaded_text = None
    work._base = None
    work._sanitize()
    return _document_text(work)


def request_to_toml(req: CollectionRequest, variables: dict[str, Variable] | None = None) -> tuple[str, dict[str, Variable], list[str]]:
    """One request as a [[requests]] table, sanitized. Returns (text, the variables it
    needs that were added, notes)."""
    work = req.copy()
    vars_ = dict(variables or {})
    before = set(vars_)
    notes = sanitize_request(work, vars_)
    added = {k: v for k, v in vars_.items() if k not in before}
    return request_text(request_data(work)), added, notes


# --- splicing edits into the loaded text ------------------------------------------------

class _Splicer:
    """Turns the differences between the loaded collection and the current one into
    byte-range edits of the loaded text."""

    def __init__(self, coll: Collection) -> None:
        self.coll = coll
        text = coll.loaded_text or ""
        self.nl = "\r\n" if "\r\n" in text else "\n"
        if text and not text.endswith("\n"):
            text += self.nl  # so that lines can be added after the last one
        self.text = text
        self.ix = TomlIndex(self.text)
        self.base = coll._base or {}
        self.edits: list[tuple[int, int, str]] = []

    def edit(self, start: int, end: int, text: str) -> None:
        self.edits.append((start, end, text.replace("\n", self.nl) if self.nl != "\n" else text))

    def run(self) -> str:
        data = self.coll.data()
        if data["meta"] != self.base.get("meta"):
            self._meta(data["meta"])
        if data["variables"] != self.base.get("variables"):
            self._variables(data["variables"])
        self._requests()
        return self._apply()

    def _apply(self) -> str:
        out: list[str] = []
        pos = 0
        for start, end, text in sorted(self.edits, key=lambda e: (e[0], e[1])):
            if start < pos:  # pragma: no cover - overlapping edits are a bug
                raise CollectionError("internal error: overlapping edits while saving", path=str(self.coll.path))
            out.append(self.text[pos:start])
            out.append(text)
            pos = end
        out.append(self.text[pos:])
        return "".join(out)

    # -- helpers
    def _root_statements(self, first: str) -> list:
        return [s for s in self.ix.sections[0].statements if s.keys[0] == first]

    def _first_request_start(self) -> int | None:
        starts = [s.header_start for s in self.ix.sections if s.path and s.path[0] == "requests"]
        return min(starts) if starts else None

    def _eof_insert(self, block: str) -> None:
        """Append a block at the end of the file, after a blank line."""
        text = self.text
        prefix = ""
        if text and not text.endswith("\n"):
            prefix = "\n"
        if text.strip() and not (text + prefix).endswith("\n\n"):
            prefix += "\n"
        self.edit(len(text), len(text), prefix + block)

    def _insert_section(self, block: str) -> None:
        """A new top-level table: before the first request, else at the end of the file."""
        start = self._first_request_start()
        if start is None:
            self._eof_insert(block)
        else:
            start = self._lead_start(start)
            self.edit(start, start, block + "\n")

    def _delete_lines(self, st) -> None:
        self.edit(st.line_start, st.line_end, "")

    # -- metadata
    def _meta(self, meta: dict[str, Any]) -> None:
        sec = self.ix.section(("collection",))
        for st in self._root_statements("collection"):
            self._delete_lines(st)
        if sec is not None:
            edits = _statement_edits(sec.statements, self.base.get("meta", {}), meta, sec.content_end, _line)
            if edits is None:  # not one `key = value` per key: write the table again
                edits = [(sec.header_start, sec.content_end, _meta_text(meta))]
            for edit in edits:
                self.edit(*edit)
            return
        root_end = self.ix.sections[0].content_end
        headers = [s.header_start for s in self.ix.sections[1:]]
        if headers:
            at = self._lead_start(min(headers))
            self.edit(at, at, _meta_text(meta) + "\n")
        else:
            self.edit(root_end, root_end, "\n" + _meta_text(meta))

    # -- variables
    def _variables(self, new: dict[str, Any]) -> None:
        old = self.base.get("variables", {})
        sec = self.ix.section(("variables",))
        inline = [s for s in self._root_statements("variables") if s.keys == ("variables",)]
        if inline:
            st = inline[0]
            self.edit(st.start, st.end, _line("variables", new))
            return
        dotted_root = [s for s in self._root_statements("variables") if len(s.keys) > 1]

        def defs(name: str) -> list:
            found = [s for s in dotted_root if s.keys[1] == name]
            if sec is not None:
                found += [s for s in sec.statements if s.keys[0] == name]
            return sorted(found, key=lambda s: s.start)

        added: list[str] = []
        for name in list(old) + [n for n in new if n not in old]:
            if name in old and name in new and old[name] == new[name]:
                continue
            statements = defs(name)
            subtables = [s for s in self.ix.sections if len(s.path) >= 2 and s.path[:2] == ("variables", name)]
            if subtables and (name not in new or new[name] != old.get(name)):
                for s in subtables:
                    self._delete_block(self._lead_start(s.header_start), s.content_end)
                if name in new:
                    added.append(_line(name, new[name]))
                continue
            if name not in new:
                for st in statements:
                    self._delete_lines(st)
            elif name not in old or not statements:
                added.append(_line(name, new[name]))
            elif new[name] != old[name]:
                first, *rest = statements
                prefix = "variables." if first in dotted_root else ""
                self.edit(first.start, first.end, prefix + _line(name, new[name]))
                for st in rest:
                    self._delete_lines(st)
        if not added:
            return
        if sec is not None:
            self.edit(sec.content_end, sec.content_end, "\n".join(added) + "\n")
        elif dotted_root:
            end = max(s.line_end for s in dotted_root)
            self.edit(end, end, "".join(f"variables.{line}\n" for line in added))
        else:
            self._insert_section("[variables]\n" + "\n".join(added) + "\n")

    # -- requests
    def _lead_start(self, start: int) -> int:
        """Comment lines directly above a header belong to it."""
        pos = start
        while pos > 0:
            prev = self.ix.line_start(pos - 1)
            if self.text[prev:pos].strip().startswith("#"):
                pos = prev
            else:
                break
        return pos

    def _next_line(self, pos: int) -> int:
        nxt = self.text.find("\n", pos)
        return len(self.text) if nxt < 0 else nxt + 1

    def _attached_end(self, end: int) -> int:
        """Comment lines right after a block belong to it, unless they lead into the next
        table or key (no blank line between)."""
        pos = end
        while pos < len(self.text) and self.text[pos:self._next_line(pos)].strip().startswith("#"):
            pos = self._next_line(pos)
        if pos < len(self.text) and self.text[pos:self._next_line(pos)].strip():
            return end
        return pos

    def _blank_after(self, end: int) -> int:
        pos = end
        while pos < len(self.text) and not self.text[pos:self._next_line(pos)].strip():
            pos = self._next_line(pos)
        return pos

    def _delete_block(self, start: int, end: int) -> None:
        """Delete a block and the blank lines after it (or, at the end of the file, before it).
        Comment lines after it stay: only the user knows what they are about."""
        end = self._blank_after(end)
        if end >= len(self.text):
            while start > 0:
                prev = self.ix.line_start(start - 1)
                if self.text[prev:start].strip():
                    break
                start = prev
        self.edit(start, end, "")

    def _request_sections(self, idx: int) -> list:
        return [s for s in self.ix.sections
                if len(s.path) >= 2 and s.path[0] == "requests" and s.path[1] == idx]

    def _requests(self) -> None:
        base_reqs: list[dict[str, Any]] = self.base.get("requests", [])
        units: list[tuple[int | None, dict[str, Any]]] = []
        used: set[int] = set()
        for r in self.coll.requests:
            origin = r.origin if (r.origin is not None and r.origin < len(base_reqs) and r.origin not in used) else None
            if origin is not None:
                used.add(origin)
            units.append((origin, request_data(r)))
        if [o for o, _ in units] == list(range(len(base_reqs))) and all(d == base_reqs[o] for o, d in units):
            return
        if self._root_statements("requests"):
            raise CollectionError("this file writes its requests as an inline array; saving would reformat it",
                                  path=str(self.coll.path), hint="write the requests as [[requests]] tables")
        spans = [self._runs(i) for i in range(len(base_reqs))]
        origins = [o for o, _ in units if o is not None]
        if origins != sorted(origins):
            self._reorder(units, spans, base_reqs)
            return
        for idx in range(len(base_reqs)):
            if idx not in used:
                for n, (start, end) in enumerate(spans[idx]):
                    self._delete_block(self._lead_start(start) if n == 0 else start, end)
        pending: list[str] = []
        anchor: int | None = None  # where the previous kept request ends
        for origin, data in units:
            if origin is None:
                pending.append(request_text(data))
                continue
            runs = spans[origin]
            if pending:
                self._insert_new(pending, anchor, self._lead_start(runs[0][0]))
                pending = []
            if data != base_reqs[origin]:
                self._update_request(origin, base_reqs[origin], data, runs)
            anchor = self._attached_end(runs[-1][1])
        if pending:
            self._insert_new(pending, anchor, None)

    def _runs(self, idx: int) -> list[tuple[int, int]]:
        """The contiguous runs (start, end) of request `idx`'s tables, in file order (more
        than one when another table sits between two of its tables)."""
        runs: list[tuple[int, int]] = []
        previous_was_ours = False
        for sec in self.ix.sections[1:]:
            ours = len(sec.path) >= 2 and sec.path[0] == "requests" and sec.path[1] == idx
            if ours and previous_was_ours:
                runs[-1] = (runs[-1][0], sec.content_end)
            elif ours:
                runs.append((sec.header_start, sec.content_end))
            previous_was_ours = ours
        return runs

    def _insert_new(self, blocks: list[str], after: int | None, before: int | None) -> None:
        body = "\n".join(blocks)
        if after is not None:
            self.edit(after, after, "\n" + body)
        elif before is not None:
            self.edit(before, before, body + "\n")
        else:
            self._eof_insert(body)

    def _update_request(self, idx: int, old: dict[str, Any], new: dict[str, Any], runs: list[tuple[int, int]]) -> None:
        """Edit only the keys that changed (keeping the other lines and their comments);
        regenerate the whole table when its layout is not the simple one."""
        edits = self._key_edits(idx, old, new)
        if edits is None:
            self.edit(runs[0][0], runs[0][1], request_text(new))
            for start, end in runs[1:]:
                self._delete_block(start, end)
            return
        for edit in edits:
            self.edit(*edit)

    def _key_edits(self, idx: int, old: dict[str, Any], new: dict[str, Any]) -> list[tuple[int, int, str]] | None:
        sections = self._request_sections(idx)
        main = next((s for s in sections if len(s.path) == 2), None)
        if main is None:
            return None
        edits: list[tuple[int, int, str]] = []
        old_main = {k: v for k, v in old.items() if k not in SUBTABLES}
        new_main = {k: v for k, v in new.items() if k not in SUBTABLES}
        if any(st.keys[0] in SUBTABLES for st in main.statements):
            return None  # capture / expect written inline: regenerate the table
        main_edits = _statement_edits(main.statements, old_main, new_main, main.content_end, request_key_text)
        if main_edits is None:
            return None
        edits += main_edits
        end_of_request = max(s.content_end for s in sections)
        appended: list[tuple[int, int, str]] = []
        for name in SUBTABLES:
            before, after = old.get(name), new.get(name)
            if before == after:
                continue
            own = [s for s in sections if len(s.path) >= 3 and s.path[2] == name]
            direct = next((s for s in own if len(s.path) == 3), None)
            if before is not None and after is not None and direct is not None and len(own) == 1:
                sub = _statement_edits(direct.statements, before, after, direct.content_end, subtable_key_text)
                if sub is not None:
                    edits += sub
                    continue
            for sec in own:
                edits.append((sec.header_start, sec.content_end, ""))
            if after is not None:
                if direct is not None:
                    edits = [e for e in edits if e[0] != direct.header_start]
                    edits.append((direct.header_start, direct.content_end, subtable_text(name, after)))
                else:
                    appended.append((end_of_request, end_of_request, "\n" + subtable_text(name, after)))
        return edits + appended  # new tables go after the keys added to the last one

    def _reorder(self, units, spans, base_reqs) -> None:
        if any(len(s) != 1 for s in spans):
            raise CollectionError("cannot reorder the requests of this file (their tables are interleaved with others)",
                                  path=str(self.coll.path))
        region_start = self._lead_start(spans[0][0][0])
        region_end = spans[-1][0][1]
        others = [s for s in self.ix.sections[1:] if not (s.path and s.path[0] == "requests")
                  and region_start <= s.header_start < region_end]
        if others:
            raise CollectionError("cannot reorder the requests of this file (other tables sit between them)",
                                  path=str(self.coll.path))
        pieces = []
        for origin, data in units:
            if origin is None:
                pieces.append(request_text(data))
                continue
            start, end = spans[origin][0]
            lead = self._lead_start(start)
            if data == base_reqs[origin]:
                pieces.append(self.text[lead:end])
            else:
                pieces.append(self.text[lead:start] + request_text(data))
        self.edit(region_start, region_end, "\n".join(p if p.endswith("\n") else p + "\n" for p in pieces))


def _statement_edits(statements: list, old: dict[str, Any], new: dict[str, Any], insert_at: int,
                     text_for: Callable[[str, Any], str]) -> list[tuple[int, int, str]] | None:
    """Per-key edits of a table written as one `key = value` per key; None for any other layout."""
    by_key: dict[str, Any] = {}
    for st in statements:
        if len(st.keys) != 1 or st.keys[0] in by_key:
            return None
        by_key[st.keys[0]] = st
    if set(by_key) != set(old):
        return None
    edits: list[tuple[int, int, str]] = []
    for key, st in by_key.items():
        if key not in new:
            edits.append((st.line_start, st.line_end, ""))
        elif new[key] != old[key]:
            edits.append((st.start, st.end, text_for(key, new[key])))
    added = [text_for(k, v) for k, v in new.items() if k not in old]
    if added:
        edits.append((insert_at, insert_at, "\n".join(added) + "\n"))
    return edits


# --- credentials never saved -------------------------------------------------------------

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")

# header name -> the reference kind its value needs
CREDENTIAL_HEADERS = {
    "authorization": "auth", "proxy-authorization": "proxy_auth", "x-api-key": "api_key",
    "api-key": "api_key", "apikey": "api_key", "solution-key": "solution_key", "cookie": "cookie",
    "x-auth-token": "token", "x-access-token": "token", "x-amz-security-token": "token",
}
_TOKENISH_HEADER = re.compile(r"token|secret|api[-_]?key|password|passwd", re.I)
# query parameter / form field / JSON key -> reference kind
SECRET_FIELDS = {
    "authorization": "token", "access_token": "token", "token": "token", "id_token": "id_token",
    "api_key": "api_key", "apikey": "api_key", "password": "password", "passwd": "password",
    "client_secret": "client_secret", "refresh_token": "refresh_token", "secret": "secret",
}
REFERENCES: dict[str, Variable] = {
    "token": SessionRef("access_token"),
    "id_token": SessionRef("id_token"),
    "basic_auth": SecretRef("basic_auth", env="BASIC_AUTH", prompt="Basic credentials (base64 of user:password)"),
    "proxy_auth": SecretRef("proxy_auth", env="PROXY_AUTHORIZATION", prompt="Proxy-Authorization value"),
    "api_key": SecretRef("api_key", env="API_KEY", prompt="API key"),
    "solution_key": SecretRef("solution_key", env="SOLUTION_KEY", prompt="solution key"),
    "cookie": SecretRef("cookie", env="COOKIE", prompt="Cookie header value"),
    "password": SecretRef("password", env="PASSWORD", prompt="password"),
    "client_secret": SecretRef("client_secret", env="CLIENT_SECRET", prompt="client secret"),
    "refresh_token": SecretRef("refresh_token", env="REFRESH_TOKEN", prompt="refresh token"),
    "secret": SecretRef("secret", env="SECRET", prompt="secret"),
}
_SECRET_VAR_NAMES = {"token", "access_token", "id_token", "refresh_token", "password", "passwd", "secret",
                     "client_secret", "api_key", "apikey", "basic_auth", "solution_key", "cookie"}


def _is_literal(variables: Mapping[str, Variable], name: str) -> bool:
    return isinstance(variables.get(name), str) and bool(variables[name])


def is_clean(value: str, variables: Mapping[str, Variable]) -> bool:
    """True when `value` holds no literal credential: only {{references}} to variables that
    are not literal strings (secret/session references, or supplied at run time)."""
    rest = _TEMPLATE.sub(lambda m: "\x00" if _is_literal(variables, m.group(1)) else "", value)
    return not rest.strip()


def _reference(variables: dict[str, Variable], kind: str) -> str:
    """The name of a variable holding the reference for `kind` (adding it when needed).

    An existing variable of that name is reused when it is the same session reference, or
    any env/prompt/keyring reference (the user's own); a literal one is never reused."""
    ref = REFERENCES[kind]
    name, n = kind, 2
    while name in variables:
        existing = variables[name]
        if isinstance(ref, SessionRef) and existing == ref:
            return name
        if isinstance(ref, SecretRef) and isinstance(existing, SecretRef):
            return name
        name, n = f"{kind}_{n}", n + 1
    variables[name] = SecretRef(name=name, env=ref.env, prompt=ref.prompt, keyring=ref.keyring) \
        if isinstance(ref, SecretRef) else ref
    return name


def _describe_ref(variables: Mapping[str, Variable], name: str) -> str:
    value = variables[name]
    if isinstance(value, SessionRef):
        return value.describe()
    if isinstance(value, SecretRef):
        return value.describe()
    return "a variable"


def _replace_jwts(text: str, variables: dict[str, Variable]) -> tuple[str, bool]:
    if not JWT.search(text):
        return text, False
    name = _reference(variables, "token")
    return JWT.sub("{{" + name + "}}", text), True


def sanitize_request(req: CollectionRequest, variables: dict[str, Variable]) -> list[str]:
    """Replace every literal credential in `req` by a {{variable}} holding a reference
    (adding the variable to `variables` when needed). Returns what was done, in words.

    Looked at: credential headers (Authorization, Proxy-Authorization, X-Api-Key,
    solution-key, Cookie, and any header named like a token/secret/key), token query
    parameters (in `query` and in the URL), URL passwords, secret form fields and JSON
    keys (password, client_secret, refresh_token, access_token, token, ...), and anything
    that looks like a JWT anywhere.
    """
    spec = req.spec
    notes: list[str] = []
    who = f"request '{req.name}'"

    def note(where: str, name: str) -> None:
        notes.append(f"{who}: {where} held a credential; saved as {{{{{name}}}}} ({_describe_ref(variables, name)})")

    headers = []
    for key, value in spec.headers:
        kind = CREDENTIAL_HEADERS.get(key.lower()) or ("token" if _TOKENISH_HEADER.search(key) else None)
        if kind and not is_clean(value, variables):
            scheme, rest = "", value
            m = re.match(r"([A-Za-z][A-Za-z0-9_-]*)\s+(\S.*)$", value)
            if kind in ("auth", "proxy_auth") and m:
                scheme, rest = m.group(1) + " ", m.group(2)
            if kind == "auth":
                kind = "basic_auth" if scheme.strip().lower() == "basic" else "token"
            if not is_clean(rest, variables):
                name = _reference(variables, kind)
                value = scheme + "{{" + name + "}}"
                note(f"the {key} header", name)
        else:
            value, hit = _replace_jwts(value, variables)
            if hit:
                note(f"the {key} header", "token")
        headers.append((key, value))
    spec.headers = headers

    params = []
    for key, value in spec.params:
        kind = SECRET_FIELDS.get(key.lower())
        if kind and not is_clean(value, variables):
            name = _reference(variables, kind)
            value = "{{" + name + "}}"
            note(f"the query parameter '{key}'", name)
        else:
            value, hit = _replace_jwts(value, variables)
            if hit:
                note(f"the query parameter '{key}'", "token")
        params.append((key, value))
    spec.params = params

    url, url_notes = _sanitize_url(spec.url, variables)
    spec.url = url
    notes.extend(f"{who}: {n}" for n in url_notes)

    if spec.body_kind == "form":
        form = []
        for key, value in spec.form:
            kind = SECRET_FIELDS.get(key.lower())
            if kind and not is_clean(value, variables):
                name = _reference(variables, kind)
                value = "{{" + name + "}}"
                note(f"the form field '{key}'", name)
            else:
                value, hit = _replace_jwts(value, variables)
                if hit:
                    note(f"the form field '{key}'", "token")
            form.append((key, value))
        spec.form = form
    elif spec.body_kind in ("json", "text"):
        body = spec.body
        if spec.body_kind == "json":
            body = _sanitize_json_text(body, variables, lambda k, n: note(f"the JSON field '{k}'", n))
        body, hit = _replace_jwts(body, variables)
        if hit:
            note("the body", "token")
        spec.body = body
    return notes


_JSON_STRING_FIELD = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:\s*)"((?:[^"\\]|\\.)*)"')


def _sanitize_json_text(body: str, variables: dict[str, Variable], note: Callable[[str, str], None]) -> str:
    def sub(m: re.Match[str]) -> str:
        try:
            key = json.loads(f'"{m.group(1)}"')
            value = json.loads(f'"{m.group(3)}"')
        except ValueError:
            return m.group(0)
        kind = SECRET_FIELDS.get(key.lower())
        if not kind or is_clean(value, variables):
            return m.group(0)
        name = _reference(variables, kind)
        note(key, name)
        return f'"{m.group(1)}"{m.group(2)}"{{{{{name}}}}}"'

    return _JSON_STRING_FIELD.sub(sub, body)


def _sanitize_url(url: str, variables: dict[str, Variable]) -> tuple[str, list[str]]:
    notes: list[str] = []
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:?#]*):([^/@?#]*)@", url)
    if m and not is_clean(unquote(m.group(2)), variables):
        name = _reference(variables, "password")
        url = f"{m.group(1)}:{{{{{name}}}}}@" + url[m.end():]
        notes.append(f"the password in the URL held a credential; saved as {{{{{name}}}}}")
    if "?" in url:
        head, _, rest = url.partition("?")
        query, hash_, frag = rest.partition("#")
        pieces = []
        for piece in query.split("&"):
            key, eq, value = piece.partition("=")
            kind = SECRET_FIELDS.get(unquote(key).lower())
            if eq and kind and not is_clean(unquote(value), variables):
                name = _reference(variables, kind)
                piece = f"{key}={{{{{name}}}}}"
                notes.append(f"the URL parameter '{unquote(key)}' held a credential; saved as {{{{{name}}}}}")
            pieces.append(piece)
        url = head + "?" + "&".join(pieces) + hash_ + frag
    url, hit = _replace_jwts(url, variables)
    if hit:
        notes.append("the URL held a token; saved as {{token}}")
    return url, notes


def _sanitize_variable(variables: dict[str, Variable], name: str) -> str | None:
    """A literal variable named like a secret, or holding a JWT, becomes a reference."""
    value = variables[name]
    if not isinstance(value, str) or not value or is_clean(value, {}):
        return None
    base = name.lower().rsplit(".", 1)[-1]
    if base not in _SECRET_VAR_NAMES and not JWT.search(value):
        return None
    if base in ("token", "access_token"):
        variables[name] = SessionRef("access_token")
    elif base == "id_token":
        variables[name] = SessionRef("id_token")
    else:
        variables[name] = SecretRef(name=name, env=re.sub(r"[^A-Za-z0-9_]", "_", name).upper(),
                                    prompt=name.replace("_", " ").replace(".", " "))
    return f"variable '{name}' held a literal secret; saved as a reference ({_describe_ref(variables, name)})"


# --- variables at run time ---------------------------------------------------------------

def resolve_variables(variables: Mapping[str, Variable], *, resolver: SecretResolver | None = None,
                      session: Mapping[str, str] | Callable[[str], str | None] | None = None,
                      names: Iterable[str] | None = None) -> dict[str, str]:
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
                raise SecretError(f"the variable '{name}' needs {value.describe()}, and there is no session",
                                  hint="log in with the collection's profile first (or pass --profile)")
            out[name] = got
        else:
            out[name] = resolver.resolve(value)
    return out
