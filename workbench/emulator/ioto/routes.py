"""Emulated EmbedThis Ioto: the device-cloud API (every call a POST) and its Cognito login.

Mounted at /ioto:

    POST /ioto/cognito/                         AWS Cognito InitiateAuth (USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH)
    POST /ioto/api/{controller}/{action}        login access token (raw or "Bearer "), Origin required
    POST /ioto/api/tok/{controller}/{action}    CloudAPI token, "bearer <token>" (the vendor's
                                                samples/api/*.sh) or raw (the API Access page)

Modelled on the vendor's sources (github.com/embedthis/ioto samples/api/*.sh and the reference
pages https://www.embedthis.com/doc/ioto/ref/*.html), and where the real service is strict, stricter:

- A CloudAPI token acts for the whole device cloud, so device/find, device/get, generic/*
  and metric/fetch need ``accountId`` in the body ("Required if using CloudAPI token");
  without it: 400 text/plain "Missing accountId ...". account/get needs an ``id`` and
  metric/getMetricList a ``cloudId`` (role owner) with a CloudAPI token.
- The find options (``limit``, ``next``, ``prev``, ``filter``, ``index``) are query-string
  options ("Query String Options" in the reference pages): ``device/find?limit=10``. The same
  names in the JSON body of a find are refused (400), never silently used.
- ``test/ping`` is documented with the role "public": it answers "pinged" to anyone, with or
  without a token, so it proves nothing about one.

API errors are text/plain (403 auth, 400 bad request, 404 unknown, 405 not POST, 500 service);
Cognito errors are x-amz-json bodies `{"__type", "message"}` with status 400.

Answers are JSON objects with ``data`` (the API Access page); lists add opaque ``next`` and
``prev`` cursors (paging.py says how they are made and how far a filtered page scans).

Modelled choices where the public docs are silent (documented so clients can rely on them):
device/get of an unknown (or, for a login user, foreign) device is 404 "Unknown device";
an unknown accountId is 404 "Unknown account"; the CloudAPI token never expires (the admin
"expire all" switch affects only Cognito tokens).

This module holds the Cognito endpoint, the authentication of API calls and the routes; the
seeded data is in world.py, paging and errors in paging.py, the controllers in api.py.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workbench.emulator import jwt_keys
from workbench.emulator.context import EmulatorContext
from workbench.emulator.ioto.api import Api, Caller
from workbench.emulator.ioto.paging import ApiError, text
from workbench.emulator.ioto.world import (
    CLIENT_ID,
    CLOUDAPI_TOKEN,
    DEMO_ACCOUNT_ID,
    ORIGIN,
    PASSWORD,
    USERNAME,
    World,
)

NAME = "ioto"
TOKEN_PATHS: set[str] = {"/cognito/", "/cognito"}

REGION = "us-east-1"
USER_POOL_ID = "us-east-1_iotoDemo"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{USER_POOL_ID}"
TOKEN_LIFETIME = 3600  # Cognito's default access/id token lifetime
AMZ_JSON = "application/x-amz-json-1.1"
INITIATE_AUTH = "AWSCognitoIdentityProviderService.InitiateAuth"

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


# --------------------------------------------------------------------------- authentication


def _decode_login(ctx: EmulatorContext, token: str) -> dict[str, Any]:
    try:
        claims = jwt_keys.verify(token, jwt_keys.IOTO_HS256_SECRET, "HS256")
    except jwt.ExpiredSignatureError:
        raise ApiError(403, "The incoming token has expired") from None
    except jwt.PyJWTError:
        raise ApiError(403, "Unauthorized: invalid token") from None
    if ctx.tokens[NAME].access_revoked(token):
        raise ApiError(403, "The incoming token has expired")
    # API Gateway Cognito authorizers accept the ID token as well as the access token.
    client = claims.get("client_id") if claims.get("token_use") == "access" else claims.get("aud")
    if (
        claims.get("iss") != ISSUER
        or claims.get("token_use") not in ("access", "id")
        or client != CLIENT_ID
    ):
        raise ApiError(403, "Unauthorized: invalid token")
    return claims


def authenticate(ctx: EmulatorContext, world: World, request: Request, tok: bool) -> Caller:
    raw = request.headers.get("authorization", "").strip()
    if not raw:
        raise ApiError(403, "Missing authorization token")
    bearer = raw[:7].lower() == "bearer "
    token = raw[7:].strip() if bearer else raw
    if tok:
        # "Authorization: bearer <token>" (samples/api/*.sh) or the raw token (API Access page).
        if token == CLOUDAPI_TOKEN:
            return Caller("cloudapi", None)
        if token.count(".") == 2:
            raise ApiError(
                403,
                "Login access tokens cannot be used with the /tok path (use the path without /tok)",
            )
        raise ApiError(403, "Unauthorized: invalid CloudAPI token")
    if token == CLOUDAPI_TOKEN:
        raise ApiError(403, "CloudAPI tokens must be used with the /tok path prefix")
    claims = _decode_login(ctx, token)
    origin = request.headers.get("origin")
    if origin is None:
        raise ApiError(403, "Missing Origin header (set it to the Device Manager's domain)")
    if origin.rstrip("/") != ORIGIN:
        raise ApiError(403, f"Origin not permitted: {origin}")
    username = claims.get("username") or claims.get("cognito:username") or ""
    return Caller("login", world.account_id, username)


# --------------------------------------------------------------------------- Cognito


def amz_error(kind: str, message: str, status: int = 400) -> Response:
    return Response(
        json.dumps({"__type": kind, "message": message}),
        status,
        media_type=AMZ_JSON,
        headers={"x-amzn-ErrorType": kind, "x-amzn-RequestId": str(uuid.uuid4())},
    )


def _refresh_token() -> str:
    """Cognito refresh tokens are encrypted JWTs (JWE, five parts) that clients cannot read."""
    header = (
        base64.urlsafe_b64encode(b'{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}')
        .decode()
        .rstrip("=")
    )
    parts = [secrets.token_urlsafe(n) for n in (256, 12, 600, 16)]
    return ".".join([header, *parts])


class Cognito:
    def __init__(self, ctx: EmulatorContext, world: World) -> None:
        self.ctx = ctx
        self.world = world

    def tokens(self, username: str, auth_time: int) -> dict[str, Any]:
        # Real Cognito signs RS256 with the user pool's keys; the emulator signs HS256 with
        # jwt_keys.IOTO_HS256_SECRET because Ioto clients only decode these tokens, never verify them.
        now = self.ctx.now()
        ttl = self.ctx.ttl(TOKEN_LIFETIME)
        sub = self.world.user_sub(username)
        common = {"sub": sub, "iss": ISSUER, "auth_time": auth_time, "iat": now, "exp": now + ttl}
        access = jwt_keys.sign_hs256(
            {
                **common,
                "client_id": CLIENT_ID,
                "origin_jti": str(uuid.uuid4()),
                "event_id": str(uuid.uuid4()),
                "token_use": "access",
                "scope": "aws.cognito.signin.user.admin",
                "jti": str(uuid.uuid4()),
                "username": username,
            },
            jwt_keys.IOTO_HS256_SECRET,
        )
        id_token = jwt_keys.sign_hs256(
            {
                **common,
                "aud": CLIENT_ID,
                "client_id": CLIENT_ID,
                "email_verified": True,
                "token_use": "id",
                "cognito:username": username,
                "username": username,
                "email": username,
                "jti": str(uuid.uuid4()),
            },
            jwt_keys.IOTO_HS256_SECRET,
        )
        book = self.ctx.tokens[NAME]
        book.issue_access(access)
        book.issue_access(id_token)
        return {"AccessToken": access, "IdToken": id_token, "TokenType": "Bearer", "ExpiresIn": ttl}

    async def handle(self, request: Request) -> Response:
        if request.method != "POST":
            return amz_error("UnknownOperationException", "Only POST is supported", 405)
        target = request.headers.get("x-amz-target", "")
        if target != INITIATE_AUTH:
            return amz_error(
                "UnknownOperationException",
                f"Unknown operation: {target or '(missing X-Amz-Target)'}",
            )
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in (AMZ_JSON, "application/json"):
            return amz_error("SerializationException", f"Content-Type must be {AMZ_JSON}")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return amz_error("SerializationException", "Request body is not valid JSON")
        if not isinstance(body, dict):
            return amz_error("SerializationException", "Request body must be a JSON object")
        client_id = body.get("ClientId")
        if not isinstance(client_id, str) or not client_id:
            return amz_error("InvalidParameterException", "Missing required parameter ClientId")
        if client_id != CLIENT_ID:
            return amz_error(
                "ResourceNotFoundException", f"User pool client {client_id} does not exist."
            )
        params = body.get("AuthParameters") or {}
        if not isinstance(params, dict):
            return amz_error("InvalidParameterException", "AuthParameters must be an object")
        flow = body.get("AuthFlow")
        if flow == "USER_PASSWORD_AUTH":
            return self.password(params)
        if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
            return self.refresh(params)
        if not isinstance(flow, str) or not flow:
            return amz_error("InvalidParameterException", "Missing required parameter AuthFlow")
        return amz_error("InvalidParameterException", f"{flow} flow not enabled for this client")

    def password(self, params: dict[str, Any]) -> Response:
        for name in ("USERNAME", "PASSWORD"):
            if not isinstance(params.get(name), str) or not params[name]:
                return amz_error("InvalidParameterException", f"Missing required parameter {name}")
        if params["USERNAME"].lower() != USERNAME or params["PASSWORD"] != PASSWORD:
            return amz_error("NotAuthorizedException", "Incorrect username or password.")
        now = self.ctx.now()
        result = self.tokens(USERNAME, now)
        result["RefreshToken"] = self.ctx.tokens[NAME].issue_refresh(
            {"username": USERNAME, "client_id": CLIENT_ID, "auth_time": now}, _refresh_token()
        )
        return self.answer(result)

    def refresh(self, params: dict[str, Any]) -> Response:
        token = params.get("REFRESH_TOKEN")
        if not isinstance(token, str) or not token:
            return amz_error(
                "InvalidParameterException", "Missing required parameter REFRESH_TOKEN"
            )
        status, data = self.ctx.tokens[NAME].use_refresh(
            token, rotate=False
        )  # Cognito does not rotate
        if status != "ok" or data is None or data.get("client_id") != CLIENT_ID:
            return amz_error("NotAuthorizedException", "Invalid Refresh Token")
        return self.answer(self.tokens(data["username"], data["auth_time"]))

    @staticmethod
    def answer(result: dict[str, Any]) -> Response:
        body = {"AuthenticationResult": result, "ChallengeParameters": {}}
        return Response(
            json.dumps(body),
            200,
            media_type=AMZ_JSON,
            headers={"x-amzn-RequestId": str(uuid.uuid4())},
        )


# --------------------------------------------------------------------------- request rules

# Finds whose options are "Query String Options" in the reference pages (device, generic,
# user, account, metric/getMetricList).
FINDS = {
    ("device", "find"),
    ("generic", "find"),
    ("user", "find"),
    ("account", "find"),
    ("metric", "getMetricList"),
}
QUERY_OPTIONS = ("filter", "limit", "next", "prev", "index")
# "accountId ... Required if using CloudAPI token" (device reference page); the vendor's
# scripts send it to generic/find, generic/get, generic/update and metric/fetch.
ACCOUNT_SCOPED = {
    ("device", "find"),
    ("device", "get"),
    ("generic", "create"),
    ("generic", "find"),
    ("generic", "get"),
    ("generic", "remove"),
    ("generic", "update"),
    ("metric", "fetch"),
}


def with_query_options(body: dict[str, Any], query: Any) -> dict[str, Any]:
    """The find's options from the query string (refused in the body), merged for the handler."""
    for name in QUERY_OPTIONS:
        if name in body:
            raise ApiError(
                400,
                f"{name} is a query string option (?{name}=...), not a body field",
            )
    options: dict[str, Any] = {}
    for name in QUERY_OPTIONS:
        value = query.get(name)
        if value is None:
            continue
        if name == "limit":
            if not value.isdigit():
                raise ApiError(400, "Bad limit: must be an integer from 1 to 1000")
            options[name] = int(value)
        else:
            options[name] = value
    return {**body, **options}


