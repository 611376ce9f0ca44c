"""Emulated iotspot: a Cognito-style M2M token endpoint and a MODEL of the iotspot open API.

What is faithful (PLATFORMS.md section 4, seed 003):

    POST /iotspot/auth/oauth2/token             client_credentials, Basic (RFC 6749 2.3.1) or
                                                client_secret_post -> RS256 access token
    GET  /iotspot/cognito-idp/{pool}/.well-known/jwks.json
    GET  /iotspot/cognito-idp/{pool}/.well-known/openid-configuration

What is a model (the real open API is not publicly documented), labelled as such on every
response with the `X-Emulator-Model` header and in list bodies with `"model"`:

    GET /iotspot/api/v1/workspaces                      paged ?page=1&pageSize=50
    GET /iotspot/api/v1/workspaces/{id}
    GET /iotspot/api/v1/workspaces/{id}/locations       paged
    GET /iotspot/api/v1/locations/{id}
    GET /iotspot/api/v1/locations/{id}/desks            paged
    GET /iotspot/api/v1/desks                           paged (every desk)
    GET /iotspot/api/v1/desks/{id}
    GET /iotspot/api/v1/desks/{id}/occupancy
    GET /iotspot/api/v1/occupancy[?workspaceId=]        summary counts

The world: `ctx.config.devices` desks (one occupancy sensor each) spread over a few offices in
real cities (workspaces) and their floors / zones (locations). Everything is computed from
indices and the seed, so 100,000 desks cost nothing at start-up.

Demo clients: `iotspot-demo-client` / `iotspot+demo/secret=8852` (client_credentials, scopes
`iotspot/openapi` and `iotspot/outlook`; a token asked for `iotspot/openapi` carries
`iotspot/outlook iotspot/production`, as the vendor's sample token does: see oauth.py), and `iotspot-web-client` / `iotspot-web-secret-3310`,
which is only enabled for the authorization-code flow (so client_credentials gives
`unauthorized_client`).

This module puts the parts together: the token endpoint is in iotspot_oauth.py, the modelled
API in iotspot_api.py, the world in iotspot_world.py.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount

from workbench.emulator.context import EmulatorContext
from workbench.emulator.iotspot.api import MODEL_HEADER, ModelLabel, model_api
from workbench.emulator.iotspot.oauth import (
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER_PATH,
    SCOPE,
    TOKEN_PATH,
    oauth_routes,
)
from workbench.emulator.iotspot.world import World

NAME = "iotspot"
TOKEN_PATHS: set[str] = {TOKEN_PATH}

API_PATH = "/api/v1"


def build(ctx: EmulatorContext) -> Starlette:
    world = World(ctx.config.seed, ctx.config.devices, int(ctx.started))
    return Starlette(
        routes=[
            *oauth_routes(ctx),
            Mount(API_PATH, app=ModelLabel(model_api(world, ctx.tokens[NAME]))),
        ]
    )


def describe(base: str) -> dict[str, Any]:
    issuer = f"{base}{ISSUER_PATH}"
    return {
        "urls": {
            "token": f"{base}{TOKEN_PATH}",
            "issuer": issuer,
            "jwks": f"{issuer}/.well-known/jwks.json",
            "api (model)": f"{base}{API_PATH}",
        },
        "credentials": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": SCOPE,
        },
        "note": "The iotspot open API is not public: /api/v1 (workspaces -> locations -> desks with "
        "occupancy sensors) is the emulator's model of it, labelled with the "
        f"{MODEL_HEADER} header.",
    }
