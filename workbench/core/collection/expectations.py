"""Captures and expectations of collection requests, evaluated against a ResponseRecord.

Everything here is a pure function of its inputs (no I/O, no clock), so the TUI and the
headless runner share it:

- :class:`JsonPath` — the small JSON path subset collections use: ``$``, ``$.a.b``,
  ``$.a[0].c``, ``$[-1]``, ``$["odd key"]``, and the wildcard ``$.data[*].id`` /
  ``$.data.*`` (which yields every match, as a list).
- :func:`run_captures` — ``{var: "$.json.path" | "header:Name"}`` -> one
  :class:`CaptureResult` each (a string value, or a plain-words reason it failed).
- :class:`Expect` (parsed from a ``[requests.expect]`` table by :func:`parse_expect`) and
  :func:`check_expectations` -> one :class:`CheckResult` per check, with a message in
  plain words ("status was 404, expected 200").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.core.errors import ExpectError, JsonPathError
from workbench.core.requests import ResponseRecord
from workbench.core.text import escape_keep_newlines

HEADER_PREFIX = "header:"
HEADER_OPS = ("equals", "contains", "exists")
JSON_OPS = ("equals", "contains", "exists", "type")
JSON_TYPES = ("null", "string", "number", "boolean", "array", "object")
EXPECT_KEYS = ("status", "headers", "json", "exists", "max_ms")
_MISSING = object()


# --- JSON paths --------------------------------------------------------------------------

_NAME = re.compile(r"[^.\[\]\s]+")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]")
_QUOTED = re.compile(r"""\[\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\]""")
_STAR = re.compile(r"\[\s*\*\s*\]")


@dataclass(frozen=True)
class JsonPath:
    """A parsed path: steps are ("key", name) | ("index", n) | ("all", None)."""

    text: str
    steps: tuple[tuple[str, Any], ...]

    @property
    def is_multi(self) -> bool:
        """True when the path has a wildcard (its value is the list of every match)."""
        return any(kind == "all" for kind, _ in self.steps)

    @classmethod
    def parse(cls, text: str) -> JsonPath:
        if not isinstance(text, str):
            raise JsonPathError("a JSON path must be a string")
        src = text.strip()
        if not src.startswith("$"):
            raise JsonPathError(f"JSON path '{text}' must start with '$' (e.g. $.data[0].id)")
        steps: list[tuple[str, Any]] = []
        i = 1
        while i < len(src):
            if src[i] == ".":
                if src.startswith(".*", i):
                    steps.append(("all", None))
                    i += 2
                    continue
                m = _NAME.match(src, i + 1)
                if not m:
                    raise JsonPathError(
                        f"JSON path '{text}': expected a name after '.' at position {i + 1}"
                    )
                steps.append(("key", m.group()))
                i = m.end()
            elif src[i] == "[":
                if m := _INDEX.match(src, i):
                    steps.append(("index", int(m.group(1))))
                elif m := _STAR.match(src, i):
                    steps.append(("all", None))
                elif m := _QUOTED.match(src, i):
                    raw = m.group(1) if m.group(1) is not None else m.group(2)
                    steps.append(("key", re.sub(r"\\(.)", r"\1", raw)))
                else:
                    raise JsonPathError(
                        f"JSON path '{text}': cannot read the bracket at position {i + 1} "
                        '(use [0], [-1], [*] or ["name"])'
                    )
                i = m.end()
            else:
                raise JsonPathError(
                    f"JSON path '{text}': unexpected '{src[i]}' at position {i + 1}"
                )
        return cls(text=text, steps=tuple(steps))

    def find(self, data: Any) -> list[Any]:
        """Every value the path reaches (at most one without a wildcard)."""
        current = [data]
        for kind, arg in self.steps:
            nxt: list[Any] = []
            for node in current:
                if kind == "key":
                    if isinstance(node, dict) and arg in node:
                        nxt.append(node[arg])
                elif kind == "index":
                    if isinstance(node, list) and -len(node) <= arg < len(node):
                        nxt.append(node[arg])
                elif isinstance(node, list):
                    nxt.extend(node)
                elif isinstance(node, dict):
                    nxt.extend(node.values())
            current = nxt
        return current

    def value(self, data: Any) -> Any:
        """The value at the path: the single match, the list of matches for a wildcard
        path, or the module's missing marker (see :func:`is_missing`)."""
        found = self.find(data)
        if self.is_multi:
            return found
        return found[0] if found else _MISSING