def scoped(world: World, caller: Caller, action: tuple[str, str], body: dict[str, Any]) -> Caller:
    """A CloudAPI caller acting on the body's accountId (required where the docs require it)."""
    if caller.kind != "cloudapi" or action not in ACCOUNT_SCOPED:
        return caller
    account = body.get("accountId")
    if not isinstance(account, str) or not account:
        raise ApiError(
            400, "Missing accountId: it is required in the body when using a CloudAPI token"
        )
    if account not in world.accounts:
        raise ApiError(404, "Unknown account")
    return Caller("cloudapi", account)


# --------------------------------------------------------------------------- app


def _api_endpoint(ctx: EmulatorContext, world: World) -> Callable[[Request], Awaitable[Response]]:
    handlers = Api(world).handlers()

    async def endpoint(request: Request) -> Response:
        if request.method != "POST":
            return text(405, "Method Not Allowed: every Ioto API call is a POST", {"Allow": "POST"})
        parts = [p for p in request.path_params.get("path", "").split("/") if p]
        tok = bool(parts) and parts[0] == "tok"
        if tok:
            parts = parts[1:]
        if parts == ["test", "ping"]:  # documented with the role "public": no token needed
            return text(200, "pinged\n")
        try:
            caller = authenticate(ctx, world, request, tok)
            action = (parts[0], parts[1]) if len(parts) == 2 else None
            handler = handlers.get(action) if action else None
            if handler is None or action is None:
                raise ApiError(404, f"Unknown API: /{'/'.join(parts)}")
            raw = await request.body()
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise ApiError(400, "Bad request: body is not valid JSON") from None
            if not isinstance(body, dict):
                raise ApiError(400, "Bad request: body must be a JSON object")
            if action in FINDS:
                body = with_query_options(body, request.query_params)
            caller = scoped(world, caller, action, body)
            result = handler(caller, body)
        except ApiError as e:
            return text(e.status, e.message)
        except Exception:  # the service answers 500 text, like the real one
            return text(500, "Internal service error")
        if isinstance(result, Response):
            return result
        return JSONResponse(result)

    return endpoint


def build(ctx: EmulatorContext) -> Starlette:
    world = World(ctx.config.seed, ctx.config.devices)
    cognito = Cognito(ctx, world)
    api = _api_endpoint(ctx, world)
    return Starlette(
        routes=[
            Route("/cognito", cognito.handle, methods=ALL_METHODS),
            Route("/cognito/", cognito.handle, methods=ALL_METHODS),
            Route("/api", api, methods=ALL_METHODS),
            Route("/api/{path:path}", api, methods=ALL_METHODS),
        ]
    )


def describe(base: str) -> dict[str, Any]:
    return {
        "urls": {
            "API endpoint": f"{base}/api",
            "CloudAPI endpoint (with /tok)": f"{base}/api/tok",
            "Cognito endpoint": f"{base}/cognito/",
        },
        "credentials": {
            "Cognito ClientId": CLIENT_ID,
            "user": USERNAME,
            "password": PASSWORD,
            "CloudAPI token": CLOUDAPI_TOKEN,
            "CloudAPI accountId": DEMO_ACCOUNT_ID,
            "Origin": ORIGIN,
        },
    }
