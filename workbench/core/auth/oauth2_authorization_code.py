"""OAuth2 authorization code grant with PKCE S256 (RFC 6749 §4.1, RFC 7636, RFC 8252) — plgd.

1. a loopback listener starts on 127.0.0.1 (fixed port when the profile's redirect_uri
   names one, else ephemeral);
2. the browser is opened at the authorization URL (or, with --no-browser, the URL is shown)
   with ``state`` (256 random bits), ``code_challenge`` (S256) and, for OpenID scopes, a nonce;
3. the callback's state is checked, then the code is exchanged at the token endpoint with
   the ``code_verifier``.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from workbench.core.auth.base import FlowContext, TokenSet
from workbench.core.auth.id_token import unverified_subject, validate_id_token
from workbench.core.auth.loopback import LoopbackListener
from workbench.core.auth.oauth2_common import OAuth2Flow
from workbench.core.auth.pkce import PkcePair
from workbench.core.errors import AuthError


class Flow(OAuth2Flow):
    name = "oauth2_authorization_code"
    grant = "authorization_code"

    def authorization_request(
        self,
        ctx: FlowContext,
        authorization_url: str,
        redirect_uri: str,
        state: str,
        pkce: PkcePair | None,
        nonce: str | None,
    ) -> str:
        params: dict[str, str] = {
            "response_type": "code",
            "client_id": ctx.secret("client_id") or "",
            "redirect_uri": redirect_uri,
        }
        self.scope_params(ctx, params)
        params["state"] = state
        if pkce is not None:
            params["code_challenge"] = pkce.challenge
            params["code_challenge_method"] = pkce.method
        if nonce:
            params["nonce"] = nonce
        query = list(params.items()) + self.authorization_extras(ctx)  # prompt, resource, ...
        sep = "&" if "?" in authorization_url else "?"
        return authorization_url + sep + urlencode(query)

    def login(self, ctx: FlowContext) -> TokenSet:
        endpoints = self.endpoints(ctx, need_authorization=True)
        assert endpoints.authorization_url is not None
        state = secrets.token_urlsafe(32)
        pkce = PkcePair.generate() if ctx.param("pkce", True) else None
        scope = str(ctx.param("scope") or "")
        nonce = secrets.token_urlsafe(16) if "openid" in scope.split() else None
        listener = LoopbackListener(state, ctx.param("redirect_uri") or None)
        with listener:
            url = self.authorization_request(
                ctx, endpoints.authorization_url, listener.redirect_uri, state, pkce, nonce
            )
            ctx.trace.note(
                f"waiting for the browser's callback on {listener.redirect_uri} "
                f"(listening on 127.0.0.1:{listener.port})"
            )
            opened = False
            if ctx.open_browser is not None:
                try:
                    opened = bool(ctx.open_browser(url))
                except Exception:
                    opened = False
            if opened:
                ctx.trace.note("opened the browser at the authorization URL")
            elif ctx.show_url is not None:
                ctx.show_url(url)
                ctx.trace.note("showed the authorization URL (no browser opened)")
            else:
                raise AuthError(
                    "this login needs a browser, and none could be opened",
                    step="authorize",
                    hint="run on a desktop, or use --no-browser and open the printed URL yourself",
                )
            result = listener.wait(float(ctx.param("timeout", 300)), ctx.cancelled)
        ctx.trace.redactor.add(result.code)
        ctx.trace.note("callback received: state matched, authorization code «redacted»")
        form = {
            "grant_type": "authorization_code",
            "code": result.code,
            "redirect_uri": listener.redirect_uri,
        }
        if pkce is not None:
            form["code_verifier"] = pkce.verifier
        tokens = self.token_request(ctx, "code-exchange", form, token_url=endpoints.token_url)
        self._check_id_token(ctx, tokens, nonce=nonce)
        return tokens

    def refresh(self, ctx: FlowContext, tokens: TokenSet) -> TokenSet:
        """The refresh grant; a new ID token in the answer is checked like a login's, and
        must name the same subject (OIDC Core §12.2; no nonce)."""
        new = super().refresh(ctx, tokens)
        if new.id_token and new.id_token != tokens.id_token:
            self._check_id_token(ctx, new, nonce=None, previous=tokens.id_token)
        return new

    def _check_id_token(
        self, ctx: FlowContext, tokens: TokenSet, *, nonce: str | None, previous: str | None = None
    ) -> None:
        """OIDC: iss, aud, exp, nonce and the signature (id_token.py)."""
        if not tokens.id_token:
            return
        issuer = ctx.param("issuer") or None
        validate_id_token(
            ctx,
            tokens.id_token,
            client_id=ctx.secret("client_id") or "",
            client_secret=ctx.secret("client_secret", required=False),
            issuer=issuer,
            metadata=self.discover(ctx) if issuer else {},
            nonce=nonce,
            subject=unverified_subject(previous) if previous else None,
        )
