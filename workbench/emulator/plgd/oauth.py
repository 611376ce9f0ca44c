"""The emulated plgd authority: a Keycloak-shaped realm ``shared``, mounted at /plgd/auth.

try.plgd.cloud's authority is the Keycloak realm ``https://auth.plgd.cloud/realms/shared``
(../shared/reference/plgd-try-cloud.md: test/helm/try.plgd.cloud.yaml ``global.authority``);
the old Auth0 paths (``/authorize``, ``/oauth/token``) are gone. Paths below are Keycloak's
standard ones, relative to the mount (so the issuer is ``{origin}/plgd/auth/realms/shared``):

    GET  /realms/shared/.well-known/openid-configuration    discovery (issuer matches exactly)
    GET  /realms/shared/protocol/openid-connect/certs       the ES256 public key (JWKS)
    GET  /realms/shared/protocol/openid-connect/auth        checks client_id + redirect_uri, then a login form
    POST /realms/shared/login-actions/authenticate          the form (also accepted on .../auth):
                                                            Deny -> error=access_denied; Allow -> ?code=&iss=&state=
                                                            (RFC 9207 ``iss`` on every response, advertised
                                                            in discovery, like Keycloak since 22)
    POST /realms/shared/protocol/openid-connect/auth/device  device authorization (RFC 8628), Keycloak's path
    GET  /realms/shared/device                              the approval page (?user_code= pre-fills it);
    POST /realms/shared/device                              enter the code, sign in, approve or deny
    POST /realms/shared/protocol/openid-connect/token       authorization_code (+PKCE S256),
                                                            refresh_token (rotating), client_credentials,
                                                            urn:ietf:params:oauth:grant-type:device_code
    GET  /realms/shared/protocol/openid-connect/userinfo    userinfo for a bearer access token
    POST /realms/shared/protocol/openid-connect/revoke      token revocation (RFC 7009), Keycloak's path,
                                                            advertised as ``revocation_endpoint``: a revoked
                                                            refresh token is then refused (invalid_grant), a
                                                            revoked access token answered 401

Like Keycloak, an unknown client or a redirect URI that is not registered for the client is
answered with a 400 HTML error page ("Client not found.", "Invalid parameter: redirect_uri")
and never redirected; token endpoint errors are RFC 6749 JSON (``invalid_client`` is 401
"Invalid client or Invalid client credentials"). Clients of the realm:

- ``workbench-demo``: public, the hub configuration's web client; redirect URIs
  http://localhost:8080/callback and the loopback form http://127.0.0.1:<any port>/callback;
- ``workbench-demo-confidential``: confidential, client credentials and the device grant too
  (the m2m demo profile);
- ``workbench-demo-cli``: public, the device authorization grant only (+ refresh) — the
  demo-plgd-device profile; approve its codes at ``/realms/shared/device`` as demo;
- ``workbench-demo-portal``: public, registered only for the hub portal's https redirect, as a
  third-party-looking client a loopback login is refused for (tests use it);
- the device client ``workbench-demo-device`` the hub configuration advertises is NOT
  registered (onboarding explains why no ``at`` can be fetched).

Access tokens carry the hub's owner claim ``owner-id`` (try.plgd.cloud.yaml
``global.ownerClaim``), ``azp`` and ``aud`` ``account`` like Keycloak's.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

import jwt
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from workbench.emulator import jwt_keys
from workbench.emulator.context import EmulatorContext
from workbench.emulator.device_grant import DEVICE_GRANT, DeviceGrants, demo_login_html
from workbench.emulator.seeded import stable_uuid

USERNAME = "demo"
PASSWORD = "plgd-demo-pass-6604"
PUBLIC_CLIENT_ID = "workbench-demo"
CONFIDENTIAL_CLIENT_ID = "workbench-demo-confidential"
CONFIDENTIAL_CLIENT_SECRET = "plgd-demo-client-secret-3391"
DEVICE_CLIENT_ID = "workbench-demo-device"
CLI_CLIENT_ID = "workbench-demo-cli"  # the device authorization grant (RFC 8628)
PORTAL_CLIENT_ID = "workbench-demo-portal"
PORTAL_REDIRECT_URI = "https://portal.plgd.example/devices"
REDIRECT_URI = "http://localhost:8080/callback"
LOOPBACK_REDIRECT_URI = "http://127.0.0.1/callback"  # any port (RFC 8252 §7.3)
OWNER_CLAIM = "owner-id"  # try.plgd.cloud.yaml global.ownerClaim
WEB_SCOPES = ["openid"]  # try.plgd.cloud.yaml global.oauth.web scopes
SUPPORTED_SCOPES = [
    "openid",
    "offline_access",
    "profile",
    "email",
    "r:deviceinformation:*",
    "r:resources:*",
    "w:resources:*",
    "w:subscriptions:*",
]
TOKEN_AUDIENCE = "account"  # Keycloak's default `aud` (the hub's mock-server token has it)
ACCESS_TTL = 86400
CODE_TTL = 60  # authorization codes: single use, 60 s
REALM_PATH = "/realms/shared"
OIDC_PATH = REALM_PATH + "/protocol/openid-connect"
AUTH_PATH = OIDC_PATH + "/auth"
TOKEN_PATH = OIDC_PATH + "/token"
CERTS_PATH = OIDC_PATH + "/certs"
USERINFO_PATH = OIDC_PATH + "/userinfo"
REVOKE_PATH = OIDC_PATH + "/revoke"  # Keycloak's revocation endpoint (RFC 7009)
DEVICE_AUTH_PATH = OIDC_PATH + "/auth/device"  # Keycloak's device authorization endpoint
VERIFY_PATH = REALM_PATH + "/device"  # Keycloak's verification_uri
LOGIN_ACTION_PATH = REALM_PATH + "/login-actions/authenticate"
MOUNT = "/plgd/auth"
LOGIN_TEMPLATE = string.Template((Path(__file__).with_name("login.html")).read_text("utf-8"))


def origin_of(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def issuer_of(request: Request) -> str:
    return origin_of(request) + MOUNT + REALM_PATH


def demo_owner(seed: int) -> str:
    """The demo user's subject, also its `owner-id` claim (owner of every device)."""
    return stable_uuid(seed, "plgd", "user", USERNAME)


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str  # "" for a public client
    redirect_uris: tuple[str, ...] = ()
    grants: tuple[str, ...] = ("authorization_code", "refresh_token")

    @property
    def public(self) -> bool:
        return not self.secret