def is_missing(value: Any) -> bool:
    return value is _MISSING


def parse_source(source: str) -> tuple[str, Any]:
    """A capture / exists source: ("header", name) or ("json", JsonPath). Raises ValueError."""
    if not isinstance(source, str):
        raise JsonPathError("a source must be a string: a JSON path ($.a.b) or header:Name")
    if source.lower().startswith(HEADER_PREFIX):
        name = source[len(HEADER_PREFIX) :].strip()
        if not name:
            raise JsonPathError("'header:' needs a header name, e.g. header:ETag")
        return "header", name
    return "json", JsonPath.parse(source)


# --- values in words ----------------------------------------------------------------------


def show(value: Any, limit: int = 80) -> str:
    """A value for a message: JSON text, shortened, safe for a terminal."""
    if value is _MISSING:
        return "missing"
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=False)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape_keep_newlines(text)


def as_variable(value: Any) -> str:
    """How a captured value becomes a variable: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON-like values that never confuses true with 1 (and 1 == 1.0 is fine)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if a is None or b is None:
        return a is None and b is None
    return type(a) is type(b) and a == b


def json_contains(actual: Any, expected: Any) -> bool:
    """Strings: substring. Arrays: holds an element equal to `expected` (or every element
    of an expected array). Objects: every expected key is there with a matching value
    (a string expected on an object means "has this key")."""
    if isinstance(actual, str):
        return isinstance(expected, str) and expected in actual
    if isinstance(actual, list):
        wanted = expected if isinstance(expected, list) else [expected]
        return all(
            any(json_equal(a, w) or (isinstance(w, dict) and json_contains(a, w)) for a in actual)
            for w in wanted
        )
    if isinstance(actual, dict):
        if isinstance(expected, str):
            return expected in actual
        if isinstance(expected, dict):
            return all(
                k in actual and (json_equal(actual[k], v) or json_contains(actual[k], v))
                for k, v in expected.items()
            )
    return False


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# --- captures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureResult:
    name: str
    source: str
    ok: bool
    value: str | None  # the variable's new value when ok
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "ok": self.ok, "message": self.message}


class _Body:
    """The response body parsed as JSON at most once."""

    def __init__(self, response: ResponseRecord) -> None:
        self.response = response
        self._data: Any = _MISSING
        self.error: str | None = None

    def data(self) -> Any:
        if self._data is _MISSING and self.error is None:
            try:
                self._data = json.loads(self.response.body) if self.response.body else _MISSING
                if self._data is _MISSING:
                    self.error = "the response body is empty"
            except (ValueError, UnicodeDecodeError):
                ctype = self.response.content_type or "no content type"
                self.error = f"the response body is not JSON ({ctype})"
        return self._data


def run_captures(captures: Mapping[str, str], response: ResponseRecord) -> list[CaptureResult]:
    """Take every capture from `response`. A failed capture is reported, never raised."""
    body = _Body(response)
    results: list[CaptureResult] = []
    for name, source in captures.items():
        try:
            kind, target = parse_source(source)
        except JsonPathError as exc:
            results.append(CaptureResult(name, source, False, None, str(exc)))
            continue
        if kind == "header":
            value = response.header(target)
            if value is None:
                results.append(
                    CaptureResult(name, source, False, None, f"no {target} header in the response")
                )
            else:
                results.append(
                    CaptureResult(
                        name,
                        source,
                        True,
                        value,
                        f"{name} = {show(value)} from the {target} header",
                    )
                )
            continue
        data = body.data()
        if body.error:
            results.append(
                CaptureResult(name, source, False, None, f"cannot capture {source}: {body.error}")
            )
            continue
        found = target.value(data)
        if is_missing(found) or (target.is_multi and not found):
            results.append(
                CaptureResult(name, source, False, None, f"{source} is not in the response")
            )
            continue
        results.append(
            CaptureResult(
                name, source, True, as_variable(found), f"{name} = {show(found)} from {source}"
            )
        )
    return results


def captured(results: list[CaptureResult]) -> dict[str, str]:
    """The variables the successful captures produced."""
    return {r.name: r.value for r in results if r.ok and r.value is not None}


# --- expectations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One header or JSON check: op is equals | contains | exists | type."""

    op: str
    value: Any


