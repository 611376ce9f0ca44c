"""Requests as data (RequestSpec), `{{variable}}` rendering, sending, and what came back.

RequestSpec is what the composer edits, what a collection stores and what a device-tree
node carries ("the request that fetched it"). It never holds credentials: the session's
auth signs it at send time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from workbench.core.errors import ResponseError, TransportError
from workbench.core.templating import render, variables_in

if TYPE_CHECKING:
    import httpx

BODY_KINDS = ("none", "json", "text", "form", "multipart")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass(frozen=True, slots=True)
class BodyPart:
    """One part of a multipart/form-data body: a text field (``value``) or a file
    (``file``: a path; read when the request is built), with an optional Content-Type
    and file name (default: the file's own name)."""

    name: str
    value: str | None = None
    file: str | None = None
    content_type: str | None = None
    filename: str | None = None


@dataclass(slots=True)  # many thousands live in a device tree
class RequestSpec:
    method: str = "GET"
    url: str = ""
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body_kind: str = "none"  # none | json | text | form
    body: str = ""  # raw text for json/text
    form: list[tuple[str, str]] = field(default_factory=list)  # for form bodies
    name: str = ""
    deadline: float | None = None  # seconds for this request; None: the profile's [limits]
    parts: list[BodyPart] = field(default_factory=list)  # for multipart bodies

    def variables(self) -> list[str]:
        texts = [
            self.url,
            self.body,
            *(v for _, v in self.params),
            *(v for _, v in self.headers),
            *(v for _, v in self.form),
            *(t for p in self.parts for t in (p.value, p.file) if t),
        ]
        return list(dict.fromkeys(n for t in texts for n in variables_in(t)))

    def render(self, variables: Mapping[str, object]) -> RequestSpec:
        """A copy with every {{name}} replaced; KeyError lists the unknown names."""

        def r(text: str) -> str:
            return render(text, variables)

        return replace(
            self,
            url=r(self.url),
            params=[(r(k), r(v)) for k, v in self.params],
            headers=[(r(k), r(v)) for k, v in self.headers],
            body=r(self.body),
            form=[(r(k), r(v)) for k, v in self.form],
            parts=[
                replace(
                    p,
                    value=None if p.value is None else r(p.value),
                    file=None if p.file is None else r(p.file),
                )
                for p in self.parts
            ],
        )

    def json_error(self) -> str | None:
        """For JSON bodies: None when valid, else where it is wrong (for validate-as-you-type)."""
        if self.body_kind != "json" or not self.body.strip():
            return None
        try:
            json.loads(self.body)
        except json.JSONDecodeError as exc:
            return f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        return None

    def to_httpx(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        headers = list(self.headers)
        kwargs: dict[str, Any] = {}
        names = {k.lower() for k, _ in headers}
        if self.body_kind == "json" and self.body.strip():
            kwargs["content"] = self.body.encode()
            if "content-type" not in names:
                headers.append(("Content-Type", "application/json"))
        elif self.body_kind == "text" and self.body:
            kwargs["content"] = self.body.encode()
            if "content-type" not in names:
                headers.append(("Content-Type", "text/plain; charset=utf-8"))
        elif self.body_kind == "form":
            kwargs["data"] = dict(self.form)
        elif self.body_kind == "multipart" and self.parts:
            from workbench.core.bodies.prepare import multipart_files

            kwargs["files"] = multipart_files(self.parts)
            # httpx writes Content-Type with the boundary; a given one has none
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
        request = client.build_request(
            self.method.upper(),
            self.url,
            params=tuple(self.params) or None,
            headers=headers,
            **kwargs,
        )
        if self.deadline is not None:
            from workbench.core.http_limits import with_deadline

            with_deadline(request, self.deadline)
        return request


@dataclass
class ResponseRecord:
    status: int
    reason: str
    http_version: str
    url: str
    method: str
    headers: list[tuple[str, str]]
    body: bytes
    elapsed_ms: float
    started_at: float = field(default_factory=time.time)

    @property
    def content_type(self) -> str:
        for k, v in self.headers:
            if k.lower() == "content-type":
                return v
        return ""

    @property
    def size(self) -> int:
        return len(self.body)

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ResponseError(f"the body is not JSON ({exc})", status=self.status) from None

    @classmethod
    def from_httpx(cls, response: httpx.Response, elapsed: float) -> ResponseRecord:
        return cls(
            status=response.status_code,
            reason=response.reason_phrase,
            http_version=response.http_version,
            url=str(response.request.url),
            method=response.request.method,
            headers=list(response.headers.multi_items()),
            body=response.content,
            elapsed_ms=round(elapsed * 1000, 1),
        )


def _transport_error(exc: Exception, url: str) -> TransportError:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return TransportError(
            f"timed out waiting for {url}",
            hint="the server is slow or unreachable; try again or raise the timeout",
        )
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return TransportError(
                f"the server's TLS certificate could not be verified ({url})",
                hint="give the CA in the profile's [tls] ca_bundle",
            )
        return TransportError(
            f"cannot connect to {url}: {text or type(exc).__name__}",
            hint="check the URL; is the server running?",
        )
    if isinstance(exc, httpx.RemoteProtocolError):
        return TransportError(
            f"the connection to {url} broke mid-answer: {exc}",
            hint="the server closed the connection or sent a truncated body; try again",
        )
    return TransportError(f"request to {url} failed: {type(exc).__name__}: {exc}")


def build(client: httpx.Client | httpx.AsyncClient, spec: RequestSpec) -> httpx.Request:
    """`spec` as an httpx request; TransportError (nothing sent) when its URL or headers
    cannot be one (``http://[::1``, port 99999, a lone surrogate...)."""
    import httpx

    try:
        return spec.to_httpx(client)
    except (httpx.InvalidURL, UnicodeError, ValueError, TypeError) as exc:
        shown = spec.url if len(spec.url) <= 200 else spec.url[:200] + "..."
        raise TransportError(
            f"the request could not be built, nothing was sent: {exc} ({shown!r})",
            hint="check the URL (scheme, host, port 1-65535) and the header names",
        ) from None


def send(
    client: httpx.Client,
    spec: RequestSpec,
    *,
    auth: Any = None,
    extensions: Mapping[str, Any] | None = None,
) -> ResponseRecord:
    """Send an already-rendered spec with a sync client (redirects followed safely by the
    client's policy). `extensions` are put on the httpx request (and every redirect hop):
    e.g. what secrets it carries (workbench.core.secret_binding)."""
    import httpx

    request = build(client, spec)
    request.extensions.update(extensions or {})
    start = time.perf_counter()
    try:
        response = _send_with_redirects(client, request, auth)
    except httpx.HTTPError as exc:
        raise _transport_error(exc, str(request.url)) from None
    return ResponseRecord.from_httpx(response, time.perf_counter() - start)


async def send_async(
    client: httpx.AsyncClient,
    spec: RequestSpec,
    *,
    auth: Any = None,
    extensions: Mapping[str, Any] | None = None,
) -> ResponseRecord:
    import httpx

    request = build(client, spec)
    request.extensions.update(extensions or {})
    start = time.perf_counter()
    try:
        response = await _send_with_redirects_async(client, request, auth)
    except httpx.HTTPError as exc:
        raise _transport_error(exc, str(request.url)) from None
    return ResponseRecord.from_httpx(response, time.perf_counter() - start)


def _send_with_redirects(client: httpx.Client, request: httpx.Request, auth: Any) -> httpx.Response:
    try:
        from workbench.core.http import send_following_redirects
    except ImportError:  # pragma: no cover - during bootstrap
        return client.send(request, auth=auth) if auth is not None else client.send(request)
    return send_following_redirects(client, request, auth=auth)


async def _send_with_redirects_async(
    client: httpx.AsyncClient, request: httpx.Request, auth: Any
) -> httpx.Response:
    try:
        from workbench.core.http import asend_following_redirects
    except ImportError:  # pragma: no cover - during bootstrap
        return await (client.send(request, auth=auth) if auth is not None else client.send(request))
    return await asend_following_redirects(client, request, auth=auth)
