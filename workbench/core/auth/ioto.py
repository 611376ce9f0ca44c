"""EmbedThis Ioto: the CloudAPI token flow and the Cognito login flow.

Ioto's API endpoint is one per device cloud (``https://{id}.execute-api.{region}.amazonaws.com``,
the profile's ``urls.api``) and every call is ``POST /{controller}/{action}`` with JSON.
There are two ways in, and they sign requests differently:

``ioto_cloudapi`` (admin / utility use)
    The token is the user's CloudAPI token, made in Builder (a secret reference). It is
    opaque and its expiry is set by an admin in Builder, so ``expires_at`` is unknown
    (None): the workbench learns that it expired when the API answers 403. A token pasted
    with or without a ``bearer`` scheme is accepted (the scheme is dropped). ``apply``
    sends ``Authorization: bearer <token>``, the form of EmbedThis' own CloudAPI scripts
    (github.com/embedthis/ioto ``samples/api/*.sh``; the API Access page shows the raw
    form, which the service accepts too), and rewrites every request to the profile's API
    base URL to carry the ``/tok`` prefix right after the base path: ``{api}/device/find``
    is sent as ``{api}/tok/device/find``. A path that already has the prefix is left
    alone, so the prefix is never doubled. Request specs (the composer, the device tree)
    therefore never contain ``/tok``; the trace and the response record show the URL as sent.

    A CloudAPI token has the "owner" role over the whole device cloud, so the data calls
    need the manager account to act on: ``accountId`` in the body, "Required if using
    CloudAPI token" (https://www.embedthis.com/doc/ioto/ref/device.html; the scripts send it). The
    profile gives it as ``account_id`` (a literal, or ``{env = "IOTO_ACCOUNT", prompt =
    ...}``; the login screen asks for it). ``login`` checks the token and the account
    together with a documented read, ``POST {api}/tok/account/get {"id": accountId}``
    (step "check"; ``test/ping`` is documented with the role "public", so it proves
    nothing about a token). The account id, and the ``cloudId`` the account record names,
    are kept in the token set's ``extra`` for the device tree.

``ioto_cognito`` (a user, as in Ioto's browser app)
    ``login`` calls AWS Cognito ``InitiateAuth`` with ``USER_PASSWORD_AUTH`` (headers
    ``X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth`` and
    ``Content-Type: application/x-amz-json-1.1``); ``refresh`` uses ``REFRESH_TOKEN_AUTH``.
    Cognito does not rotate refresh tokens: the answer to a refresh has no
    ``RefreshToken``, so the one we have is kept. ``apply`` sends the access token raw
    (``Authorization: <access token>``, no scheme, as the vendor's ``samples/api/login.sh``
    does) plus the ``Origin`` header the API requires (the Device Manager's origin, param
    ``origin``), and never a ``/tok`` prefix.

Both flows register every secret they handle (token, password, Cognito tokens) with the
trace's redactor, so traces never show them. The account id is not a secret.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from workbench.core.auth.base import AuthFlow, FlowContext, TokenSet, server_message
from workbench.core.errors import AuthError, LoginRequired, ResponseError
from workbench.core.text import escape_keep_newlines

if TYPE_CHECKING:
    import httpx

    from workbench.core.profiles import Profile

AMZ_JSON = "application/x-amz-json-1.1"
INITIATE_AUTH = "AWSCognitoIdentityProviderService.InitiateAuth"
TOK = "/tok"
PLACEHOLDER_MARK = (
    "your-"  # the built-in profile's placeholders: YOUR-API-ID, YOUR-DEVICE-MANAGER...
)
ENDPOINT_HINT = (
    "the API endpoint is shown in Builder under Cloud / Edit / API Access; "
    "put it in urls.api of your own copy of the profile"
)


def api_base(profile: Profile) -> str:
    """The profile's Ioto API endpoint (``urls.api``, else its first URL), without a trailing slash."""
    return profile.urls.get("api", profile.base_url).rstrip("/")


