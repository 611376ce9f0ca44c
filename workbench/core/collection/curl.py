r"""curl commands <-> RequestSpec.

:func:`import_curl` reads a curl command as people paste it: one line or many joined by
backslash-newlines, shell quoting, options in any order, short options bundled (``-sSL``,
``-XPOST``). Understood: ``-X/--request``, ``-H/--header``, ``-d/--data``, ``--data-ascii``,
``--data-raw``, ``--data-binary``, ``--data-urlencode``, ``--json``, ``-u/--user``,
``--url``, ``-G/--get``, ``-I/--head``, ``-A/--user-agent``, ``-e/--referer``,
``-b/--cookie``, ``--oauth2-bearer``, ``-F/--form`` and ``--form-string`` (a multipart
body: fields, ``name=@file`` parts with ``;type=`` and ``;filename=``). Accepted and
ignored (with a note): ``-k``, ``-L``, ``-s``, ``-S``, ``-v``, ``-i``, ``-f``,
``--compressed``, ``-g``, ``-o FILE``, ``-m S``, ``--connect-timeout S``... Anything else
is an error naming the option. Bash's ANSI-C quoting (``$'...'``, which browsers' "Copy as
cURL (bash)" writes for values with quotes, newlines or non-ASCII text) is understood:
``\n \t \r \\ \' \" \e \xHH \uHHHH \UHHHHHHHH \NNN`` (octal) and the rest of bash's escapes.

The body kind follows curl and the Content-Type: ``--json`` or a JSON Content-Type ->
json; a form Content-Type (curl's default for ``-d``) with ``name=value&...`` data ->
form; anything else -> text. A Content-Type equal to what the workbench sends for that
body kind anyway (``application/json``, ``application/x-www-form-urlencoded``,
``text/plain; charset=utf-8``) is left implicit. The query string of the URL becomes
``params`` when it is plain ``name=value&...``.

:func:`to_curl` writes a copy-pasteable multi-line command. Credentials (Authorization
and other credential headers, token query parameters, secret form/JSON fields, anything
that looks like a JWT) become shell variables such as ``$TOKEN`` unless
``with_secrets=True``. ``import_curl(to_curl(spec, with_secrets=True)).spec == spec``.

:func:`drop_session_credentials` is what both the TUI's paste-curl and ``workbench import
curl`` do with the credentials a pasted command carries: the headers the session adds
itself (Authorization, Proxy-Authorization, Cookie, and a profile's own token header or
query parameter) are removed, with words saying so. :func:`matching_profiles` and
:func:`relative_url` find the profile a URL belongs to (by its base URLs) and write the URL
relative to it.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote_plus, urlsplit

from workbench.core.collection.credentials import TEMPLATE as _TEMPLATE
from workbench.core.errors import CurlError
from workbench.core.requests import METHODS, BodyPart, RequestSpec
from workbench.core.secrets import JWT as _JWT
from workbench.core.secrets import looks_like_credential, maybe_secret_name, secret_kind

if TYPE_CHECKING:
    from workbench.core.profiles import Profile

DEFAULT_CONTENT_TYPES = {
    "json": "application/json",
    "form": "application/x-www-form-urlencoded",
    "text": "text/plain; charset=utf-8",
}
FORM_TYPE = "application/x-www-form-urlencoded"

# option -> what it means; options that take an argument
_ARG_OPTIONS = {
    "-X": "request",
    "--request": "request",
    "-H": "header",
    "--header": "header",
    "-d": "data",
    "--data": "data",
    "--data-ascii": "data",
    "--data-binary": "data",
    "--data-raw": "data-raw",
    "--data-urlencode": "data-urlencode",
    "--json": "json",
    "-u": "user",
    "--user": "user",
    "--url": "url",
    "-A": "user-agent",
    "--user-agent": "user-agent",
    "-e": "referer",
    "--referer": "referer",
    "-b": "cookie",
    "--cookie": "cookie",
    "--oauth2-bearer": "bearer",
    "-F": "form",
    "--form": "form",
    "--form-string": "form-string",
    # accepted and ignored
    "-o": "ignore",
    "--output": "ignore",
    "-m": "ignore",
    "--max-time": "ignore",
    "--connect-timeout": "ignore",
    "-w": "ignore",
    "--write-out": "ignore",
    "--retry": "ignore",
    "--retry-delay": "ignore",
    "--retry-max-time": "ignore",
    "--max-redirs": "ignore",
    "--cacert": "ignore-tls",
    "--capath": "ignore-tls",
}
_FLAG_OPTIONS = {
    "-G": "get",
    "--get": "get",
    "-I": "head",
    "--head": "head",
    "-k": "insecure",
    "--insecure": "insecure",
    "-L": "location",
    "--location": "location",
    "--location-trusted": "location",
    "--compressed": "compressed",
    "-s": "quiet",
    "--silent": "quiet",
    "-S": "quiet",
    "--show-error": "quiet",
    "-v": "quiet",
    "--verbose": "quiet",
    "-i": "quiet",
    "--include": "quiet",
    "-f": "quiet",
    "--fail": "quiet",
    "--fail-with-body": "quiet",
    "-#": "quiet",
    "--progress-bar": "quiet",
    "-N": "quiet",
    "--no-buffer": "quiet",
    "-g": "quiet",
    "--globoff": "quiet",
    "--http1.1": "quiet",
    "--http2": "quiet",
    "-O": "quiet",
    "--remote-name": "quiet",
}
_UNSUPPORTED = {
    "-T": "uploading a file (-T) is not supported; paste the body with --data-raw",
    "--upload-file": "uploading a file (--upload-file) is not supported; paste the body with --data-raw",
    "-K": "reading options from a config file (-K) is not supported",
    "--config": "reading options from a config file (--config) is not supported",
    "-x": "proxies (-x/--proxy) are not supported",
    "--proxy": "proxies (-x/--proxy) are not supported",
    "-E": "client certificates (-E/--cert) are not supported",
    "--cert": "client certificates (-E/--cert) are not supported",
}
_NOTES = {
    "insecure": "-k/--insecure is ignored: TLS verification stays on (a profile can trust your CA with [tls] ca_bundle)",
    "location": "-L/--location is ignored: the workbench follows redirects itself (same-origin credentials only)",
    "compressed": "--compressed is ignored: compressed answers are handled automatically",
    "quiet": "output options (-s, -S, -v, -i, -f, ...) are ignored",
    "ignore": "output, timeout and retry options (-o, -m, --retry, ...) are ignored",
    "ignore-tls": "--cacert/--capath are ignored: give the CA in the profile's [tls] ca_bundle",
}


@dataclass
class CurlImport:
    spec: RequestSpec
    notes: list[str] = field(default_factory=list)


# --- reading ------------------------------------------------------------------------------


def _join_lines(text: str) -> str:
    """Remove backslash-newline continuations (outside single quotes), drop comment lines,
    and join lines that start with an option (docs often lose the backslashes)."""
    out: list[str] = []
    quote_char: str | None = None
    i = 0
    while i < len(text):
        c = text[i]
        if quote_char is None and c in "'\"" and not _escaped(text, i):
            quote_char = c
        elif quote_char == c and not (c == '"' and _escaped(text, i)):
            quote_char = None
        if c == "\\" and quote_char != "'" and text.startswith("\n", i + 1):
            i += 2
            out.append(" ")
            continue
        if c == "\\" and quote_char != "'" and text.startswith("\r\n", i + 1):
            i += 3
            out.append(" ")
            continue
        if c == "^" and quote_char is None and re.match(r"\^\r?\n", text[i:]):  # Windows cmd
            i += 2 if text[i + 1] == "\n" else 3
            out.append(" ")
            continue
        out.append(c)
        i += 1
    joined = "".join(out)
    # a newline inside quotes belongs to the value; a bare one ends the command, except
    # before a line that starts with an option or a URL
    result = ""
    for ln in joined.split("\n"):
        stripped = ln.strip()
        if result and _open_quote(result):
            result += "\n" + ln
        elif not stripped or stripped.startswith("#"):
            continue
        elif not result:
            result = re.sub(r"^\s*\$\s+", "", ln)  # a pasted shell prompt
        elif stripped.startswith("-") or re.match(r"""^['"]?https?://""", stripped):
            result += " " + ln
        else:
            raise CurlError(
                f"the text holds more than one command (next line: {stripped[:60]!r})",
                hint="paste a single curl command; continue lines with a backslash",
            )
    return result


def _escaped(text: str, i: int) -> bool:
    n = 0
    j = i - 1
    while j >= 0 and text[j] == "\\":
        n += 1
        j -= 1
    return n % 2 == 1


def _open_quote(text: str) -> bool:
    try:
        shlex.split(text)
    except ValueError:
        return True
    return False


_ANSI_C_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}
_HEX = re.compile(r"[0-9A-Fa-f]+")


