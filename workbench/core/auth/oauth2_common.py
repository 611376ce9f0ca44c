"""What the OAuth2 flows share: endpoints (given, or found by OIDC discovery), client
authentication at the token endpoint, the token request itself, and error answers in words.

Client authentication (``client_auth``):
  basic  ``Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`` (RFC 6749
         §2.3.1: both parts form-urlencoded BEFORE base64), client_id also in the form
  post   ``client_id`` and ``client_secret`` in the form body
  none   a public client: ``client_id`` only
  private_key_jwt / client_secret_jwt
         a signed client assertion (RFC 7523; client_assertion.py), client_id also in the form

RFC 8707 resource indicators (``resource``, one or more) go on the authorization request
and on every token request; ``authorize_params`` adds parameters to the authorization
request (prompt, max_age, login_hint, acr_values, ...). RFC 7009 revocation: revocation.py.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlsplit

from workbench.core.auth.base import AuthFlow, FlowContext, TokenSet, server_message
from workbench.core.auth.token_response import checked_token_response
from workbench.core.errors import AuthError, LoginRequired
from workbench.core.text import escape_keep_newlines

if TYPE_CHECKING:
    import httpx

    from workbench.core.auth.revocation import Revocation
    from workbench.core.profiles import Profile

MAX_RETRY_AFTER = 10.0  # seconds we are willing to wait for a 429 before retrying once
FORM = "application/x-www-form-urlencoded"

GRANT_WORDS = {
    "password": "password (legacy)",
    "client_credentials": "client credentials",
    "authorization_code": "authorization code",
    "refresh_token": "refresh token",
}


def is_loopback(host: str) -> bool:
    from workbench.core.profiles import is_loopback_host

    return is_loopback_host(host)


def ensure_secure(url: str, what: str) -> None:
    """Credentials go over https, or plain http only to loopback."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return
    raise AuthError(
        f"refusing to send credentials to the {what} over {parts.scheme or 'a non-http'} "
        f"({escape_keep_newlines(url)})",
        step="config",
        hint="use an https URL; plain http is only allowed to this machine (loopback)",
    )


def basic_credentials(client_id: str, client_secret: str) -> str:
    """The value of an RFC 6749 §2.3.1 client_secret_basic Authorization header."""
    raw = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(raw.encode("utf-8")).decode("ascii")


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class Endpoints:
    token_url: str
    authorization_url: str | None = None
    issuer: str | None = None
    userinfo_url: str | None = None
    jwks_uri: str | None = None


# --- error answers -----------------------------------------------------------------------


def _error_code(response: httpx.Response) -> tuple[str | None, Any]:
    try:
        data = json.loads(response.text) if response.content else None
    except ValueError:
        return None, None
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, str):
            return err, data
        if isinstance(err, dict) and isinstance(err.get("code"), str):
            return err["code"], data
    return None, data


def _hint(code: str | None, grant: str, status: int, flow: AuthFlow) -> str:
    mode = flow.profile.auth.params.get("client_auth")
    client_words = "check the client id and secret"
    if mode == "private_key_jwt":
        client_words = (
            "check the client id, and that the provider holds this key's public half for the "
            "client (kid, algorithm)"
        )
    elif mode:
        other = {"basic": "post", "post": "basic"}.get(mode)
        client_words += f' (sent with client_auth = "{mode}"' + (
            f'; if they are right, the server may want "{other}")' if other else ")"
        )
    if code == "invalid_client" or (
        code is None and status == 401 and grant == "client_credentials"
    ):
        return client_words
    if code in ("invalid_grant", None) and grant == "password" and status in (400, 401, 403):
        return "check the username and password"
    if code == "invalid_grant" and grant == "authorization_code":
        return (
            "the authorization code was refused: it expired or was used already, the redirect_uri "
            "differs, or the PKCE code_verifier did not match the challenge; log in again"
        )
    if code == "invalid_grant" and grant == "client_credentials":
        return "the server refused the grant; check the client's settings at the provider"
    if code == "invalid_scope":
        scope = flow.profile.auth.params.get("scope")
        return (
            f"the server refused the scope '{scope}': check `scope` in the profile"
            if scope
            else "the server wants a scope: add `scope` to the profile"
        )
    if code == "unsupported_grant_type":
        return (
            f"this server does not offer the {GRANT_WORDS.get(grant, grant)} grant: "
            "check the flow in the profile"
        )
    if code == "unauthorized_client":
        return (
            f"this client may not use the {GRANT_WORDS.get(grant, grant)} grant: "
            "check the client's settings at the provider"
        )
    if code == "invalid_request":
        return "the server found the request malformed: check the profile's auth parameters"
    if code == "access_denied":
        return "access was denied; check the account's permissions"
    if code in ("server_error", "temporarily_unavailable") or status >= 500:
        return "the server had a problem; try again later"
    if status == 404:
        return "the token URL was not found: check token_url / issuer in the profile"
    if status in (405, 501):
        return "this URL does not take a POST: is token_url really the token endpoint?"
    return "check the profile's auth settings and the server's message"