def _is_html(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    head = response.text.lstrip()[:15].lower() if response.content else ""
    return "text/html" in ctype or head.startswith(("<!doctype", "<html"))


def _placeholder_error(profile: Profile, step: str) -> AuthError | None:
    host = (urlsplit(api_base(profile)).hostname or "").lower()
    if host.startswith(PLACEHOLDER_MARK):
        return AuthError(
            f"the profile still has the placeholder API endpoint ({escape_keep_newlines(api_base(profile))})",
            step=step,
            hint=ENDPOINT_HINT,
        )
    return None


def http_words(step: str, response: httpx.Response, what: str) -> AuthError:
    """An Ioto API answer that is not a success, in words (errors are text/plain)."""
    status = response.status_code
    said = server_message(response)
    if _is_html(response):
        return AuthError(
            f"the {step} step got an HTML page (HTTP {status}), not an Ioto API answer",
            step=step,
            status=status,
            server_message=said,
            hint="the service may be down for maintenance, or urls.api is not the API endpoint; "
            "try again later or " + ENDPOINT_HINT,
        )
    if status in (401, 403):
        return AuthError(
            f"the {step} step was refused (HTTP {status})",
            step=step,
            status=status,
            server_message=said,
            hint=what,
        )
    if status == 404:
        return AuthError(
            f"the {step} step found no Ioto API at this URL (HTTP 404)",
            step=step,
            status=status,
            server_message=said,
            hint=ENDPOINT_HINT,
        )
    if status >= 500:
        return AuthError(
            f"the Ioto service failed during the {step} step (HTTP {status})",
            step=step,
            status=status,
            server_message=said,
            hint="a service error; try again later",
        )
    return AuthError(
        f"the {step} step failed (HTTP {status})",
        step=step,
        status=status,
        server_message=said,
        hint="check the profile's URLs and credentials",
    )


class IotoFlow(AuthFlow):
    """What both Ioto flows share."""

    def credential_names(self) -> tuple[str, ...]:
        return ("authorization",)

    def auth_failed(self, response: httpx.Response) -> bool:
        """True when an API answer means the credential was refused (worth one renewal).

        Ioto answers 403 text/plain, not 401, for a missing, invalid or expired token. A 403
        about the Origin header is a profile problem that a new token cannot fix. When the
        body has not been read (a streamed answer), the status alone decides."""
        if response.status_code == 401:
            return True
        if response.status_code != 403:
            return False
        try:
            text = response.text.lower()
        except Exception:  # httpx.ResponseNotRead
            return True
        return "origin" not in text


# --- CloudAPI ----------------------------------------------------------------------------

# The vendor's CloudAPI scripts (github.com/embedthis/ioto samples/api/find-items.sh, get-item.sh,
# get-metric.sh, set-item.sh, device-command.sh, update.sh) all send this header form.
TOKEN_SCHEME = "bearer"
ACCOUNT_PARAM = "account_id"
ACCOUNT_VARIABLE = "accountId"  # also read from the profile's [variables]
ACCOUNT_LABEL = "Ioto account id (accountId)"
ACCOUNT_HINT = (
    "a CloudAPI token acts for the whole device cloud, so Ioto needs the manager account "
    "to act on (accountId, 'Required if using CloudAPI token'): the account's ID in the "
    "Device Manager or Builder; give it as account_id in [auth] (a literal, or "
    '{ env = "IOTO_ACCOUNT", prompt = "..." }), set $IOTO_ACCOUNT with the built-in profile, '
    "or type it in the login screen"
)


def bare_token(value: str) -> str:
    """A CloudAPI token as the user gave it, without a ``bearer`` scheme (either form is accepted)."""
    text = value.strip()
    scheme, sep, rest = text.partition(" ")
    if sep and scheme.lower() == TOKEN_SCHEME:
        return rest.strip()
    return text


def _record(data: Any) -> dict[str, Any]:
    """The record of an Ioto answer: ``{"data": {...}}`` (the documented form) or the object itself."""
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        return dict(data["data"])
    return dict(data) if isinstance(data, dict) else {}


class CloudApiFlow(IotoFlow):
    """A CloudAPI token: ``bearer`` Authorization, ``/tok`` path prefix, an account id, checked
    with ``account/get``."""

    name = "ioto_cloudapi"
    can_refresh = False

    def account_id(self, ctx: FlowContext) -> str | None:
        """The manager account id: typed in the login screen, else the profile's ``account_id``
        (literal or reference: env, keyring, demo, then a prompt on a terminal), else
        ``[variables] accountId``, else a prompt on a terminal. Not a secret: never redacted."""
        from workbench.core.keyring_access import keyring_get

        resolver = ctx.resolver
        value = resolver.values.get(ACCOUNT_PARAM)
        ref = self.profile.auth.secrets.get(ACCOUNT_PARAM)
        if not value and ref is not None:
            value = (ref.env and resolver.environ.get(ref.env)) or None
            if not value and ref.keyring:
                value = keyring_get(ref.keyring)
            if not value and ref.demo is not None:
                value = ref.demo
        if not value:
            literal = self.profile.auth.params.get(ACCOUNT_PARAM)
            value = literal if isinstance(literal, str) else None
        if not value:
            value = self.profile.variables.get(ACCOUNT_VARIABLE)
        if not value and resolver.prompter is not None and (ref is None or ref.prompt):
            value = resolver.prompter(ref.label if ref is not None else ACCOUNT_LABEL, False)
            if value:
                resolver.values[ACCOUNT_PARAM] = value
        value = (value or "").strip()
        return value or None

    def login(self, ctx: FlowContext) -> TokenSet:
        problem = _placeholder_error(self.profile, "check")
        if problem is not None:
            raise problem
        given = ctx.secret("token") or ""
        token = bare_token(given)
        if given.strip():
            ctx.trace.redactor.add(given.strip())
        if not token:
            raise AuthError(
                "the CloudAPI token is empty",
                step="check",
                hint="create a CloudAPI token in Builder and give it to the profile",
            )
        ctx.trace.redactor.add(token)
        if token != given.strip():
            ctx.trace.note(
                "the token was given with a 'bearer' scheme: it is kept without it and sent "
                "as 'Authorization: bearer <token>'"
            )
        account = self.account_id(ctx)
        if not account:
            raise AuthError(
                "the CloudAPI profile gives no account id (accountId)",
                step="check",
                hint=ACCOUNT_HINT,
            )
        # A documented, cheap read that needs the token AND names the account: account/get
        # (https://www.embedthis.com/doc/ioto/ref/account.html: "id", role owner = a CloudAPI token).
        url = api_base(self.profile) + TOK + "/account/get"
        request = ctx.client.build_request(
            "POST",
            url,
            headers={
                "Authorization": f"{TOKEN_SCHEME} {token}",
                "Content-Type": "application/json",
            },
            content=json.dumps({"id": account}).encode(),
        )
        response = ctx.send("check", request)
        if not 200 <= response.status_code < 300 or _is_html(response):
            said = (server_message(response) or "").lower()
            if response.status_code in (400, 404) and "account" in said and not _is_html(response):
                raise AuthError(
                    f"the device cloud does not know the account {escape_keep_newlines(account)}",
                    step="check",
                    status=response.status_code,
                    server_message=server_message(response),
                    hint="check the account id (accountId): " + ACCOUNT_HINT,
                )
            raise http_words(
                "check",
                response,
                "the CloudAPI token was refused: check that it is the whole token, that it "
                "belongs to this device cloud, and that it has not expired (Builder shows it)",
            )
        try:
            record = _record(response.json())
        except ValueError:
            record = {}
            ctx.trace.note("account/get did not answer JSON; the token was accepted")
        cloud = record.get("cloudId")
        extra: dict[str, Any] = {
            "flow": self.name,
            "prefix": TOK,
            "accountId": account,
            "principal": f"CloudAPI token, account {record.get('name') or account}",
        }
        if isinstance(cloud, str) and cloud:
            extra["cloudId"] = cloud
        ctx.trace.note(
            f"CloudAPI: requests to {api_base(self.profile)} are sent with the /tok prefix, "
            f"'Authorization: {TOKEN_SCHEME} <token>' and accountId {account} in the bodies "
            "that need it"
        )
        ctx.trace.note(
            "the token is opaque and its expiry is set by an admin in Builder: unknown here"
        )
        return TokenSet(
            access_token=token,
            token_type="CloudAPI",
            expires_at=None,
            extra=extra,
        )

    def refresh(self, ctx: FlowContext, tokens: TokenSet) -> TokenSet:
        """There is nothing to refresh: check the token (it may have been replaced) again."""
        try:
            return self.login(ctx)
        except AuthError as err:
            if err.status in (401, 403):
                raise LoginRequired(
                    err.message,
                    step=err.step,
                    status=err.status,
                    server_message=err.server_message,
                    hint="the CloudAPI token is no longer accepted (expired or deleted?): "
                    "give a new one",
                ) from None
            raise

    def apply(self, request: httpx.Request, tokens: TokenSet) -> None:
        request.headers["Authorization"] = f"{TOKEN_SCHEME} {bare_token(tokens.access_token)}"
        request.url = with_tok_prefix(request.url, api_base(self.profile))


def with_tok_prefix(url: httpx.URL, base: str) -> httpx.URL:
    """`url` with ``/tok`` inserted after `base`'s path, when `url` is under `base` and lacks it."""
    from workbench.core.profiles import Origin

    if Origin.of(str(url)) != Origin.of(base):
        return url
    base_path = urlsplit(base).path.rstrip("/").encode()
    raw = url.raw_path
    path, sep, query = raw.partition(b"?")
    if path != base_path and not path.startswith(base_path + b"/"):
        return url
    rest = path[len(base_path) :]
    if rest == TOK.encode() or rest.startswith(TOK.encode() + b"/"):
        return url
    return url.copy_with(raw_path=base_path + TOK.encode() + rest + sep + query)


# --- Cognito -----------------------------------------------------------------------------

COGNITO_HINTS = {
    "UserNotFoundException": "check the username",
    "UserNotConfirmedException": "the account is not confirmed yet: finish the sign-up (e-mail code) first",
    "PasswordResetRequiredException": "the password must be reset: do it in the Device Manager, then log in again",
    "ResourceNotFoundException": "check client_id (the app client of the user pool) and the region in cognito_url",
    "TooManyRequestsException": "Cognito is throttling logins: wait a minute and try again",
    "LimitExceededException": "Cognito is throttling logins: wait a minute and try again",
    "TooManyFailedAttemptsException": "too many failed attempts: wait before trying again",
    "InternalErrorException": "an AWS service error; try again later",
    "UnknownOperationException": "cognito_url does not look like a Cognito endpoint "
    "(https://cognito-idp.REGION.amazonaws.com/)",
    "SerializationException": "cognito_url does not look like a Cognito endpoint "
    "(https://cognito-idp.REGION.amazonaws.com/)",
    "UnrecognizedClientException": "check the region in cognito_url and the client_id",
}

CHALLENGE_HINTS = {
    "NEW_PASSWORD_REQUIRED": "Cognito wants a new password: log in once in the Device Manager to set it",
    "SMS_MFA": "this user has MFA; the workbench cannot answer MFA challenges",
    "SOFTWARE_TOKEN_MFA": "this user has MFA; the workbench cannot answer MFA challenges",
    "MFA_SETUP": "Cognito wants MFA set up: do it in the Device Manager first",
}


def _amz_type(response: httpx.Response, data: Any) -> str | None:
    """The AWS error type (``__type`` or ``x-amzn-ErrorType``), without its namespace."""
    kind = data.get("__type") if isinstance(data, dict) else None
    if not isinstance(kind, str) or not kind:
        kind = response.headers.get("x-amzn-errortype", "").split(":", 1)[0]
    if not kind:
        return None
    return kind.rsplit("#", 1)[-1]


class CognitoFlow(IotoFlow):
    """Ioto's user login: AWS Cognito USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH; raw token + Origin."""

    name = "ioto_cognito"
    can_refresh = True

    def _initiate(
        self, ctx: FlowContext, step: str, client_id: str, flow: str, params: dict[str, str]
    ) -> dict[str, Any]:
        body = json.dumps({"AuthFlow": flow, "ClientId": client_id, "AuthParameters": params})
        request = ctx.client.build_request(
            "POST",
            ctx.param("cognito_url"),
            headers={"X-Amz-Target": INITIATE_AUTH, "Content-Type": AMZ_JSON, "Accept": AMZ_JSON},
            content=body.encode(),
        )
        response = ctx.send(step, request)
        if _is_html(response):
            raise AuthError(
                f"the {step} step got an HTML page (HTTP {response.status_code}), not a Cognito answer",
                step=step,
                status=response.status_code,
                server_message=server_message(response),
                hint="is cognito_url right (https://cognito-idp.REGION.amazonaws.com/)? "
                "a proxy or maintenance page may be answering",
            )
        data = ctx.json_of(step, response)
        if response.status_code != 200:
            raise self._error(step, response, data)
        if not isinstance(data, dict):
            raise ResponseError(
                f"the {step} step expected a JSON object from Cognito, got {type(data).__name__}",
                status=response.status_code,
            )
        result = data.get("AuthenticationResult")
        if not isinstance(result, dict):
            challenge = data.get("ChallengeName")
            if isinstance(challenge, str) and challenge:
                raise AuthError(
                    f"Cognito answered with the challenge {escape_keep_newlines(challenge)} instead of tokens",
                    step=step,
                    status=response.status_code,
                    hint=CHALLENGE_HINTS.get(
                        challenge, "the workbench cannot answer this challenge"
                    ),
                )
            raise AuthError(
                f"the {step} step: Cognito's answer has no AuthenticationResult",
                step=step,
                status=response.status_code,
                hint="is cognito_url a Cognito endpoint?",
            )
        access = result.get("AccessToken")
        if not isinstance(access, str) or not access:
            raise AuthError(
                f"the {step} step: Cognito's answer has no AccessToken",
                step=step,
                status=response.status_code,
            )
        for key in ("AccessToken", "IdToken", "RefreshToken"):
            if isinstance(result.get(key), str):
                ctx.trace.redactor.add(result[key])
        return result

    def _error(self, step: str, response: httpx.Response, data: Any) -> AuthError:
        status = response.status_code
        kind = _amz_type(response, data)
        message = data.get("message") if isinstance(data, dict) else None
        message = message if isinstance(message, str) else None
        said = (
            escape_keep_newlines(
                f"{kind}: {message}" if kind and message else (kind or message or "")
            )
            or None
        )
        if kind == "NotAuthorizedException":
            if step == "refresh":
                return LoginRequired(
                    "Cognito refused the refresh token",
                    step=step,
                    status=status,
                    server_message=said,
                    hint="it expired or was revoked (signed out everywhere?): log in again",
                )
            low = (message or "").lower()
            if "incorrect username or password" in low:
                return AuthError(
                    "the login was refused: incorrect username or password",
                    step=step,
                    status=status,
                    server_message=said,
                    hint="check the username and password",
                )
            if "attempts exceeded" in low:
                hint = "too many wrong passwords: wait a while before trying again"
            elif "disabled" in low:
                hint = "this user is disabled: ask the device cloud's admin"
            elif "secret hash" in low:
                hint = "this app client has a client secret; use the Device Manager's (public) client id"
            else:
                hint = "check the username and password"
            return AuthError(
                "the login was refused by Cognito",
                step=step,
                status=status,
                server_message=said,
                hint=hint,
            )
        if (
            kind == "InvalidParameterException"
            and message
            and "flow not enabled" in message.lower()
        ):
            hint = "the app client does not allow USER_PASSWORD_AUTH: enable ALLOW_USER_PASSWORD_AUTH, or use a CloudAPI token"
        elif kind == "InvalidParameterException":
            hint = "check client_id, username and password in the profile"
        else:
            hint = COGNITO_HINTS.get(kind or "", "check cognito_url, client_id and the credentials")
        if status >= 500 and kind not in COGNITO_HINTS:
            hint = "an AWS service error; try again later"
        words = f"Cognito answered {kind}" if kind else f"Cognito answered HTTP {status}"
        if (
            step == "refresh"
            and status in (400, 401, 403)
            and kind in ("UserNotFoundException", "PasswordResetRequiredException")
        ):
            return LoginRequired(
                f"the {step} step failed: {words}",
                step=step,
                status=status,
                server_message=said,
                hint=hint,
            )
        return AuthError(
            f"the {step} step failed: {words}",
            step=step,
            status=status,
            server_message=said,
            hint=hint,
        )

    def _origin(self, ctx: FlowContext) -> str:
        origin = (ctx.secret("origin") or "").strip().rstrip("/")
        if not origin:
            raise AuthError(
                "the profile gives no Origin",
                step="login",
                hint="set origin to your Device Manager's origin, e.g. https://manager.example.com",
            )
        if PLACEHOLDER_MARK in origin.lower():
            ctx.trace.note(
                f"origin is still a placeholder ({origin}): API calls will be refused until you "
                "set it to your Device Manager's origin"
            )
        return origin

    def _tokens(
        self, result: dict[str, Any], origin: str, now: float, previous_refresh: str | None
    ) -> TokenSet:
        expires_in = result.get("ExpiresIn")
        try:
            expires_at = now + float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            expires_at = None
        refresh = result.get("RefreshToken")
        return TokenSet(
            access_token=result["AccessToken"],
            token_type=str(result.get("TokenType") or "Bearer"),
            expires_at=expires_at,
            refresh_token=refresh if isinstance(refresh, str) and refresh else previous_refresh,
            id_token=result.get("IdToken") if isinstance(result.get("IdToken"), str) else None,
            obtained_at=now,
            extra={"flow": self.name, "origin": origin},
        )

    def login(self, ctx: FlowContext) -> TokenSet:
        origin = self._origin(ctx)
        client_id = (ctx.secret("client_id") or "").strip()
        username = (ctx.secret("username") or "").strip()
        password = ctx.secret("password") or ""
        ctx.trace.redactor.add(password)
        now = time.time()
        result = self._initiate(
            ctx,
            "login",
            client_id,
            "USER_PASSWORD_AUTH",
            {"USERNAME": username, "PASSWORD": password},
        )
        ctx.trace.note(
            "API requests carry the access token raw in Authorization (as Ioto's browser app "
            f"does), Origin: {origin}, and no /tok prefix"
        )
        return self._tokens(result, origin, now, None)

    def refresh(self, ctx: FlowContext, tokens: TokenSet) -> TokenSet:
        if not tokens.refresh_token:
            raise LoginRequired(
                "there is no refresh token to renew the login with",
                step="refresh",
                hint="log in again",
            )
        ctx.trace.redactor.add(tokens.refresh_token)
        origin = str(tokens.extra.get("origin") or self._origin(ctx))
        client_id = (ctx.secret("client_id") or "").strip()
        now = time.time()
        result = self._initiate(
            ctx, "refresh", client_id, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": tokens.refresh_token}
        )
        if not result.get("RefreshToken"):
            ctx.trace.note("Cognito does not rotate refresh tokens: the current one is kept")
        return self._tokens(result, origin, now, tokens.refresh_token)

    def apply(self, request: httpx.Request, tokens: TokenSet) -> None:
        request.headers["Authorization"] = tokens.access_token
        origin = tokens.extra.get("origin") or self.profile.auth.params.get("origin")
        if origin and "origin" not in request.headers:
            request.headers["Origin"] = str(origin)


def flow_for(name: str) -> type[AuthFlow]:
    """The flow class for a registry name (``ioto_cognito`` or ``ioto_cloudapi``)."""
    flows: dict[str, type[AuthFlow]] = {
        CognitoFlow.name: CognitoFlow,
        CloudApiFlow.name: CloudApiFlow,
    }
    try:
        return flows[name]
    except KeyError:
        raise ValueError(f"workbench.core.auth.ioto has no flow named {name!r}") from None