def _ansi_c(text: str, start: int) -> tuple[str, int, bool]:
    """The value of the ``$'...'`` string whose content starts at ``text[start]``: (value,
    the index after its closing quote, whether bytes that are not UTF-8 were replaced)."""
    out = bytearray()
    i = start
    while i < len(text):
        c = text[i]
        if c == "'":
            value = out.decode("utf-8", errors="replace")
            return value, i + 1, "\ufffd" in value and "\ufffd" not in text[start:i]
        if c != "\\" or i + 1 >= len(text):
            out += c.encode("utf-8", errors="surrogatepass")
            i += 1
            continue
        e = text[i + 1]
        if e in _ANSI_C_ESCAPES:
            out += _ANSI_C_ESCAPES[e].encode()
            i += 2
        elif e in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[e]
            m = _HEX.match(text, i + 2, i + 2 + size)
            if m is None:
                out += ("\\" + e).encode()  # bash keeps it as it is
                i += 2
                continue
            number = int(m.group(), 16)
            if e == "x":
                out.append(number)  # a byte: UTF-8 sequences are written byte by byte
            elif number > 0x10FFFF or 0xD800 <= number <= 0xDFFF:
                raise CurlError(f"'\\{e}{m.group()}' in a $'...' string is not a character")
            else:
                out += chr(number).encode()
            i = m.end()
        elif e in "01234567":
            m = re.compile(r"[0-7]{1,3}").match(text, i + 1)
            assert m is not None
            out.append(int(m.group(), 8) & 0xFF)
            i = m.end()
        elif e == "c" and i + 2 < len(text):
            out.append(ord(text[i + 2].upper()) & 0x1F if text[i + 2] != "?" else 0x7F)
            i += 3
        else:
            out += ("\\" + e).encode(errors="surrogatepass")
            i += 2
    raise CurlError("cannot read the command: a $'...' string is not closed (an unclosed quote?)")