def token_error(flow: AuthFlow, step: str, grant: str, response: httpx.Response) -> AuthError:
    """An AuthError (or LoginRequired for a refused refresh) for a failed token request."""
    status = response.status_code
    code, _ = _error_code(response)
    said = server_message(response)
    host = response.request.url.host if response.request is not None else "the server"
    what = f"HTTP {status}" + (f", {escape_keep_newlines(code)}" if code else "")
    ctype = response.headers.get("content-type", "")
    if said == "an HTML page (not an API answer)" or "text/html" in ctype:
        return AuthError(
            f"the {step} step got an HTML page from {host} ({what}), not an OAuth answer",
            step=step,
            status=status,
            server_message=said,
            hint="is the token URL right? a login page, proxy or maintenance page is answering",
        )
    if (
        grant == "refresh_token"
        and status in (400, 401, 403)
        and code in (None, "invalid_grant", "invalid_token")
    ):
        return LoginRequired(
            f"the refresh token was refused by {host} ({what})",
            step=step,
            status=status,
            server_message=said,
            hint="it expired, was revoked or was already used: log in again",
        )
    return AuthError(
        f"the {step} step was refused by {host} ({what})",
        step=step,
        status=status,
        server_message=said,
        hint=_hint(code, grant, status, flow),
    )


# --- the base of the OAuth2 flows --------------------------------------------------------


