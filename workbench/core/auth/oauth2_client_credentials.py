"""OAuth2 client credentials grant (RFC 6749 §4.4): a machine logs in as itself (iotspot).

No refresh token is issued: when the access token nears its expiry (or a call answers 401)
the session simply asks for a new one with the same client credentials.
"""

from __future__ import annotations

from workbench.core.auth.base import FlowContext, TokenSet
from workbench.core.auth.oauth2_common import OAuth2Flow


class Flow(OAuth2Flow):
    name = "oauth2_client_credentials"
    grant = "client_credentials"
    can_refresh = False

    def login(self, ctx: FlowContext) -> TokenSet:
        form = {"grant_type": "client_credentials"}
        self.scope_params(ctx, form)
        return self.token_request(ctx, "login", form, secret_required=True)

    def refresh(self, ctx: FlowContext, tokens: TokenSet) -> TokenSet:
        ctx.trace.note("client credentials have no refresh token: asking for a new access token")
        return self.login(ctx)
