"""Where a profile's token-signing keys are (JWKS), for signature checks.

Order: the profile's `[auth] jwks_url`; OIDC discovery from its `issuer` (the provider must
call itself exactly that issuer); the token's own `iss` + `/.well-known/jwks.json` only
when that origin is one of the profile's. A token's `jku` / `x5u` headers are never used.
Keys are fetched over https only (or http to loopback).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from workbench.core.errors import ResponseError, TokenError, TransportError
from workbench.core.text import escape_control


def jwks_location(
    profile: Any, origins: Iterable[Any] | None, claims: Mapping[str, Any]
) -> tuple[str, str, str | None]:
    """(how, where, expected issuer): how is "jwks" (where = the JWKS URL) or "discovery"
    (where = the issuer whose OpenID configuration names jwks_uri). Raises TokenError in words."""
    from workbench.core.profiles import Origin

    params = getattr(getattr(profile, "auth", None), "params", None) or {}
    issuer = (
        params.get("issuer")
        if isinstance(params.get("issuer"), str) and params.get("issuer")
        else None
    )
    url = params.get("jwks_url")
    if isinstance(url, str) and url:
        return "jwks", url, issuer
    if issuer:
        return "discovery", issuer, issuer
    iss = claims.get("iss")
    if isinstance(iss, str) and iss.startswith(("https://", "http://")):
        if Origin.of(iss) in set(origins or ()):
            return "jwks", iss.rstrip("/") + "/.well-known/jwks.json", iss
        raise TokenError(
            f"the token's issuer {escape_control(iss)} is not one of the profile's origins, so "
            "its keys are not fetched; add jwks_url (or issuer) to the profile's [auth] to verify"
        )
    raise TokenError(
        "the profile names no JWKS (no jwks_url or issuer in [auth]) and the token "
        "has no usable iss: there is no trusted place to get its keys from"
    )


def check_key_url(url: str) -> None:
    from workbench.core.profiles import is_loopback_host

    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and is_loopback_host(parts.hostname or ""):
        return
    raise TokenError(
        f"refusing to fetch keys from {escape_control(url)}: keys fetched over plain "
        "http (or another scheme) prove nothing; only https, or http to this machine"
    )


def discover_jwks_uri(profile: Any, issuer: str) -> str:
    """`jwks_uri` from `{issuer}/.well-known/openid-configuration` (issuer must match exactly)."""
    from workbench.core.http import make_client

    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    check_key_url(url)
    try:
        with make_client(profile, timeout=5.0) as client:
            response = client.get(url, headers={"Accept": "application/json"})
    except Exception as exc:
        raise TransportError(
            f"cannot fetch the OpenID configuration from {url}: "
            f"{escape_control(str(exc)) or type(exc).__name__}",
            hint="check the issuer and the network",
        ) from None
    if response.status_code != 200:
        raise ResponseError(
            f"the OpenID configuration at {url} answered HTTP {response.status_code}",
            status=response.status_code,
        )
    try:
        doc = response.json()
    except ValueError:
        raise ResponseError(
            f"the OpenID configuration at {url} is not JSON", status=response.status_code
        ) from None
    if not isinstance(doc, dict):
        raise ResponseError(f"the OpenID configuration at {url} is not a JSON object")
    if doc.get("issuer") != issuer:
        raise ResponseError(
            f"the provider calls itself '{escape_control(str(doc.get('issuer')))}', "
            f"not '{issuer}': its keys are not trusted"
        )
    jwks_uri = doc.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri:
        raise ResponseError(f"the OpenID configuration at {url} names no jwks_uri")
    return jwks_uri


def profile_jwks_url(
    profile: Any, claims: Mapping[str, Any] | None = None
) -> tuple[str, str | None]:
    """The JWKS URL for tokens of `profile` (discovery done when needed) and the expected issuer."""
    how, where, issuer = jwks_location(profile, profile.origins(), claims or {})
    url = discover_jwks_uri(profile, where) if how == "discovery" else where
    check_key_url(url)
    return url, issuer