def _expand_ansi_c(text: str) -> tuple[str, list[str]]:
    """`text` with every ``$'...'`` string (bash's ANSI-C quoting) written as a plain
    single-quoted one holding its value, so that shell-style splitting reads it."""
    if "$'" not in text:
        return text, []
    out: list[str] = []
    notes: list[str] = []
    quote_char: str | None = None
    i = 0
    while i < len(text):
        c = text[i]
        if quote_char is None:
            if c == "\\":
                out.append(text[i : i + 2])
                i += 2
                continue
            if c == "$" and text.startswith("'", i + 1):
                value, i, replaced = _ansi_c(text, i + 2)
                if replaced:
                    note = "a $'...' string held bytes that are not UTF-8 text; they were replaced by U+FFFD"
                    if note not in notes:
                        notes.append(note)
                out.append("'" + value.replace("'", "'\"'\"'") + "'")
                continue
            if c in "'\"":
                quote_char = c
        elif quote_char == "'" and c == "'":
            quote_char = None
        elif quote_char == '"':
            if c == "\\":
                out.append(text[i : i + 2])
                i += 2
                continue
            if c == '"':
                quote_char = None
        out.append(c)
        i += 1
    return "".join(out), notes


def _tokens(text: str, notes: list[str] | None = None) -> list[str]:
    text, found = _expand_ansi_c(text)
    if notes is not None:
        notes.extend(found)
    joined = _join_lines(text.strip())
    try:
        tokens = shlex.split(joined)
    except ValueError as exc:
        raise CurlError(f"cannot read the command: {exc} (an unclosed quote?)") from None
    if not tokens:
        raise CurlError("the curl command is empty")
    first = tokens[0].rsplit("/", 1)[-1].lower()
    if first not in ("curl", "curl.exe"):
        raise CurlError(f"this is not a curl command (it starts with {tokens[0][:30]!r})")
    return tokens[1:]


@dataclass
class _Parsed:
    method: str | None = None
    urls: list[str] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    data: list[tuple[str, str]] = field(default_factory=list)  # (kind, text as curl sends it)
    parts: list[BodyPart] = field(default_factory=list)  # -F / --form-string
    get: bool = False
    head: bool = False
    notes: list[str] = field(default_factory=list)


def _options(tokens: list[str]) -> _Parsed:
    p = _Parsed()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if tok.startswith("--") and len(tok) > 2:
            name = tok
            if name in _UNSUPPORTED:
                raise CurlError(_UNSUPPORTED[name])
            if name in _FLAG_OPTIONS:
                _flag(p, _FLAG_OPTIONS[name])
                continue
            if name not in _ARG_OPTIONS:
                raise CurlError(f"unknown curl option '{tok}'", hint=_known_hint())
            if i >= len(tokens):
                raise CurlError(f"option '{tok}' needs a value")
            _arg(p, _ARG_OPTIONS[name], tokens[i], tok)
            i += 1
            continue
        if tok.startswith("-") and len(tok) > 1:
            j = 1
            while j < len(tok):
                opt = "-" + tok[j]
                if opt in _UNSUPPORTED:
                    raise CurlError(_UNSUPPORTED[opt])
                if opt in _FLAG_OPTIONS:
                    _flag(p, _FLAG_OPTIONS[opt])
                    j += 1
                    continue
                if opt in _ARG_OPTIONS:
                    rest = tok[j + 1 :]
                    if rest:
                        value = rest
                    else:
                        if i >= len(tokens):
                            raise CurlError(f"option '{opt}' needs a value")
                        value = tokens[i]
                        i += 1
                    _arg(p, _ARG_OPTIONS[opt], value, opt)
                    break
                where = f" (in '{tok}')" if len(tok) > 2 else ""
                raise CurlError(f"unknown curl option '{opt}'{where}", hint=_known_hint())
            continue
        p.urls.append(tok)
    return p


def _known_hint() -> str:
    return (
        "understood: -X, -H, -d/--data, --data-raw, --data-binary, --data-urlencode, --json, -u, --url, "
        "-G, -I, -A, -e, -b, --oauth2-bearer (and -k, -L, -s, -v, --compressed are ignored)"
    )


def _note(p: _Parsed, key: str) -> None:
    text = _NOTES[key]
    if text not in p.notes:
        p.notes.append(text)


def _flag(p: _Parsed, what: str) -> None:
    if what == "get":
        p.get = True
    elif what == "head":
        p.head = True
    else:
        _note(p, what)


