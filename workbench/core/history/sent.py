"""The request as it went on the wire, with every secret masked BY VALUE before it leaves
the sending code.

:func:`capture_sent` takes the final ``httpx.Request`` (after the session's auth signed it,
after any redirect) and returns a :class:`SentRequest` holding no secret:

- every known secret value (the session's tokens, the profile's resolved secrets, secret
  collection variables: ``secrets``) and its common encodings (URL-encoded, JSON-escaped,
  base64) is replaced wherever it appears: URL, query, header values, body;
- a header value that is ``<scheme> <secret>`` becomes ``•••• (Bearer, 812 chars)``;
- headers named like credentials (Authorization, X-Api-Key, Cookie...) are masked whole
  even when their value is not a known secret, and so is anything that looks like a JWT.

:class:`Masker` is the same masking for other text (the history's response bodies).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from workbench.core.secrets import (
    JWT,
    Redactor,
    credential_values,
    maybe_secret_name,
    secret_kind,
)

if TYPE_CHECKING:
    import httpx

MASK = "••••"
BODY_CAP = 256 * 1024
"""The most request-body bytes a SentRequest keeps (the rest is counted, not kept)."""


# names as credential_values reads them: a JSON key before a string value, a form key
_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.){1,200})"\s*:\s*"')
_FORM_KEY = re.compile(r"(?:^|[?&;\s])([A-Za-z0-9_.\-\[\]]{1,100})=[^&\s\"';]")


_MASKED = re.compile(r"•••• \((?:[^,()]{1,40}, )?\d+ chars\)")


def mask_text(length: int, scheme: str = "") -> str:
    """``•••• (Bearer, 812 chars)`` / ``•••• (40 chars)``."""
    return f"{MASK} ({scheme}, {length} chars)" if scheme else f"{MASK} ({length} chars)"


class Masker:
    """Masks known secret values (and their encodings), JWTs, and values learnt from texts
    (fields named like credentials: :func:`workbench.core.secrets.credential_values`)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._redactor = Redactor()
        for value in secrets:
            self.add(value)

    def add(self, value: str | None) -> None:
        if isinstance(value, str) and len(value) >= 4 and MASK not in value:
            self._redactor.add(value)

    def learn(self, text: str) -> None:
        """Treat every credential-looking value in `text` as a secret from now on.

        The full look (:func:`workbench.core.secrets.credential_values`, a few µs a field)
        only runs when one of the text's distinct field / parameter names could hold a
        credential: a 10 MB listing of 150,000 objects with two plain keys costs two name
        checks, not 300,000 (the history's record of it must not stall the UI)."""
        names = {m.group(1) for m in _JSON_KEY.finditer(text)}
        names |= {m.group(1) for m in _FORM_KEY.finditer(text)}
        escaped = {n for n in names if "\\" in n}  # "pass\u0077ord": decoded as the full look does
        for name in escaped:
            with contextlib.suppress(ValueError):
                names.add(json.loads(f'"{name}"'))
        if JWT.search(text) is None and not any(
            secret_kind(n, "field") or secret_kind(n, "query") or maybe_secret_name(n)
            for n in names
        ):
            return
        for value in credential_values(text):
            self.add(value)

    def _forms(self) -> list[str]:
        return sorted(self._redactor.values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms():
            if form in text:
                text = text.replace(form, mask_text(len(form)))
        return JWT.sub(lambda m: mask_text(len(m.group(0))), text)

    def holds_secret(self, text: str) -> bool:
        return self(text) != text

    def bytes(self, data: bytes) -> bytes:
        """`data` with every known form masked (works on any bytes, text or not)."""
        for form in self._forms():
            raw = form.encode("utf-8", "surrogatepass")
            if raw in data:
                data = data.replace(raw, mask_text(len(form)).encode())
        return re.sub(JWT.pattern.encode(), lambda m: mask_text(len(m.group(0))).encode(), data)

    def header(self, name: str, value: str) -> str:
        """A header value masked: ``•••• (Bearer, 812 chars)`` when it is ``scheme secret``
        with a known secret (or any credential header), else known values masked inside."""
        if _MASKED.fullmatch(value):  # masked already (a second pass)
            return value
        scheme, _, rest = value.partition(" ")
        credential = secret_kind(name, "header") is not None
        if rest and " " not in rest.strip() and (credential or self.holds_secret(rest)):
            return mask_text(len(rest.strip()), scheme)
        if credential and value:
            return mask_text(len(value))
        if value.startswith(("http://", "https://")):  # Location: ...?code=...
            return self.url(value)
        return self(value)

    def pair(self, name: str, value: str) -> str:
        """A query parameter or form field value."""
        if value and secret_kind(name, "query") is not None and not _MASKED.fullmatch(value):
            return mask_text(len(value))
        return self(value)

    def url(self, url: str) -> str:
        """`url` with its userinfo password, secret query values and known secrets masked."""
        from urllib.parse import parse_qsl, quote

        try:
            parts = urlsplit(url)
        except ValueError:
            return self(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, host = netloc.rpartition("@")
            user, sep, password = userinfo.partition(":")
            netloc = f"{user}:{MASK}@{host}" if sep and password else netloc
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = "&".join(
                f"{quote(k, safe='')}={v}" for k, v in ((k, self.pair(k, v)) for k, v in pairs)
            )
        return self(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


@dataclass
class Timings:
    """Milliseconds: ``headers_ms`` until the status line and headers arrived, ``total_ms``
    until the body was read (our clocks); ``httpx_elapsed_ms`` is httpx's own
    ``response.elapsed`` (send to close); ``redirects`` hops followed."""

    headers_ms: float | None = None
    total_ms: float | None = None
    httpx_elapsed_ms: float | None = None
    redirects: int = 0


@dataclass
class SentRequest:
    """The final request as sent, secrets masked (safe to show, store and export)."""

    method: str
    url: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    body_size: int = 0
    """The size of the body sent (``body`` may be cut at BODY_CAP)."""
    body_cut: bool = False
    """True when ``body`` is only the first BODY_CAP bytes (masked) of it."""
    timings: Timings = field(default_factory=Timings)

    @property
    def body_truncated(self) -> bool:
        return self.body_cut

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["body"] = self.body.decode("utf-8", "replace")
        data["query"] = [list(p) for p in self.query]
        data["headers"] = [list(p) for p in self.headers]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SentRequest:
        timings = data.get("timings") or {}
        return cls(
            method=str(data.get("method", "")),
            url=str(data.get("url", "")),
            query=[(str(k), str(v)) for k, v in data.get("query") or []],
            headers=[(str(k), str(v)) for k, v in data.get("headers") or []],
            body=str(data.get("body", "")).encode(),
            body_size=int(data.get("body_size", 0)),
            body_cut=bool(data.get("body_cut", False)),
            timings=Timings(
                **{k: v for k, v in timings.items() if k in Timings.__dataclass_fields__}
            ),
        )

    def lines(self) -> list[str]:
        """The sent request as text lines (for the Sent view and `workbench history show`)."""
        out = [f"{self.method} {self.url}"]
        if self.query:
            out += ["", "Query"] + [f"  {k} = {v}" for k, v in self.query]
        out += ["", "Headers"] + [f"  {k}: {v}" for k, v in self.headers]
        if self.body_size:
            out += ["", f"Body ({self.body_size} bytes{', cut' if self.body_truncated else ''})"]
            out += ["  " + line for line in self.body.decode("utf-8", "replace").splitlines()]
        t = self.timings
        parts = []
        if t.headers_ms is not None:
            parts.append(f"headers after {t.headers_ms:.1f} ms")
        if t.total_ms is not None:
            parts.append(f"body read after {t.total_ms:.1f} ms")
        if t.httpx_elapsed_ms is not None:
            parts.append(f"httpx elapsed {t.httpx_elapsed_ms:.1f} ms")
        if t.redirects:
            parts.append(f"{t.redirects} redirect{'s' if t.redirects != 1 else ''} followed")
        if parts:
            out += ["", "Timings", "  " + " · ".join(parts)]
        return out


def remask(sent: SentRequest, masker: Masker) -> SentRequest:
    """`sent` masked again with what `masker` learnt since (values found in the bodies)."""
    return SentRequest(
        method=sent.method,
        url=masker.url(sent.url),
        query=[(k, masker.pair(k, v)) for k, v in sent.query],
        headers=[(k, masker.header(k, v)) for k, v in sent.headers],
        body=masker.bytes(sent.body),
        body_size=sent.body_size,
        body_cut=sent.body_cut,
        timings=sent.timings,
    )


def capture_sent(
    request: httpx.Request, secrets: Iterable[str] | Masker = (), *, timings: Timings | None = None
) -> SentRequest:
    """`request` (the one actually sent: signed, after redirects) as a SentRequest with every
    secret masked by value (the known ones, and values of credential-named fields in its
    body, which `secrets` learns when it is a Masker). Reads the request, changes nothing."""
    masker = secrets if isinstance(secrets, Masker) else Masker(secrets)
    try:
        content = request.content
    except Exception:  # a streaming body that was not read: its size only
        content = b""
    masker.learn(content[: BODY_CAP + 64 * 1024].decode("utf-8", "replace"))
    url = request.url
    query = [(k, masker.pair(k, v)) for k, v in url.params.multi_items()]
    headers = [(k, masker.header(k, v)) for k, v in request.headers.multi_items()]
    masked = masker.bytes(content[: BODY_CAP + 64 * 1024])  # masked first: no secret cut
    return SentRequest(
        method=request.method,
        url=masker.url(str(url)),
        query=query,
        headers=headers,
        body=masked[:BODY_CAP],
        body_size=len(content),
        body_cut=len(content) > BODY_CAP + 64 * 1024 or len(masked) > BODY_CAP,
        timings=timings or Timings(),
    )
