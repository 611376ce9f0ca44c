"""OAuth2 resource owner password grant (RFC 6749 §4.3) — a LEGACY grant.

The user's password goes to the client; OAuth 2.1 drops this grant. Thinger.io still uses
it (`POST /oauth/token` with `grant_type=password&username=&password=`), so the workbench
supports it and says so in the UI. The refresh token rotates on every use.
"""

from __future__ import annotations

from workbench.core.auth.base import FlowContext, TokenSet
from workbench.core.auth.oauth2_common import OAuth2Flow

LEGACY_NOTE = (
    "the password grant is a legacy OAuth2 grant: your password is sent to the token "
    "endpoint; prefer a token or a browser login where the platform offers one"
)


class Flow(OAuth2Flow):
    name = "oauth2_password"
    grant = "password"
    legacy_note = LEGACY_NOTE

    def login(self, ctx: FlowContext) -> TokenSet:
        username = ctx.secret("username")
        password = ctx.secret("password")
        ctx.trace.note(LEGACY_NOTE)
        form = {"grant_type": "password", "username": username or "", "password": password or ""}
        self.scope_params(ctx, form)
        return self.token_request(ctx, "login", form)