def _arg(p: _Parsed, what: str, value: str, opt: str) -> None:
    if what == "request":
        p.method = value.upper()
    elif what == "header":
        _header(p, value, opt)
    elif what in ("data", "data-raw", "json"):
        if what != "data-raw" and value.startswith("@"):
            raise CurlError(
                f"'{opt} {value[:40]}' reads the data from a file, which is not supported",
                hint="paste the data itself (with --data-raw)",
            )
        p.data.append(("json" if what == "json" else "data", value))
    elif what == "data-urlencode":
        p.data.append(("data", _urlencode_piece(value, opt)))
    elif what == "user":
        user, sep, password = value.partition(":")
        if not sep:
            p.notes.append(
                f"{opt} gave no password: curl would ask for it; the Basic credential has an empty password"
            )
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        p.headers.append(("Authorization", f"Basic {token}"))
    elif what == "url":
        p.urls.append(value)
    elif what == "user-agent":
        p.headers.append(("User-Agent", value))
    elif what == "referer":
        p.headers.append(("Referer", value))
    elif what == "cookie":
        if "=" not in value:
            raise CurlError(
                f"'{opt} {value[:40]}' reads cookies from a file, which is not supported",
                hint="give the cookies inline: -b 'name=value; other=value'",
            )
        p.headers.append(("Cookie", value))
    elif what == "bearer":
        p.headers.append(("Authorization", f"Bearer {value}"))
    elif what in ("form", "form-string"):
        p.parts.append(_form_part(p, value, opt, literal=what == "form-string"))
    else:
        _note(p, what)


def _form_word(text: str, i: int) -> tuple[str, int]:
    """A -F value or parameter starting at text[i]: "double quoted" (with \\" and \\\\), or
    up to the next ';'. Returns (word, index after it)."""
    if text.startswith('"', i):
        out: list[str] = []
        j = i + 1
        while j < len(text):
            if text[j] == "\\" and j + 1 < len(text) and text[j + 1] in '"\\':
                out.append(text[j + 1])
                j += 2
                continue
            if text[j] == '"':
                return "".join(out), j + 1
            out.append(text[j])
            j += 1
        # curl takes an unclosed quote as part of the text
    end = text.find(";", i)
    end = len(text) if end < 0 else end
    return text[i:end], end


def _form_part(p: _Parsed, value: str, opt: str, *, literal: bool) -> BodyPart:
    """One -F / --form-string argument as a multipart part (curl's syntax: ``name=value``,
    ``name=@file``, then ``;type=...``, ``;filename=...``)."""
    name, sep, rest = value.partition("=")
    if not sep or not name:
        raise CurlError(
            f"'{opt} {value[:40]}' is not a form part",
            hint="expected name=value or name=@file (;type=... ;filename=...)",
        )
    if literal:
        return BodyPart(name, value=rest)
    if rest.startswith("<"):
        raise CurlError(
            f"'{opt} {value[:40]}' reads a field's text from a file ('<'), which is not supported",
            hint="give the text inline (name=value), or upload the file as a part (name=@file)",
        )
    is_file = rest.startswith("@")
    content, i = _form_word(rest, 1 if is_file else 0)
    params: dict[str, str] = {}
    while i < len(rest) and rest[i] == ";":
        key, eq, _ = rest[i + 1 :].partition("=")
        key = key.strip().lower()
        if not eq or key not in ("type", "filename", "headers", "encoder"):
            raise CurlError(
                f"'{opt} {value[:60]}': unknown form parameter '{rest[i + 1 :][:20]}'",
                hint="known: ;type=TYPE ;filename=NAME (quote a value that holds ';': "
                'name="a;b")',
            )
        word, i = _form_word(rest, rest.index("=", i + 1) + 1)
        if key in ("headers", "encoder"):
            text = f"the form part '{name}': ;{key}= is ignored"
            if text not in p.notes:
                p.notes.append(text)
            continue
        params[key] = word.strip() if key == "type" else word
    if is_file:
        if not content:
            raise CurlError(f"'{opt} {value[:40]}' names no file after '@'")
        return BodyPart(
            name,
            file=content,
            content_type=params.get("type"),
            filename=params.get("filename"),
        )
    if "filename" in params:
        p.notes.append(f"the form part '{name}': ;filename= is ignored for a text field")
    return BodyPart(name, value=content, content_type=params.get("type"))


def _header(p: _Parsed, value: str, opt: str) -> None:
    if value.startswith("@"):
        raise CurlError(f"'{opt} {value[:40]}' reads headers from a file, which is not supported")
    name, sep, rest = value.partition(":")
    if sep and name.strip() and not any(c in name for c in " \t;"):
        rest = rest.strip()
        if not rest:
            p.notes.append(f"'{opt} {value}' removes a header curl would add; ignored")
            return
        p.headers.append((name.strip(), rest))
        return
    if value.endswith(";") and value[:-1].strip() and ":" not in value:
        p.headers.append((value[:-1].strip(), ""))  # "Name;" sends an empty header
        return
    raise CurlError(f"'{opt} {value[:60]}' is not a header (expected 'Name: value')")


def _curl_escape(text: str) -> str:
    """URL-encode like curl's --data-urlencode (everything but letters, digits, -._~)."""
    return quote(text, safe="")


def _urlencode_piece(value: str, opt: str) -> str:
    eq = value.find("=")
    at = value.find("@") if eq < 0 else -1
    if at >= 0:
        raise CurlError(
            f"'{opt} {value[:40]}' reads the data from a file, which is not supported",
            hint="give it inline: --data-urlencode 'name=value'",
        )
    if eq < 0:
        return _curl_escape(value)
    name, content = value[:eq], value[eq + 1 :]
    return f"{name}={_curl_escape(content)}" if name else _curl_escape(content)


_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def form_pairs(data: str) -> list[tuple[str, str]] | None:
    """`name=value&...` decoded, or None when `data` is not exactly that shape."""
    if not data:
        return None
    pairs = []
    for piece in data.split("&"):
        name, sep, value = piece.partition("=")
        if not sep or not name or _PCT.search(piece) or any(c in piece for c in "\r\n"):
            return None
        pairs.append((unquote_plus(name), unquote_plus(value)))
    return pairs


