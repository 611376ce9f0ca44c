"""The emulated iotspot sign-in: a Cognito-style M2M token endpoint (client_credentials, with
the client sent as HTTP Basic per RFC 6749 2.3.1 or in the form) issuing RS256 access tokens,
and the user pool's JWKS and OpenID configuration.

Demo clients: `iotspot-demo-client` / `iotspot+demo/secret=8852` (client_credentials, scopes
`iotspot/openapi` and `iotspot/outlook`), and `iotspot-web-client` / `iotspot-web-secret-3310`,
which is only enabled for the authorization-code flow (so client_credentials gives
`unauthorized_client`).

Granted scopes: as Cognito does, a requested scope the client may not have is `invalid_scope`,
and no scope asked means every scope the client may have. The access token's `scope` claim then
carries the scopes the POOL grants, which need not be the ones asked for: the vendor's sample
answer (../shared/seeds/003) asks for `iotspot/openapi` and its token carries
`iotspot/outlook iotspot/production` (Cognito pools can add and suppress access-token scopes with
a pre token generation trigger). This pool is modelled on that sample: `iotspot/openapi` is
granted as `iotspot/outlook iotspot/production` (CUSTOMIZATION), and the modelled API wants
`iotspot/production` (API_SCOPE). Like Cognito's, the token answer has no `scope` field: the
claim is the only place the granted scopes appear.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workbench.emulator import jwt_keys
from workbench.emulator.context import EmulatorContext
from workbench.emulator.iotspot.world import PLATFORM

TOKEN_PATH = "/auth/oauth2/token"

REGION = "eu-central-1"
POOL_ID = "eu-central-1_iotspotDemo"
ISSUER_PATH = f"/cognito-idp/{POOL_ID}"

CLIENT_ID = "iotspot-demo-client"
CLIENT_SECRET = "iotspot+demo/secret=8852"
SCOPE = "iotspot/openapi"  # what the vendor's docs tell a client to ask for
API_SCOPE = "iotspot/production"  # what the modelled API requires (in the sample token)
# The pool's access-token customization, after the seed's sample token (see the module doc).
CUSTOMIZATION: dict[str, tuple[str, ...]] = {SCOPE: ("iotspot/outlook", API_SCOPE)}
TOKEN_TTL = 3600

FORM_TYPE = "application/x-www-form-urlencoded"
OAUTH_JSON = "application/json;charset=UTF-8"
GRANT_TYPES = ("client_credentials", "authorization_code", "refresh_token")


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str
    flows: frozenset[str]
    scopes: tuple[str, ...]


CLIENTS = {
    c.client_id: c
    for c in (
        Client(
            CLIENT_ID, CLIENT_SECRET, frozenset({"client_credentials"}), (SCOPE, "iotspot/outlook")
        ),
        Client(
            "iotspot-web-client",
            "iotspot-web-secret-3310",
            frozenset({"authorization_code"}),
            ("openid", "email"),
        ),
    )
}


def granted_scopes(requested: list[str]) -> list[str]:
    """The scopes the pool puts in the access token for the (allowed) scopes asked for."""
    out: list[str] = []
    for scope in requested:
        out.extend(CUSTOMIZATION.get(scope, (scope,)))
    return list(dict.fromkeys(out))


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _issuer(request: Request) -> str:
    return f"{_origin(request)}/{PLATFORM}{ISSUER_PATH}"


def oauth_error(error: str, status: int = 400) -> Response:
    body = json.dumps({"error": error}, separators=(",", ":"))
    return Response(
        body,
        status,
        media_type=OAUTH_JSON,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


class OAuthError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _basic_credentials(header: str) -> tuple[str, str]:
    """RFC 6749 2.3.1: base64 of form-urlencoded id ":" form-urlencoded secret."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise OAuthError("invalid_client")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise OAuthError("invalid_client") from None
    raw_id, colon, raw_secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client")
    return unquote_plus(raw_id), unquote_plus(raw_secret)


def _parse_form(raw: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw.strip())
        )
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:  # RFC 6749 3.2: parameters must not be sent more than once
            raise OAuthError("invalid_request")
        form[key] = value
    return form


def _authenticate(request: Request, form: dict[str, str]) -> Client:
    header = request.headers.get("authorization")
    basic = _basic_credentials(header) if header is not None else None
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    client_id: str | None
    secret: str | None
    if basic is not None:
        if (form_id is not None and form_id != basic[0]) or (
            form_secret is not None and form_secret != basic[1]
        ):
            raise OAuthError("invalid_request")
        client_id, secret = basic
    else:
        client_id, secret = form_id, form_secret
    client = CLIENTS.get(client_id or "")
    if (
        client is None
        or secret is None
        or not hmac.compare_digest(secret.encode(), client.secret.encode())
    ):
        raise OAuthError("invalid_client")
    return client


def oauth_routes(ctx: EmulatorContext) -> list[Route]:
    """The token endpoint and the user pool's well-known documents."""
    book = ctx.tokens[PLATFORM]

    async def token(request: Request) -> Response:
        try:
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != FORM_TYPE:
                raise OAuthError("invalid_request")
            form = _parse_form(await request.body())
            grant_type = form.get("grant_type")
            if not grant_type:
                raise OAuthError("invalid_request")
            if grant_type not in GRANT_TYPES:
                raise OAuthError("unsupported_grant_type")
            client = _authenticate(request, form)
            if grant_type not in client.flows:
                raise OAuthError("unauthorized_client")
            if grant_type != "client_credentials":
                # This pool only runs the M2M flow here: it never issued a code or refresh token.
                param = "code" if grant_type == "authorization_code" else "refresh_token"
                raise OAuthError("invalid_grant" if form.get(param) else "invalid_request")
            requested = form.get("scope", "").split()
            if any(s not in client.scopes for s in requested):
                raise OAuthError("invalid_scope")
            granted = granted_scopes(requested or list(client.scopes))
        except OAuthError as exc:
            return oauth_error(exc.error)
        now = ctx.now()
        ttl = ctx.ttl(TOKEN_TTL)
        claims = {
            "sub": client.client_id,
            "token_use": "access",
            "scope": " ".join(dict.fromkeys(granted)),
            "auth_time": now,
            "iss": _issuer(request),
            "exp": now + ttl,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client.client_id,
        }
        access = book.issue_access(jwt_keys.sign_rs256(claims))
        body = json.dumps(
            {"access_token": access, "expires_in": ttl, "token_type": "Bearer"},
            separators=(",", ":"),
        )
        return Response(
            body,
            200,
            media_type=OAUTH_JSON,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse(jwt_keys.iotspot_jwks())

    async def openid_configuration(request: Request) -> Response:
        issuer = _issuer(request)
        base = f"{_origin(request)}/{PLATFORM}"
        return JSONResponse(
            {
                "issuer": issuer,
                "jwks_uri": f"{issuer}/.well-known/jwks.json",
                "token_endpoint": f"{base}{TOKEN_PATH}",
                "grant_types_supported": list(GRANT_TYPES),
                "scopes_supported": sorted({s for c in CLIENTS.values() for s in c.scopes}),
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
            }
        )

    return [
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(f"{ISSUER_PATH}/.well-known/jwks.json", jwks, methods=["GET"]),
        Route(
            f"{ISSUER_PATH}/.well-known/openid-configuration", openid_configuration, methods=["GET"]
        ),
    ]