@dataclass
class Expect:
    status: list[int | str] = field(default_factory=list)  # 200, or "2xx"
    headers: dict[str, Check] = field(default_factory=dict)
    json: dict[str, Check] = field(default_factory=dict)
    exists: list[str] = field(default_factory=list)  # JSON paths or header:Name
    max_ms: float | None = None

    def is_empty(self) -> bool:
        return not (
            self.status or self.headers or self.json or self.exists or self.max_ms is not None
        )

    def count(self) -> int:
        return (
            (1 if self.status else 0)
            + len(self.headers)
            + len(self.json)
            + len(self.exists)
            + (1 if self.max_ms is not None else 0)
        )


@dataclass(frozen=True)
class CheckResult:
    check: str  # status | header | json | exists | time
    target: str  # "status", a header name, a JSON path, "time"
    passed: bool
    message: str
    expected: Any = None
    actual: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "target": self.target,
            "passed": self.passed,
            "message": self.message,
        }


def _status_matches(status: int, wanted: int | str) -> bool:
    if isinstance(wanted, int):
        return status == wanted
    return str(status)[0] == wanted[0] and len(str(status)) == 3


def _status_words(wanted: list[int | str]) -> str:
    items = [str(w) for w in wanted]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def check_expectations(expect: Expect, response: ResponseRecord) -> list[CheckResult]:
    """Every check of `expect` against `response`, in a stable order."""
    out: list[CheckResult] = []
    if expect.status:
        ok = any(_status_matches(response.status, w) for w in expect.status)
        words = _status_words(expect.status)
        msg = f"status {response.status}" + (" as expected" if ok else f", expected {words}")
        out.append(CheckResult("status", "status", ok, msg, list(expect.status), response.status))
    for name, check in expect.headers.items():
        out.append(_check_header(name, check, response))
    body = _Body(response)
    for path, check in expect.json.items():
        out.append(_check_json(path, check, body))
    for source in expect.exists:
        out.append(_check_exists(source, response, body))
    if expect.max_ms is not None:
        took = response.elapsed_ms
        ok = took <= expect.max_ms
        limit = _num(expect.max_ms)
        msg = f"took {_num(took)} ms" + (
            f", within {limit} ms" if ok else f", expected at most {limit} ms"
        )
        out.append(CheckResult("time", "time", ok, msg, expect.max_ms, took))
    return out


def all_passed(results: list[CheckResult]) -> bool:
    return all(r.passed for r in results)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _check_header(name: str, check: Check, response: ResponseRecord) -> CheckResult:
    values = [v for k, v in response.headers if k.lower() == name.lower()]
    shown = escape_keep_newlines(values[0]) if values else None
    if check.op == "exists":
        ok = bool(values) == bool(check.value)
        if check.value:
            msg = (
                f"header {name} is present"
                if ok
                else f"header {name} is missing, expected it to be present"
            )
        else:
            msg = (
                f"header {name} is absent as expected"
                if ok
                else f"header {name} is present ({shown}), expected it to be absent"
            )
        return CheckResult("header", name, ok, msg, check.value, shown)
    if not values:
        verb = "equal" if check.op == "equals" else "contain"
        return CheckResult(
            "header",
            name,
            False,
            f"header {name} is missing, expected it to {verb} '{check.value}'",
            check.value,
            None,
        )
    if check.op == "equals":
        ok = any(v.strip() == str(check.value) for v in values)
        msg = f"header {name} is '{shown}'" + ("" if ok else f", expected '{check.value}'")
    else:
        ok = any(str(check.value).lower() in v.lower() for v in values)
        msg = f"header {name} is '{shown}'" + (
            f", contains '{check.value}'" if ok else f", expected it to contain '{check.value}'"
        )
    return CheckResult("header", name, ok, msg, check.value, shown)


