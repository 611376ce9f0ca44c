"""plgd hub login with a device code (RFC 8628) at the authority the hub names.

Like ``plgd_hub`` (oauth2_hub.py), the login first reads ``{hub}/.well-known/configuration``:
its ``authority`` is the OIDC issuer (whose discovery names ``device_authorization_endpoint``;
Keycloak's is ``{realm}/protocol/openid-connect/auth/device``), and its HTTP gateway's origin
is recorded with the tokens. The device flow itself is oauth2_device_code.py's. The hub's web
client usually may not use the device grant: name your own public client (``client_id``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.core.auth import oauth2_device_code
from workbench.core.auth.base import FlowContext, TokenSet
from workbench.core.auth.oauth2_hub import (
    HubContext,
    found_values,
    read_hub,
    remember,
    stored_context,
)

if TYPE_CHECKING:
    from workbench.core.auth.revocation import Revocation


class Flow(oauth2_device_code.Flow):
    name = "plgd_hub_device_code"

    def login(self, ctx: FlowContext) -> TokenSet:
        facts = read_hub(ctx)
        hctx = HubContext(ctx, found_values(facts, web_client=True))
        hctx.show_device_code = ctx.show_device_code  # (HubContext copies the browser hooks)
        return remember(super().login(hctx), facts, hctx)

    def refresh(self, ctx: FlowContext, tokens: TokenSet) -> TokenSet:
        return super().refresh(stored_context(ctx, tokens), tokens)

    def revoke(self, ctx: FlowContext, tokens: TokenSet) -> list[Revocation]:
        """At the authority the login used, as the client it used (kept with the tokens)."""
        return super().revoke(stored_context(ctx, tokens), tokens)
