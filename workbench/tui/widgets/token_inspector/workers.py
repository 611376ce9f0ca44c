"""The token inspector's two thread workers and what it does with their outcome: refresh
now (Session.force_refresh) and verify the signature with the profile's JWKS. A mixin of
TokenInspector (which routes Worker.StateChanged to _refresh_done / _verify_done)."""

from __future__ import annotations

from functools import partial
from typing import Any

from rich.text import Text
from textual.widgets import Button

from workbench.core.text import escape_control, humanize_delta
from workbench.core.tokens.jwks import check_key_url, discover_jwks_uri, jwks_location
from workbench.core.tokens.report import TokenReport
from workbench.tui.widgets.token_inspector.view import _Outcome, format_time_ts


class TokenWorkers:
    """Refresh and verify for TokenInspector (it provides session, report, token, source,
    which, _keys, the sequence counters, _set_status, inspect_now, now and _profile_params)."""

    session: Any
    report: TokenReport | None
    token: str | None
    source: str
    which: str
    _keys: dict[str, _Outcome]
    _refresh_seq: int
    _verify_seq: int

    def action_refresh_now(self) -> None:
        """Renew the session's tokens now (Session.force_refresh in a thread worker)."""
        if self.session is None or not hasattr(self.session, "force_refresh"):
            self._set_status(
                "no session to refresh: this view only decodes pasted tokens", "yellow"
            )
            return
        self._refresh_seq += 1
        self._set_status("refreshing the token…", "dim")
        self.query_one("#ti-refresh", Button).disabled = True
        self.run_worker(
            partial(self._refresh_work, self._refresh_seq),
            name="token-refresh",
            group="token-refresh",
            thread=True,
            exit_on_error=False,
        )

    def _refresh_work(self, seq: int) -> _Outcome:
        """In a thread: renew the tokens. Never raises; the outcome says what happened."""
        from workbench.core.errors import WorkbenchError

        try:
            tokens = self.session.force_refresh()
        except WorkbenchError as err:
            return _Outcome(seq, False, escape_control(err.describe()))
        except Exception as exc:  # a bug must not take the app down; say what happened
            return _Outcome(seq, False, escape_control(f"{type(exc).__name__}: {exc}"))
        return _Outcome(seq, True, "", tokens=tokens)

    def action_verify(self) -> None:
        """Check the signature with the profile's JWKS (fetched in a thread worker)."""
        report, token = self.report, self.token
        if report is None or token is None:
            self._set_status("no token to verify", "yellow")
            return
        why_not = self._cannot_verify(report)
        if why_not:
            self._set_status(f"not verified: {why_not}", "yellow", about=token)
            return
        audience = None
        if self.source == "session" and self.which == "access":
            aud = self._profile_params().get("audience")
            audience = aud if isinstance(aud, str) and aud else None
        self._verify_seq += 1
        self._set_status("verifying: fetching the profile's public keys…", "dim", about=token)
        self.run_worker(
            partial(self._verify_work, self._verify_seq, token, report, audience),
            name="token-verify",
            group="token-verify",
            thread=True,
            exit_on_error=False,
        )

    def _cannot_verify(self, report: TokenReport) -> str | None:
        if report.kind == "opaque":
            return "an opaque token has no signature to check here (only its server can)"
        if report.kind == "jwe":
            return "an encrypted token (JWE) can only be read and checked with the recipient's key"
        if report.kind == "malformed":
            return "the token is malformed"
        alg = report.signature.algorithm or ""
        if report.signature.status == "unsigned" or alg.lower() == "none":
            return "alg is 'none': there is no signature, and such a token must never be accepted"
        if alg.startswith("HS"):
            if report.signature.status == "valid":
                return escape_control(report.signature.reason or "already checked")
            return (
                f"{escape_control(alg)} is signed with a shared secret that only the server "
                "knows; public keys (a JWKS) cannot check it"
            )
        if self.session is None:
            return "no session, so no profile to take the keys from"
        return None

    def _verify_work(
        self, seq: int, token: str, report: TokenReport, audience: str | None
    ) -> _Outcome:
        """In a thread: find and fetch the keys. Never raises; the outcome says what happened."""
        from workbench.core.errors import WorkbenchError
        from workbench.core.http import tls_verify
        from workbench.core.tokens.jwks_fetch import fetch_jwks

        profile = getattr(self.session, "profile", None)
        origins = getattr(self.session, "origins", None)
        if origins is None and profile is not None:
            origins = profile.origins()
        try:
            how, where, issuer = jwks_location(profile, origins, report.claims)
            url = discover_jwks_uri(profile, where) if how == "discovery" else where
            check_key_url(url)
            jwks = fetch_jwks(url, verify=tls_verify(profile))  # type: ignore[arg-type]
        except WorkbenchError as err:
            return _Outcome(seq, False, escape_control(err.describe()), token=token)
        except Exception as exc:
            return _Outcome(seq, False, escape_control(f"{type(exc).__name__}: {exc}"), token=token)
        return _Outcome(
            seq, True, "", token=token, jwks=jwks, url=url, issuer=issuer, audience=audience
        )

    def _refresh_done(self, result: _Outcome | None) -> None:
        if result is not None and result.seq != self._refresh_seq:
            return  # a newer refresh was started: drop this one
        self.query_one("#ti-refresh", Button).disabled = False
        if result is None:
            self._set_status("refresh failed (an unexpected error)", "bold red")
        elif result.ok and result.tokens is not None:
            now = self.now()
            tokens = result.tokens
            out = Text("✓ refreshed: ", style="bold green")
            if tokens.expires_at is not None:
                out.append(
                    f"the new access token expires {format_time_ts(tokens.expires_at)} "
                    f"({humanize_delta(tokens.expires_at - now, future='expires', past='expired')})"
                )
            else:
                out.append("new tokens (the server gave no expiry)")
            if self.source == "pasted":
                out.append("; the view shows the PASTED token (x goes back)", style="dim")
            self._set_status(out)
        else:
            out = Text("✗ refresh failed: ", style="bold red")
            out.append(result.words)
            self._set_status(out)
        self.inspect_now()

    def _verify_done(self, result: _Outcome | None) -> None:
        if result is not None and result.seq != self._verify_seq:
            return
        if result is None:
            self._set_status("verify failed (an unexpected error)", "bold red")
            return
        if not result.ok:
            out = Text("✗ could not verify: ", style="bold red")
            out.append(result.words)
            self._set_status(out, about=result.token)
            return
        if result.token is not None:
            self._keys[result.token] = result
            while len(self._keys) > 8:
                self._keys.pop(next(iter(self._keys)))
        self.inspect_now()
        report = self.report
        if report is None or self.token != result.token:
            self._set_status(
                f"keys fetched from {escape_control(result.url or '?')}", "dim", about=result.token
            )
            return
        sig = report.signature
        words = {
            "valid": ("✓ signature valid", "bold green"),
            "invalid": ("✗ signature INVALID", "bold red"),
        }.get(sig.status, ("signature not checked", "yellow"))
        out = Text(words[0], style=words[1])
        out.append(f" (keys from {escape_control(result.url or '?')})", style="dim")
        self._set_status(out, about=result.token)
