"""Reading a collection's TOML text: every key and value is checked, and a problem raises
CollectionError naming the file, line, column and key (see docs/collections.md).

:func:`parse_collection` gives the parts (:class:`ParsedCollection`);
:mod:`workbench.core.collection.collection` makes a :class:`~workbench.core.collection.collection.Collection`
of them (and reads the file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.collection.expectations import Expect, parse_expect, parse_source
from workbench.core.collection.model import (
    BODY_KEYS,
    COLLECTION_KEYS,
    FORMAT_VERSION,
    PART_KEYS,
    REF_KEYS,
    REQUEST_KEYS,
    SESSION_FIELDS,
    TOP_KEYS,
    CollectionRequest,
    SessionRef,
    Variable,
)
from workbench.core.errors import CollectionError, ExpectError, JsonPathError
from workbench.core.limits import deadline_problem
from workbench.core.requests import METHODS, BodyPart, RequestSpec
from workbench.core.secrets import SecretRef
from workbench.core.toml_index import (
    TomlIndex,
    key_words,
    load_checked,
)

_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_PROFILE_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class ParsedCollection:
    """What a collection file holds, checked."""

    name: str
    description: str
    profile: str | None
    variables: dict[str, Variable]
    requests: list[CollectionRequest]


def parse_collection(text: str, path: Path) -> ParsedCollection:
    """The checked parts of the collection in ``text`` (``path`` is named in errors)."""
    return _Loader(path, text).load()


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

    def error(
        self, message: str, where: tuple[str | int, ...], hint: str | None = None
    ) -> CollectionError:
        line, column = self.index.locate(where)
        return CollectionError(
            message,
            path=str(self.path),
            line=line,
            column=column,
            key=key_words(where) or None,
            hint=hint,
        )

    def load(self) -> ParsedCollection:
        data = load_checked(self.text, str(self.path), CollectionError, "a collection")
        for key in data:
            if key not in TOP_KEYS:
                raise self.error(
                    f"unknown key '{key}'",
                    (key,),
                    hint=f"known top-level keys: {', '.join(TOP_KEYS)}",
                )
        if "version" not in data:
            raise CollectionError(
                "'version' is missing",
                path=str(self.path),
                line=1,
                column=1,
                key="version",
                hint="add `version = 1` at the top",
            )
        if data["version"] != FORMAT_VERSION or isinstance(data["version"], bool):
            raise self.error(
                f"'version' must be {FORMAT_VERSION}",
                ("version",),
                hint="this workbench reads collection format version 1",
            )
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
                raise self.error(
                    f"two requests are named '{req.name}'",
                    ("requests", i, "name"),
                    hint="request names must be unique in a collection",
                )
            seen.add(req.name)
            req.origin = i
            requests.append(req)
        return ParsedCollection(
            name=meta.get("name") or self.path.stem,
            description=meta.get("description", ""),
            profile=meta.get("profile"),
            variables=variables,
            requests=requests,
        )

    def _meta(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.error("[collection] must be a table", ("collection",))
        for key, value in raw.items():
            if key not in COLLECTION_KEYS:
                raise self.error(
                    f"unknown key '{key}' in [collection]",
                    ("collection", key),
                    hint=f"known keys: {', '.join(COLLECTION_KEYS)}",
                )
            if not isinstance(value, str):
                raise self.error(f"'{key}' must be a string", ("collection", key))
        if "profile" in raw and not _PROFILE_NAME.fullmatch(raw["profile"]):
            raise self.error(
                "'profile' must be a profile name (letters, digits, '.', '_', '-')",
                ("collection", "profile"),
            )
        return raw

    def _variables(self, raw: Any) -> dict[str, Variable]:
        if not isinstance(raw, dict):
            raise self.error("[variables] must be a table", ("variables",))
        out: dict[str, Variable] = {}
        for name, value in raw.items():
            where = ("variables", name)
            if not _VAR_NAME.fullmatch(name):
                raise self.error(
                    f"'{name}' is not a variable name (letters, digits, '_', '.', '-'; not starting with a digit)",
                    where,
                )
            out[name] = self._variable(name, value, where)
        return out

    def _variable(self, name: str, value: Any, where: tuple[str | int, ...]) -> Variable:
        if isinstance(value, str):
            return value
        if not isinstance(value, dict):
            raise self.error(
                f"variable '{name}' must be a string or a reference table",
                where,
                hint='quote numbers: x = "10"; references: { env = "VAR" }, { prompt = "..." }, '
                '{ keyring = "..." }, { session = "access_token" }',
            )
        if "session" in value:
            extra = [k for k in value if k != "session"]
            if extra:
                raise self.error(
                    f"'{extra[0]}' cannot be combined with 'session'", (*where, extra[0])
                )
            if value["session"] not in SESSION_FIELDS:
                raise self.error(
                    f"'session' must be one of {', '.join(SESSION_FIELDS)}", (*where, "session")
                )
            return SessionRef(value["session"])
        if not value:
            raise self.error(
                f"variable '{name}' is an empty reference",
                where,
                hint='use { env = "VAR" }, { prompt = "..." }, { keyring = "..." } or { session = "access_token" }',
            )
        for k, v in value.items():
            if k not in REF_KEYS:
                raise self.error(
                    f"unknown key '{k}' in the reference",
                    (*where, k),
                    hint="a reference takes env, prompt, keyring (or session alone)",
                )
            if not isinstance(v, str) or not v:
                raise self.error(f"'{k}' must be a non-empty string", (*where, k))
        if "env" in value and not _ENV_NAME.fullmatch(value["env"]):
            raise self.error(
                f"'{value['env']}' is not an environment variable name", (*where, "env")
            )
        return SecretRef(
            name=name,
            env=value.get("env"),
            prompt=value.get("prompt"),
            keyring=value.get("keyring"),
        )

    def _request(self, raw: Any, i: int) -> CollectionRequest:
        here: tuple[str | int, ...] = ("requests", i)
        if not isinstance(raw, dict):
            raise self.error("each request must be a table", here)
        for key in raw:
            if key not in REQUEST_KEYS:
                raise self.error(
                    f"unknown key '{key}' in request {i + 1}",
                    (*here, key),
                    hint=f"known keys: {', '.join(REQUEST_KEYS)}",
                )
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
        if profile is not None and (
            not isinstance(profile, str) or not _PROFILE_NAME.fullmatch(profile)
        ):
            raise self.error("'profile' must be a profile name", (*here, "profile"))
        spec = RequestSpec(
            method=method.upper(),
            url=raw["url"],
            name=name,
            params=self._pairs(raw, "query", here),
            headers=self._pairs(raw, "headers", here),
        )
        if "deadline" in raw:
            problem = deadline_problem(raw["deadline"])
            if problem:
                raise self.error(problem, (*here, "deadline"), hint="e.g. deadline = 10")
            spec.deadline = float(raw["deadline"])
        for k, v in spec.headers:
            if not k.strip() or ":" in k or any(c in k + v for c in "\r\n"):
                raise self.error(
                    f"header '{k}' is not a valid header (no ':' in names, no line breaks)",
                    (*here, "headers"),
                )
        if "body" in raw:
            self._body(raw["body"], spec, (*here, "body"))
        return CollectionRequest(
            spec=spec,
            captures=self._captures(raw.get("capture", {}), (*here, "capture")),
            expect=self._expect(raw.get("expect", {}), (*here, "expect")),
            profile=profile,
        )

    def _pairs(
        self, raw: dict[str, Any], key: str, here: tuple[str | int, ...]
    ) -> list[tuple[str, str]]:
        value = raw.get(key, [])
        hint = f'write {key} as an array of [name, value] pairs: {key} = [["Accept", "application/json"]]'
        if not isinstance(value, list):
            raise self.error(
                f"'{key}' must be an array of [name, value] pairs", (*here, key), hint=hint
            )
        out = []
        for n, pair in enumerate(value):
            if not (
                isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
            ):
                raise self.error(
                    f"item {n + 1} of '{key}' must be a [name, value] pair of strings",
                    (*here, key, n),
                    hint=hint,
                )
            out.append((pair[0], pair[1]))
        return out

    def _body(self, raw: Any, spec: RequestSpec, where: tuple[str | int, ...]) -> None:
        hint = (
            'body = { json = """...""" }, { text = "..." }, { form = { name = "value" } } or '
            '{ multipart = [{ name = "n", value = "v" }, { name = "f", file = "fw.bin" }] }'
        )
        if not isinstance(raw, dict) or len(raw) != 1:
            raise self.error(
                "'body' must be a table with one of json, text, form or multipart",
                where,
                hint=hint,
            )
        ((kind, value),) = raw.items()
        if kind not in BODY_KEYS:
            raise self.error(f"unknown body kind '{kind}'", (*where, kind), hint=hint)
        spec.body_kind = kind
        if kind in ("json", "text"):
            if not isinstance(value, str):
                raise self.error(
                    f"'{kind}' must be a string",
                    (*where, kind),
                    hint='write JSON as text: json = """{"a": 1}"""',
                )
            spec.body = value
            return
        if kind == "multipart":
            spec.parts = self._parts(value, (*where, kind))
            return
        if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            spec.form = list(value.items())
        elif isinstance(value, list) and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
            for p in value
        ):
            spec.form = [(k, v) for k, v in value]
        else:
            raise self.error(
                "'form' must be a table of strings or an array of [name, value] pairs",
                (*where, kind),
            )

    def _parts(self, raw: Any, where: tuple[str | int, ...]) -> list[BodyPart]:
        hint = (
            'multipart = [{ name = "version", value = "1.2" }, '
            '{ name = "firmware", file = "fw.bin", content_type = "application/octet-stream" }]'
        )
        if not isinstance(raw, list):
            raise self.error("'multipart' must be an array of parts", where, hint=hint)
        out: list[BodyPart] = []
        for n, part in enumerate(raw):
            here = (*where, n)
            if not isinstance(part, dict):
                raise self.error(f"part {n + 1} of 'multipart' must be a table", here, hint=hint)
            for key, value in part.items():
                if key not in PART_KEYS:
                    raise self.error(
                        f"unknown key '{key}' in part {n + 1}",
                        (*here, key),
                        hint=f"known keys: {', '.join(PART_KEYS)}",
                    )
                if not isinstance(value, str):
                    raise self.error(f"'{key}' must be a string", (*here, key))
                if key != "value" and any(c in value for c in "\r\n\x00"):
                    raise self.error(f"'{key}' must be on one line", (*here, key))
            if not part.get("name"):
                raise self.error(f"part {n + 1} of 'multipart' has no 'name'", here, hint=hint)
            if ("value" in part) == ("file" in part):
                raise self.error(
                    f"part {n + 1} of 'multipart' needs either 'value' (a field) or 'file' "
                    "(a path relative to the collection's folder)",
                    here,
                    hint=hint,
                )
            if "file" in part and not part["file"].strip():
                raise self.error("'file' must not be empty", (*here, "file"))
            out.append(BodyPart(**part))
        return out

    def _captures(self, raw: Any, where: tuple[str | int, ...]) -> dict[str, str]:
        if not isinstance(raw, dict):
            raise self.error(
                '\'capture\' must be a table of variable = "$.json.path" or "header:Name"', where
            )
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
