"""What every auth flow shares: the token set it produces, the trace it records, the
context it runs in, and the AuthFlow base class.

A flow is synchronous and uses the `httpx.Client` it is given (`ctx.client`), sending each
exchange through `ctx.send(step, request)` so the trace records it (redacted) and
network errors become `TransportError`. The session (workbench.core.session) calls
`login` / `refresh` and uses `apply` to sign outgoing requests.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.core.errors import AuthError, ResponseError, TransportError
from workbench.core.secrets import REDACTED, Redactor, SecretResolver, secret_kind
from workbench.core.text import escape_keep_newlines

if TYPE_CHECKING:
    import httpx

    from workbench.core.auth.callback import PasteOffer
    from workbench.core.auth.oauth2_device_code import DevicePrompt
    from workbench.core.auth.revocation import Revocation
    from workbench.core.profiles import Profile

SENSITIVE_HEADERS = {
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "solution-key",
    "x-api-key",
    "x-amz-security-token",
}
SENSITIVE_FIELDS = {
    "password",
    "client_secret",
    "refresh_token",
    "access_token",
    "id_token",
    "token",
    "refreshtoken",
    "code",
    "code_verifier",
    "device_code",
    "accesstoken",
    "idtoken",
    "basic_token",
    "data",
    "at",
    "client_assertion",
}
MAX_TRACE_BODY = 4096


@dataclass
class TokenSet:
    """The result of a login or refresh."""

    access_token: str
    token_type: str = "Bearer"
    expires_at: float | None = None  # epoch seconds; None = unknown / never
    refresh_token: str | None = None
    id_token: str | None = None
    scope: str | None = None
    obtained_at: float = field(default_factory=time.time)
    extra: dict[str, Any] = field(default_factory=dict)  # flow-specific (e.g. ioto origin/prefix)

    def __post_init__(self) -> None:
        # whatever a flow computed from a server's answer: a non-finite or absurd expiry
        # (NaN, inf, now + 1e308) is "unknown", never arithmetic or a stored value
        from workbench.core.auth.token_response import sane_timestamp

        if self.expires_at is not None and not sane_timestamp(self.expires_at):
            self.expires_at = None

    def remaining(self, now: float | None = None) -> float | None:
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)

    @property
    def lifetime(self) -> float | None:
        return None if self.expires_at is None else self.expires_at - self.obtained_at

    def needs_refresh(self, now: float | None = None) -> bool:
        """True inside the early window: the last 10% of the lifetime, at least 30 s, at most 5 min."""
        remaining = self.remaining(now)
        if remaining is None:
            return False
        lifetime = self.lifetime or 0
        window = min(300.0, max(30.0, 0.1 * lifetime))
        if lifetime and window >= lifetime:
            window = lifetime / 2
        return remaining <= window

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenSet:
        """Raises ValueError for an entry no valid login could have made (see token_response)."""
        from workbench.core.auth.token_response import stored_tokens_problem

        problem = stored_tokens_problem(data)
        if problem is not None:
            raise ValueError(f"stored tokens unusable: {problem}")
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    @classmethod
    def from_oauth(
        cls, body: dict[str, Any], *, now: float | None = None, previous_refresh: str | None = None
    ) -> TokenSet:
        """From a standard OAuth2 token response."""
        from workbench.core.auth.token_response import expires_in_seconds

        now = time.time() if now is None else now
        expires_in = expires_in_seconds(body.get("expires_in"))  # None unless finite, 1 s..10 y
        expires_at = now + expires_in if expires_in is not None else None
        return cls(
            access_token=str(body["access_token"]),
            token_type=str(body.get("token_type") or "Bearer"),
            expires_at=expires_at,
            refresh_token=body.get("refresh_token") or previous_refresh,
            id_token=body.get("id_token"),
            scope=body.get("scope"),
            obtained_at=now,
        )

    def secrets(self) -> list[str]:
        return [s for s in (self.access_token, self.refresh_token, self.id_token) if s]


@dataclass
class Exchange:
    """One HTTP exchange of an auth flow, already redacted."""

    step: str
    method: str
    url: str
    status: int | None
    elapsed_ms: float
    request_headers: dict[str, str]
    request_body: str
    response_headers: dict[str, str]
    response_body: str
    error: str | None = None
    started_at: float = field(default_factory=time.time)


@dataclass
class Failure:
    step: str
    message: str  # our words
    server_message: str | None
    hint: str | None


def _sensitive_field(key: str) -> bool:
    return (
        key.lower().replace("-", "_") in SENSITIVE_FIELDS or secret_kind(key, "query") is not None
    )


def _redact_mapping_text(text: str, redactor: Redactor) -> str:
    """Every known secret value, then secret-looking fields of a JSON or form body."""
    text = redactor(text)
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(stripped)
        except ValueError:
            return text
        return json.dumps(_redact_json(data), ensure_ascii=False)
    if "=" in text and "\n" not in stripped and " " not in stripped:
        from urllib.parse import parse_qsl, quote_plus

        pairs = parse_qsl(stripped, keep_blank_values=True)
        if pairs:  # the marker stays readable (not percent-encoded)
            return "&".join(
                f"{quote_plus(k)}=" + (REDACTED if _sensitive_field(k) and v else quote_plus(v))
                for k, v in pairs
            )
    return text


def _redact_json(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            k: (REDACTED if _sensitive_field(k) and isinstance(v, str) and v else _redact_json(v))
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_redact_json(v) for v in data]
    return data


class AuthTrace:
    """The redacted record of a login / refresh: every exchange, and the failure if any.

    Redaction does not depend on parsing: every credential value an exchange carries (a
    field or parameter named like a secret, a JWT, a credential header) is learnt by the
    redactor before anything is recorded, and every text is redacted by value before it is
    cut to MAX_TRACE_BODY, so a token response too long to parse is still redacted.

    Listeners (e.g. the TUI's auth timeline) are called with each Exchange as it happens
    (from the flow's thread)."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.redactor = redactor or Redactor()
        self.exchanges: list[Exchange] = []
        self.failure: Failure | None = None
        self.notes: list[str] = []
        self._listeners: list[Callable[[Exchange], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[[Exchange], None]) -> None:
        self._listeners.append(listener)

    def note(self, text: str) -> None:
        self.notes.append(escape_keep_newlines(self.redactor(text)))

    @staticmethod
    def _secret_header(name: str) -> bool:
        return name.lower() in SENSITIVE_HEADERS or secret_kind(name, "header") is not None

    def learn_headers(self, headers: Any) -> None:
        """Remember the credential in every secret-named header (without its scheme word)."""
        for k, v in headers.items():
            if self._secret_header(k) and v:
                self.redactor.add(v)
                m = re.fullmatch(r"\s*[A-Za-z][A-Za-z0-9_-]*\s+(\S+)\s*", v)  # Scheme <credential>
                if m:
                    self.redactor.add(m.group(1))

    def headers(self, headers: Any) -> dict[str, str]:
        out: dict[str, str] = {}
        for k, v in headers.items():
            if self._secret_header(k):
                scheme = v.split(" ", 1)[0] if " " in v else ""
                out[k] = f"{scheme} {REDACTED}".strip()
            else:
                out[k] = escape_keep_newlines(self.redactor(v))
        return out

    def _text(self, raw: bytes | str | None) -> str:
        if not raw:
            return ""
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw

    def body(self, raw: bytes | str | None) -> str:
        """A body redacted by value and by field, then cut to MAX_TRACE_BODY characters."""
        text = self._text(raw)
        if not text:
            return ""
        self.redactor.learn(text, SENSITIVE_FIELDS)
        full = len(text)
        text = _redact_mapping_text(text, self.redactor)
        if len(text) > MAX_TRACE_BODY:
            text = self.redactor.truncate(text, MAX_TRACE_BODY, f"… ({full} chars)")
        return escape_keep_newlines(text)

    def record(
        self,
        step: str,
        request: httpx.Request,
        response: httpx.Response | None,
        elapsed: float,
        error: str | None = None,
    ) -> Exchange:
        body = request.content if hasattr(request, "_content") else b""
        # learn every credential of the exchange first: the request's, then the answer's
        self.learn_headers(request.headers)
        self.redactor.learn(str(request.url))
        self.redactor.learn(self._text(body), SENSITIVE_FIELDS)
        if response is not None:
            self.learn_headers(response.headers)
            if hasattr(response, "_content"):
                self.redactor.learn(self._text(response.content), SENSITIVE_FIELDS)
        ex = Exchange(
            step=step,
            method=request.method,
            url=escape_keep_newlines(self.redactor(str(request.url))),
            status=response.status_code if response is not None else None,
            elapsed_ms=round(elapsed * 1000, 1),
            request_headers=self.headers(request.headers),
            request_body=self.body(body),
            response_headers=self.headers(response.headers) if response is not None else {},
            response_body=(
                self.body(response.content)
                if response is not None and hasattr(response, "_content")
                else ""
            ),
            error=escape_keep_newlines(self.redactor(error)) if error else None,
        )
        with self._lock:
            self.exchanges.append(ex)
        for listener in list(self._listeners):
            listener(ex)
        return ex

    def fail(self, err: AuthError) -> None:
        self.failure = Failure(
            step=err.step or "?",
            message=self.redactor(err.message),
            server_message=self.redactor(err.server_message) if err.server_message else None,
            hint=self.redactor(err.hint) if err.hint else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "exchanges": [asdict(e) for e in self.exchanges],
            "failure": asdict(self.failure) if self.failure else None,
            "notes": list(self.notes),
        }


def server_message(response: httpx.Response) -> str | None:
    """The server's own words from an error response, whatever its shape, made safe to print."""
    text = response.text.strip() if response.content else ""
    if not text:
        return None
    msg: Any = None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            msg = err.get("message")
        elif isinstance(err, str):
            msg = err + (f": {data['error_description']}" if data.get("error_description") else "")
        msg = msg or data.get("message") or data.get("err") or data.get("__type")
        if data.get("__type") and data.get("message"):
            msg = f"{data['__type']}: {data['message']}"
    if msg is None:
        if text.lstrip().lower().startswith(("<!doctype", "<html")):
            msg = "an HTML page (not an API answer)"
        else:
            msg = text[:300]
    return escape_keep_newlines(str(msg))


class FlowContext:
    """What a flow needs to run: the profile, an HTTP client, secrets, the trace, and the
    interactive hooks (for the browser flow and the device flow): ``show_device_code`` (the
    device flow's display, RFC 8628), ``open_browser`` (True when a browser opened),
    ``show_url`` (someone sees the URL and can open it) and ``offer_paste`` (someone can paste
    the redirect URL back: callback.py's PasteOffer). With none of them that can reach a
    person, the browser flow fails at once instead of waiting for a callback."""

    def __init__(
        self,
        profile: Profile,
        client: httpx.Client,
        resolver: SecretResolver,
        trace: AuthTrace,
        *,
        open_browser: Callable[[str], bool] | None = None,
        show_url: Callable[[str], None] | None = None,
        cancelled: threading.Event | None = None,
        offer_paste: Callable[[PasteOffer], None] | None = None,
        show_device_code: Callable[[DevicePrompt], None] | None = None,
    ) -> None:
        self.profile = profile
        self.client = client
        self.resolver = resolver
        self.trace = trace
        self.open_browser = open_browser
        self.show_url = show_url
        self.offer_paste = offer_paste
        self.cancelled = cancelled or threading.Event()
        self.show_device_code = show_device_code  # the device flow's display (RFC 8628)

    def param(self, name: str, default: Any = None) -> Any:
        return self.profile.auth.params.get(name, default)

    def secret(self, name: str, required: bool = True) -> str | None:
        """A parameter that may be a literal (kind str) or a reference (kind str/secret)."""
        ref = self.profile.auth.secrets.get(name)
        if ref is not None:
            value = self.resolver.resolve(ref) if required else self.resolver.peek(ref)
        else:
            value = self.profile.auth.params.get(name)
        if value and ref is not None:
            self.trace.redactor.add(value)
        return value

    def send(self, step: str, request: httpx.Request) -> httpx.Response:
        """Send one exchange of the flow, recording it in the trace."""
        import httpx

        if self.cancelled.is_set():
            raise AuthError("login cancelled", step=step)
        start = time.perf_counter()
        try:
            response = self.client.send(request)
        except httpx.TimeoutException as exc:
            self.trace.record(step, request, None, time.perf_counter() - start, f"timeout: {exc}")
            raise AuthError(
                f"the {step} step timed out",
                step=step,
                hint="the server did not answer in time; check the URL or try again",
            ) from None
        except httpx.HTTPError as exc:
            self.trace.record(
                step, request, None, time.perf_counter() - start, f"{type(exc).__name__}: {exc}"
            )
            from workbench.core.http import transport_error

            err = transport_error(exc, request.url)
            raise TransportError(
                f"the {step} step could not reach {request.url.host}: {err.message}", hint=err.hint
            ) from None
        self.trace.record(step, request, response, time.perf_counter() - start)
        return response

    def json_of(self, step: str, response: httpx.Response) -> Any:
        """Parse a JSON answer, or explain what came instead."""
        try:
            return response.json()
        except ValueError:
            what = server_message(response) or "an empty body"
            raise AuthError(
                f"the {step} step got an answer that is not JSON ({what})",
                step=step,
                status=response.status_code,
                hint="is the URL right? a proxy or maintenance page may be answering",
            ) from None


class AuthFlow:
    """Base class of every flow. Subclasses implement `login`, maybe `refresh` and `apply`."""

    name = "none"
    can_refresh = False

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    def login(self, ctx: FlowContext) -> TokenSet:
        raise NotImplementedError

    def refresh(self, ctx: FlowContext, tokens: TokenSet) -> TokenSet:
        """Renew `tokens`. Raise LoginRequired when only a new login can help."""
        return self.login(ctx)

    def revoke(self, ctx: FlowContext, tokens: TokenSet) -> list[Revocation]:
        """Ask the provider to revoke `tokens` (RFC 7009); [] when the flow has no such thing."""
        return []

    def can_login_unattended(self, resolver: SecretResolver) -> bool:
        """True when `login` needs no person (all secrets resolvable without prompting, no browser)."""
        spec = self.profile.auth.spec
        if spec.interactive:
            return False
        return all(
            resolver.peek(ref)
            for ref in self.profile.auth.secrets.values()
            if spec.params.get(ref.name) and spec.params[ref.name].required
        )

    def apply(self, request: httpx.Request, tokens: TokenSet) -> None:
        """Sign `request` with `tokens` (default: `Authorization: <token_type> <access_token>`)."""
        scheme = "Bearer" if tokens.token_type.lower() == "bearer" else tokens.token_type
        request.headers["Authorization"] = f"{scheme} {tokens.access_token}"

    def auth_failed(self, response: httpx.Response) -> bool:
        """True when an API answer means the credential was refused (worth one renewal and retry)."""
        return response.status_code == 401

    def credential_names(self) -> tuple[str, ...]:
        """Header names / query parameters this flow puts credentials in (stripped cross-origin)."""
        return ("authorization",)


def load_flow(profile: Profile) -> AuthFlow:
    """Instantiate the flow class a profile names (module from the registry; class `Flow`)."""
    import importlib

    spec = profile.auth.spec
    module = importlib.import_module(spec.module)
    factory = getattr(module, "flow_for", None)
    cls: type[AuthFlow] = factory(spec.name) if factory else module.Flow
    return cls(profile)


def require_json_object(ctx: FlowContext, step: str, response: httpx.Response) -> dict[str, Any]:
    data = ctx.json_of(step, response)
    if not isinstance(data, dict):
        raise ResponseError(
            f"the {step} step expected a JSON object, got {type(data).__name__}",
            status=response.status_code,
        )
    return data
