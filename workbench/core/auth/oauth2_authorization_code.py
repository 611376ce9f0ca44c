"""OAuth2 authorization code grant with PKCE S256 (RFC 6749 §4.1, RFC 7636, RFC 8252) — plgd.

1. a loopback listener starts on 127.0.0.1 (fixed port when the profile's redirect_uri
   names one, else ephemeral) — unless the redirect_uri is not on this machine (an https
   page of a portal, say): then pasting the redirect URL back is the only way;
2. the browser is opened at the authorization URL (or, with --no-browser, the URL is shown)
   with ``state`` (256 random bits), ``code_challenge`` (S256) and, for OpenID scopes, a nonce;
   when the context can take a pasted redirect URL (``offer_paste``) that is offered too, and
   the first response from the listener or the paste wins (callback.py);
3. the response's state is checked, and its ``iss`` (RFC 9207: required when discovery says
   ``authorization_response_iss_parameter_supported``; compared whenever present), then the
   code is exchanged at the token endpoint with the ``code_verifier``.

When nobody can act on the URL (no browser opened, nothing shows the URL or takes a paste;
the CLI with no terminal) the login fails at once, in words: it never waits for a callback
that cannot come.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from workbench.core.auth.base import FlowContext, TokenSet
from workbench.core.auth.callback import CallbackWaiter, PasteOffer
from workbench.core.auth.loopback import LoopbackListener, is_loopback_redirect
from workbench.core.auth.oauth2_common import OAuth2Flow
from workbench.core.auth.pkce import PkcePair
from workbench.core.errors import AuthError, CallbackError


class Flow(OAuth2Flow):
    name = "oauth2_authorization_code"
    grant = "authorization_code"
    checks_id_token = True

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

    def expected_issuer(self, ctx: FlowContext) -> tuple[str | None, bool]:
        """(the issuer a response's ``iss`` must equal, whether ``iss`` is required) — RFC 9207."""
        issuer = ctx.param("issuer") or None
        if not issuer:
            return None, False
        meta = self.discover(ctx)
        return issuer, meta.get("authorization_response_iss_parameter_supported") is True

    def login(self, ctx: FlowContext) -> TokenSet:
        endpoints = self.endpoints(ctx, need_authorization=True)
        assert endpoints.authorization_url is not None
        state = secrets.token_urlsafe(32)
        pkce = PkcePair.generate() if ctx.param("pkce", True) else None
        scope = str(ctx.param("scope") or "")
        nonce = secrets.token_urlsafe(16) if "openid" in scope.split() else None
        issuer, iss_required = self.expected_issuer(ctx)
        if iss_required:
            ctx.trace.note(
                "the provider sends `iss` with its authorization responses (RFC 9207): it is checked"
            )
        waiter = CallbackWaiter(state, issuer=issuer, iss_required=iss_required)
        configured = ctx.param("redirect_uri") or None
        listener: LoopbackListener | None = None
        if configured is None or is_loopback_redirect(configured):
            try:
                listener = LoopbackListener(state, configured, waiter=waiter)
            except CallbackError as err:
                if ctx.offer_paste is None or configured is None:
                    raise
                ctx.trace.note(f"no loopback listener ({err.message}): paste-back only")
        elif ctx.offer_paste is None:
            raise AuthError(
                f"the redirect_uri {configured} is not on this machine, so the login can only "
                "finish by pasting the browser's redirect URL back, and nothing here can take it",
                step="authorize",
                hint="run `workbench login PROFILE` in a terminal (it asks for the redirect URL), "
                "or use the TUI's login screen",
            )
        redirect_uri = listener.redirect_uri if listener is not None else str(configured)
        try:
            if listener is not None:
                listener.start()
                ctx.trace.note(
                    f"waiting for the browser's callback on {listener.redirect_uri} "
                    f"(listening on 127.0.0.1:{listener.port})"
                )
            else:
                ctx.trace.note(
                    f"the redirect URI {redirect_uri} is not on this machine: waiting for the "
                    "redirect URL to be pasted back"
                )
            url = self.authorization_request(
                ctx, endpoints.authorization_url, redirect_uri, state, pkce, nonce
            )
            self._hand_out(ctx, url, redirect_uri, listener, waiter)
            result = waiter.wait(float(ctx.param("timeout", 300)), ctx.cancelled)
        finally:
            if listener is not None:
                listener.close()
        ctx.trace.redactor.add(result.code)
        ctx.trace.note(
            f"{'pasted redirect URL' if waiter.source == 'paste' else 'callback'} received: "
            "state matched"
            + (", iss matched" if "iss" in result.params and issuer else "")
            + ", authorization code «redacted»"
        )
        form = {
            "grant_type": "authorization_code",
            "code": result.code,
            "redirect_uri": redirect_uri,
        }
        if pkce is not None:
            form["code_verifier"] = pkce.verifier
        tokens = self.token_request(ctx, "code-exchange", form, token_url=endpoints.token_url)
        self.check_id_token(ctx, tokens, nonce=nonce)
        return tokens

    @staticmethod
    def _hand_out(
        ctx: FlowContext,
        url: str,
        redirect_uri: str,
        listener: LoopbackListener | None,
        waiter: CallbackWaiter,
    ) -> None:
        """Open the browser, show the URL, offer the paste-back — or fail at once when nobody
        can act on the URL."""
        opened = False
        if ctx.open_browser is not None:
            try:
                opened = bool(ctx.open_browser(url))
            except Exception:
                opened = False
        if opened:
            ctx.trace.note("opened the browser at the authorization URL")
        if ctx.offer_paste is not None:

            def give_up(reason: str) -> None:
                if listener is None and not opened:
                    waiter.give_up(
                        CallbackError(
                            f"no redirect URL was pasted ({reason})",
                            step="callback",
                            hint="run the login in a terminal and paste the address the "
                            "browser ends on",
                        )
                    )

            ctx.offer_paste(
                PasteOffer(
                    authorization_url=url,
                    redirect_uri=redirect_uri,
                    loopback_port=listener.port if listener is not None else None,
                    submit=lambda text: waiter.paste(text, redirect_uri),
                    give_up=give_up,
                )
            )
            ctx.trace.note("offered to paste the redirect URL back")
        elif not opened and ctx.show_url is not None and listener is not None:
            ctx.show_url(url)
            ctx.trace.note("showed the authorization URL (no browser opened)")
        elif not opened:
            raise AuthError(
                "this login needs a browser, and none could be opened; nor is there a terminal "
                "to paste the browser's redirect URL into, so no callback could ever come",
                step="authorize",
                hint="run `workbench login PROFILE` in a terminal once (it offers paste-back "
                "over SSH) so later runs use the stored tokens; or open a browser on this "
                "machine; or use a flow that needs no person",
            )