CLIENTS = {
    c.client_id: c
    for c in (
        Client(PUBLIC_CLIENT_ID, "", (REDIRECT_URI, LOOPBACK_REDIRECT_URI)),
        Client(PORTAL_CLIENT_ID, "", (PORTAL_REDIRECT_URI,)),
        Client(
            CONFIDENTIAL_CLIENT_ID,
            CONFIDENTIAL_CLIENT_SECRET,
            (REDIRECT_URI, LOOPBACK_REDIRECT_URI),
            ("authorization_code", "refresh_token", "client_credentials", DEVICE_GRANT),
        ),
        Client(CLI_CLIENT_ID, "", (), (DEVICE_GRANT, "refresh_token")),
    )
}


def redirect_uri_allowed(client: Client, uri: str) -> bool:
    """Exact match, except that the loopback form accepts any port (RFC 8252 §7.3)."""
    if uri in client.redirect_uris:
        return True
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    for registered in client.redirect_uris:
        reg = urlsplit(registered)
        if reg.hostname != "127.0.0.1" or reg.port is not None:
            continue
        if (
            parts.scheme == reg.scheme
            and parts.netloc in ("127.0.0.1", f"127.0.0.1:{port}")
            and parts.path == reg.path
            and not parts.query
            and not parts.fragment
            and not uri.endswith(("?", "#"))
            and (port is None or 0 < port < 65536)
        ):
            return True
    return False


def with_query(uri: str, params: dict[str, str | None]) -> str:
    sep = "&" if urlsplit(uri).query else "?"
    return uri + sep + urlencode({k: v for k, v in params.items() if v is not None})


def pkce_s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest())
        .rstrip(b"=")
        .decode()
    )


class TokenInvalid(Exception):
    """An access token that must be refused (message says why)."""


