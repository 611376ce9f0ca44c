"""A token the user supplies (Thinger.io user/device tokens, any API key), and no auth at all.

``static_token`` puts the token in a header (default ``Authorization: Bearer <token>``;
``scheme = ""`` sends it raw) or in a query parameter (``placement = "query"``, default
``?authorization=<token>``, Thinger.io's case-sensitive name). Either way the session strips
it from any request that leaves the profile's origins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.core.auth.base import AuthFlow, FlowContext, TokenSet
from workbench.core.secrets import SecretResolver

if TYPE_CHECKING:
    import httpx


class Flow(AuthFlow):
    name = "static_token"
    can_refresh = False

    def _param(self, name: str, default: str) -> str:
        value = self.profile.auth.params.get(name)
        return default if value is None else str(value)

    @property
    def placement(self) -> str:
        return self._param("placement", "header")

    def login(self, ctx: FlowContext) -> TokenSet:
        token = (ctx.secret("token") or "").strip()
        scheme = self._param("scheme", "Bearer")
        ctx.trace.note(
            f"using the token from {self.profile.auth.secrets['token'].describe()}"
            if "token" in self.profile.auth.secrets
            else "using the profile's token"
        )
        return TokenSet(
            access_token=token,
            token_type=scheme or "",
            expires_at=None,
            extra={"flow": self.profile.auth.flow, "placement": self.placement},
        )

    def refresh(self, ctx: FlowContext, tokens: TokenSet) -> TokenSet:
        return self.login(ctx)

    def apply(self, request: httpx.Request, tokens: TokenSet) -> None:
        if self.placement == "query":
            request.url = request.url.copy_set_param(
                self._param("query_param", "authorization"), tokens.access_token
            )
            return
        header = self._param("header", "Authorization")
        scheme = self._param("scheme", "Bearer")
        request.headers[header] = (
            f"{scheme} {tokens.access_token}" if scheme else tokens.access_token
        )

    def credential_names(self) -> tuple[str, ...]:
        names = {
            "authorization",
            self._param("header", "Authorization").lower(),
            self._param("query_param", "authorization"),
        }
        return tuple(sorted(names))


class NoneFlow(AuthFlow):
    """No authentication: nothing to log in to, nothing attached."""

    name = "none"

    def login(self, ctx: FlowContext) -> TokenSet:
        ctx.trace.note("this profile uses no authentication")
        return TokenSet(access_token="", token_type="none", extra={"flow": "none"})

    def refresh(self, ctx: FlowContext, tokens: TokenSet) -> TokenSet:
        return tokens

    def can_login_unattended(self, resolver: SecretResolver) -> bool:
        return True

    def apply(self, request: httpx.Request, tokens: TokenSet) -> None:
        return None

    def credential_names(self) -> tuple[str, ...]:
        return ()


def flow_for(name: str) -> type[AuthFlow]:
    return NoneFlow if name == "none" else Flow