def _is_json_type(ctype: str) -> bool:
    base = ctype.split(";", 1)[0].strip().lower()
    return base in ("application/json", "text/json") or base.endswith("+json")


def _looks_like_json(data: str) -> bool:
    stripped = data.strip()
    if not stripped.startswith(("{", "[")):
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True


def import_curl(text: str) -> CurlImport:
    """A RequestSpec (and notes in plain words) from a curl command. Raises CurlError."""
    quoting: list[str] = []
    p = _options(_tokens(text, quoting))
    if not p.urls:
        raise CurlError("the curl command has no URL")
    if len(p.urls) > 1:
        raise CurlError(f"the curl command has {len(p.urls)} URLs; import one request at a time")
    if p.parts and (p.data or p.get):
        raise CurlError(
            "-F/--form cannot be combined with -d/--data or -G (curl refuses it too)",
            hint="send the fields as form parts (-F name=value)",
        )
    url = p.urls[0]
    notes = quoting + p.notes
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url) and not url.startswith("{{"):
        notes.append(f"the URL has no scheme ({url[:40]}); curl would use http://")
    headers = list(p.headers)
    data_kinds = {k for k, _ in p.data}
    if p.data and data_kinds == {"json"}:
        data = "".join(v for _, v in p.data)
    else:
        data = "&".join(v for _, v in p.data)
    sends = bool(p.data or p.parts)
    method = p.method or ("HEAD" if p.head else "POST" if sends and not p.get else "GET")
    if method not in METHODS:
        raise CurlError(f"unsupported method '{method}'", hint=f"methods: {', '.join(METHODS)}")
    if "json" in data_kinds:
        names = {k.lower() for k, _ in headers}
        if "content-type" not in names:
            headers.append(("Content-Type", "application/json"))
        if "accept" not in names:
            headers.append(("Accept", "application/json"))
    spec = RequestSpec(method=method, url=url, headers=headers)
    if p.data and p.get:
        spec.url = url + ("&" if "?" in url else "?") + data
    elif p.data:
        _set_body(spec, data, "json" in data_kinds, notes)
    elif p.parts:
        spec.body_kind = "multipart"
        spec.parts = list(p.parts)
        given = _content_type(spec.headers)
        if given is not None and given.split(";", 1)[0].strip().lower() == "multipart/form-data":
            spec.headers = [(k, v) for k, v in spec.headers if k.lower() != "content-type"]
    _split_query(spec)
    return CurlImport(spec=spec, notes=notes)


def parse_curl(text: str) -> RequestSpec:
    """The RequestSpec of a curl command (see import_curl for the notes)."""
    return import_curl(text).spec


def _content_type(headers: list[tuple[str, str]]) -> str | None:
    found = [v for k, v in headers if k.lower() == "content-type"]
    return found[-1] if found else None


def _set_body(spec: RequestSpec, data: str, is_json: bool, notes: list[str]) -> None:
    ctype = _content_type(spec.headers)
    if is_json or (ctype is not None and _is_json_type(ctype)):
        kind = "json"
    elif ctype is None and _looks_like_json(data):
        kind = "json"
        notes.append(
            "the data is JSON: it is sent as application/json (curl alone would have said form-urlencoded)"
        )
    elif (ctype is None or ctype.split(";", 1)[0].strip().lower() == FORM_TYPE) and form_pairs(
        data
    ) is not None:
        kind = "form"
    else:
        kind = "text"
        if ctype is None:
            spec.headers.append(("Content-Type", FORM_TYPE))  # what curl sends with -d
    spec.body_kind = kind
    if kind == "form":
        spec.form = form_pairs(data) or []
    else:
        spec.body = data
    default = DEFAULT_CONTENT_TYPES[kind]
    spec.headers = [
        (k, v)
        for k, v in spec.headers
        if not (k.lower() == "content-type" and v.strip().lower() == default)
    ]


def _split_query(spec: RequestSpec) -> None:
    if "?" not in spec.url or "#" in spec.url:
        return
    base, _, query = spec.url.partition("?")
    if not query:
        spec.url = base
        return
    pairs = form_pairs(query)
    if pairs is not None:
        spec.url = base
        spec.params = pairs + spec.params


def form_parts(pairs: Iterable[tuple[str, str]]) -> list[BodyPart]:
    """Multipart parts from ``name``/``value`` pairs written in curl's -F syntax (the
    composer's lines ``name=value``, ``name=@file;type=...;filename=...``); a value that is
    not valid -F syntax is taken as plain text."""
    out = []
    for name, value in pairs:
        try:
            out.append(_form_part(_Parsed(), f"{name}={value}", "-F", literal=False))
        except CurlError:
            out.append(BodyPart(name, value=value))
    return out


def part_pairs(parts: Iterable[BodyPart]) -> list[tuple[str, str]]:
    """Multipart parts as ``name``/``value`` pairs in curl's -F syntax (see form_parts)."""
    out = []
    for part in parts:
        if part.file is not None:
            text = "@" + _form_quoted(part.file)
            if part.content_type:
                text += f";type={_form_quoted(part.content_type)}"
            if part.filename is not None:
                text += f";filename={_form_quoted(part.filename)}"
        else:
            value = part.value or ""
            text = _form_quoted(value) if not part.content_type else _dquote(value)
            if part.content_type:
                text += f";type={_form_quoted(part.content_type)}"
        out.append((part.name, text))
    return out