@dataclass
class CodeGrant:
    client_id: str
    redirect_uri: str
    scope: str
    audience: str
    sub: str
    challenge: str
    nonce: str
    expires: float


@dataclass
class OAuthServer:
    ctx: EmulatorContext
    codes: dict[str, CodeGrant] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    devices: DeviceGrants = field(init=False)

    def __post_init__(self) -> None:
        self.devices = DeviceGrants(
            "Sign in to shared", self._check_user, demo_login=(USERNAME, PASSWORD)
        )

    def _check_user(self, username: str, password: str) -> str | None:
        if username == USERNAME and secrets.compare_digest(password, PASSWORD):
            return self.owner
        return None

    @property
    def owner(self) -> str:
        return demo_owner(self.ctx.config.seed)

    # ---------------------------------------------------------------- tokens
    def verify_access(self, token: str) -> dict[str, Any]:
        """Claims of a valid access token; raises TokenInvalid (signature, exp, admin expiry)."""
        try:
            claims = jwt.decode(
                token,
                jwt_keys.ec_private_key().public_key(),
                algorithms=["ES256"],
                options={"verify_aud": False, "require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenInvalid("token is expired") from None
        except jwt.PyJWTError as exc:
            raise TokenInvalid(f"could not parse token: {exc}") from None
        if self.ctx.tokens["plgd"].access_revoked(token):
            raise TokenInvalid("token is expired")
        if not claims.get(OWNER_CLAIM):
            raise TokenInvalid(
                f"cannot get owner: claim {OWNER_CLAIM} is missing (not an access token?)"
            )
        return claims

    def _access_token(
        self, request: Request, *, sub: str, client_id: str, scope: str, audience: str
    ) -> str:
        now = self.ctx.now()
        claims = {
            "iss": issuer_of(request),
            "sub": sub,
            "aud": audience,
            "iat": now,
            "exp": now + self.ctx.ttl(ACCESS_TTL),
            "typ": "Bearer",
            "azp": client_id,
            "scope": scope,
            "client_id": client_id,
            OWNER_CLAIM: self.owner,
            "jti": secrets.token_hex(8),
        }
        return self.ctx.tokens["plgd"].issue_access(jwt_keys.sign_es256(claims))

    def _id_token(self, request: Request, *, sub: str, client_id: str, nonce: str) -> str:
        now = self.ctx.now()
        claims: dict[str, Any] = {
            "iss": issuer_of(request),
            "sub": sub,
            "aud": client_id,
            "iat": now,
            "exp": now + self.ctx.ttl(ACCESS_TTL),
            "name": "Demo User",
            "nickname": USERNAME,
            "email": "demo@plgd.example",
            "email_verified": True,
        }
        if nonce:
            claims["nonce"] = nonce
        return jwt_keys.sign_es256(claims)

    def _token_response(
        self,
        request: Request,
        *,
        sub: str,
        client_id: str,
        scope: str,
        audience: str,
        refresh: bool,
        nonce: str = "",
    ) -> Response:
        body: dict[str, Any] = {
            "access_token": self._access_token(
                request, sub=sub, client_id=client_id, scope=scope, audience=audience
            ),
        }
        if refresh:
            body["refresh_token"] = self.ctx.tokens["plgd"].issue_refresh(
                {"sub": sub, "client_id": client_id, "scope": scope, "audience": audience}
            )
        body.update(
            {"scope": scope, "expires_in": self.ctx.ttl(ACCESS_TTL), "token_type": "Bearer"}
        )
        if "openid" in scope.split():
            body["id_token"] = self._id_token(request, sub=sub, client_id=client_id, nonce=nonce)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    # ---------------------------------------------------------------- discovery
    async def openid_configuration(self, request: Request) -> Response:
        iss = issuer_of(request)
        oidc = origin_of(request) + MOUNT + OIDC_PATH
        return JSONResponse(
            {
                "issuer": iss,
                "authorization_endpoint": oidc + "/auth",
                "token_endpoint": oidc + "/token",
                "userinfo_endpoint": oidc + "/userinfo",
                "end_session_endpoint": oidc + "/logout",
                "revocation_endpoint": oidc + "/revoke",
                "revocation_endpoint_auth_methods_supported": [
                    "private_key_jwt",
                    "client_secret_basic",
                    "client_secret_post",
                    "client_secret_jwt",
                ],
                "jwks_uri": oidc + "/certs",
                "response_types_supported": ["code"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                # RFC 9207: every authorization response carries `iss` (Keycloak since 22)
                "authorization_response_iss_parameter_supported": True,
                "device_authorization_endpoint": oidc + "/auth/device",
                "grant_types_supported": [
                    "authorization_code",
                    "refresh_token",
                    "client_credentials",
                    DEVICE_GRANT,
                ],
                "code_challenge_methods_supported": ["plain", "S256"],
                "token_endpoint_auth_methods_supported": [
                    "private_key_jwt",
                    "client_secret_basic",
                    "client_secret_post",
                    "client_secret_jwt",
                ],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["ES256"],
                "scopes_supported": SUPPORTED_SCOPES,
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "azp",
                    "name",
                    "email",
                    "preferred_username",
                    OWNER_CLAIM,
                ],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(jwt_keys.plgd_jwks())

    # ---------------------------------------------------------------- authorize
    @staticmethod
    def _error_page(message: str) -> Response:
        """Keycloak's error page: 400, the message in ``#kc-error-message``, no redirect."""
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<title>Sign in to shared</title></head>"
            '<body style="font-family: system-ui, sans-serif; max-width: 34rem; margin: 4rem auto">'
            "<h1>We are sorry...</h1>"
            f'<div id="kc-error-message"><p class="instruction">{html.escape(message)}</p></div>'
            "</body></html>"
        )
        return HTMLResponse(page, 400)

    def _check_client(self, params: dict[str, str]) -> tuple[Client, str] | Response:
        client_id = params.get("client_id", "")
        client = CLIENTS.get(client_id)
        if client is None:
            return self._error_page("Client not found.")
        uri = params.get("redirect_uri", "")
        if not uri or not redirect_uri_allowed(client, uri):
            return self._error_page("Invalid parameter: redirect_uri")
        return client, uri

    def _request_error(self, request: Request, params: dict[str, str], uri: str) -> Response | None:
        """Errors that may be sent back to a trusted redirect_uri (RFC 6749 §4.1.2.1)."""
        err: tuple[str, str] | None = None
        if params.get("response_type") != "code":
            err = ("unsupported_response_type", "only response_type=code is supported")
        elif (
            params.get("code_challenge") and params.get("code_challenge_method", "plain") != "S256"
        ):
            err = ("invalid_request", "code_challenge_method must be S256")
        elif params.get("code_challenge_method") and not params.get("code_challenge"):
            err = ("invalid_request", "code_challenge_method without code_challenge")
        if err is None:
            return None
        return RedirectResponse(
            with_query(
                uri,
                {
                    "error": err[0],
                    "error_description": err[1],
                    "iss": issuer_of(request),
                    "state": params.get("state"),
                },
            ),
            302,
        )

    def _login_page(self, params: dict[str, str], error: str = "", username: str = "") -> Response:
        keep = (
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "audience",
            "state",
            "code_challenge",
            "code_challenge_method",
            "nonce",
        )
        hidden = "\n    ".join(
            f'<input type="hidden" name="{k}" value="{html.escape(params[k])}">'
            for k in keep
            if k in params
        )
        scopes = params.get("scope", "").split() or WEB_SCOPES
        page = LOGIN_TEMPLATE.substitute(
            title="Sign in to shared",
            action=html.escape(MOUNT + LOGIN_ACTION_PATH),
            client_id=html.escape(params.get("client_id", "")),
            audience=html.escape(params.get("audience", "") or "(the realm's default audience)"),
            error_html=f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "",
            hidden_fields=hidden,
            username=html.escape(username),
            scope_items="".join(f"<li>{html.escape(s)}</li>" for s in scopes),
            demo_login=demo_login_html((USERNAME, PASSWORD)),
        )
        return HTMLResponse(page, 200, headers={"Cache-Control": "no-store"})

    async def authorize_get(self, request: Request) -> Response:
        params = dict(request.query_params)
        checked = self._check_client(params)
        if isinstance(checked, Response):
            return checked
        error = self._request_error(request, params, checked[1])
        return error or self._login_page(params)

    async def authorize_post(self, request: Request) -> Response:
        params = await self._form(request)  # the browser posts application/x-www-form-urlencoded
        checked = self._check_client(params)
        if isinstance(checked, Response):
            return checked
        client, uri = checked
        error = self._request_error(request, params, uri)
        if error:
            return error
        state = params.get("state")
        if params.get("action", "allow").lower() == "deny":
            return RedirectResponse(
                with_query(
                    uri,
                    {
                        "error": "access_denied",
                        "error_description": "The user denied the request",
                        "iss": issuer_of(request),
                        "state": state,
                    },
                ),
                302,
            )
        username = params.get("username", "")
        if username != USERNAME or not secrets.compare_digest(params.get("password", ""), PASSWORD):
            return self._login_page(params, "Wrong username or password.", username)
        code = secrets.token_urlsafe(18)
        grant = CodeGrant(
            client_id=client.client_id,
            redirect_uri=uri,
            scope=" ".join(params.get("scope", "").split()) or " ".join(WEB_SCOPES),
            audience=params.get("audience") or TOKEN_AUDIENCE,
            sub=self.owner,
            challenge=params.get("code_challenge", ""),
            nonce=params.get("nonce", ""),
            expires=time.monotonic() + CODE_TTL,
        )
        with self.lock:
            now = time.monotonic()
            for old in [c for c, g in self.codes.items() if g.expires < now]:
                del self.codes[old]
            self.codes[code] = grant
        return RedirectResponse(
            with_query(uri, {"code": code, "iss": issuer_of(request), "state": state}), 302
        )

    # ---------------------------------------------------------------- token endpoint
    @staticmethod
    def _oauth_error(
        error: str, description: str, status: int = 400, headers: dict[str, str] | None = None
    ) -> Response:
        return JSONResponse(
            {"error": error, "error_description": description},
            status,
            headers={"Cache-Control": "no-store", **(headers or {})},
        )

    async def _form(self, request: Request) -> dict[str, str]:
        raw = await request.body()
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":  # Keycloak reads form bodies only
            return {}
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))

    def _authenticate(self, request: Request, form: dict[str, str]) -> Client | Response:
        client_id = form.get("client_id", "")
        secret: str | None = form.get("client_secret")
        basic = False
        auth = request.headers.get("authorization", "")
        if auth[:6].lower() == "basic ":
            basic = True
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
                raw_id, raw_secret = decoded.split(":", 1)
            except (ValueError, UnicodeDecodeError):
                return self._oauth_error(
                    "invalid_client",
                    "malformed Basic authorization header",
                    401,
                    {"WWW-Authenticate": 'Basic realm="plgd"'},
                )
            basic_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
            if client_id and client_id != basic_id:
                return self._oauth_error(
                    "invalid_request", "client_id differs from the Basic credentials"
                )
            client_id = basic_id
        if not client_id:
            return self._oauth_error("invalid_client", "client_id is required", 401)
        client = CLIENTS.get(client_id)
        if client is None:
            return self._oauth_error(
                "invalid_client", "Invalid client or Invalid client credentials", 401
            )
        given = secret or ""
        if not secrets.compare_digest(given.encode(), client.secret.encode()):
            why = (
                "client_secret must be empty for the public client"
                if client.public
                else "client authentication failed: wrong or missing client_secret"
            )
            return self._oauth_error(
                "invalid_client",
                why,
                401,
                {"WWW-Authenticate": 'Basic realm="plgd"'} if basic else None,
            )
        return client

    async def token(self, request: Request) -> Response:
        form = await self._form(request)
        grant_type = form.get("grant_type", "")
        if not grant_type:
            return self._oauth_error("invalid_request", "grant_type is required")
        if grant_type not in (
            "authorization_code",
            "refresh_token",
            "client_credentials",
            DEVICE_GRANT,
        ):
            return self._oauth_error(
                "unsupported_grant_type", f"grant_type {grant_type!r} is not supported"
            )
        client = self._authenticate(request, form)
        if isinstance(client, Response):
            return client
        if grant_type not in client.grants:
            return self._oauth_error(
                "unauthorized_client",
                f"client {client.client_id!r} may not use grant_type {grant_type}",
            )
        if grant_type == "authorization_code":
            return self._code_grant(request, client, form)
        if grant_type == "refresh_token":
            return self._refresh_grant(request, client, form)
        if grant_type == DEVICE_GRANT:
            return self._device_grant(request, client, form)
        scope = (
            " ".join(form.get("scope", "").split())
            or "r:deviceinformation:* r:resources:* w:resources:*"
        )
        return self._token_response(
            request,
            sub=client.client_id,
            client_id=client.client_id,
            scope=scope,
            audience=form.get("audience") or TOKEN_AUDIENCE,
            refresh=False,
        )

    def _code_grant(self, request: Request, client: Client, form: dict[str, str]) -> Response:
        code = form.get("code", "")
        if not code:
            return self._oauth_error("invalid_request", "code is required")
        with self.lock:
            grant = self.codes.pop(code, None)  # single use: consumed by any attempt
        if grant is None or grant.expires < time.monotonic():
            return self._oauth_error(
                "invalid_grant", "the authorization code is invalid, expired or already used"
            )
        if grant.client_id != client.client_id:
            return self._oauth_error(
                "invalid_grant", "the authorization code was issued to another client"
            )
        if form.get("redirect_uri", "") != grant.redirect_uri:
            return self._oauth_error(
                "invalid_grant", "redirect_uri does not match the authorization request"
            )
        verifier = form.get("code_verifier", "")
        if grant.challenge:
            if not verifier:
                return self._oauth_error("invalid_grant", "code_verifier is required (PKCE)")
            if not secrets.compare_digest(pkce_s256(verifier), grant.challenge):
                return self._oauth_error(
                    "invalid_grant", "code_verifier does not match the code_challenge"
                )
        elif verifier:
            return self._oauth_error(
                "invalid_grant", "code_verifier sent but no code_challenge was"
            )
        return self._token_response(
            request,
            sub=grant.sub,
            client_id=client.client_id,
            scope=grant.scope,
            audience=grant.audience,
            refresh=True,
            nonce=grant.nonce,
        )

    def _refresh_grant(self, request: Request, client: Client, form: dict[str, str]) -> Response:
        token = form.get("refresh_token", "")
        if not token:
            return self._oauth_error("invalid_request", "refresh_token is required")
        book = self.ctx.tokens["plgd"]
        entry = book.refresh.get(token)
        if entry is not None and entry["data"].get("client_id") != client.client_id:
            return self._oauth_error(
                "invalid_grant", "the refresh token was issued to another client"
            )
        scope_asked = form.get("scope", "").split()
        if (
            entry is not None
            and scope_asked
            and not set(scope_asked) <= set(entry["data"]["scope"].split())
        ):
            return self._oauth_error(
                "invalid_scope", "the requested scope exceeds the granted scope"
            )
        status, data = book.use_refresh(token, rotate=True)
        if data is None:
            return self._oauth_error(
                "invalid_grant",
                f"the refresh token is {status}"
                if status != "unknown"
                else "the refresh token is invalid",
            )
        scope = " ".join(scope_asked) or data["scope"]
        return self._token_response(
            request,
            sub=data["sub"],
            client_id=client.client_id,
            scope=scope,
            audience=data["audience"],
            refresh=True,
        )

    # ---------------------------------------------------------------- device grant
    async def device_authorization(self, request: Request) -> Response:
        """RFC 8628 §3.1-3.2: the client asks for a device code and a user code."""
        raw = await request.body()
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        pairs = (
            parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
            if ctype == "application/x-www-form-urlencoded"
            else []
        )
        form = dict(pairs)
        client = self._authenticate(request, form)
        if isinstance(client, Response):
            return client
        if DEVICE_GRANT not in client.grants:
            return self._oauth_error(
                "unauthorized_client",
                f"client {client.client_id!r} is not allowed the device authorization grant",
            )
        faults = self.ctx.faults["plgd"]
        answer = self.devices.start(
            client_id=client.client_id,
            scope=" ".join(form.get("scope", "").split()) or " ".join(WEB_SCOPES),
            audience=form.get("audience") or TOKEN_AUDIENCE,
            resources=tuple(v for k, v in pairs if k == "resource" and v),
            verification_uri=issuer_of(request) + "/device",
            ttl=faults.device_code_ttl,
            interval=faults.device_code_interval,
            slow_downs=faults.device_slow_down,
        )
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    async def device_page(self, request: Request) -> Response:
        return self.devices.page(MOUNT + VERIFY_PATH, request.query_params.get("user_code", ""))

    async def device_decide(self, request: Request) -> Response:
        raw = await request.body()
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        return self.devices.decide(MOUNT + VERIFY_PATH, form)

    def _device_grant(self, request: Request, client: Client, form: dict[str, str]) -> Response:
        code = form.get("device_code", "")
        if not code:
            return self._oauth_error("invalid_request", "Missing parameter: device_code")
        status, pending = self.devices.poll(code, client.client_id)
        if pending is None:
            return self._oauth_error(status, self.devices.describe_error(status))
        return self._token_response(
            request,
            sub=pending.subject,
            client_id=client.client_id,
            scope=pending.scope,
            audience=pending.audience,
            refresh=True,
        )

    # ---------------------------------------------------------------- revocation
    async def revoke(self, request: Request) -> Response:
        """RFC 7009 §2: the client authenticates as at the token endpoint and names a token it
        was issued; 200 also for a token the realm does not know (§2.2). A token issued to
        another client is refused (§2.1)."""
        form = await self._form(request)
        client = self._authenticate(request, form)
        if isinstance(client, Response):
            return client
        token = form.get("token", "")
        if not token:
            return self._oauth_error("invalid_request", "Missing parameter: token")
        book = self.ctx.tokens["plgd"]
        entry = book.refresh.get(token)
        if entry is not None:
            owner = entry["data"].get("client_id")
        else:
            try:
                owner = jwt.decode(
                    token,
                    jwt_keys.ec_private_key().public_key(),
                    algorithms=["ES256"],
                    options={"verify_aud": False, "verify_exp": False},
                ).get("azp")
            except jwt.PyJWTError:
                owner = None  # not one of ours: nothing to revoke (still 200)
        if owner is not None and owner != client.client_id:
            return self._oauth_error("unauthorized_client", "Unmatching clients", 400)
        if entry is not None:
            book.revoke_refresh(token)
        elif owner is not None:
            book.revoke_access(token)
        return Response(b"", 200, headers={"Cache-Control": "no-store"})

    # ---------------------------------------------------------------- userinfo
    async def userinfo(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        challenge = 'Bearer error="invalid_token"'
        if auth[:7].lower() != "bearer ":
            return JSONResponse(
                {"error": "invalid_token", "error_description": "missing bearer token"},
                401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            claims = self.verify_access(auth[7:].strip())
        except TokenInvalid as exc:
            return JSONResponse(
                {"error": "invalid_token", "error_description": str(exc)},
                401,
                headers={"WWW-Authenticate": challenge},
            )
        info: dict[str, Any] = {"sub": claims["sub"]}
        if claims["sub"] == self.owner:
            info.update(
                {
                    "name": "Demo User",
                    "nickname": USERNAME,
                    "preferred_username": USERNAME,
                    "email": "demo@plgd.example",
                    "email_verified": True,
                }
            )
        return JSONResponse(info)

    def routes(self) -> list[Route]:
        return [
            Route(
                REALM_PATH + "/.well-known/openid-configuration",
                self.openid_configuration,
                methods=["GET"],
            ),
            Route(CERTS_PATH, self.jwks, methods=["GET"]),
            Route(AUTH_PATH, self.authorize_get, methods=["GET"]),
            Route(AUTH_PATH, self.authorize_post, methods=["POST"]),
            Route(LOGIN_ACTION_PATH, self.authorize_post, methods=["POST"]),
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(DEVICE_AUTH_PATH, self.device_authorization, methods=["POST"]),
            Route(VERIFY_PATH, self.device_page, methods=["GET"]),
            Route(VERIFY_PATH, self.device_decide, methods=["POST"]),
            Route(USERINFO_PATH, self.userinfo, methods=["GET", "POST"]),
            Route(REVOKE_PATH, self.revoke, methods=["POST"]),
        ]
