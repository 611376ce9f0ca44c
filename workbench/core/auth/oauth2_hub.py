"""Log in to a plgd hub the way its own web UI does: ask the hub first.

A plgd hub publishes ``GET {hub}/.well-known/configuration`` (no auth). Its ``authority`` is the
OAuth provider (try.plgd.cloud: the Keycloak realm ``https://auth.plgd.cloud/realms/shared``),
``webOauthClient`` the public client of the hub's UI (its ``clientId``, ``scopes``,
``audience``), and ``httpGatewayAddress`` the HTTP gateway, which may be another origin
(try.plgd.cloud: ``https://api.try.plgd.cloud``). Source: ../shared/reference/plgd-try-cloud.md.

1. the hub configuration is read from the profile's hub (``hub`` in [auth], else ``urls.hub``,
   else the first URL) over https (plain http only to loopback);
2. the authority is used as the OIDC issuer: its endpoints come from
   ``{authority}/.well-known/openid-configuration`` (issuer matched exactly);
3. ``plgd_hub``: authorization code + PKCE in the browser with the web client and its scopes
   (the profile may name its own ``client_id`` / ``scope`` / ``audience`` / ``redirect_uri``);
   before the browser is opened, the authorization URL is asked once without following
   redirects, so a provider that refuses the redirect URI (Keycloak's "Invalid parameter:
   redirect_uri" page) is reported in words instead of a browser tab that never comes back.
   ``plgd_hub_client_credentials``: client credentials with the profile's own client at the
   same authority.
4. the gateway's origin is recorded with the tokens (``extra["discovered_origins"]``): the
   session then sends the token to the profile's origins plus that one, and says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.core.auth import oauth2_authorization_code, oauth2_client_credentials
from workbench.core.auth.base import AuthFlow, FlowContext, TokenSet, server_message
from workbench.core.auth.oauth2_common import OAuth2Flow, ensure_secure
from workbench.core.auth.pkce import PkcePair
from workbench.core.errors import AuthError, ResponseError
from workbench.core.platforms.plgd_onboarding import (
    HubLogin,
    configuration_url,
    hub_login,
    page_summary,
)
from workbench.core.profiles import Origin
from workbench.core.text import escape_keep_newlines

if TYPE_CHECKING:
    from workbench.core.auth.revocation import Revocation
    from workbench.core.profiles import Profile

STEP = "hub-configuration"
PASTE_BACK = (
    "or set redirect_uri to a URI the client IS registered for (an https page of the hub's "
    "UI, say) and use the paste-back login (`workbench login PROFILE --paste`): you paste the "
    "address the browser ends on"
)


def hub_url(profile: Profile) -> str:
    """The hub whose configuration the login reads."""
    given = profile.auth.params.get("hub")
    if isinstance(given, str) and given:
        return given.rstrip("/")
    return (profile.urls.get("hub") or profile.base_url).rstrip("/")


def read_hub(ctx: FlowContext) -> HubLogin:
    """GET the hub configuration (traced) and take the login facts from it."""
    hub = hub_url(ctx.profile)
    url = configuration_url(hub)
    ensure_secure(url, "hub configuration")
    request = ctx.client.build_request("GET", url, headers={"Accept": "application/json"})
    response = ctx.send(STEP, request)
    if response.status_code != 200:
        raise AuthError(
            f"the hub configuration at {escape_keep_newlines(url)} answered HTTP "
            f"{response.status_code}",
            step=STEP,
            status=response.status_code,
            server_message=server_message(response),
            hint="check the profile's hub URL ([urls] hub): a plgd hub answers "
            "/.well-known/configuration without a login",
        )
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise AuthError(
            f"the hub configuration at {escape_keep_newlines(url)} is not a JSON object",
            step=STEP,
            status=response.status_code,
            server_message=server_message(response),
            hint="is [urls] hub a plgd hub? a proxy or maintenance page may be answering",
        )
    try:
        facts = hub_login(data)
    except ResponseError as err:
        raise AuthError(err.message, step=STEP, hint=err.hint) from None
    if facts.gateway_address:
        ensure_secure(facts.gateway_address, "HTTP gateway the hub configuration names")
    ctx.trace.note(
        f"the hub names the authority {facts.authority}, the web client {facts.client_id}"
        + (f" (scopes {' '.join(facts.scopes)})" if facts.scopes else "")
        + (f" and the HTTP gateway {facts.gateway_address}" if facts.gateway_address else "")
    )
    return facts


class HubContext(FlowContext):
    """A FlowContext whose auth parameters fall back to what the hub configuration named
    (the profile's own values win)."""

    def __init__(self, ctx: FlowContext, found: dict[str, Any]) -> None:
        super().__init__(
            ctx.profile,
            ctx.client,
            ctx.resolver,
            ctx.trace,
            open_browser=ctx.open_browser,
            show_url=ctx.show_url,
            cancelled=ctx.cancelled,
            offer_paste=ctx.offer_paste,
        )
        self.found = {k: v for k, v in found.items() if v}

    def param(self, name: str, default: Any = None) -> Any:
        if name in self.profile.auth.params:
            return self.profile.auth.params[name]
        return self.found.get(name, default)

    def secret(self, name: str, required: bool = True) -> str | None:
        if name in self.profile.auth.secrets or name in self.profile.auth.params:
            return super().secret(name, required)
        value = self.found.get(name)
        return value if isinstance(value, str) else None


def found_values(facts: HubLogin, *, web_client: bool) -> dict[str, Any]:
    found: dict[str, Any] = {"issuer": facts.authority, "audience": facts.audience}
    if web_client:
        found["client_id"] = facts.client_id
        found["scope"] = " ".join(facts.scopes)
    return found


def remember(tokens: TokenSet, facts: HubLogin, ctx: HubContext) -> TokenSet:
    """Record what the login used with the tokens, and the gateway's origin they may go to."""
    origins: list[str] = []
    if facts.gateway_address:
        origins.append(str(Origin.of(facts.gateway_address)))
    tokens.extra.update(
        {
            "hub": hub_url(ctx.profile),
            "issuer": facts.authority,
            "client_id": ctx.secret("client_id", required=False),
            "scope": ctx.param("scope"),
            "audience": ctx.param("audience"),
            "gateway": facts.gateway_address,
            "discovered_origins": origins,
        }
    )
    return tokens


def stored_context(ctx: FlowContext, tokens: TokenSet) -> HubContext:
    """The context a refresh runs in: the values the login found, kept with the tokens."""
    extra = tokens.extra if isinstance(tokens.extra, dict) else {}
    return HubContext(ctx, {k: extra.get(k) for k in ("issuer", "client_id", "scope", "audience")})


def redirect_refused(
    ctx: FlowContext, url: str, redirect_uri: str, client_id: str, authority: str
) -> None:
    """Ask the authorization URL once (no redirects followed): raise AuthError in words when
    the provider refuses the client or the redirect URI; a login page (or a redirect to one)
    is fine."""
    request = ctx.client.build_request("GET", url, headers={"Accept": "text/html"})
    response = ctx.send("authorize-check", request)
    if response.status_code < 400:
        return
    words = page_summary(response.text)
    lowered = words.lower()
    register = (
        f"register your own client at {authority} with the redirect URI "
        "http://127.0.0.1/callback (any port; or a fixed one you set as redirect_uri), then set "
        "client_id (and redirect_uri) in the profile's [auth]; or "
    )
    if "redirect_uri" in lowered or "redirect uri" in lowered:
        raise AuthError(
            f"the provider refused the redirect URI {redirect_uri} for the client {client_id}: "
            "that client is not registered for a loopback redirect (a web client of the hub's "
            "own UI usually is not)",
            step="authorize",
            status=response.status_code,
            server_message=words,
            hint=register + PASTE_BACK,
        )
    if "client not found" in lowered or "unknown client" in lowered:
        raise AuthError(
            f"the provider does not know the client {client_id}",
            step="authorize",
            status=response.status_code,
            server_message=words,
            hint=register + PASTE_BACK,
        )
    raise AuthError(
        f"the provider refused the authorization request (HTTP {response.status_code})",
        step="authorize",
        status=response.status_code,
        server_message=words,
        hint="check client_id, scope and redirect_uri in the profile's [auth]",
    )


class BrowserFlow(oauth2_authorization_code.Flow):
    name = "plgd_hub"

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)
        self._facts: HubLogin | None = None

    def login(self, ctx: FlowContext) -> TokenSet:
        facts = read_hub(ctx)
        hctx = HubContext(ctx, found_values(facts, web_client=True))
        self._facts = facts
        return remember(super().login(hctx), facts, hctx)

    def authorization_request(
        self,
        ctx: FlowContext,
        authorization_url: str,
        redirect_uri: str,
        state: str,
        pkce: PkcePair | None,
        nonce: str | None,
    ) -> str:
        url = super().authorization_request(
            ctx, authorization_url, redirect_uri, state, pkce, nonce
        )
        client_id = ctx.secret("client_id") or ""
        authority = self._facts.authority if self._facts else authorization_url
        redirect_refused(ctx, url, redirect_uri, client_id, authority)
        return url

    def refresh(self, ctx: FlowContext, tokens: TokenSet) -> TokenSet:
        return super().refresh(stored_context(ctx, tokens), tokens)

    def revoke(self, ctx: FlowContext, tokens: TokenSet) -> list[Revocation]:
        """At the authority the login used, as the client it used (kept with the tokens)."""
        return super().revoke(stored_context(ctx, tokens), tokens)


class MachineFlow(oauth2_client_credentials.Flow):
    name = "plgd_hub_client_credentials"

    def login(self, ctx: FlowContext) -> TokenSet:
        facts = read_hub(ctx)
        hctx = HubContext(ctx, found_values(facts, web_client=False))
        return remember(super().login(hctx), facts, hctx)

    def revoke(self, ctx: FlowContext, tokens: TokenSet) -> list[Revocation]:
        return super().revoke(stored_context(ctx, tokens), tokens)


def flow_for(name: str) -> type[AuthFlow]:
    flows: dict[str, type[OAuth2Flow]] = {
        BrowserFlow.name: BrowserFlow,
        MachineFlow.name: MachineFlow,
    }
    return flows[name]