def _dquote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- credentials and profiles -------------------------------------------------------------

# Headers a pasted command may carry that the session adds itself (never kept in the spec).
SESSION_HEADERS = ("authorization", "proxy-authorization", "cookie")


def session_signs(profile: Profile | None) -> tuple[set[str], set[str]]:
    """(header names in lower case, query parameter names) a session of `profile` sets
    itself when it sends a request: the usual credential headers, and a static token's own
    header or query parameter. No profile, or one without authentication: no session signs
    the request, so nothing is dropped (credentials become references when saved)."""
    if profile is None or profile.auth.flow == "none":
        return set(), set()
    headers, params = set(SESSION_HEADERS), set()
    if profile.auth.flow == "static_token":
        given = profile.auth.params
        if given.get("placement", "header") == "query":
            params.add(str(given.get("query_param") or "authorization"))
        else:
            headers.add(str(given.get("header") or "Authorization").lower())
    return headers, params


def drop_session_credentials(spec: RequestSpec, profile: Profile | None = None) -> list[str]:
    """Remove from `spec` the credentials its session adds itself when it sends it (every
    header named like :func:`session_signs` says, whatever its case, however often; a
    static token's query parameter). Returns notes in words. The TUI's paste-curl and
    ``workbench import curl`` both do this; what is left that looks like a credential
    becomes a reference when the request is saved (workbench.core.collection.credentials)."""
    headers, params = session_signs(profile)
    if profile is None:
        return []
    dropped = list(dict.fromkeys(k for k, _ in spec.headers if k.lower() in headers))
    spec.headers = [(k, v) for k, v in spec.headers if k.lower() not in headers]
    gone = list(dict.fromkeys(k for k, _ in spec.params if k in params))
    spec.params = [(k, v) for k, v in spec.params if k not in params]
    who = f"the session of '{profile.name}'"
    notes = []
    if dropped:
        notes.append(f"dropped {', '.join(dropped)}: {who} signs the request itself")
    if gone:
        names = ", ".join(f"'{n}'" for n in gone)
        notes.append(f"dropped the query parameter {names}: {who} adds the token itself")
    return notes


@dataclass(frozen=True)
class ProfileMatch:
    """A profile whose base URL (``[urls] name = base``) a URL starts with."""

    profile: Profile
    url_name: str
    base: str  # without a trailing slash


def _split(url: str) -> tuple[tuple[str, str, int], str] | None:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or {"https": 443, "http": 80}.get(scheme, 0)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if scheme not in ("http", "https") or not host:
        return None
    return (scheme, host, port), parts.path


def matching_profiles(url: str, profiles: Iterable[Profile]) -> list[ProfileMatch]:
    """The profiles one of whose base URLs `url` starts with (same origin, the base's
    path a prefix of the URL's at a '/' boundary), the longest base first; profiles tied
    on it keep the order given. One match per profile (its longest base)."""
    target = _split(url)
    if target is None:
        return []
    origin, path = target
    found: list[tuple[int, int, ProfileMatch]] = []
    for n, profile in enumerate(profiles):
        best: ProfileMatch | None = None
        for name, base in profile.urls.items():
            base = base.rstrip("/")
            split = _split(base)
            if split is None or split[0] != origin:
                continue
            prefix = split[1].rstrip("/")
            if not (path == prefix or path.startswith(prefix + "/")):
                continue
            if best is None or len(base) > len(best.base):
                best = ProfileMatch(profile, name, base)
        if best is not None:
            found.append((-len(urlsplit(best.base).path.rstrip("/")), n, best))
    return [m for _, _, m in sorted(found, key=lambda t: (t[0], t[1]))]


def same_origin_profiles(url: str, profiles: Iterable[Profile]) -> list[Profile]:
    """The profiles that would send their token to `url`'s origin (any of their URLs)."""
    target = _split(url)
    if target is None:
        return []
    out = []
    for profile in profiles:
        origins = {s[0] for u in profile.urls.values() if (s := _split(u)) is not None}
        if target[0] in origins:
            out.append(profile)
    return out


def relative_url(url: str, match: ProfileMatch) -> str:
    """`url` written relative to the profile it matched: ``/path`` for the profile's first
    base URL (what a collection's relative URLs are joined to), ``{{urls.NAME}}/path`` for
    another one, so that the request follows the profile to another server or port."""
    parts = urlsplit(url)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    tail += f"#{parts.fragment}" if parts.fragment else ""
    rest = tail[len(urlsplit(match.base).path.rstrip("/")) :]
    first = next(iter(match.profile.urls))
    if match.url_name == first and rest.startswith("/"):
        return rest
    return "{{urls." + match.url_name + "}}" + rest


# --- writing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Var:
    name: str  # a shell variable


Segment = str | _Var
# credential kind (workbench.core.secrets.secret_kind) -> the shell variable standing for it
_SHELL_VARS = {"auth": "TOKEN", "proxy_auth": "PROXY_AUTHORIZATION"}