def _check_json(path_text: str, check: Check, body: _Body) -> CheckResult:
    try:
        path = JsonPath.parse(path_text)
    except JsonPathError as exc:
        return CheckResult("json", path_text, False, str(exc), check.value, None)
    data = body.data()
    if body.error:
        return CheckResult(
            "json", path_text, False, f"cannot check {path_text}: {body.error}", check.value, None
        )
    actual = path.value(data)
    missing = is_missing(actual) or (path.is_multi and not actual)
    if check.op == "exists":
        ok = (not missing) == bool(check.value)
        if check.value:
            msg = f"{path_text} exists" if ok else f"{path_text} is missing, expected it to exist"
        else:
            msg = (
                f"{path_text} is absent as expected"
                if ok
                else f"{path_text} is {show(actual)}, expected it to be absent"
            )
        return CheckResult("json", path_text, ok, msg, check.value, None if missing else actual)
    if missing and not (path.is_multi and check.op == "equals"):
        return CheckResult(
            "json",
            path_text,
            False,
            f"{path_text} is missing, expected {_expected_words(check)}",
            check.value,
            None,
        )
    if check.op == "equals":
        ok = json_equal(actual, check.value)
    elif check.op == "contains":
        ok = json_contains(actual, check.value)
    else:
        ok = json_type(actual) == check.value
    msg = f"{path_text} is {show(actual)}" + ("" if ok else f", expected {_expected_words(check)}")
    return CheckResult("json", path_text, ok, msg, check.value, actual)


def _expected_words(check: Check) -> str:
    if check.op == "equals":
        return show(check.value)
    if check.op == "contains":
        return f"it to contain {show(check.value)}"
    return f"a{'n' if str(check.value)[0] in 'aeiou' else ''} {check.value}"


def _check_exists(source: str, response: ResponseRecord, body: _Body) -> CheckResult:
    try:
        kind, target = parse_source(source)
    except JsonPathError as exc:
        return CheckResult("exists", source, False, str(exc), True, None)
    if kind == "header":
        present = response.header(target) is not None
        msg = (
            f"header {target} is present"
            if present
            else f"header {target} is missing, expected it to be present"
        )
        return CheckResult("exists", source, present, msg, True, present)
    data = body.data()
    if body.error:
        return CheckResult(
            "exists", source, False, f"cannot check {source}: {body.error}", True, None
        )
    found = target.value(data)
    present = not (is_missing(found) or (target.is_multi and not found))
    msg = f"{source} exists" if present else f"{source} is missing, expected it to exist"
    return CheckResult("exists", source, present, msg, True, present)


# --- the [requests.expect] table ----------------------------------------------------------


