"""A session: one profile's tokens, kept fresh, and an httpx.Auth that signs requests with them.

- ``login()`` runs the profile's flow (recording an AuthTrace) and stores the tokens.
- ``auth`` (SessionAuth) signs each request the way the platform expects, only for the
  profile's own origins (scheme, host, port) plus the origins the login discovered and
  recorded with the tokens (plgd: the HTTP gateway its hub configuration names;
  ``token_origins()`` lists them for the user), and never over plain http except to
  loopback; a request to any other origin (a redirect hop, say) has every credential the
  flow uses stripped, headers and query parameters alike.
- Before expiry (TokenSet.needs_refresh's early window) the session refreshes; only one
  refresh runs at a time (a second caller waits and reuses its result). A 401 is retried
  exactly once with renewed tokens. A refused refresh (invalid_grant, revoked, reused)
  leads to ONE unattended re-login when the flow can log in without a person, else to
  LoginRequired — never a loop.
- A rotated refresh token is written to the token store before the new access token is
  used.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from workbench.core.auth.base import (
    AuthFlow,
    AuthTrace,
    Exchange,
    Failure,
    FlowContext,
    TokenSet,
    load_flow,
)
from workbench.core.errors import (
    AuthError,
    LoginRequired,
    SecretError,
    StoreError,
    TransportError,
    WorkbenchError,
)
from workbench.core.http import make_async_client, make_client
from workbench.core.profiles import Origin, Profile
from workbench.core.secrets import Prompter, Redactor, SecretResolver
from workbench.core.store import TokenStore
from workbench.core.token_lock import TokenLock

if TYPE_CHECKING:
    from workbench.core.auth.callback import PasteOffer
    from workbench.core.auth.oauth2_device_code import DevicePrompt
    from workbench.core.auth.revocation import Revocation

MAX_TRACES = 50
MAX_RETRY_AFTER = 10.0
_UNSET = object()


def describe_principal(tokens: TokenSet | None) -> str | None:
    """Who these tokens belong to, from the flow's note or the tokens' claims."""
    if tokens is None:
        return None
    given = tokens.extra.get("principal") if isinstance(tokens.extra, dict) else None
    if isinstance(given, str) and given:
        return given
    try:
        from workbench.core.tokens.format import principal
        from workbench.core.tokens.inspect import inspect_token
    except ImportError:  # pragma: no cover - the inspector ships with the package
        return None
    for token in (tokens.id_token, tokens.access_token):
        if not token:
            continue
        try:
            who = principal(inspect_token(token))
        except Exception:
            who = None
        if who:
            return who
    return None


def discovered_origins(tokens: TokenSet | None) -> set[Origin]:
    """Origins a login found besides the profile's own (``extra["discovered_origins"]``: plgd's
    HTTP gateway). Only https, or plain http to loopback, is ever accepted."""
    raw = (
        tokens.extra.get("discovered_origins")
        if tokens and isinstance(tokens.extra, dict)
        else None
    )
    found: set[Origin] = set()
    for value in raw if isinstance(raw, list) else []:
        if not isinstance(value, str):
            continue
        origin = Origin.of(value)
        if origin.host and (
            origin.scheme == "https" or (origin.scheme == "http" and origin.is_loopback)
        ):
            found.add(origin)
    return found


def strip_credentials(request: httpx.Request, names: tuple[str, ...]) -> bool:
    """Remove every header and query parameter named in `names` (case-insensitively).
    True when something was removed."""
    if not names:
        return False
    lowered = {n.lower() for n in names}
    removed = False
    for key in list(request.headers.keys()):
        if key.lower() in lowered:
            del request.headers[key]
            removed = True
    params = request.url.params
    if any(k.lower() in lowered for k in params):
        kept = [(k, v) for k, v in params.multi_items() if k.lower() not in lowered]
        request.url = request.url.copy_with(query=urlencode(kept).encode("ascii") if kept else None)
        removed = True
    return removed


class Session:
    """One profile's login state. Thread-safe; use `auth` with any httpx client."""

    def __init__(
        self,
        profile: Profile,
        *,
        resolver: SecretResolver | None = None,
        store: TokenStore | None = None,
        prompter: Prompter | None = None,
        persist: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.profile = profile
        self.resolver = resolver or SecretResolver(prompter=prompter)
        self.store = store if store is not None else TokenStore()
        self.persist = persist
        self.timeout = timeout
        self.flow: AuthFlow = load_flow(profile)
        self.origins: set[Origin] = profile.origins()
        self.trace: AuthTrace | None = None
        self.traces: list[AuthTrace] = []
        self.store_notes: list[str] = []
        self._tokens: TokenSet | None = None
        self._lock = threading.RLock()  # single flight: one login / refresh at a time
        self._http: httpx.Client | None = None
        self._exchange_listeners: list[Callable[[Exchange], None]] = []
        self._token_listeners: list[Callable[[TokenSet | None], None]] = []
        self._auth: SessionAuth | None = None
        self._discovered_for: object = _UNSET  # the TokenSet _discovered_cache was made from
        self._discovered_cache: set[Origin] = set()
        self.stats = {"logins": 0, "refreshes": 0, "retries_401": 0}
        # why the last renewal (refresh / unattended login) failed; None once tokens are
        # adopted again. `workbench devices` turns one that needs a person into exit 3.
        self.renew_failure: WorkbenchError | None = None

    # --- construction ---------------------------------------------------------------------
    @classmethod
    def restore(
        cls,
        profile: Profile,
        *,
        store: TokenStore | None = None,
        resolver: SecretResolver | None = None,
        prompter: Prompter | None = None,
    ) -> Session | None:
        """A session with the tokens stored for `profile` (same origins), or None."""
        store = store if store is not None else TokenStore()
        tokens = store.get(profile.name, profile.origins(), tls=profile.tls_settings())
        if tokens is None:
            return None
        session = cls(profile, resolver=resolver, store=store, prompter=prompter)
        session._tokens = tokens
        return session

    # --- state ----------------------------------------------------------------------------
    @property
    def tokens(self) -> TokenSet | None:
        return self._tokens

    @property
    def logged_in(self) -> bool:
        return self._tokens is not None

    def on_exchange(self, listener: Callable[[Exchange], None]) -> None:
        """Call `listener` with every auth exchange (login, refresh) as it happens."""
        self._exchange_listeners.append(listener)

    def on_tokens(self, listener: Callable[[TokenSet | None], None]) -> None:
        """Call `listener` whenever the tokens change (login, refresh, logout)."""
        self._token_listeners.append(listener)

    def status(self) -> dict[str, Any]:
        tokens = self._tokens
        spec = self.profile.auth.spec
        remaining = tokens.remaining() if tokens else None
        return {
            "profile": self.profile.name,
            "platform": self.profile.platform,
            "flow": spec.name,
            "flow_label": spec.label,
            "logged_in": tokens is not None,
            "principal": describe_principal(tokens),
            "token_type": tokens.token_type if tokens else None,
            "expires_at": tokens.expires_at if tokens else None,
            "expires_in": int(remaining) if remaining is not None else None,
            "expired": bool(remaining is not None and remaining <= 0),
            "needs_refresh": bool(tokens and tokens.needs_refresh()),
            "has_refresh_token": bool(tokens and tokens.refresh_token),
            "scope": tokens.scope if tokens else None,
            "store": self.store.kind if self.persist else "memory only",
            "sent_to": [o.url for o in sorted_origins(self.token_origins())],
        }

    # --- the HTTP client the flows use ---------------------------------------------------
    def _flow_client(self) -> httpx.Client:
        if self._http is None:
            self._http = make_client(self.profile, timeout=self.timeout)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- traces ---------------------------------------------------------------------------
    def _begin(self, kind: str) -> AuthTrace:
        redactor = Redactor(self.resolver.handed_out)
        if self._tokens is not None:
            for value in self._tokens.secrets():
                redactor.add(value)
        trace = AuthTrace(redactor)
        trace.kind = kind  # type: ignore[attr-defined]
        for listener in self._exchange_listeners:
            trace.subscribe(listener)
        trace.note(f"{kind} with {self.profile.auth.spec.label} for profile '{self.profile.name}'")
        self.trace = trace
        self.traces.append(trace)
        del self.traces[:-MAX_TRACES]
        return trace

    def _context(
        self,
        trace: AuthTrace,
        open_browser: Callable[[str], bool] | None = None,
        show_url: Callable[[str], None] | None = None,
        cancelled: threading.Event | None = None,
        offer_paste: Callable[[PasteOffer], None] | None = None,
        show_device_code: Callable[[DevicePrompt], None] | None = None,
    ) -> FlowContext:
        return FlowContext(
            self.profile,
            self._flow_client(),
            self.resolver,
            trace,
            open_browser=open_browser,
            show_url=show_url,
            cancelled=cancelled,
            offer_paste=offer_paste,
            show_device_code=show_device_code,
        )

    @staticmethod
    def _fail(trace: AuthTrace, err: WorkbenchError) -> None:
        if isinstance(err, AuthError):
            trace.fail(err)
            return
        step = {TransportError: "network", SecretError: "secrets"}.get(type(err), "?")
        trace.failure = Failure(step=step, message=err.message, server_message=None, hint=err.hint)

    def _run(self, trace: AuthTrace, ctx: FlowContext, call: Callable[[], TokenSet]) -> TokenSet:
        """Run a flow step; a 429 the flow did not handle itself is waited out once (<= 10 s)."""
        try:
            try:
                return call()
            except AuthError as err:
                if (
                    err.status != 429
                    or err.rate_limit_handled
                    or self.profile.auth.spec.interactive
                ):
                    raise
                wait = self._retry_after(trace)
                if wait is None or wait > MAX_RETRY_AFTER:
                    hint = (
                        f"wait {wait:.0f} s before trying again"
                        if wait is not None
                        else "wait a minute and try again"
                    )
                    raise AuthError(
                        err.message,
                        step=err.step,
                        status=429,
                        server_message=err.server_message,
                        hint=hint,
                    ) from None
                trace.note(
                    f"rate limited (429); waiting {wait:g} s as Retry-After says, then trying once more"
                )
                if ctx.cancelled.wait(wait):
                    raise AuthError("cancelled", step=err.step) from None
                return call()
        except WorkbenchError as err:
            self._fail(trace, err)
            raise

    @staticmethod
    def _retry_after(trace: AuthTrace) -> float | None:
        from workbench.core.auth.oauth2_common import retry_after_seconds

        for ex in reversed(trace.exchanges):
            if ex.status == 429:
                value = next(
                    (v for k, v in ex.response_headers.items() if k.lower() == "retry-after"), None
                )
                return retry_after_seconds(value)
        return None

    # --- adopting tokens ------------------------------------------------------------------
    def _adopt(self, tokens: TokenSet, trace: AuthTrace | None, *, persist: bool = True) -> None:
        """Persist (first), then make `tokens` the ones requests use."""
        if persist and self.persist:
            try:
                self.store.put(
                    self.profile.name, tokens, self.origins, tls=self.profile.tls_settings()
                )
            except StoreError as err:
                self.store_notes.append(err.describe())
                if trace is not None:
                    trace.note(f"the tokens could not be stored: {err.message}")
            self.store_notes.extend(n for n in self.store.notes if n not in self.store_notes)
        self._tokens = tokens
        self.renew_failure = None
        for listener in list(self._token_listeners):
            listener(tokens)

    def _stored(self) -> TokenSet | None:
        if not self.persist:
            return None
        try:
            return self.store.get(self.profile.name, self.origins, tls=self.profile.tls_settings())
        except StoreError as err:
            self.store_notes.append(err.describe())
            return None

    # --- login / refresh / logout ----------------------------------------------------------
    def login(
        self,
        open_browser: Callable[[str], bool] | None = None,
        show_url: Callable[[str], None] | None = None,
        cancelled: threading.Event | None = None,
        offer_paste: Callable[[PasteOffer], None] | None = None,
        show_device_code: Callable[[DevicePrompt], None] | None = None,
    ) -> TokenSet:
        """Run the profile's flow now (asking for secrets / opening the browser / showing a
        device code as needed; `offer_paste`: a person can paste the browser's redirect URL
        back, see callback.py)."""
        with self._lock:
            return self._login_locked(
                open_browser,
                show_url,
                cancelled,
                offer_paste=offer_paste,
                show_device_code=show_device_code,
            )

    def _login_locked(
        self,
        open_browser: Callable[[str], bool] | None = None,
        show_url: Callable[[str], None] | None = None,
        cancelled: threading.Event | None = None,
        kind: str = "login",
        offer_paste: Callable[[PasteOffer], None] | None = None,
        show_device_code: Callable[[DevicePrompt], None] | None = None,
    ) -> TokenSet:
        trace = self._begin(kind)
        ctx = self._context(
            trace,
            open_browser,
            show_url,
            cancelled,
            offer_paste=offer_paste,
            show_device_code=show_device_code,
        )
        tokens = self._run(trace, ctx, lambda: self.flow.login(ctx))
        self.stats["logins"] += 1
        self._adopt(tokens, trace)
        return tokens

    def ensure_fresh(self) -> TokenSet:
        """Tokens good to use now: refreshed inside the early window, logged in unattended
        when possible; LoginRequired otherwise."""
        tokens = self._tokens
        if tokens is not None and not tokens.needs_refresh():
            return tokens
        return self._renew(tokens)

    def force_refresh(self) -> TokenSet:
        """Renew now, whatever the expiry says."""
        return self._renew(self._tokens, force=True)

    def _renew(self, seen: TokenSet | None, *, force: bool = False) -> TokenSet:
        """Single flight: callers that saw the same tokens wait for one renewal and share it.

        Tokens are compared by identity: every login / refresh makes a new TokenSet, even
        when a server hands out an identical access token twice in one second."""
        with self._lock:
            current = self._tokens
            if current is not None and current is not seen and not current.needs_refresh():
                return current  # someone renewed while we waited
            if current is not None and not force and not current.needs_refresh():
                return current
            try:
                with self._token_lock():
                    return self._renew_shared(current)
            except WorkbenchError as err:
                self.renew_failure = err
                raise

    def _token_lock(self) -> contextlib.AbstractContextManager[object]:
        """The lock between processes around this profile's read-refresh-write (none when
        the session keeps its tokens in memory only)."""
        if not self.persist:
            return contextlib.nullcontext()
        return TokenLock(self.store.path, self.profile.name)

    def _renew_shared(self, current: TokenSet | None) -> TokenSet:
        """Renew while holding the token lock: newer tokens another process stored win."""
        with self._lock:
            stored = self._stored()
            if stored is not None and (current is None or stored.obtained_at > current.obtained_at):
                if not stored.needs_refresh():
                    self._adopt(stored, None, persist=False)  # another process renewed them
                    return stored
                # ours may have been rotated away: refresh from the newest ones
                self._adopt(stored, None, persist=False)
                current = stored
            if current is None:
                if self.flow.can_login_unattended(self.resolver):
                    return self._login_locked(kind="login (unattended)")
                raise LoginRequired(
                    f"not logged in with profile '{self.profile.name}'",
                    step="login",
                    hint=f"log in first: workbench login {self.profile.name}",
                )
            return self._refresh_locked(current)

    def _refresh_locked(self, current: TokenSet) -> TokenSet:
        trace = self._begin("refresh")
        ctx = self._context(trace)
        try:
            new = self._run(trace, ctx, lambda: self.flow.refresh(ctx, current))
        except LoginRequired as err:
            stored = self._stored()
            if (
                stored is not None
                and stored.refresh_token != current.refresh_token
                and stored.obtained_at > current.obtained_at
                and not stored.needs_refresh()
            ):  # rotated meanwhile by a process that did not wait for the lock: use its tokens
                trace.note(
                    "the refresh was refused, but newer tokens were in the store: using them"
                )
                self._adopt(stored, None, persist=False)
                return stored
            if (
                self.persist
                and stored is not None
                and stored.refresh_token == current.refresh_token
            ):  # (under the token lock: never a newer entry)
                try:
                    self.store.delete(self.profile.name, self.origins)
                except StoreError as store_err:
                    self.store_notes.append(store_err.describe())
            self._tokens = None
            for listener in list(self._token_listeners):
                listener(None)
            if self.flow.can_login_unattended(self.resolver):
                trace.note(
                    "the refresh was refused; logging in again once, without asking "
                    "(the profile's secrets are available)"
                )
                return self._login_locked(kind="login (after a refused refresh)")
            raise err
        self.stats["refreshes"] += 1
        self._adopt(
            new, trace
        )  # a rotated refresh token is stored before the new access token is used
        return new

    def renew_after_401(self, used: TokenSet) -> TokenSet | None:
        """New tokens after the server refused `used` (None when renewing cannot help)."""
        with self._lock:
            current = self._tokens
            if current is not None and current is not used:
                return current  # another caller already renewed
            self.stats["retries_401"] += 1
            new = self._renew(used, force=True)
            renewed_over_network = bool(self.trace and self.trace.exchanges)
        if new is used or (new.access_token == used.access_token and not renewed_over_network):
            return None  # e.g. a static token: the same value again would be refused again
        return new

    def revoke(self) -> list[Revocation]:
        """Ask the provider to revoke this profile's tokens (RFC 7009: the refresh token, then
        the access token); one Revocation each, failures in words. The tokens here and in the
        store are left alone: call `logout` after (the logout forgets them either way)."""
        with self._lock:
            tokens = self._tokens or self._stored()
            if tokens is None:
                return []
            trace = self._begin("logout")
            for value in tokens.secrets():
                trace.redactor.add(value)
            ctx = self._context(trace)
            try:
                return self.flow.revoke(ctx, tokens)
            except WorkbenchError as err:  # the flow's own words, never a crash at logout
                self._fail(trace, err)
                from workbench.core.auth.revocation import Revocation

                return [Revocation("tokens", False, f"not revoked: {err.message}")]

    def logout(self) -> bool:
        """Forget the tokens here and in the store. True when the store had some."""
        with self._lock:
            self._tokens = None
            removed = False
            if self.persist:
                removed = self.store.delete(self.profile.name, self.origins)
            for listener in list(self._token_listeners):
                listener(None)
            return removed

    # --- signing ----------------------------------------------------------------------------
    def token_origins(self) -> set[Origin]:
        """Where the token is sent: the profile's origins plus those its login discovered."""
        return self.origins | self._discovered()

    def _discovered(self) -> set[Origin]:
        """discovered_origins() of the current tokens, worked out once per TokenSet (every
        login / refresh makes a new one): it is asked on every request signed."""
        tokens = self._tokens
        if self._discovered_for is not tokens:
            self._discovered_cache = discovered_origins(tokens)
            self._discovered_for = tokens
        return self._discovered_cache

    def _token_goes_to(self, origin: Origin) -> bool:
        return origin in self.origins or origin in self._discovered()

    def may_sign(self, url: httpx.URL | str) -> bool:
        """True when a token of this profile may be attached to a request to `url`."""
        origin = Origin.of(str(url))
        if not self._token_goes_to(origin):
            return False
        return origin.scheme == "https" or (origin.scheme == "http" and origin.is_loopback)

    def _check_target(self, request: httpx.Request) -> bool:
        """Strip credentials from requests that must not carry them; True when signing is allowed."""
        names = self.flow.credential_names()
        if not names:
            return False
        origin = Origin.of(str(request.url))
        if not self._token_goes_to(origin):
            strip_credentials(request, names)
            return False
        if origin.scheme != "https" and not (origin.scheme == "http" and origin.is_loopback):
            strip_credentials(request, names)
            raise AuthError(
                f"refusing to send the token to {origin} over plain {origin.scheme}",
                step="sign",
                hint="use https; plain http is only allowed to this machine (loopback)",
            )
        return True

    def sign(self, request: httpx.Request, tokens: TokenSet | None = None) -> TokenSet | None:
        """Attach credentials to `request` if its origin allows it; returns the tokens used."""
        if not self._check_target(request):
            return None
        tokens = tokens or self.ensure_fresh()
        self.flow.apply(request, tokens)
        return tokens

    async def asign(
        self, request: httpx.Request, tokens: TokenSet | None = None
    ) -> TokenSet | None:
        if not self._check_target(request):
            return None
        if tokens is None:
            current = self._tokens
            if current is not None and not current.needs_refresh():
                tokens = current
            else:
                tokens = await asyncio.to_thread(self.ensure_fresh)
        self.flow.apply(request, tokens)
        return tokens

    @property
    def auth(self) -> SessionAuth:
        if self._auth is None:
            self._auth = SessionAuth(self)
        return self._auth

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx.Client for this profile with the session's auth attached (no automatic
        redirects: use workbench.core.http.send_following_redirects)."""
        kwargs.setdefault("timeout", self.timeout)
        return make_client(self.profile, auth=self.auth, **kwargs)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        kwargs.setdefault("timeout", self.timeout)
        return make_async_client(self.profile, auth=self.auth, **kwargs)


class SessionAuth(httpx.Auth):
    """httpx.Auth over a Session: signs, refreshes early, retries a refused credential exactly once
    (a 401, or what the flow's `auth_failed` recognises, e.g. Ioto's 403)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        used = self.session.sign(request)
        response = yield request
        if used is not None and response.status_code == 403:
            response.read()  # small error body; the flow may need its words (Ioto: token vs Origin)
        if used is not None and self.session.flow.auth_failed(response):
            new = self.session.renew_after_401(used)
            if new is not None and self.session.sign(request, new) is not None:
                yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        used = await self.session.asign(request)
        response = yield request
        if used is not None and response.status_code == 403:
            await response.aread()
        if used is not None and self.session.flow.auth_failed(response):
            new = await asyncio.to_thread(self.session.renew_after_401, used)
            if new is not None and await self.session.asign(request, new) is not None:
                yield request


def sorted_origins(origins: set[Origin]) -> list[Origin]:
    return sorted(origins, key=lambda o: (o.host, o.port, o.scheme))


def sent_to_text(origins: set[Origin]) -> str:
    """ "this token is sent to: https://try.plgd.cloud, https://api.try.plgd.cloud" """
    shown = ", ".join(o.url for o in sorted_origins(origins)) or "nowhere"
    return f"this token is sent to: {shown}"


def expires_text(tokens: TokenSet | None, now: float | None = None) -> str:
    """ "expires in 1 h 59 min" / "expired 3 min ago" / "no expiry" for these tokens."""
    if tokens is None:
        return "not logged in"
    remaining = tokens.remaining(now if now is not None else time.time())
    if remaining is None:
        return "no expiry known"
    try:
        from workbench.core.text import humanize_delta

        return humanize_delta(remaining, future="expires", past="expired")
    except ImportError:  # pragma: no cover
        mins = int(abs(remaining) // 60)
        return f"expires in {mins} min" if remaining > 0 else f"expired {mins} min ago"
