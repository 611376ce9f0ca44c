"""Credentials never saved: a literal credential in a request or a variable becomes a
``{{variable}}`` holding a reference (the session's token, or an env / prompt / keyring
secret), with a note in plain words saying what was replaced.

The one place that decides what is written to a collection. Looked at, whatever the
casing, separators, nesting or content type:

- any value equal to a secret the profile or the session holds (``known``: the session's
  tokens, the profile's resolved password / client secret / keys), in any field, also
  URL-encoded or JSON-escaped: it becomes a reference to where that secret comes from;
- headers named like credentials: a known list (Authorization, Proxy-Authorization,
  X-Api-Key, Cookie, ...) and any name with ``token``, ``secret``, ``auth``,
  ``signature``, ``password`` in it or ending in ``-key`` (``X-Custom-Auth``,
  ``Ocp-Apim-Subscription-Key``, ``x-functions-key``);
- query parameters (in ``query`` and in the URL): ``key``, ``sig``, ``code``, ``token``,
  ``access_token``, ``api_key``, ``password``, ... and URL passwords;
- form fields and JSON keys at any depth and in any case (``PASSWORD``, ``clientSecret``,
  ``refreshToken``, ``pwd``, ``pass``, ...), in JSON bodies whatever their content type
  (``application/json``, ``+json``, ``application/x-amz-json-1.1``, or a text body that
  parses as JSON) and in form-encoded text bodies;
- high-entropy values (long random runs) under names that often hold credentials (``key``,
  ``session``, ``hash``, ``nonce``, ``auth...``), and anything that looks like a JWT.

The names are classified by :func:`workbench.core.secrets.secret_kind`, shared with the
trace and report redaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from workbench.core.collection.model import CollectionRequest, SessionRef, Variable
from workbench.core.secrets import (
    JWT,
    SecretRef,
    looks_like_credential,
    maybe_secret_name,
    secret_kind,
)

TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}")
_TEMPLATE = TEMPLATE

REFERENCES: dict[str, Variable] = {
    "token": SessionRef("access_token"),
    "id_token": SessionRef("id_token"),
    "basic_auth": SecretRef(
        "basic_auth", env="BASIC_AUTH", prompt="Basic credentials (base64 of user:password)"
    ),
    "proxy_auth": SecretRef(
        "proxy_auth", env="PROXY_AUTHORIZATION", prompt="Proxy-Authorization value"
    ),
    "api_key": SecretRef("api_key", env="API_KEY", prompt="API key"),
    "solution_key": SecretRef("solution_key", env="SOLUTION_KEY", prompt="solution key"),
    "cookie": SecretRef("cookie", env="COOKIE", prompt="Cookie header value"),
    "password": SecretRef("password", env="PASSWORD", prompt="password"),
    "client_secret": SecretRef("client_secret", env="CLIENT_SECRET", prompt="client secret"),
    "refresh_token": SecretRef("refresh_token", env="REFRESH_TOKEN", prompt="refresh token"),
    "secret": SecretRef("secret", env="SECRET", prompt="secret"),
    "signature": SecretRef("signature", env="SIGNATURE", prompt="signature"),
    "code": SecretRef("code", env="CODE", prompt="code (a key or an authorization code)"),
}
KnownSecrets = Mapping[str, Variable] | Iterable[str]


def known_references(known: KnownSecrets) -> dict[str, SecretRef | SessionRef]:
    """value -> the reference to save instead of it. Bare values (an iterable of strings)
    get a generic env / prompt reference."""
    generic = REFERENCES["secret"]
    assert isinstance(generic, SecretRef)
    out: dict[str, SecretRef | SessionRef] = {}
    if isinstance(known, Mapping):
        for value, ref in known.items():
            if isinstance(value, str) and isinstance(ref, SecretRef | SessionRef):
                out[value] = ref
    else:
        out = {value: generic for value in known if isinstance(value, str)}
    return {k: v for k, v in out.items() if len(k) >= 4}


def known_secrets_of(session: Any) -> dict[str, SecretRef | SessionRef]:
    """The secret values a session and its profile hold, each mapped to the reference a
    collection saves instead: the session's tokens (``{session = "access_token"}``, ...),
    and the profile's secrets that can be had without asking (its own reference: env,
    keyring or prompt, never a demo value)."""
    out: dict[str, SecretRef | SessionRef] = {}
    tokens = getattr(session, "tokens", None)
    if tokens is not None:
        for name in ("access_token", "id_token"):
            value = getattr(tokens, name, None)
            if isinstance(value, str) and value:
                out[value] = SessionRef(name)
        refresh = getattr(tokens, "refresh_token", None)
        if isinstance(refresh, str) and refresh:
            ref = REFERENCES["refresh_token"]
            assert isinstance(ref, SecretRef)
            out[refresh] = ref
    profile = getattr(session, "profile", None)
    resolver = getattr(session, "resolver", None)
    refs: dict[str, SecretRef] = getattr(getattr(profile, "auth", None), "secrets", {}) or {}
    for secret in refs.values():
        value = resolver.peek(secret) if resolver is not None else None
        if value:
            out.setdefault(
                value,
                SecretRef(
                    secret.name,
                    env=secret.env,
                    prompt=secret.prompt or secret.label,
                    keyring=secret.keyring,
                ),
            )
    generic = REFERENCES["secret"]
    assert isinstance(generic, SecretRef)
    for value in getattr(resolver, "handed_out", ()) or ():
        if isinstance(value, str):
            out.setdefault(value, generic)
    return out


def _is_literal(variables: Mapping[str, Variable], name: str) -> bool:
    return isinstance(variables.get(name), str) and bool(variables[name])


def is_clean(value: str, variables: Mapping[str, Variable]) -> bool:
    """True when `value` holds no literal credential: only {{references}} to variables that
    are not literal strings (secret/session references, or supplied at run time)."""
    rest = _TEMPLATE.sub(lambda m: "\x00" if _is_literal(variables, m.group(1)) else "", value)
    return not rest.strip()


def _add_reference(variables: dict[str, Variable], base: str, ref: Variable) -> str:
    """The name of a variable holding `ref` (reusing an equal one, else adding `base`,
    `base_2`, ...)."""
    for name, existing in variables.items():
        if existing == ref:
            return name
    name, n = base, 2
    while name in variables:
        name, n = f"{base}_{n}", n + 1
    variables[name] = (
        SecretRef(name=name, env=ref.env, prompt=ref.prompt, keyring=ref.keyring)
        if isinstance(ref, SecretRef)
        else ref
    )
    return name


def _reference(
    variables: dict[str, Variable],
    kind: str,
    literal: str | None = None,
    given: dict[str, str] | None = None,
) -> str:
    """The name of a variable holding the reference for `kind` (adding it when needed).

    An existing variable of that name is reused when it is the same session reference, or
    any env/prompt/keyring reference (the user's own); a literal one is never reused. Two
    different literals of one kind in one save (`given`: name -> the literal it replaced)
    get a variable each (`api_key`, `api_key_2`): they were different values."""
    ref = REFERENCES[kind]
    avoid = (
        {n for n, v in given.items() if v != literal}
        if given is not None and literal is not None and isinstance(ref, SecretRef)
        else set()
    )
    name, n = kind, 2
    while name in variables or name in avoid:
        existing = variables.get(name)
        if name not in avoid:
            if isinstance(ref, SessionRef) and existing == ref:
                break
            if isinstance(ref, SecretRef) and isinstance(existing, SecretRef):
                break
        name, n = f"{kind}_{n}", n + 1
    else:
        variables[name] = (
            SecretRef(
                name=name,
                env=ref.env if name == kind else name.upper(),  # api_key_2: $API_KEY_2
                prompt=ref.prompt,
                keyring=ref.keyring,
            )
            if isinstance(ref, SecretRef)
            else ref
        )
    if given is not None and literal is not None:
        given[name] = literal
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


def _encodings(value: str) -> list[str]:
    """The forms a secret takes in a saved value: as is, URL-encoded, JSON-escaped."""
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    return sorted((f for f in forms if f), key=len, reverse=True)


def _json_like(spec_headers: list[tuple[str, str]], body: str) -> bool:
    """A body to read as JSON: a JSON content type (`application/json`, `+json`,
    `application/x-amz-json-1.1`, ...) or text that parses as a JSON object or array."""
    ctype = next((v for k, v in spec_headers if k.lower() == "content-type"), "").lower()
    if "json" in ctype:
        return True
    text = body.strip()
    if not text.startswith(("{", "[")):
        return False
    try:
        json.loads(_TEMPLATE.sub("0", text))
    except ValueError:
        return False
    return True


_FORM_TEXT = re.compile(r"[^=&\s]+=[^&\s]*(&[^=&\s]+=[^&\s]*)*")


def _field_is_secret(key: str, value: str, where: str) -> str | None:
    """The reference kind for a literal `value` under `key`, or None."""
    kind = secret_kind(key, where)
    if kind in ("auth", "proxy_auth"):
        kind = "token" if kind == "auth" else kind
    if kind is None and maybe_secret_name(key) and looks_like_credential(value):
        kind = "secret"
    return kind


def sanitize_request(
    req: CollectionRequest, variables: dict[str, Variable], known: KnownSecrets = ()
) -> list[str]:
    """Replace every literal credential in `req` by a {{variable}} holding a reference
    (adding the variable to `variables` when needed). Returns what was done, in words.

    `known` holds the secret values the profile and the session hold (value -> the
    reference to save instead, or bare values): each is replaced wherever it appears.
    What else is looked at: see this module's docstring.
    """
    spec = req.spec
    notes: list[str] = []
    who = f"request '{req.name}'"

    def note(where: str, name: str) -> None:
        notes.append(
            f"{who}: {where} held a credential; saved as {{{{{name}}}}} ({_describe_ref(variables, name)})"
        )

    refs = known_references(known)
    given: dict[str, str] = {}  # variable name -> the literal it replaced, in this request

    def without_known(value: str, where: str) -> str:
        for secret, ref in sorted(refs.items(), key=lambda kv: len(kv[0]), reverse=True):
            forms = [f for f in _encodings(secret) if f in value]
            if not forms:
                continue
            base = (
                ("token" if ref.field == "access_token" else ref.field)
                if isinstance(ref, SessionRef)
                else ref.name
            )
            name = _add_reference(variables, base, ref)
            for form in forms:
                value = value.replace(form, "{{" + name + "}}")
            note(where, name)
        return value

    def without_jwts(value: str, where: str) -> str:
        value, hit = _replace_jwts(value, variables)
        if hit:
            note(where, "token")
        return value

    headers = []
    for key, value in spec.headers:
        where = f"the {key} header"
        value = without_known(value, where)
        kind = secret_kind(key, "header")
        if kind is None and maybe_secret_name(key) and looks_like_credential(value):
            kind = "secret"
        if kind and not is_clean(value, variables):
            scheme, rest = "", value
            m = re.match(r"([A-Za-z][A-Za-z0-9_-]*)\s+(\S.*)$", value)
            if m and (
                kind in ("auth", "proxy_auth")
                or m.group(1).lower() in ("bearer", "basic", "token", "digest")
            ):
                scheme, rest = m.group(1) + " ", m.group(2)
            if kind == "auth":
                kind = "basic_auth" if scheme.strip().lower() == "basic" else "token"
            if not is_clean(rest, variables):
                name = _reference(variables, kind, rest, given)
                value = scheme + "{{" + name + "}}"
                note(where, name)
        else:
            value = without_jwts(value, where)
        headers.append((key, value))
    spec.headers = headers

    def fields(pairs: list[tuple[str, str]], what: str, where: str) -> list[tuple[str, str]]:
        """Query parameters or form fields: a secret-named one with a literal value becomes
        a reference; a known secret or a JWT in any other becomes one too."""
        out = []
        for key, value in pairs:
            value = without_known(value, f"the {what} '{key}'")
            kind = _field_is_secret(key, value, where)
            if kind and not is_clean(value, variables):
                name = _reference(variables, kind, value, given)
                value = "{{" + name + "}}"
                note(f"the {what} '{key}'", name)
            else:
                value = without_jwts(value, f"the {what} '{key}'")
            out.append((key, value))
        return out

    spec.params = fields(spec.params, "query parameter", "query")

    url, url_notes = _sanitize_url(without_known(spec.url, "the URL"), variables, given)
    spec.url = url
    notes.extend(f"{who}: {n}" for n in url_notes)

    if spec.body_kind == "form":
        spec.form = fields(spec.form, "form field", "form")
    elif spec.body_kind == "multipart":  # text fields like form fields; file paths as they are
        values = fields([(p.name, p.value or "") for p in spec.parts], "form field", "form")
        spec.parts = [
            p if p.file is not None else replace(p, value=v)
            for p, (_, v) in zip(spec.parts, values, strict=True)
        ]
    elif spec.body_kind in ("json", "text"):
        body = without_known(spec.body, "the body")
        if spec.body_kind == "json" or _json_like(spec.headers, body):
            body = _sanitize_json_text(
                body, variables, lambda k, n: note(f"the JSON field '{k}'", n), given
            )
        elif _FORM_TEXT.fullmatch(body.strip()):
            body = _sanitize_form_text(
                body, variables, lambda k, n: note(f"the form field '{k}'", n), given
            )
        spec.body = without_jwts(body, "the body")
    return notes


_JSON_STRING_FIELD = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:\s*)"((?:[^"\\]|\\.)*)"')


def _sanitize_json_text(
    body: str,
    variables: dict[str, Variable],
    note: Callable[[str, str], None],
    given: dict[str, str] | None = None,
) -> str:
    """Every `"key": "value"` pair at any depth whose key is named like a secret (any
    casing) and whose value is literal becomes `"key": "{{reference}}"`; the rest of the
    text (formatting, order, other values) is kept."""

    def sub(m: re.Match[str]) -> str:
        try:
            key = json.loads(f'"{m.group(1)}"')
            value = json.loads(f'"{m.group(3)}"')
        except ValueError:
            return m.group(0)
        kind = _field_is_secret(key, value, "field")
        if not kind or is_clean(value, variables):
            return m.group(0)
        name = _reference(variables, kind, value, given)
        note(key, name)
        return f'"{m.group(1)}"{m.group(2)}"{{{{{name}}}}}"'

    return _JSON_STRING_FIELD.sub(sub, body)


def _sanitize_form_text(
    body: str,
    variables: dict[str, Variable],
    note: Callable[[str, str], None],
    given: dict[str, str] | None = None,
) -> str:
    """A form-encoded text body (`a=1&pwd=...`): secret-named fields become references."""
    pieces = []
    for piece in body.strip().split("&"):
        key, eq, value = piece.partition("=")
        kind = _field_is_secret(unquote_plus(key), unquote_plus(value), "form") if eq else None
        if kind and not is_clean(unquote_plus(value), variables):
            name = _reference(variables, kind, unquote_plus(value), given)
            note(unquote_plus(key), name)
            piece = f"{key}={{{{{name}}}}}"
        pieces.append(piece)
    return "&".join(pieces)


def _sanitize_url(
    url: str, variables: dict[str, Variable], given: dict[str, str] | None = None
) -> tuple[str, list[str]]:
    notes: list[str] = []
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:?#]*):([^/@?#]*)@", url)
    if m and not is_clean(unquote(m.group(2)), variables):
        name = _reference(variables, "password", unquote(m.group(2)), given)
        url = f"{m.group(1)}:{{{{{name}}}}}@" + url[m.end() :]
        notes.append(f"the password in the URL held a credential; saved as {{{{{name}}}}}")
    if "?" in url:
        head, _, rest = url.partition("?")
        query, hash_, frag = rest.partition("#")
        pieces = []
        for piece in query.split("&"):
            key, eq, value = piece.partition("=")
            kind = _field_is_secret(unquote(key), unquote(value), "query") if eq else None
            if kind and not is_clean(unquote(value), variables):
                name = _reference(variables, kind, unquote(value), given)
                piece = f"{key}={{{{{name}}}}}"
                notes.append(
                    f"the URL parameter '{unquote(key)}' held a credential; saved as {{{{{name}}}}}"
                )
            pieces.append(piece)
        url = head + "?" + "&".join(pieces) + hash_ + frag
    url, hit = _replace_jwts(url, variables)
    if hit:
        notes.append("the URL held a token; saved as {{token}}")
    return url, notes


def sanitize_variable(
    variables: dict[str, Variable], name: str, known: KnownSecrets = ()
) -> str | None:
    """A literal variable named like a secret, holding a JWT, a known secret value, or a
    high-entropy value under a name that often holds a credential, becomes a reference."""
    value = variables[name]
    if not isinstance(value, str) or not value or is_clean(value, {}):
        return None
    base = name.rsplit(".", 1)[-1]
    refs = known_references(known)
    if value in refs:
        variables[name] = refs[value]
        return f"variable '{name}' held a secret the profile or session holds; saved as a reference ({_describe_ref(variables, name)})"
    kind = secret_kind(base, "field") or secret_kind(base, "header")
    if not kind and base.lower() in ("basic_auth", "solution_key", "cookie"):
        kind = "secret"
    if (
        not kind
        and not JWT.search(value)
        and not (maybe_secret_name(base) and looks_like_credential(value))
    ):
        return None
    if kind == "token" or (kind is None and JWT.search(value)):
        variables[name] = SessionRef("access_token")
    elif kind == "id_token":
        variables[name] = SessionRef("id_token")
    else:
        variables[name] = SecretRef(
            name=name,
            env=re.sub(r"[^A-Za-z0-9_]", "_", name).upper(),
            prompt=name.replace("_", " ").replace(".", " "),
        )
    return f"variable '{name}' held a literal secret; saved as a reference ({_describe_ref(variables, name)})"