def _toml_json_value(value: Any, key_path: tuple[str | int, ...]) -> Any:
    """A TOML value usable as a JSON value (no dates)."""
    if isinstance(value, dict):
        return {k: _toml_json_value(v, (*key_path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_toml_json_value(v, (*key_path, i)) for i, v in enumerate(value)]
    if isinstance(value, str | int | float | bool):
        return value
    raise ExpectError(
        "dates and times cannot be compared with JSON; write them as strings", key_path
    )


def _op_table(value: Any, ops: tuple[str, ...]) -> tuple[str, Any] | None:
    if isinstance(value, dict) and len(value) == 1:
        ((op, arg),) = value.items()
        if op in ops:
            return op, arg
    return None


def parse_expect(raw: Any) -> Expect:
    """Build an Expect from a TOML table (already parsed). Raises ExpectError."""
    if not isinstance(raw, dict):
        raise ExpectError("'expect' must be a table")
    exp = Expect()
    for key, value in raw.items():
        if key not in EXPECT_KEYS:
            raise ExpectError(
                f"unknown key '{key}' in expect (known: {', '.join(EXPECT_KEYS)})", (key,)
            )
        if key == "status":
            exp.status = _parse_status(value)
        elif key == "headers":
            if not isinstance(value, dict):
                raise ExpectError(
                    "'headers' must be a table of header name = expected value", (key,)
                )
            for name, item in value.items():
                exp.headers[name] = _parse_header_check(item, (key, name))
        elif key == "json":
            if not isinstance(value, dict):
                raise ExpectError("'json' must be a table of \"$.path\" = expected value", (key,))
            for path, item in value.items():
                try:
                    JsonPath.parse(path)
                except JsonPathError as exc:
                    raise ExpectError(str(exc), (key, path)) from None
                exp.json[path] = _parse_json_check(item, (key, path))
        elif key == "exists":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ExpectError(
                    "'exists' must be a list of JSON paths or \"header:Name\"", (key,)
                )
            for i, source in enumerate(value):
                try:
                    parse_source(source)
                except JsonPathError as exc:
                    raise ExpectError(str(exc), (key, i)) from None
            exp.exists = list(value)
        else:
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or value < 0
                or math.isnan(value)
            ):
                raise ExpectError("'max_ms' must be a number of milliseconds (e.g. 500)", (key,))
            exp.max_ms = value
    return exp


def _parse_status(value: Any) -> list[int | str]:
    items = value if isinstance(value, list) else [value]
    out: list[int | str] = []
    for i, item in enumerate(items):
        where: tuple[str | int, ...] = ("status", i) if isinstance(value, list) else ("status",)
        is_code = isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599
        if is_code or (isinstance(item, str) and re.fullmatch(r"[1-5]xx", item)):
            out.append(item)
        else:
            raise ExpectError(
                "'status' must be a status code (200), a class (\"2xx\") or a list of them", where
            )
    if not out:
        raise ExpectError("'status' must not be an empty list", ("status",))
    return out


def _parse_header_check(item: Any, where: tuple[str | int, ...]) -> Check:
    if isinstance(item, str):
        return Check("equals", item)
    op = _op_table(item, HEADER_OPS)
    if op is None:
        raise ExpectError(
            "a header expectation is a string (equals) or one of "
            '{ equals = ".." }, { contains = ".." }, { exists = true }',
            where,
        )
    name, arg = op
    if name == "exists" and not isinstance(arg, bool):
        raise ExpectError("'exists' takes true or false", (*where, name))
    if name != "exists" and not isinstance(arg, str):
        raise ExpectError(f"'{name}' takes a string", (*where, name))
    return Check(name, arg)


def _parse_json_check(item: Any, where: tuple[str | int, ...]) -> Check:
    op = _op_table(item, JSON_OPS)
    if op is None:
        return Check("equals", _toml_json_value(item, where))
    name, arg = op
    if name == "exists" and not isinstance(arg, bool):
        raise ExpectError("'exists' takes true or false", (*where, name))
    if name == "type" and arg not in JSON_TYPES:
        raise ExpectError(f"'type' must be one of {', '.join(JSON_TYPES)}", (*where, name))
    return Check(name, _toml_json_value(arg, (*where, name)))


def expect_to_data(expect: Expect) -> dict[str, Any]:
    """The canonical TOML data of an Expect (the inverse of parse_expect), keys in a stable order."""
    out: dict[str, Any] = {}
    if expect.status:
        out["status"] = expect.status[0] if len(expect.status) == 1 else list(expect.status)
    if expect.headers:
        out["headers"] = {
            k: (c.value if c.op == "equals" else {c.op: c.value}) for k, c in expect.headers.items()
        }
    if expect.json:
        out["json"] = {k: _json_check_data(c) for k, c in expect.json.items()}
    if expect.exists:
        out["exists"] = list(expect.exists)
    if expect.max_ms is not None:
        out["max_ms"] = expect.max_ms
    return out


def _json_check_data(check: Check) -> Any:
    if check.op == "equals" and not isinstance(check.value, dict):
        return check.value
    return {check.op: check.value}


# --- editing captures and checks one at a time (the TUI's editor) --------------------------

CHECK_KINDS = ("capture", "status", "header", "json", "exists", "time")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


@dataclass(frozen=True)
class CheckItem:
    """One capture or one expectation of a request, as the editor shows and edits it.

    ``kind``: capture | status | header | json | exists | time. ``target``: the variable
    (capture), the header name (header), the JSON path (json); empty for the others.
    ``op``: equals | contains | exists | type for header and json checks, else empty.
    ``value``: text as typed: the source of a capture (``$.path`` or ``header:Name``),
    status codes (``200, 204`` or ``2xx``), a header value, a JSON value for json checks
    (``30``, ``"on"``, ``[1, 2]``; text that is not JSON is a string), ``true``/``false``
    for exists operators, the path or ``header:Name`` of an exists check, milliseconds."""

    kind: str
    target: str = ""
    op: str = ""
    value: str = ""

    def describe(self) -> str:
        """One line in words (escaped by the caller before it is shown)."""
        if self.kind == "capture":
            return f"capture {self.target} = {self.value}"
        if self.kind == "status":
            return f"status {self.value}"
        if self.kind == "time":
            return f"time at most {self.value} ms"
        if self.kind == "exists":
            return f"exists {self.value}"
        return f"{self.kind} {self.target} {self.op} {self.value}"


def _value_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _header_value_text(check: Check) -> str:
    if check.op == "exists":
        return "true" if check.value else "false"
    return str(check.value)


def check_items(captures: Mapping[str, str], expect: Expect) -> list[CheckItem]:
    """The captures, then the checks of `expect`, one item each, in the file's order."""
    items = [CheckItem("capture", name, "", source) for name, source in captures.items()]
    if expect.status:
        items.append(CheckItem("status", value=", ".join(str(s) for s in expect.status)))
    for name, check in expect.headers.items():
        items.append(CheckItem("header", name, check.op, _header_value_text(check)))
    for path, check in expect.json.items():
        text = check.value if check.op == "type" else _value_text(check.value)
        items.append(CheckItem("json", path, check.op, str(text)))
    items.extend(CheckItem("exists", value=source) for source in expect.exists)
    if expect.max_ms is not None:
        ms = expect.max_ms
        items.append(CheckItem("time", value=str(int(ms)) if float(ms).is_integer() else str(ms)))
    return items


def _typed_value(text: str) -> Any:
    """What a json check's value text means: JSON when it parses, else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _bool_text(text: str, what: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "yes", ""):
        return True
    if low in ("false", "no"):
        return False
    raise ExpectError(f"{what} takes true or false")


def _status_values(text: str) -> list[Any]:
    out: list[Any] = []
    for part in re.split(r"[,\s]+", text.strip()):
        if part:
            out.append(int(part) if part.isdigit() else part)
    if not out:
        raise ExpectError("give a status code (200), a class (2xx) or several (200, 204)")
    return out


def _put(table: Mapping[str, Any], old: str | None, key: str, value: Any) -> dict[str, Any]:
    """`table` with `key` = `value` where `old` was (its place kept), else added at the end."""
    if old is None or old not in table:
        return {**table, key: value}
    return {(key if k == old else k): (value if k == old else v) for k, v in table.items()}


def edit_checks(
    captures: Mapping[str, str],
    expect: Expect,
    item: CheckItem,
    *,
    replacing: CheckItem | None = None,
) -> tuple[dict[str, str], Expect]:
    """New (captures, expect) with `item` added, or put in the place of `replacing`.
    The result is checked by the same rules as a file (:func:`parse_expect`,
    :func:`parse_source`); ExpectError / JsonPathError say what is wrong, in words."""
    same_kind = replacing is not None and replacing.kind == item.kind
    if replacing is not None and not same_kind:
        captures, expect = remove_check(captures, expect, replacing)
    old = replacing.target if same_kind and replacing is not None else None
    caps = dict(captures)
    raw = expect_to_data(expect)
    kind, target, op = item.kind, item.target.strip(), item.op or "equals"
    value = item.value.strip()
    if kind == "capture":
        if not _VARIABLE_NAME.fullmatch(target):
            raise ExpectError("a capture needs a variable name (letters, digits, _ . -)")
        if target in caps and target != old:
            raise ExpectError(f"'{target}' is captured already: edit that capture instead")
        parse_source(value)
        return _put(caps, old, target, value), expect
    if kind == "status":
        values = _status_values(value)
        raw["status"] = values[0] if len(values) == 1 else values
    elif kind == "header":
        if not target:
            raise ExpectError("a header check needs the header's name")
        if op not in HEADER_OPS:
            raise ExpectError(f"a header check is one of: {', '.join(HEADER_OPS)}")
        headers = raw.get("headers", {})
        if target in headers and target != old:
            raise ExpectError(f"the header '{target}' is checked already: edit that check")
        arg: Any = _bool_text(value, "'exists'") if op == "exists" else value
        raw["headers"] = _put(headers, old, target, arg if op == "equals" else {op: arg})
    elif kind == "json":
        target = target or "$"
        JsonPath.parse(target)
        if op not in JSON_OPS:
            raise ExpectError(f"a JSON check is one of: {', '.join(JSON_OPS)}")
        checks = raw.get("json", {})
        if target in checks and target != old:
            raise ExpectError(f"the path '{target}' is checked already: edit that check")
        if op == "exists":
            arg = _bool_text(value, "'exists'")
        elif op == "type":
            arg = value
        else:
            arg = _typed_value(value)
        if op == "equals" and arg is None:
            entry: Any = {"type": "null"}  # TOML has no null
        elif op == "equals" and not isinstance(arg, dict):
            entry = arg
        else:
            entry = {op: arg}
        raw["json"] = _put(checks, old, target, entry)
    elif kind == "exists":
        parse_source(value)
        sources = list(raw.get("exists", []))
        if value in sources and value != (replacing.value if same_kind and replacing else None):
            raise ExpectError(f"'{value}' is checked already")
        if same_kind and replacing is not None and replacing.value in sources:
            sources[sources.index(replacing.value)] = value
        else:
            sources.append(value)
        raw["exists"] = sources
    elif kind == "time":
        try:
            ms = float(value)
        except ValueError:
            raise ExpectError(
                "time: give the most milliseconds the answer may take (500)"
            ) from None
        raw["max_ms"] = int(ms) if ms.is_integer() else ms
    else:
        raise ExpectError(f"unknown kind '{kind}' (one of {', '.join(CHECK_KINDS)})")
    return caps, parse_expect(raw)


def remove_check(
    captures: Mapping[str, str], expect: Expect, item: CheckItem
) -> tuple[dict[str, str], Expect]:
    """New (captures, expect) without `item` (nothing changes when it is not there)."""
    caps = dict(captures)
    raw = expect_to_data(expect)
    if item.kind == "capture":
        caps.pop(item.target, None)
    elif item.kind == "status":
        raw.pop("status", None)
    elif item.kind == "time":
        raw.pop("max_ms", None)
    elif item.kind == "exists":
        raw["exists"] = [s for s in raw.get("exists", []) if s != item.value]
    elif item.kind in ("header", "json"):
        key = "headers" if item.kind == "header" else "json"
        table = dict(raw.get(key, {}))
        table.pop(item.target, None)
        raw[key] = table
    return caps, parse_expect({k: v for k, v in raw.items() if v not in ({}, [])})
