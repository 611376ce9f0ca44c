"""What the token inspector's two thread workers do, as plain functions: renew the session's
tokens (``refresh_tokens``) and fetch the profile's public keys to verify a signature
(``fetch_keys``), each returning an :class:`Outcome` (never raising); and
``cannot_verify``, why a token cannot be verified here. No widgets: the inspector runs these
in workers and draws their outcome; tests call them directly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.core.auth.base import TokenSet
from workbench.core.errors import WorkbenchError
from workbench.core.text import escape_control, escape_keep_newlines
from workbench.core.tokens.jwks import check_key_url, discover_jwks_uri, jwks_location
from workbench.core.tokens.report import TokenReport


@dataclass
class Outcome:
    """What a refresh / verify worker hands back (never an exception).

    ``seq`` is the worker's sequence number (a newer start drops an older outcome);
    ``words`` the failure in words, already escaped (its line breaks kept: message, then
    the server's words and the hint on lines of their own). ``unchanged``: a refresh gave
    back the very token it started with (a static token: nothing to refresh); ``checked``:
    that renewal asked the server (which accepted the token again)."""

    seq: int
    ok: bool
    words: str
    token: str | None = None
    tokens: TokenSet | None = None
    jwks: Any = None
    url: str | None = None
    issuer: str | None = None
    audience: str | None = None
    unchanged: bool = False
    checked: bool = False


def _failure(seq: int, exc: Exception, token: str | None = None) -> Outcome:
    if isinstance(exc, WorkbenchError):
        # describe() puts the server's words and the hint on lines of their own: keep the
        # breaks (a multi-line status), escape everything else
        return Outcome(seq, False, escape_keep_newlines(exc.describe()), token=token)
    # a bug must not take the app down; say what happened
    return Outcome(seq, False, escape_control(f"{type(exc).__name__}: {exc}"), token=token)


def refresh_tokens(session: Any, seq: int) -> Outcome:
    """Renew the session's tokens (``Session.force_refresh``; blocking: call it in a thread).

    A static token (a CloudAPI token, a token the profile supplies) cannot be refreshed: the
    flow hands back the same token. The outcome says so (``unchanged``), and whether the
    server was asked about it again (``checked``)."""
    before = getattr(session, "tokens", None)
    try:
        tokens = session.force_refresh()
    except Exception as exc:
        return _failure(seq, exc)
    unchanged = (
        before is not None
        and tokens is not None
        and tokens.access_token == before.access_token
        and not tokens.refresh_token
    )
    trace = getattr(session, "trace", None)
    checked = unchanged and bool(getattr(trace, "exchanges", None))
    return Outcome(seq, True, "", tokens=tokens, unchanged=unchanged, checked=checked)


def fetch_keys(
    session: Any, seq: int, token: str, report: TokenReport, audience: str | None
) -> Outcome:
    """Find and fetch the JWKS that can verify ``report``'s signature (blocking: call it in a
    thread). Only the profile's own key locations are used, never a URL the token names."""
    from workbench.core.http import tls_verify
    from workbench.core.tokens.jwks_fetch import fetch_jwks

    profile = getattr(session, "profile", None)
    origins = getattr(session, "origins", None)
    if origins is None and profile is not None:
        origins = profile.origins()
    try:
        how, where, issuer = jwks_location(profile, origins, report.claims)
        url = discover_jwks_uri(profile, where) if how == "discovery" else where
        check_key_url(url)
        jwks = fetch_jwks(url, verify=tls_verify(profile))  # type: ignore[arg-type]  # fetch_jwks hands verify to httpx, which takes an SSLContext too
    except Exception as exc:
        return _failure(seq, exc, token)
    return Outcome(seq, True, "", token=token, jwks=jwks, url=url, issuer=issuer, audience=audience)


def cannot_verify(report: TokenReport, *, has_session: bool) -> str | None:
    """Why ``report``'s signature cannot be verified with public keys here (None: it can)."""
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
    if not has_session:
        return "no session, so no profile to take the keys from"
    return None
