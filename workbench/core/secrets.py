"""Secret references and redaction.

A profile never holds a secret value. It holds a reference, a TOML inline table:

    password = { env = "THINGER_PASSWORD" }                 # an environment variable
    password = { prompt = "Thinger password" }              # asked on a TTY / in the login screen
    password = { keyring = "thinger-password" }             # the OS keyring (service "iot-workbench")
    password = { env = "THINGER_PASSWORD", prompt = "Password" }   # first that answers wins
    password = { env = "X", demo = "thinger-demo-pass-1157" }      # demo profiles only (loopback URLs)

Resolution order: explicit value given by the UI (login form) -> env -> keyring -> demo
value -> prompt (when a prompter is available) -> SecretError naming what to set.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from workbench.core.errors import SecretError
from workbench.core.keyring_access import keyring_get

REF_KEYS = {"env", "prompt", "keyring", "demo"}
REDACTED = "«redacted»"

Prompter = Callable[[str, bool], str]  # (label, secret) -> value


@dataclass(frozen=True)
class SecretRef:
    name: str  # the profile key it came from, e.g. "password"
    env: str | None = None
    prompt: str | None = None
    keyring: str | None = None
    demo: str | None = None

    def describe(self) -> str:
        """Where this secret comes from, in words (never the value)."""
        parts = []
        if self.env:
            parts.append(f"env ${self.env}")
        if self.keyring:
            parts.append(f"keyring '{self.keyring}'")
        if self.demo is not None:
            parts.append("demo value")
        if self.prompt:
            parts.append("prompt")
        return " or ".join(parts) or "nowhere"

    @property
    def label(self) -> str:
        return self.prompt or self.name.replace("_", " ")


class SecretResolver:
    """Turns SecretRefs into values for one login, remembering every value it hands out
    so traces and logs can redact them."""

    def __init__(
        self,
        *,
        values: dict[str, str] | None = None,
        prompter: Prompter | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.values = dict(values or {})  # given by the UI, keyed by ref.name
        self.prompter = prompter
        self.environ = os.environ if environ is None else environ
        self.handed_out: set[str] = set()

    def source_of(self, ref: SecretRef) -> str | None:
        """Which source would answer, without prompting ("given", "env", "keyring", "demo") or None."""
        if self.values.get(ref.name):
            return "given"
        if ref.env and self.environ.get(ref.env):
            return "env"
        if ref.keyring and keyring_get(ref.keyring):
            return "keyring"
        if ref.demo is not None:
            return "demo"
        return None

    def peek(self, ref: SecretRef) -> str | None:
        """The value if it can be had without prompting, else None."""
        value = self.values.get(ref.name)
        if not value and ref.env:
            value = self.environ.get(ref.env)
        if not value and ref.keyring:
            value = keyring_get(ref.keyring)
        if not value and ref.demo is not None:
            value = ref.demo
        if value:
            self.handed_out.add(value)
        return value or None

    def resolve(self, ref: SecretRef) -> str:
        value = self.peek(ref)
        if value:
            return value
        if self.prompter is not None:
            value = self.prompter(ref.label, True)
            if value:
                self.values[ref.name] = value
                self.handed_out.add(value)
                return value
        hint_parts = []
        if ref.env:
            hint_parts.append(f"set the environment variable {ref.env}")
        if ref.keyring:
            hint_parts.append(f"store it in the keyring as '{ref.keyring}'")
        if ref.prompt:
            hint_parts.append("run on a terminal to be asked for it")
        hint = (
            " or ".join(hint_parts) or "add an env/keyring/prompt reference for it to the profile"
        )
        raise SecretError(f"no value for the secret '{ref.name}' ({ref.describe()})", hint=hint)


def tty_prompter() -> Prompter | None:
    """A getpass prompter when stdin is a terminal, else None (headless: never block)."""
    import sys

    if not sys.stdin or not sys.stdin.isatty():
        return None

    def ask(label: str, secret: bool) -> str:
        import getpass

        return getpass.getpass(f"{label}: ") if secret else input(f"{label}: ")

    return ask


# --- what looks like a credential ----------------------------------------------------------
# One place decides, for saving (workbench.core.collection.credentials), traces
# (workbench.core.auth.base), run reports and logs.

# header name -> the kind of credential it carries (beyond the name rules below)
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
# names that only describe a credential (its type, lifetime, where to get it), never hold one
_DESCRIBES = re.compile(
    r"(type|typehint|url|uri|endpoint|expiry|expires|expiresin|expiresat|expiration|ttl|"
    r"lifetime|length|format|hint|name|path|count|method|methods|source|kind|location|policy|"
    r"mode|flow|required|enabled|supported|scheme|schemes|status|result|id|at|date|time|"
    r"version|created|updated|changed)$"
)
# headers about auth that carry no credential (a challenge, CORS)
_NOT_CREDENTIAL_HEADERS = {"www-authenticate", "proxy-authenticate", "authentication-info"}
_PASSWORD_NAMES = {"pass", "pwd", "passwd", "password", "passphrase", "passcode", "pw"}
_KEY_NAMES = {"key", "apikey", "accesskey", "secretkey", "privatekey", "subscriptionkey"}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def secret_kind(name: str, where: str = "field") -> str | None:
    """The kind of credential a header (`where="header"`), query parameter ("query"), form
    field ("form") or JSON field ("field") named `name` holds, or None. Any casing and separator:
    `PASSWORD`, `clientSecret`, `refresh-token`, `Ocp-Apim-Subscription-Key` all count.

    Kinds: auth, proxy_auth, api_key, solution_key, cookie, token, id_token, refresh_token,
    password, client_secret, secret, signature, code."""
    low = name.strip().lower()
    if where == "header" and low in CREDENTIAL_HEADERS:
        return CREDENTIAL_HEADERS[low]
    if where == "header" and (low in _NOT_CREDENTIAL_HEADERS or low.startswith("access-control-")):
        return None
    n = _norm(name)
    if where in ("header", "query", "form") and n in ("sessionid", "sid", "jsessionid"):
        return "secret"  # a session cookie's value is a credential
    if not n or _DESCRIBES.search(n):
        return None
    words = {w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)}
    words |= set(re.split(r"[^a-z0-9]+", low))  # X-pwd, db_pass, x.Pass
    if (
        n in _PASSWORD_NAMES
        or words & _PASSWORD_NAMES
        or "password" in n
        or "passwd" in n
        or "passphrase" in n
    ):
        return "password"
    if "clientsecret" in n:
        return "client_secret"
    if "refreshtoken" in n:
        return "refresh_token"
    if "idtoken" in n:
        return "id_token"
    if "token" in n or n in ("authorization", "bearer", "accesstoken"):
        return "token"
    if "secret" in n or "credential" in n:
        return "secret"
    if n == "key":
        return None if where == "field" else "api_key"
    if "apikey" in n or n in _KEY_NAMES or n.endswith(("accesskey", "secretkey", "privatekey")):
        return "api_key"
    if "signature" in n or n == "sig":
        return "signature"
    if where == "header":
        if low.endswith(("-key", "_key")) or n.endswith("key"):
            return "api_key"
        if "auth" in n or "cookie" in n or "session" in n:
            return "secret"
    if where in ("query", "form") and n in ("code", "session"):
        return "code" if n == "code" else "secret"
    return None


def maybe_secret_name(name: str) -> bool:
    """Names that hold a credential often but not always (`code`, `session`, `auth`, `hash`,
    `nonce`, anything ending in `key`): their value counts when it looks like one."""
    n = _norm(name)
    if not n or _DESCRIBES.search(n):
        return False
    return (
        n in ("code", "session", "sessionid", "sid", "auth", "hash", "hmac", "nonce", "otp")
        or n.endswith(("key", "hash", "hmac", "auth"))
        or n.startswith("auth")
    )


JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_CREDENTIAL_CHARS = re.compile(r"[A-Za-z0-9+/=_.~:-]+")


def looks_like_credential(value: str) -> bool:
    """A JWT, or a long high-entropy run (mixed case and digits, >= 4 bits a character):
    random tokens and keys, not words, ids or UUIDs."""
    value = value.strip()
    if JWT.search(value):
        return True
    if len(value) < 20 or not _CREDENTIAL_CHARS.fullmatch(value):
        return False
    if not (
        re.search(r"[a-z]", value) and re.search(r"[A-Z]", value) and re.search(r"[0-9]", value)
    ):
        return False
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    entropy = -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())
    return entropy >= 4.0


_JSON_STRING_PAIR = re.compile(r'"((?:[^"\\]|\\.){1,200})"\s*:\s*"((?:[^"\\]|\\.)*)"')
# a string value cut off at the end of a text (a truncated answer): `"access_token": "eyJ...`
_JSON_OPEN_TAIL = re.compile(r'"((?:[^"\\]|\\.){1,200})"\s*:\s*"((?:[^"\\]|\\.)*)\Z')
_FORM_PAIR = re.compile(r"(?:^|[?&;\s])([A-Za-z0-9_.\-\[\]]{1,100})=([^&\s\"';]+)")


def credential_values(text: str, names: Iterable[str] = ()) -> list[str]:
    """Credential values found in `text` without parsing it: the strings of JSON fields and
    form / query pairs named like secrets (whatever the casing, even in a cut or broken
    document), and every JWT. `names`: more field names to take (any casing)."""
    import json
    from urllib.parse import unquote_plus

    extra = {n.lower() for n in names}
    found: list[str] = []
    tail = _JSON_OPEN_TAIL.search(text[-100_000:])
    for m in [*_JSON_STRING_PAIR.finditer(text), *([tail] if tail else [])]:
        try:
            key, value = json.loads(f'"{m.group(1)}"'), json.loads(f'"{m.group(2)}"')
        except ValueError:
            continue
        if (
            secret_kind(key, "field")
            or key.lower() in extra
            or (maybe_secret_name(key) and looks_like_credential(value))
        ):
            found.append(value)
    for m in _FORM_PAIR.finditer(text):
        key, value = unquote_plus(m.group(1)), unquote_plus(m.group(2))
        if (
            secret_kind(key, "query")
            or key.lower() in extra
            or (maybe_secret_name(key) and looks_like_credential(value))
        ):
            found.append(value)
    found += JWT.findall(text)
    return [v for v in found if len(v) >= 6 and v != REDACTED and "{{" not in v]


class Redactor:
    """Replaces known secret values (and their common encodings) with a marker, by value:
    whatever the formatting, in a document that does not parse, and a cut prefix of a
    secret at a truncation edge (text that ends, or is followed by "…", inside a secret).

    Every value added is also remembered for the whole process, so the log filter
    (:func:`install_log_filter`) redacts it from library log lines too."""

    EDGE = 8  # the shortest cut prefix of a secret redacted at a truncation edge

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._raw: set[str] = set()
        for s in secrets:
            self.add(s)

    def add(self, value: str | None) -> None:
        if not isinstance(value, str) or len(value) < 4:
            return
        import base64
        import json
        from urllib.parse import quote, quote_plus

        forms = {value, quote(value, safe=""), quote_plus(value)}
        escaped = json.dumps(value, ensure_ascii=False)[1:-1]
        forms |= {escaped, escaped.replace("/", "\\/"), json.dumps(value)[1:-1]}
        b64 = base64.b64encode(value.encode())
        forms |= {b64.decode(), base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")}
        self._values |= {f for f in forms if len(f) >= 4}
        self._raw.add(value)
        if self is not _PROCESS:
            _PROCESS.add(value)

    def add_basic(self, user: str, password: str) -> None:
        """The base64 form of a Basic credential made from these two parts."""
        import base64
        from urllib.parse import quote_plus

        for u, p in ((user, password), (quote_plus(user), quote_plus(password))):
            self.add(base64.b64encode(f"{u}:{p}".encode()).decode())

    def extend(self, other: Redactor) -> None:
        """Every value `other` knows."""
        for value in other._raw:
            self.add(value)

    def learn(self, text: str, names: Iterable[str] = ()) -> None:
        """Add every credential value found in `text` without parsing it (fields and
        parameters named like secrets or in `names`, JWTs): see :func:`credential_values`."""
        for value in credential_values(text, names):
            self.add(value)

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED)
        return self._cut_prefixes(text)

    def truncate(self, text: str, limit: int, tail: str = "…") -> str:
        """`text` redacted, then cut to `limit` characters (with `tail` when cut)."""
        text = self(text)
        if len(text) <= limit:
            return text
        return self._cut_prefixes(text[:limit] + tail)

    def _cut_prefixes(self, text: str) -> str:
        for value in sorted(self._raw, key=len, reverse=True):
            if len(value) <= self.EDGE:
                continue
            head = value[: self.EDGE]
            at = text.find(head)
            while at != -1:
                end = at + self.EDGE
                while end < len(text) and end - at < len(value) and text[end] == value[end - at]:
                    end += 1
                rest = text[end:]
                if end - at < len(value) and (rest == "" or rest.startswith(("…", "..."))):
                    text = text[:at] + REDACTED + rest
                    end = at + len(REDACTED)
                at = text.find(head, end)
        return text

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self._values)


_PROCESS = Redactor()  # every secret any Redactor of this process has seen


def redact_known(text: str) -> str:
    """`text` without any secret value this process knows, nor a credential-named query
    parameter's value, nor a JWT."""
    text = _QUERY_PAIR.sub(_mask_pair, text)
    return JWT.sub(REDACTED, _PROCESS(text))


_QUERY_PAIR = re.compile(r"([?&;])([^=&\s\"'#]{1,100})=([^&\s\"'#]+)")


def _mask_pair(m: re.Match[str]) -> str:
    from urllib.parse import unquote_plus

    key, value = unquote_plus(m.group(2)), unquote_plus(m.group(3))
    if value == REDACTED or not (secret_kind(key, "query") or looks_like_credential(value)):
        return m.group(0)
    return f"{m.group(1)}{m.group(2)}={REDACTED}"


class SecretLogFilter(logging.Filter):
    """Redacts secrets from a library's log records (httpx logs every URL at INFO, and a
    Thinger token may sit in its query: `?authorization=<token>`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's to report
            return True
        clean = redact_known(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install_log_filter(names: Iterable[str] = ("httpx", "httpcore")) -> None:
    """Put :class:`SecretLogFilter` on these loggers (once)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretLogFilter) for f in logger.filters):
            logger.addFilter(SecretLogFilter())