class OAuth2Flow(AuthFlow):
    """Base of the OAuth2 flows: endpoints, client auth, the token request."""

    can_refresh = True
    grant = ""
    checks_id_token = False  # the flows a person logs in with: their ID tokens are checked

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)
        self._metadata: dict[str, Any] | None = None

    # endpoints
    def discover(self, ctx: FlowContext) -> dict[str, Any]:
        """OpenID Connect discovery from `issuer`; the answer's issuer must match exactly."""
        if self._metadata is not None:
            return self._metadata
        issuer = ctx.param("issuer")
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        request = ctx.client.build_request("GET", url, headers={"Accept": "application/json"})
        response = ctx.send("discovery", request)
        if response.status_code != 200:
            raise AuthError(
                f"OpenID Connect discovery failed at {escape_keep_newlines(url)} (HTTP {response.status_code})",
                step="discovery",
                status=response.status_code,
                server_message=server_message(response),
                hint="check `issuer` in the profile: the provider's metadata should be at "
                "<issuer>/.well-known/openid-configuration",
            )
        try:
            data = response.json()
        except ValueError:
            raise AuthError(
                "OpenID Connect discovery did not answer JSON",
                step="discovery",
                status=response.status_code,
                server_message=server_message(response),
                hint="check `issuer` in the profile; an HTML or proxy page answered",
            ) from None
        if not isinstance(data, dict):
            raise AuthError(
                "OpenID Connect discovery answered something that is not a JSON object",
                step="discovery",
                status=response.status_code,
                hint="check `issuer` in the profile",
            )
        found = data.get("issuer")
        if found != issuer:
            raise AuthError(
                f"the provider calls itself '{escape_keep_newlines(str(found))}', not '{issuer}'",
                step="discovery",
                status=response.status_code,
                hint="OpenID Connect requires the issuer to match exactly (scheme, host, port, path, "
                "trailing slash): copy the provider's issuer into the profile",
            )
        self._metadata = data
        return data

    def endpoints(self, ctx: FlowContext, *, need_authorization: bool = False) -> Endpoints:
        token_url = ctx.param("token_url")
        authorization_url = ctx.param("authorization_url")
        issuer = ctx.param("issuer")
        meta: dict[str, Any] = {}
        if issuer and (not token_url or (need_authorization and not authorization_url)):
            meta = self.discover(ctx)
        token_url = token_url or meta.get("token_endpoint")
        authorization_url = authorization_url or meta.get("authorization_endpoint")
        if not isinstance(token_url, str) or not token_url:
            raise AuthError(
                "no token endpoint: the profile has no token_url and discovery named none",
                step="discovery",
                hint="add token_url to the profile's [auth]",
            )
        ensure_secure(token_url, "token endpoint")
        if need_authorization:
            if not isinstance(authorization_url, str) or not authorization_url:
                raise AuthError(
                    "no authorization endpoint: the profile has no authorization_url and "
                    "discovery named none",
                    step="discovery",
                    hint="add authorization_url (or issuer) to the profile's [auth]",
                )
            ensure_secure(authorization_url, "authorization endpoint")
        return Endpoints(
            token_url=token_url,
            authorization_url=authorization_url,
            issuer=issuer,
            userinfo_url=meta.get("userinfo_endpoint"),
            jwks_uri=meta.get("jwks_uri"),
        )

    # client authentication
    def client_auth_mode(self, ctx: FlowContext) -> str:
        spec_default = self.profile.auth.spec.params.get("client_auth")
        return str(ctx.param("client_auth", spec_default.default if spec_default else "none"))

    def add_client_auth(
        self,
        ctx: FlowContext,
        form: dict[str, str],
        headers: dict[str, str],
        *,
        secret_required: bool = False,
        audience: str | None = None,
    ) -> None:
        """Authenticate the client in `form` / `headers` as `client_auth` says; `audience`
        is the endpoint a client assertion is for (the token endpoint)."""
        client_id = (
            ctx.secret("client_id", required=False)
            if "client_id" in self.profile.auth.spec.params
            else None
        )
        secret: str | None = None
        if "client_secret" in self.profile.auth.spec.params:
            has_ref = "client_secret" in self.profile.auth.secrets
            secret = ctx.secret("client_secret", required=secret_required) if has_ref else None
        mode = self.client_auth_mode(ctx)
        if mode in ("private_key_jwt", "client_secret_jwt"):
            from workbench.core.auth.client_assertion import ASSERTION_TYPE, client_assertion

            form["client_id"] = client_id or ""
            form["client_assertion_type"] = ASSERTION_TYPE
            form["client_assertion"] = client_assertion(ctx, mode, client_id or "", audience or "")
            return
        if mode == "basic" and client_id is not None and secret is not None:
            headers["Authorization"] = basic_credentials(client_id, secret)
            form.setdefault("client_id", client_id)
            ctx.trace.redactor.add_basic(client_id, secret)  # (the header is also masked by name)
            return
        if client_id:
            form.setdefault("client_id", client_id)
        if mode in ("post", "basic") and secret is not None:
            form["client_secret"] = secret

    # the token request
    def token_request(
        self,
        ctx: FlowContext,
        step: str,
        form: dict[str, str],
        *,
        token_url: str | None = None,
        secret_required: bool = False,
        previous: TokenSet | None = None,
    ) -> TokenSet:
        """POST `form` to the token endpoint; a TokenSet, or an AuthError in words.

        A 429 with Retry-After <= 10 s is waited out and retried once."""
        url = token_url or self.endpoints(ctx).token_url
        ensure_secure(url, "token endpoint")
        grant = form.get("grant_type", self.grant)
        headers = {"Accept": "application/json", "Content-Type": FORM}
        self.add_client_auth(ctx, form, headers, secret_required=secret_required, audience=url)
        data: dict[str, str | list[str]] = dict(form)
        resources = self.resources(ctx)
        if resources:
            data["resource"] = resources
        response = None
        for attempt in (1, 2):
            if attempt == 2 and "client_assertion" in form:  # a jti is single use
                self.add_client_auth(ctx, form, headers, audience=url)
                data.update(form)
            request = ctx.client.build_request("POST", url, data=data, headers=headers)
            response = ctx.send(step, request)
            if response.status_code != 429:
                break
            wait = retry_after_seconds(response.headers.get("retry-after"))
            if attempt == 1 and wait is not None and wait <= MAX_RETRY_AFTER:
                ctx.trace.note(
                    f"the token endpoint asked to slow down (429); waiting {wait:g} s as "
                    "its Retry-After says, then trying once more"
                )
                if ctx.cancelled.wait(wait):
                    raise AuthError("login cancelled", step=step)
                continue
            err = AuthError(
                "the token endpoint is rate limiting this client (HTTP 429)",
                step=step,
                status=429,
                server_message=server_message(response),
                hint=(
                    f"wait {wait:.0f} s before trying again"
                    if wait is not None
                    else "wait a minute before trying again"
                ),
            )
            err.rate_limit_handled = True
            raise err
        assert response is not None
        if response.status_code not in (200, 201):
            raise token_error(self, step, grant, response)
        try:
            data = response.json()
        except ValueError:
            said = server_message(response) or "an empty body"
            raise AuthError(
                f"the {step} step got an answer that is not JSON ({said})",
                step=step,
                status=response.status_code,
                server_message=said,
                hint="is the token URL right? a proxy, login or maintenance page may be answering",
            ) from None
        if isinstance(data, dict):  # hostile values become words (token_response.py)
            data = checked_token_response(
                data,
                step=step,
                status=response.status_code,
                warn=lambda text: ctx.trace.note(f"warning: {text}"),
            )
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("access_token"), str)
            or not data["access_token"]
        ):
            raise AuthError(
                f"the {step} step's answer has no access_token",
                step=step,
                status=response.status_code,
                server_message=server_message(response),
                hint="the server answered 200 but not with an OAuth token response; check the token URL",
            )
        tokens = TokenSet.from_oauth(
            data, previous_refresh=previous.refresh_token if previous else None
        )
        tokens.extra = {
            **(previous.extra if previous else {}),
            "token_endpoint": url,
            "flow": self.profile.auth.flow,
        }
        revocation = (self._metadata or {}).get("revocation_endpoint")
        if isinstance(revocation, str) and revocation:  # for the logout (RFC 7009)
            tokens.extra["revocation_endpoint"] = revocation
        for value in tokens.secrets():
            ctx.trace.redactor.add(value)
        return tokens

    def refresh(self, ctx: FlowContext, tokens: TokenSet) -> TokenSet:
        """The refresh grant; with ``checks_id_token``, a new ID token in the answer is checked
        like a login's and must name the same subject (OIDC Core §12.2; no nonce)."""
        from workbench.core.auth.refresh import refresh_grant

        new = refresh_grant(self, ctx, tokens)
        if self.checks_id_token and new.id_token and new.id_token != tokens.id_token:
            self.check_id_token(ctx, new, nonce=None, previous=tokens.id_token)
        return new

    def check_id_token(
        self, ctx: FlowContext, tokens: TokenSet, *, nonce: str | None, previous: str | None = None
    ) -> None:
        """OIDC: the ID token's iss, aud, exp, nonce (when the login sent one) and signature
        (id_token.py); after a refresh, the subject of the `previous` one."""
        if not tokens.id_token:
            return
        from workbench.core.auth.id_token import unverified_subject, validate_id_token

        issuer = ctx.param("issuer") or None
        validate_id_token(
            ctx,
            tokens.id_token,
            client_id=ctx.secret("client_id") or "",
            client_secret=ctx.secret("client_secret", required=False),
            issuer=issuer,
            metadata=self.discover(ctx) if issuer else {},
            nonce=nonce,
            subject=unverified_subject(previous) if previous else None,
        )

    def resources(self, ctx: FlowContext) -> list[str]:
        """RFC 8707 resource indicators from the profile (none when it names none)."""
        value = ctx.param("resource")
        if isinstance(value, str):
            return [value] if value else []
        return [str(v) for v in value] if isinstance(value, list) else []

    def authorization_extras(self, ctx: FlowContext) -> list[tuple[str, str]]:
        """What the profile adds to the authorization request: ``authorize_params`` (prompt,
        max_age, login_hint, acr_values, ...) and the resource indicators."""
        extra = ctx.param("authorize_params")
        pairs = [(str(k), str(v)) for k, v in extra.items()] if isinstance(extra, dict) else []
        return pairs + [("resource", r) for r in self.resources(ctx)]

    def revoke(self, ctx: FlowContext, tokens: TokenSet) -> list[Revocation]:
        """RFC 7009: revoke the refresh token, then the access token (revocation.py)."""
        from workbench.core.auth.revocation import revoke_tokens

        return revoke_tokens(self, ctx, tokens)

    def scope_params(self, ctx: FlowContext, form: dict[str, str]) -> None:
        for name in ("scope", "audience"):
            if name in self.profile.auth.spec.params:
                value = (
                    ctx.secret(name, required=False)
                    if name in self.profile.auth.secrets
                    else ctx.param(name)
                )
                if value:
                    form[name] = value