def _shell_var(key: str, where: str, value: str = "") -> str | None:
    """The shell variable for the credential a header / parameter / field named `key`
    holds ($TOKEN, $PASSWORD, $API_KEY, ...), or None when it is named like none."""
    kind = secret_kind(key, where)
    if kind is None and maybe_secret_name(key) and looks_like_credential(value):
        kind = "secret"
    return None if kind is None else _SHELL_VARS.get(kind, kind.upper())


def shell_name(name: str) -> str:
    """A shell variable name for a template variable: `api.key` -> API_KEY."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", name).upper()
    return out if re.match(r"[A-Z_]", out) else "_" + out


def _segments(text: str, placeholders: Mapping[str, str]) -> list[Segment]:
    out: list[Segment] = []
    pos = 0
    for m in _TEMPLATE.finditer(text):
        if m.group(1) in placeholders:
            if m.start() > pos:
                out.append(text[pos : m.start()])
            out.append(_Var(placeholders[m.group(1)]))
            pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


def _hide_jwts(segs: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for s in segs:
        if isinstance(s, _Var) or not _JWT.search(s):
            out.append(s)
            continue
        pos = 0
        for m in _JWT.finditer(s):
            if m.start() > pos:
                out.append(s[pos : m.start()])
            out.append(_Var("TOKEN"))
            pos = m.end()
        if pos < len(s):
            out.append(s[pos:])
    return out


def _only_templates(text: str) -> bool:
    return not _TEMPLATE.sub("", text).strip()


def _credential(segs: list[Segment], var: str, *, scheme_ok: bool) -> list[Segment]:
    """Replace the literal credential in a value with $var (keeping an auth scheme word)."""
    if len(segs) == 1 and isinstance(segs[0], str):
        value = segs[0]
        if not value.strip() or _only_templates(value):
            return segs
        m = re.match(r"([A-Za-z][A-Za-z0-9_-]*)(\s+)(\S.*)$", value) if scheme_ok else None
        if m:
            if _only_templates(m.group(3)):
                return segs
            if m.group(1).lower() == "basic" and var == "TOKEN":
                var = "BASIC_AUTH"
            return [m.group(1) + m.group(2), _Var(var)]
        return [_Var(var)]
    if any(
        isinstance(s, str) and s.strip() and not re.fullmatch(r"\s*[A-Za-z][A-Za-z0-9_-]*\s+", s)
        for s in segs
    ):
        return _hide_jwts(segs)
    return segs


def _quote(segs: list[Segment]) -> str:
    """Shell-quote a word made of literal parts and $variables."""
    if not segs:
        return "''"
    if all(isinstance(s, str) for s in segs):
        return shlex.quote("".join(segs))  # type: ignore[arg-type]
    literal = "".join(s for s in segs if isinstance(s, str))
    if not any(c in literal for c in '\\"$`!'):
        parts = []
        for i, s in enumerate(segs):
            if isinstance(s, _Var):
                nxt = segs[i + 1] if i + 1 < len(segs) else None
                glued = isinstance(nxt, str) and (nxt[:1].isalnum() or nxt[:1] == "_")
                parts.append("${" + s.name + "}" if glued else "$" + s.name)
            else:
                parts.append(s)
        return '"' + "".join(parts) + '"'
    return "".join('"${' + s.name + '}"' if isinstance(s, _Var) else shlex.quote(s) for s in segs)


def _query_segments(
    params: list[tuple[str, str]], placeholders: Mapping[str, str], with_secrets: bool
) -> list[Segment]:
    out: list[Segment] = []
    for n, (key, value) in enumerate(params):
        out.append(("&" if n else "") + _curl_escape(key) + "=")
        segs = _segments(value, placeholders)
        var = _shell_var(key, "query", value)
        if not with_secrets:
            segs = _credential(segs, var, scheme_ok=False) if var else _hide_jwts(segs)
        out.extend(s if isinstance(s, _Var) else _curl_escape(s) for s in segs)
    return out


def _merge(segs: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for s in segs:
        if isinstance(s, str) and out and isinstance(out[-1], str):
            out[-1] = out[-1] + s
        elif s != "":
            out.append(s)
    return out


def to_curl(
    spec: RequestSpec, *, with_secrets: bool = False, placeholders: Mapping[str, str] | None = None
) -> str:
    """A copy-pasteable multi-line curl command for `spec`.

    `placeholders` maps template variables to shell variables: `{{token}}` with
    {"token": "TOKEN"} is written as $TOKEN. Without `with_secrets`, credentials left
    in the spec are replaced by shell variables too ($TOKEN, $PASSWORD, ...)."""
    ph = dict(placeholders or {})
    method = spec.method.upper()
    lines: list[str] = ["curl --head" if method == "HEAD" else f"curl --request {method}"]
    url_segs = _segments(spec.url, ph)
    if not with_secrets:
        url_segs = _url_credentials(url_segs)
    if spec.params:
        base = "".join(s for s in url_segs if isinstance(s, str))
        url_segs = [
            *url_segs,
            "&" if "?" in base else "?",
            *_query_segments(spec.params, ph, with_secrets),
        ]
    url_segs = _merge(url_segs)
    literal_url = "".join(s for s in url_segs if isinstance(s, str))
    if re.search(r"[\[\]{}]", literal_url):
        lines.append("--globoff")
    lines.append(f"--url {_quote(url_segs)}")
    body_type = DEFAULT_CONTENT_TYPES.get(spec.body_kind) if _has_body(spec) else None
    if (
        body_type
        and spec.body_kind != "form"
        and not any(k.lower() == "content-type" for k, _ in spec.headers)
    ):
        lines.append(f"--header {_quote([f'Content-Type: {body_type}'])}")
    for key, value in spec.headers:
        segs = _segments(value, ph)
        if not with_secrets:
            var = _shell_var(key, "header", value)
            segs = _credential(segs, var, scheme_ok=True) if var else _hide_jwts(segs)
        segs = _merge([f"{key}: " if value else f"{key};", *segs])
        lines.append(f"--header {_quote(segs)}")
    if spec.body_kind == "form" and spec.form:
        for key, value in spec.form:
            segs = _segments(value, ph)
            var = _shell_var(key, "form", value)
            if not with_secrets:
                segs = _credential(segs, var, scheme_ok=False) if var else _hide_jwts(segs)
            if _curl_escape(key) == key:
                lines.append(f"--data-urlencode {_quote(_merge([key + '=', *segs]))}")
            else:
                encoded = [s if isinstance(s, _Var) else _curl_escape(s) for s in segs]
                lines.append(f"--data-raw {_quote(_merge([_curl_escape(key) + '=', *encoded]))}")
    elif spec.body_kind == "multipart":
        lines.extend(_form_line(part, ph, with_secrets) for part in spec.parts)
    elif _has_body(spec):
        segs = _segments(spec.body, ph)
        if not with_secrets:
            ctype = next((v for k, v in spec.headers if k.lower() == "content-type"), "")
            json_like = spec.body_kind == "json" or "json" in ctype.lower()
            segs = _hide_jwts(_json_secrets(segs) if json_like else segs)
        lines.append(f"--data-raw {_quote(_merge(segs))}")
    return " \\\n  ".join(lines)


def _form_quoted(text: str) -> str:
    """A -F value or parameter in curl's double quotes (when it holds ';', ',' or '"')."""
    if not any(c in text for c in ';,"') and not text.startswith(("@", "<")):
        return text
    return _dquote(text)


