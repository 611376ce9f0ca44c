"""Every auth flow a profile can name, with its parameters (cheap to import: no httpx).

The flow's behaviour lives in its own module (`module`), loaded only to log in.
Parameter kinds:
  str     a literal string, or a secret reference (e.g. a username from the environment)
  url     a URL (templated with {{urls.NAME}}, {{demo_url}}, profile variables)
  secret  ALWAYS a reference ({env=..}/{prompt=..}/{keyring=..}/{demo=..}); never a literal
  int, bool, list (of strings), choice (one of `choices`)
  strs    one string or a list of strings (kept as a list)
  table   a TOML table of strings / integers / booleans (kept as strings)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Param:
    kind: str
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    help: str = ""
    login_field: bool = False  # shown (and editable) in the TUI login screen


@dataclass(frozen=True)
class FlowSpec:
    name: str
    label: str
    module: str  # "workbench.core.auth.<module>"
    params: dict[str, Param] = field(default_factory=dict)
    legacy: bool = False
    interactive: bool = False  # needs a browser / person


CLIENT_AUTH_CHOICES = ("basic", "post", "none", "private_key_jwt", "client_secret_jwt")
_CLIENT_AUTH = Param(
    "choice",
    default="basic",
    choices=CLIENT_AUTH_CHOICES,
    help="how the client authenticates at the token endpoint: client_secret_basic, "
    "client_secret_post, public, or a signed JWT (RFC 7523: private_key_jwt, client_secret_jwt)",
)
# RFC 7523 client assertions, RFC 8707 resource indicators, RFC 7009 revocation
_OAUTH2_EXTRAS = {
    "private_key_file": Param(
        "str", help="private_key_jwt: path of the client's private key (PEM or a JWK JSON file)"
    ),
    "private_key": Param(
        "secret",
        help="private_key_jwt: the key itself (PEM or JWK), from the keyring or the environment",
    ),
    "private_key_kid": Param(
        "str", help="private_key_jwt: the key id (kid) the provider knows the key by"
    ),
    "client_assertion_alg": Param(
        "choice",
        choices=(
            "RS256",
            "RS384",
            "RS512",
            "PS256",
            "PS384",
            "PS512",
            "ES256",
            "ES384",
            "ES512",
            "EdDSA",
            "HS256",
            "HS384",
            "HS512",
        ),
        help="the signing algorithm of the client assertion; default: from the key (RS256, "
        "ES256/384/512, EdDSA) or HS256 for client_secret_jwt",
    ),
    "resource": Param(
        "strs", help="RFC 8707 resource indicator(s): one URI or a list, sent as resource="
    ),
    "revocation_url": Param(
        "url", help="RFC 7009 revocation endpoint; default: discovery's revocation_endpoint"
    ),
}
_AUTHORIZE_PARAMS = {
    "authorize_params": Param(
        "table",
        help="extra authorization request parameters, e.g. prompt, max_age, login_hint, acr_values",
    ),
}
_TOKEN_ENDPOINT = {
    "token_url": Param("url", help="token endpoint (or give issuer for OIDC discovery)"),
    "issuer": Param(
        "url", help="OIDC issuer; endpoints are discovered and the issuer must match exactly"
    ),
}

FLOWS: dict[str, FlowSpec] = {
    spec.name: spec
    for spec in (
        FlowSpec(
            "oauth2_password",
            "OAuth2 password grant (legacy)",
            "workbench.core.auth.oauth2_password",
            {
                **_TOKEN_ENDPOINT,
                "client_id": Param("str"),
                "client_secret": Param("secret"),
                "client_auth": Param("choice", default="none", choices=CLIENT_AUTH_CHOICES),
                "username": Param("str", required=True, login_field=True),
                "password": Param("secret", required=True, login_field=True),
                "scope": Param("str"),
                **_OAUTH2_EXTRAS,
            },
            legacy=True,
        ),
        FlowSpec(
            "oauth2_client_credentials",
            "OAuth2 client credentials",
            "workbench.core.auth.oauth2_client_credentials",
            {
                **_TOKEN_ENDPOINT,
                "client_id": Param("str", required=True, login_field=True),
                "client_secret": Param("secret", required=True, login_field=True),
                "client_auth": _CLIENT_AUTH,
                "scope": Param("str"),
                "audience": Param("str"),
                **_OAUTH2_EXTRAS,
            },
        ),
        FlowSpec(
            "oauth2_authorization_code",
            "OAuth2 authorization code + PKCE (browser)",
            "workbench.core.auth.oauth2_authorization_code",
            {
                **_TOKEN_ENDPOINT,
                "authorization_url": Param("url"),
                "client_id": Param("str", required=True, login_field=True),
                "client_secret": Param("secret"),
                "client_auth": Param("choice", default="post", choices=CLIENT_AUTH_CHOICES),
                "redirect_uri": Param(
                    "url",
                    help="a registered fixed redirect URI (e.g. http://localhost:8080/callback); default: 127.0.0.1 on an ephemeral port",
                ),
                "scope": Param("str"),
                "audience": Param("str"),
                "pkce": Param("bool", default=True),
                "timeout": Param(
                    "int", default=300, help="seconds to wait for the browser callback"
                ),
                **_OAUTH2_EXTRAS,
                **_AUTHORIZE_PARAMS,
            },
            interactive=True,
        ),
        FlowSpec(
            "oauth2_device_code",
            "OAuth2 device code (RFC 8628; approve on any device)",
            "workbench.core.auth.oauth2_device_code",
            {
                **_TOKEN_ENDPOINT,
                "device_authorization_url": Param(
                    "url",
                    help="device authorization endpoint (RFC 8628); default: discovery's "
                    "device_authorization_endpoint",
                ),
                "client_id": Param("str", required=True, login_field=True),
                "client_secret": Param("secret"),
                "client_auth": Param("choice", default="none", choices=("basic", "post", "none")),
                "scope": Param("str"),
                "audience": Param("str"),
                "resource": Param(
                    "list", help="resource indicators (RFC 8707) sent with the device request"
                ),
                "revocation_url": _OAUTH2_EXTRAS["revocation_url"],
            },
            interactive=True,
        ),
        FlowSpec(
            "plgd_hub",
            "plgd hub login: authorization code + PKCE at the authority the hub names",
            "workbench.core.auth.oauth2_hub",
            {
                "hub": Param(
                    "url",
                    help="the hub whose /.well-known/configuration names the authority, the web "
                    "client and the HTTP gateway; default: [urls] hub",
                ),
                "client_id": Param(
                    "str", help="your own client at the authority; default: the hub's web client"
                ),
                "client_secret": Param("secret"),
                "client_auth": Param("choice", default="none", choices=CLIENT_AUTH_CHOICES),
                "redirect_uri": Param(
                    "url",
                    help="a registered fixed redirect URI; default: 127.0.0.1 on an ephemeral port",
                ),
                "scope": Param("str", help="default: the web client's scopes from the hub"),
                "audience": Param("str", help="default: the web client's audience from the hub"),
                "pkce": Param("bool", default=True),
                "timeout": Param(
                    "int", default=300, help="seconds to wait for the browser callback"
                ),
                **_OAUTH2_EXTRAS,
                **_AUTHORIZE_PARAMS,
            },
            interactive=True,
        ),
        FlowSpec(
            "plgd_hub_device_code",
            "plgd hub: device code (RFC 8628) at the authority the hub names",
            "workbench.core.auth.oauth2_hub_device_code",
            {
                "hub": Param("url", help="the hub; default: [urls] hub"),
                "client_id": Param(
                    "str",
                    login_field=True,
                    help="a client allowed the device grant; default: the hub's web client",
                ),
                "client_secret": Param("secret"),
                "client_auth": Param("choice", default="none", choices=("basic", "post", "none")),
                "scope": Param("str", help="default: the web client's scopes from the hub"),
                "audience": Param("str", help="default: the web client's audience from the hub"),
                "revocation_url": _OAUTH2_EXTRAS["revocation_url"],
            },
            interactive=True,
        ),
        FlowSpec(
            "plgd_hub_client_credentials",
            "plgd hub: client credentials at the authority the hub names",
            "workbench.core.auth.oauth2_hub",
            {
                "hub": Param("url", help="the hub; default: [urls] hub"),
                "client_id": Param("str", required=True, login_field=True),
                "client_secret": Param("secret", required=True, login_field=True),
                "client_auth": _CLIENT_AUTH,
                "scope": Param("str"),
                "audience": Param("str"),
                **_OAUTH2_EXTRAS,
            },
        ),
        FlowSpec(
            "iotconnect",
            "IoTConnect basic-token -> login (solution key)",
            "workbench.core.auth.iotconnect",
            {
                "auth_url": Param("url", required=True, help="the auth host incl. /api/v2.x"),
                "username": Param("str", required=True, login_field=True),
                "password": Param("secret", required=True, login_field=True),
                "solution_key": Param("secret", required=True, login_field=True),
            },
        ),
        FlowSpec(
            "ioto_cognito",
            "Ioto login (Cognito USER_PASSWORD_AUTH)",
            "workbench.core.auth.ioto",
            {
                "cognito_url": Param(
                    "url", required=True, help="https://cognito-idp.REGION.amazonaws.com/"
                ),
                "client_id": Param("str", required=True),
                "username": Param("str", required=True, login_field=True),
                "password": Param("secret", required=True, login_field=True),
                "origin": Param(
                    "str", required=True, help="the device manager origin the API expects"
                ),
            },
        ),
        FlowSpec(
            "ioto_cloudapi",
            "Ioto CloudAPI token (/tok prefix)",
            "workbench.core.auth.ioto",
            {
                "token": Param("secret", required=True, login_field=True),
                # Ioto's accountId: "Required if using CloudAPI token" (https://www.embedthis.com/doc/ioto/ref/device.html);
                # not required here so older profiles load: the login asks for it or explains.
                "account_id": Param(
                    "str",
                    login_field=True,
                    help="the manager account id (accountId) the CloudAPI calls act on",
                ),
            },
        ),
        FlowSpec(
            "static_token",
            "A token you supply",
            "workbench.core.auth.static",
            {
                "token": Param("secret", required=True, login_field=True),
                "placement": Param("choice", default="header", choices=("header", "query")),
                "header": Param("str", default="Authorization"),
                "scheme": Param(
                    "str",
                    default="Bearer",
                    help="prefix before the token in the header; empty for raw",
                ),
                "query_param": Param("str", default="authorization"),
            },
        ),
        FlowSpec("none", "No authentication", "workbench.core.auth.static", {}),
    )
}
