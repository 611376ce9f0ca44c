"""The refresh_token grant (RFC 6749 §6), shared by the OAuth2 flows.

A server may rotate the refresh token (Thinger.io does on every use, plgd's server too):
the new one replaces the old in the returned TokenSet, and the session persists it to the
token store before the new access token is used. A refused refresh (invalid_grant,
revoked, already used) raises LoginRequired: only a new login helps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.core.auth.base import FlowContext, TokenSet
from workbench.core.errors import LoginRequired

if TYPE_CHECKING:
    from workbench.core.auth.oauth2_common import OAuth2Flow


def refresh_grant(flow: OAuth2Flow, ctx: FlowContext, tokens: TokenSet) -> TokenSet:
    if not tokens.refresh_token:
        raise LoginRequired(
            "there is no refresh token to renew the session with",
            step="refresh",
            hint=f"log in again (`workbench login {flow.profile.name}`)",
        )
    ctx.trace.redactor.add(tokens.refresh_token)
    ctx.trace.redactor.add(tokens.access_token)
    form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
    token_url = (
        tokens.extra.get("token_endpoint")
        if isinstance(tokens.extra.get("token_endpoint"), str)
        else None
    )
    if token_url and token_url != ctx.param("token_url") and not ctx.param("issuer"):
        token_url = None  # the profile's token_url changed since these tokens were stored
    new = flow.token_request(ctx, "refresh", form, token_url=token_url, previous=tokens)
    if new.refresh_token != tokens.refresh_token:
        ctx.trace.note(
            "the server rotated the refresh token; the new one is stored before the new "
            "access token is used"
        )
    else:
        ctx.trace.note("the server kept the refresh token")
    return new