def _form_line(part: BodyPart, placeholders: Mapping[str, str], with_secrets: bool) -> str:
    """One multipart part as a --form (files, typed fields) or --form-string option."""
    if part.file is not None:
        text = f"{part.name}=@{_form_quoted(part.file)}"
        if part.content_type:
            text += f";type={_form_quoted(part.content_type)}"
        if part.filename is not None:
            text += f";filename={_form_quoted(part.filename)}"
        return f"--form {_quote(_segments(text, placeholders))}"
    segs = _segments(part.value or "", placeholders)
    var = _shell_var(part.name, "form", part.value or "")
    if not with_secrets:
        segs = _credential(segs, var, scheme_ok=False) if var else _hide_jwts(segs)
    if not part.content_type:
        plain = all(isinstance(x, str) for x in segs) and _form_quoted(part.value or "") == (
            part.value or ""
        )
        option = "--form" if plain else "--form-string"
        return f"{option} {_quote(_merge([part.name + '=', *segs]))}"
    quoted: list[Segment] = [
        s if isinstance(s, _Var) else s.replace("\\", "\\\\").replace('"', '\\"') for s in segs
    ]
    lead, tail = part.name + '="', f'";type={_form_quoted(part.content_type)}'
    return f"--form {_quote(_merge([lead, *quoted, tail]))}"


def _has_body(spec: RequestSpec) -> bool:
    if spec.body_kind == "multipart":
        return bool(spec.parts)
    if spec.body_kind == "form":
        return bool(spec.form)
    if spec.body_kind == "json":
        return bool(spec.body.strip())
    return spec.body_kind == "text" and bool(spec.body)


def _url_credentials(segs: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for s in _hide_jwts(segs):
        if isinstance(s, _Var):
            out.append(s)
            continue
        m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:?#]*):([^/@?#]*)@(.*)$", s, re.S)
        if m and m.group(2) and not _only_templates(m.group(2)):
            out.extend([f"{m.group(1)}:", _Var("PASSWORD"), f"@{m.group(3)}"])
            continue
        if "?" in s:
            head, _, query = s.partition("?")
            pieces: list[Segment] = [head + "?"]
            for n, piece in enumerate(query.split("&")):
                key, eq, value = piece.partition("=")
                var = _shell_var(unquote_plus(key), "query", unquote_plus(value))
                prefix = ("&" if n else "") + key + eq
                if eq and var and value and not _only_templates(unquote_plus(value)):
                    pieces.extend([prefix, _Var(var)])
                else:
                    pieces.append(prefix + value)
            out.extend(pieces)
            continue
        out.append(s)
    return _merge(out)


_JSON_FIELD = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:\s*)"((?:[^"\\]|\\.)*)"')


def _json_secrets(segs: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for s in segs:
        if isinstance(s, _Var):
            out.append(s)
            continue
        pos = 0
        for m in _JSON_FIELD.finditer(s):
            try:
                key, value = json.loads(f'"{m.group(1)}"'), json.loads(f'"{m.group(3)}"')
            except ValueError:
                continue
            var = _shell_var(key, "field", value)
            if not var or not m.group(3) or _only_templates(m.group(3)):
                continue
            out.append(s[pos : m.start(3)])
            out.append(_Var(var))
            pos = m.end(3)
        out.append(s[pos:])
    return _merge(out)
