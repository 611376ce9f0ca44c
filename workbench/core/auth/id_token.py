"""OpenID Connect ID token validation (OIDC Core 1.0 §3.1.3.7) for an authorization-code login.

When the token response carries an ``id_token``, before anything is stored:

1. it must be a JWS whose ``alg`` the provider announced (discovery's
   ``id_token_signing_alg_values_supported``; RS*/PS*/ES*/EdDSA when it says nothing).
   ``none`` is never accepted; HS* only for a confidential client, keyed with its
   client secret (§10.1) — never with a public key (the "alg confusion" forgery);
2. its signature must verify with a key from the provider's JWKS (``jwks_uri`` from
   discovery of the profile's ``issuer``, fetched with the flow's client over https or
   loopback http, recorded in the trace as the step ``jwks``). The token's own ``jku`` /
   ``x5u`` / ``jwk`` headers are never used;
3. ``iss`` must equal the issuer exactly; ``aud`` must contain the client id (and ``azp``,
   when present or when there are several audiences, must be the client id); ``exp`` must
   be in the future and ``iat`` present (60 s leeway for clock skew);
4. ``nonce`` must equal the one sent in the authorization request (always sent when the
   scope has ``openid``);
5. an ID token returned by a refresh is checked the same way (no nonce) and must name the
   same ``sub`` as the login's (OIDC Core §12.2).

PyJWT does the signature and the registered claims. Any failure is an AuthError at the step
``id-token`` (exit 3) that says which check failed; nothing is stored.

A profile without ``issuer`` (explicit endpoints, no discovery) has no trusted issuer or
keys: then only ``aud``, ``exp`` and ``nonce`` are checked, and the trace says so.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

import jwt

from workbench.core.auth.base import FlowContext
from workbench.core.auth.oauth2_common import ensure_secure
from workbench.core.errors import AuthError
from workbench.core.text import escape_control

STEP = "id-token"
LEEWAY = 60  # seconds of clock skew allowed on exp / iat / nbf
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
ASYMMETRIC_ALGS = frozenset((*ASYMMETRIC, "EdDSA"))
SYMMETRIC_ALGS = frozenset(("HS256", "HS384", "HS512"))
MAX_JWKS_BYTES = 1024 * 1024


DEFAULT_HINT = (
    "nothing was stored; log in again, and if it keeps failing check the profile's issuer "
    "and client_id, or report it to the provider"
)


def _fail(message: str, hint: str = DEFAULT_HINT) -> AuthError:
    return AuthError(f"the ID token was refused: {message}", step=STEP, hint=hint)


def _shown(value: Any) -> str:
    text = escape_control(str(value))
    return text if len(text) <= 80 else text[:77] + "…"


def allowed_algorithms(metadata: Mapping[str, Any], client_secret: str | None) -> set[str]:
    """The algs an ID token may use: what the provider announced (asymmetric, or HS* with a
    client secret), never 'none'."""
    announced = metadata.get("id_token_signing_alg_values_supported")
    names = (
        {a for a in announced if isinstance(a, str)}
        if isinstance(announced, list) and announced
        else set(ASYMMETRIC_ALGS)
    )
    allowed = names & ASYMMETRIC_ALGS
    if client_secret:
        allowed |= names & SYMMETRIC_ALGS
    return allowed


def fetch_jwks(ctx: FlowContext, jwks_uri: str) -> jwt.PyJWKSet:
    """The provider's keys, fetched with the flow's client (recorded in the trace)."""
    ensure_secure(jwks_uri, "JWKS")
    request = ctx.client.build_request("GET", jwks_uri, headers={"Accept": "application/json"})
    response = ctx.send("jwks", request)
    if response.status_code != 200:
        raise AuthError(
            f"the provider's keys (JWKS) could not be fetched from {_shown(jwks_uri)} "
            f"(HTTP {response.status_code})",
            step="jwks",
            status=response.status_code,
            hint="the ID token cannot be checked without them; try again later",
        )
    if len(response.content) > MAX_JWKS_BYTES:
        raise AuthError("the provider's JWKS is larger than 1 MiB", step="jwks")
    try:
        document = response.json()
        return jwt.PyJWKSet.from_dict(document)
    except (ValueError, TypeError, RecursionError, jwt.PyJWTError):
        raise AuthError(
            f"the document at {_shown(jwks_uri)} is not a usable JWKS (no keys PyJWT can use)",
            step="jwks",
            status=response.status_code,
            hint="check the provider's jwks_uri (in its OpenID configuration)",
        ) from None


def _key_for(keys: jwt.PyJWKSet, kid: Any, alg: str) -> Any:
    usable = [k for k in keys.keys if getattr(k, "public_key_use", None) in (None, "sig")]
    if isinstance(kid, str):
        for key in usable:
            if key.key_id == kid:
                return key
        raise _fail(
            f"it was signed with key '{_shown(kid)}', which is not among the provider's keys",
            hint="if the provider just rotated its keys, log in again",
        )
    matching = [k for k in usable if getattr(k, "algorithm_name", alg) == alg]
    if len(matching) == 1:
        return matching[0]
    raise _fail("it names no key (kid) and the provider has more than one")


def validate_id_token(
    ctx: FlowContext,
    id_token: str,
    *,
    client_id: str,
    client_secret: str | None,
    issuer: str | None,
    metadata: Mapping[str, Any],
    nonce: str | None,
    subject: str | None = None,
) -> dict[str, Any]:
    """The ID token's claims once every check passed; AuthError (step 'id-token') otherwise."""
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError:
        raise _fail("it is not a signed JWT") from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise _fail("it is not signed (alg 'none')")
    allowed = allowed_algorithms(metadata, client_secret)
    if alg not in allowed:
        raise _fail(
            f"it is signed with alg '{_shown(alg)}', which this provider and client do not use "
            f"(expected one of {', '.join(sorted(allowed)) or 'none announced'})"
        )
    options: dict[str, Any] = {"require": ["iss", "aud", "exp", "iat", "sub"]}
    key: Any = None
    if issuer is None:
        options.update(verify_signature=False, verify_iss=False, verify_aud=True, verify_exp=True)
        options.update(verify_iat=True)
        ctx.trace.note(
            "warning: the ID token's signature and issuer were not checked: the profile names "
            "no issuer (add `issuer` to [auth] so its keys can be discovered)"
        )
    elif alg in SYMMETRIC_ALGS:
        key = client_secret
    else:
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise _fail(
                "the provider's OpenID configuration names no jwks_uri, so its signature "
                "cannot be checked"
            )
        key = _key_for(fetch_jwks(ctx, jwks_uri), header.get("kid"), alg).key
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key,
            algorithms=[alg],
            audience=client_id,
            issuer=issuer,
            leeway=LEEWAY,
            # PyJWT >= 2.10 types `options` as its TypedDict; older ones (>= 2.8) take a dict
            options=options,  # type: ignore[arg-type]
        )
    except jwt.InvalidSignatureError:
        raise _fail("its signature does not verify with the provider's keys") from None
    except jwt.ExpiredSignatureError:
        raise _fail(
            "it has expired", hint="check this computer's clock, then log in again"
        ) from None
    except jwt.InvalidIssuerError:
        raise _fail(
            f"it was issued by '{_shown(_claim(id_token, 'iss'))}', not by the profile's "
            f"issuer '{_shown(issuer)}'"
        ) from None
    except jwt.InvalidAudienceError:
        raise _fail(
            f"it is meant for '{_shown(_claim(id_token, 'aud'))}', not for this client "
            f"('{_shown(client_id)}')"
        ) from None
    except jwt.MissingRequiredClaimError as exc:
        raise _fail(f"it has no '{_shown(exc.claim)}' claim") from None
    except jwt.ImmatureSignatureError:
        raise _fail(
            "it is not valid yet (iat / nbf in the future)", hint="check this computer's clock"
        ) from None
    except jwt.PyJWTError as exc:
        raise _fail(f"it is malformed ({_shown(exc)})") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (azp is not None or len(audiences) > 1) and azp != client_id:
        raise _fail(f"its authorized party (azp) is '{_shown(azp)}', not this client")
    if subject is not None and claims.get("sub") != subject:
        raise _fail(
            f"it names the subject '{_shown(claims.get('sub'))}', not the one this session "
            "logged in as",
            hint="nothing was stored; log in again",
        )
    if nonce is not None:
        got = claims.get("nonce")
        if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
            raise _fail(
                "its nonce does not match this login's (a replayed or injected token?)"
                if got is not None
                else "it carries no nonce, though this login sent one",
            )
    ctx.trace.note(
        "ID token checked: "
        + ("signature (provider's JWKS), iss, " if issuer is not None else "")
        + "aud, exp"
        + (", nonce" if nonce is not None else "")
    )
    return claims


def unverified_subject(id_token: str) -> str | None:
    """The `sub` of an ID token already checked at login (read back from the session)."""
    sub = _claim(id_token, "sub")
    return sub if isinstance(sub, str) else None


def _claim(token: str, name: str) -> Any:
    try:
        return jwt.decode(token, options={"verify_signature": False}).get(name)
    except jwt.PyJWTError:
        return None
