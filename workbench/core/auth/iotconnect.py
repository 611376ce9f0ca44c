"""Avnet IoTConnect login: basic-token -> login (Basic + solution-key) -> refresh-token.

Steps, each recorded in the auth trace under its own name:

``basic-token``
    ``GET {auth_url}/Auth/basic-token`` (no credentials) -> ``{"data": "<basic token>"}``.
    The basic token identifies the portal application, not the user, but it is still a
    credential: it is registered with the trace redactor.
``login``
    ``POST {auth_url}/Auth/login`` with ``Authorization: Basic <basic token>``,
    ``solution-key: <key>`` and the JSON body ``{"username", "password"}`` -> an OAuth-like
    answer (``access_token``, ``expires_in``, ``refresh_token``, ``token_type: bearer``).
``refresh``
    ``POST {auth_url}/Auth/refresh-token`` with ``{"refreshtoken": ...}`` (one word, no
    Authorization header) -> the same answer with a NEW refresh token (single use: the
    session stores the new one before the new access token is used). A refused refresh
    (IoTConnect answers 409; 400/401/403 are treated alike) raises LoginRequired.

API requests carry ``Authorization: Bearer <access token>``. ``auth_url`` is the auth host
including its API version, e.g. ``https://auth.iotconnect.io/api/v2``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from workbench.core.auth.base import AuthFlow, FlowContext, TokenSet, server_message
from workbench.core.errors import AuthError, LoginRequired

if TYPE_CHECKING:
    import httpx

JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}
MAX_RETRY_AFTER = 10.0  # a 429 asking for at most this many seconds is waited out once
URL_HINT = (
    "is auth_url right? it should be the auth host with its API version, ending in /api/v2 "
    "(e.g. https://auth.iotconnect.io/api/v2)"
)
HTML_WORDS = "an HTML page (not an API answer)"


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None


def _is_html(response: httpx.Response, said: str | None) -> bool:
    return said == HTML_WORDS or "text/html" in response.headers.get("content-type", "")


def _mentions(said: str | None, *words: str) -> bool:
    text = (said or "").lower()
    return any(w in text for w in words)


class Flow(AuthFlow):
    name = "iotconnect"
    can_refresh = True

    # ------------------------------------------------------------------ helpers

    def auth_url(self, ctx: FlowContext) -> str:
        url = ctx.param("auth_url")
        if not isinstance(url, str) or not url:
            raise AuthError(
                "the profile has no auth_url",
                step="config",
                hint='add auth_url (e.g. "{{urls.auth}}") to the profile\'s [auth]',
            )
        return url.rstrip("/")

    def _fail(self, ctx: FlowContext, err: AuthError) -> AuthError:
        ctx.trace.fail(err)
        return err

    def _send(
        self,
        ctx: FlowContext,
        step: str,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one exchange; a 429 with a short Retry-After is waited out and retried once."""
        content = json.dumps(body).encode() if body is not None else None
        response = None
        for attempt in (1, 2):
            request = ctx.client.build_request(method, url, headers=headers, content=content)
            try:
                response = ctx.send(step, request)
            except AuthError as err:
                raise self._fail(ctx, err) from None
            if response.status_code != 429:
                return response
            wait = _retry_after(response)
            if attempt == 1 and wait is not None and wait <= MAX_RETRY_AFTER:
                ctx.trace.note(
                    f"the {step} step was rate limited (429); waiting {wait:g} s as "
                    "Retry-After asks, then trying once more"
                )
                if ctx.cancelled.wait(wait):
                    raise self._fail(ctx, AuthError("login cancelled", step=step))
                continue
            limited = AuthError(
                f"the {step} step is being rate limited (HTTP 429)",
                step=step,
                status=429,
                server_message=server_message(response),
                hint=(
                    f"wait {wait:.0f} s before trying again"
                    if wait is not None
                    else "wait a minute before trying again"
                ),
            )
            limited.rate_limit_handled = True
            raise self._fail(ctx, limited)
        assert response is not None
        return response

    def _json_object(
        self, ctx: FlowContext, step: str, response: httpx.Response, what: str, hint: str
    ) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            said = server_message(response) or "an empty body"
            raise self._fail(
                ctx,
                AuthError(
                    f"{what}: the answer is not JSON ({said})",
                    step=step,
                    status=response.status_code,
                    server_message=said,
                    hint=hint,
                ),
            ) from None
        if not isinstance(data, dict):
            raise self._fail(
                ctx,
                AuthError(
                    f"{what}: the answer is JSON but not an object",
                    step=step,
                    status=response.status_code,
                    server_message=server_message(response),
                    hint=hint,
                ),
            )
        return data

    def _tokens(
        self,
        ctx: FlowContext,
        step: str,
        response: httpx.Response,
        auth_url: str,
        previous: TokenSet | None = None,
    ) -> TokenSet:
        what = "the login answer" if step == "login" else "the refresh answer"
        data = self._json_object(
            ctx,
            step,
            response,
            f"{what} is unusable",
            f"a proxy or maintenance page may be answering; {URL_HINT}",
        )
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise self._fail(
                ctx,
                AuthError(
                    f"{what} has no access_token",
                    step=step,
                    status=response.status_code,
                    server_message=server_message(response),
                    hint="the server answered 200 but not with a login answer; " + URL_HINT,
                ),
            )
        tokens = TokenSet.from_oauth(
            data, previous_refresh=previous.refresh_token if previous else None
        )
        tokens.extra = {
            **(previous.extra if previous else {}),
            "flow": self.name,
            "auth_url": auth_url,
        }
        for value in tokens.secrets():
            ctx.trace.redactor.add(value)
        return tokens

    def _http_problem(
        self, ctx: FlowContext, step: str, response: httpx.Response, what: str
    ) -> AuthError:
        """Words for an answer that is neither success nor a case the step handles itself."""
        status = response.status_code
        said = server_message(response)
        if _is_html(response, said):
            if status == 503 or _mentions(said, "maintenance"):
                hint = "the service is down for maintenance; try again later"
            else:
                hint = f"a proxy, login or maintenance page is answering; {URL_HINT}"
            return AuthError(
                f"{what}: got an HTML page (HTTP {status}), not an API answer",
                step=step,
                status=status,
                server_message=said,
                hint=hint,
            )
        if status in (404, 405):
            return AuthError(
                f"{what}: the server has no such endpoint (HTTP {status})",
                step=step,
                status=status,
                server_message=said,
                hint=URL_HINT,
            )
        if status >= 500:
            return AuthError(
                f"{what}: the server had a problem (HTTP {status})",
                step=step,
                status=status,
                server_message=said,
                hint="try again later",
            )
        return AuthError(
            f"{what} (HTTP {status})",
            step=step,
            status=status,
            server_message=said,
            hint="check the profile's auth settings and the server's message",
        )

    # ------------------------------------------------------------------ steps

    def basic_token(self, ctx: FlowContext, auth_url: str) -> str:
        step = "basic-token"
        what = "could not get a basic token"
        response = self._send(
            ctx, step, "GET", f"{auth_url}/Auth/basic-token", headers={"Accept": "application/json"}
        )
        if response.status_code != 200:
            err = self._http_problem(ctx, step, response, what)
            if (
                err.status is not None
                and err.status < 500
                and not _mentions(err.hint, "maintenance")
            ):
                err.hint = URL_HINT
            raise self._fail(ctx, err)
        data = self._json_object(ctx, step, response, what, URL_HINT)
        basic = data.get("data")
        if not isinstance(basic, str) or not basic.strip():
            raise self._fail(
                ctx,
                AuthError(
                    f"{what}: the answer has no token in 'data'",
                    step=step,
                    status=response.status_code,
                    hint=URL_HINT,
                ),
            )
        basic = basic.strip()
        ctx.trace.redactor.add(basic)
        ctx.trace.note(
            "got the basic token (it identifies the application, not you; redacted here)"
        )
        return basic

    def login(self, ctx: FlowContext) -> TokenSet:
        auth_url = self.auth_url(ctx)
        username = ctx.secret("username")
        password = ctx.secret("password")
        solution_key = ctx.secret("solution_key")
        assert username is not None and password is not None and solution_key is not None
        ctx.trace.redactor.add(password)
        ctx.trace.redactor.add(solution_key)
        basic = self.basic_token(ctx, auth_url)
        step = "login"
        headers = {**JSON_HEADERS, "Authorization": f"Basic {basic}", "solution-key": solution_key}
        response = self._send(
            ctx,
            step,
            "POST",
            f"{auth_url}/Auth/login",
            headers=headers,
            body={"username": username, "password": password},
        )
        status = response.status_code
        if status == 200:
            tokens = self._tokens(ctx, step, response, auth_url)
            ctx.trace.note("logged in; API requests carry `Authorization: Bearer <access token>`")
            return tokens
        raise self._fail(ctx, self._login_problem(ctx, response))

    def _login_problem(self, ctx: FlowContext, response: httpx.Response) -> AuthError:
        step = "login"
        status = response.status_code
        said = server_message(response)
        if status in (401, 403) and not _is_html(response, said):
            if _mentions(said, "solution"):
                hint = "the login step was refused: check the solution key"
            elif _mentions(said, "basic"):
                hint = (
                    "the login step refused the basic token: it should be the one this auth host "
                    "handed out; " + URL_HINT
                )
            elif _mentions(said, "lock", "inactive", "disabled", "blocked"):
                hint = "the account is locked or inactive; ask the company admin"
            elif said and _mentions(said, "user", "password", "credential"):
                hint = "the login step was refused: check the username and password"
            else:
                hint = "the login step was refused: check the username, password and solution key"
            return AuthError(
                f"the login was refused (HTTP {status})",
                step=step,
                status=status,
                server_message=said,
                hint=hint,
            )
        if status == 400 and not _is_html(response, said):
            return AuthError(
                "the login request was refused as malformed (HTTP 400)",
                step=step,
                status=status,
                server_message=said,
                hint="check that the username and password are set (the server's message "
                "says which field it wants)",
            )
        return self._http_problem(ctx, step, response, "the login failed")

    def refresh(self, ctx: FlowContext, tokens: TokenSet) -> TokenSet:
        step = "refresh"
        if not tokens.refresh_token:
            raise self._fail(
                ctx,
                LoginRequired(
                    "there is no refresh token to renew the session with",
                    step=step,
                    hint=f"log in again (`workbench login {self.profile.name}`)",
                ),
            )
        auth_url = self.auth_url(ctx)
        ctx.trace.redactor.add(tokens.refresh_token)
        ctx.trace.redactor.add(tokens.access_token)
        response = self._send(
            ctx,
            step,
            "POST",
            f"{auth_url}/Auth/refresh-token",
            headers=dict(JSON_HEADERS),
            body={"refreshtoken": tokens.refresh_token},
        )
        status = response.status_code
        if status == 200:
            new = self._tokens(ctx, step, response, auth_url, previous=tokens)
            if new.refresh_token != tokens.refresh_token:
                ctx.trace.note(
                    "IoTConnect rotated the refresh token (single use); the new one is stored "
                    "before the new access token is used"
                )
            else:
                ctx.trace.note("the server kept the refresh token")
            return new
        said = server_message(response)
        if status in (400, 401, 403, 409) and not _is_html(response, said):
            raise self._fail(
                ctx,
                LoginRequired(
                    f"the refresh token was refused (HTTP {status})",
                    step=step,
                    status=status,
                    server_message=said,
                    hint="it was already used, revoked or expired (IoTConnect refresh tokens are single use): "
                    "log in again",
                ),
            )
        raise self._fail(ctx, self._http_problem(ctx, step, response, "the refresh failed"))

    # ------------------------------------------------------------------ signing

    def apply(self, request: httpx.Request, tokens: TokenSet) -> None:
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"

    def credential_names(self) -> tuple[str, ...]:
        return ("authorization", "solution-key")
