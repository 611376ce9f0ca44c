"""RFC 7009 token revocation, used by the logout: the refresh token first (revoking it
ends the grant at most providers), then the access token.

The endpoint: the profile's ``revocation_url``, else discovery now (``issuer``), else the
one discovery named when these tokens were obtained (stored with them; plgd's authority) —
that one only when its origin is one of the profile's (a token store edited to point
elsewhere never receives the refresh token). The client
authenticates as at the token endpoint (client_auth); secrets are only read when they are
available without asking (env, keyring, file) — a logout never prompts.

Each token gives one `Revocation`: revoked (the server answered 200: RFC 7009 §2.2 says
that is also the answer for a token it no longer knows), or why not, in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.core.auth.base import FlowContext, TokenSet, server_message
from workbench.core.errors import AuthError, TransportError, WorkbenchError

if TYPE_CHECKING:
    from workbench.core.auth.oauth2_common import OAuth2Flow

FORM = "application/x-www-form-urlencoded"


@dataclass
class Revocation:
    token: str  # "refresh token" | "access token"
    revoked: bool
    detail: str  # what happened, in words (no token value)
    network: bool = False  # the failure was the network or a 5xx, not a refusal
    attempted: bool = True  # False: nothing was sent (no endpoint known)
    unsupported: bool = False  # the provider cannot revoke this kind (e.g. a JWT access token)

    @property
    def failed(self) -> bool:
        """Tried, and refused or unreachable (not: impossible at this provider)."""
        return self.attempted and not self.revoked and not self.unsupported

    def to_json(self) -> dict[str, object]:
        return {
            "token": self.token,
            "revoked": self.revoked,
            "detail": self.detail,
            "attempted": self.attempted,
            "unsupported": self.unsupported,
        }


def revocation_endpoint(flow: OAuth2Flow, ctx: FlowContext, tokens: TokenSet) -> str | None:
    given = ctx.param("revocation_url")
    if isinstance(given, str) and given:
        return given
    if ctx.param("issuer"):
        found = flow.discover(ctx).get("revocation_endpoint")
        return found if isinstance(found, str) and found else None
    stored = tokens.extra.get("revocation_endpoint")
    if isinstance(stored, str) and stored:
        from workbench.core.profiles import Origin

        if Origin.of(stored) in flow.profile.origins():
            return stored
        ctx.trace.note(
            f"the revocation endpoint stored with the tokens ({Origin.of(stored)}) is not one "
            "of the profile's origins: not used"
        )
    return None


def revoke_tokens(flow: OAuth2Flow, ctx: FlowContext, tokens: TokenSet) -> list[Revocation]:
    """Revoke `tokens` at the provider; one Revocation per token, never an exception for a
    refusal or a network failure (the logout reports them and forgets the tokens anyway)."""
    from workbench.core.auth.oauth2_common import ensure_secure

    wanted = [
        (name, value, hint)
        for name, value, hint in (
            ("refresh token", tokens.refresh_token, "refresh_token"),
            ("access token", tokens.access_token, "access_token"),
        )
        if value
    ]
    for _, value, _ in wanted:
        ctx.trace.redactor.add(value)
    try:
        url = revocation_endpoint(flow, ctx, tokens)
        if url is None:
            return [
                Revocation(
                    name,
                    False,
                    "not revoked: the provider names no revocation endpoint (set revocation_url "
                    "in the profile if it has one); it stays valid until it expires",
                    attempted=False,
                )
                for name, _, _ in wanted
            ]
        ensure_secure(url, "revocation endpoint")
    except WorkbenchError as err:
        return [
            Revocation(
                name,
                False,
                f"not revoked: {err.message}",
                network=isinstance(err, TransportError),
            )
            for name, _, _ in wanted
        ]
    return [_revoke_one(flow, ctx, url, name, value, hint, tokens) for name, value, hint in wanted]


def _revoke_one(
    flow: OAuth2Flow,
    ctx: FlowContext,
    url: str,
    name: str,
    value: str,
    hint: str,
    tokens: TokenSet,
) -> Revocation:
    form = {"token": value, "token_type_hint": hint}
    headers = {"Accept": "application/json", "Content-Type": FORM}
    # a client assertion names the token endpoint as its audience here too: RFC 7523 §3 says
    # it may, and Keycloak, node-oidc-provider and others accept it for every endpoint
    stored = tokens.extra.get("token_endpoint")
    audience = stored if isinstance(stored, str) and stored else ctx.param("token_url") or url
    try:
        flow.add_client_auth(ctx, form, headers, audience=str(audience))
        request = ctx.client.build_request("POST", url, data=form, headers=headers)
        response = ctx.send("revoke", request)
    except WorkbenchError as err:
        return Revocation(
            name, False, f"not revoked: {err.message}", network=isinstance(err, TransportError)
        )
    if response.status_code == 200:
        return Revocation(name, True, f"revoked at {response.request.url.host}")
    said = server_message(response)
    if response.status_code == 400 and said and said.startswith("unsupported_token_type"):
        # RFC 7009 §2.2.1: e.g. a self-contained JWT access token; it lives until it expires
        remaining = tokens.remaining() if hint == "access_token" else None
        until = f"in {int(remaining)} s" if remaining is not None and remaining > 0 else "its end"
        return Revocation(
            name,
            False,
            f"not revocable at this provider ({said}); it stays valid until it expires ({until})",
            unsupported=True,
        )
    detail = f"not revoked: the revocation endpoint answered HTTP {response.status_code}" + (
        f" ({said})" if said else ""
    )
    if response.status_code in (401, 400) and said and said.startswith("invalid_client"):
        detail += "; check the client's credentials (client_auth) in the profile"
    ctx.trace.fail(
        AuthError(detail, step="revoke", status=response.status_code, server_message=said)
    )
    return Revocation(name, False, detail, network=response.status_code >= 500)
