"""Credentials never saved: a literal credential in a request or a variable becomes a
``{{variable}}`` holding a reference (the session's token, or an env / prompt / keyring
secret), with a note in plain words saying what was replaced.

Looked at: credential headers, token query parameters (in ``query`` and in the URL), URL
passwords, secret form fields and JSON keys, literal variables named like secrets, and
anything that looks like a JWT anywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from urllib.parse import unquote

from workbench.core.collection.model import CollectionRequest, SessionRef, Variable
from workbench.core.secrets import SecretRef

TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}")
_TEMPLATE = TEMPLATE
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")

# header name -> the reference kind its value needs
CREDENTIAL_HEADERS = {
    "authorization": "auth",
    "proxy-authorization": "proxy_auth",
    "x-api-key": "api_key",
    "api-key": "api_key",
    "apikey": "api_key",
    "solution-key": "solution_key",
    "cookie": "cookie",
    "x-auth-token": "token",
    "x-access-token": "token",
    "x-amz-security-token": "token",
}
TOKENISH_HEADER = re.compile(r"token|secret|api[-_]?key|password|passwd", re.I)
_TOKENISH_HEADER = TOKENISH_HEADER
# query parameter / form field / JSON key -> reference kind
SECRET_FIELDS = {
    "authorization": "token",
    "access_token": "token",
    "token": "token",
    "id_token": "id_token",
    "api_key": "api_key",
    "apikey": "api_key",
    "password": "password",
    "passwd": "password",
    "client_secret": "client_secret",
    "refresh_token": "refresh_token",
    "secret": "secret",
}
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
}
_SECRET_VAR_NAMES = {
    "token",
    "access_token",
    "id_token",
    "refresh_token",
    "password",
    "passwd",
    "secret",
    "client_secret",
    "api_key",
    "apikey",
    "basic_auth",
    "solution_key",
    "cookie",
}


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
    variables[name] = (
        SecretRef(name=name, env=ref.env, prompt=ref.prompt, keyring=ref.keyring)
        if isinstance(ref, SecretRef)
        else ref
    )
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
        notes.append(
            f"{who}: {where} held a credential; saved as {{{{{name}}}}} ({_describe_ref(variables, name)})"
        )

    def without_jwts(value: str, where: str) -> str:
        value, hit = _replace_jwts(value, variables)
        if hit:
            note(where, "token")
        return value

    headers = []
    for key, value in spec.headers:
        kind = CREDENTIAL_HEADERS.get(key.lower()) or (
            "token" if _TOKENISH_HEADER.search(key) else None
        )
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
            value = without_jwts(value, f"the {key} header")
        headers.append((key, value))
    spec.headers = headers

    def fields(pairs: list[tuple[str, str]], what: str) -> list[tuple[str, str]]:
        """Query parameters or form fields: a secret-named one with a literal value becomes
        a reference; a JWT in any other becomes {{token}}."""
        out = []
        for key, value in pairs:
            kind = SECRET_FIELDS.get(key.lower())
            if kind and not is_clean(value, variables):
                name = _reference(variables, kind)
                value = "{{" + name + "}}"
                note(f"the {what} '{key}'", name)
            else:
                value = without_jwts(value, f"the {what} '{key}'")
            out.append((key, value))
        return out

    spec.params = fields(spec.params, "query parameter")

    url, url_notes = _sanitize_url(spec.url, variables)
    spec.url = url
    notes.extend(f"{who}: {n}" for n in url_notes)

    if spec.body_kind == "form":
        spec.form = fields(spec.form, "form field")
    elif spec.body_kind in ("json", "text"):
        body = spec.body
        if spec.body_kind == "json":
            body = _sanitize_json_text(
                body, variables, lambda k, n: note(f"the JSON field '{k}'", n)
            )
        spec.body = without_jwts(body, "the body")
    return notes


_JSON_STRING_FIELD = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:\s*)"((?:[^"\\]|\\.)*)"')


def _sanitize_json_text(
    body: str, variables: dict[str, Variable], note: Callable[[str, str], None]
) -> str:
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
        url = f"{m.group(1)}:{{{{{name}}}}}@" + url[m.end() :]
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
                notes.append(
                    f"the URL parameter '{unquote(key)}' held a credential; saved as {{{{{name}}}}}"
                )
            pieces.append(piece)
        url = head + "?" + "&".join(pieces) + hash_ + frag
    url, hit = _replace_jwts(url, variables)
    if hit:
        notes.append("the URL held a token; saved as {{token}}")
    return url, notes


def sanitize_variable(variables: dict[str, Variable], name: str) -> str | None:
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
        variables[name] = SecretRef(
            name=name,
            env=re.sub(r"[^A-Za-z0-9_]", "_", name).upper(),
            prompt=name.replace("_", " ").replace(".", " "),
        )
    return f"variable '{name}' held a literal secret; saved as a reference ({_describe_ref(variables, name)})"
