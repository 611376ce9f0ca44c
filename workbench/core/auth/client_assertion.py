"""RFC 7523 client authentication with a signed JWT (OpenID Connect Core §9):

  private_key_jwt    signed with the client's private key: from a file (``private_key_file``,
                     PEM or a JWK JSON) or a secret reference (``private_key``: keyring or
                     environment) — never inline in a profile
  client_secret_jwt  HMAC (HS256 by default) with the client secret

The assertion: ``iss`` = ``sub`` = the client id, ``aud`` = the token endpoint, a fresh
``jti``, ``iat`` now and ``exp`` 60 s later (well under the 5 minutes providers accept).
PyJWT signs it. The assertion is a credential for its short life: it is added to the
trace's redactor and never shown.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.core.errors import AuthError

if TYPE_CHECKING:
    from workbench.core.auth.base import FlowContext

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LIFETIME = 60  # seconds


def _key_error(message: str, hint: str) -> AuthError:
    return AuthError(message, step="client-assertion", hint=hint)


def load_private_key(ctx: FlowContext) -> tuple[Any, str, str | None]:
    """The signing key, its algorithm and key id (kid) for private_key_jwt."""
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    path = ctx.param("private_key_file")
    if path:
        file = Path(str(path)).expanduser()
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _key_error(
                f"cannot read the private key file {file}: {getattr(exc, 'strerror', None) or exc}",
                "check private_key_file in the profile",
            ) from None
        where = f"the key file {file}"
    else:
        text = ctx.secret("private_key") or ""
        where = "the private_key reference"
    kid = ctx.param("private_key_kid") or None
    alg = ctx.param("client_assertion_alg") or None
    if text.lstrip().startswith("{"):  # a JWK
        try:
            jwk = jwt.PyJWK.from_json(text)
        except (jwt.PyJWKError, ValueError, TypeError, KeyError):
            raise _key_error(
                f"{where} holds JSON that is not a usable private JWK",
                "give a PEM private key or a private JWK (with its private parts)",
            ) from None
        kid = kid or jwk.key_id
        raw = json.loads(text)
        alg = alg or (raw.get("alg") if isinstance(raw, dict) else None) or jwk.algorithm_name
        key: Any = jwk.key
        if not hasattr(key, "sign"):
            raise _key_error(
                f"{where} holds a public key, not a private one", "give the private key"
            )
        return key, str(alg), kid
    try:
        key = serialization.load_pem_private_key(text.encode("utf-8"), password=None)
    except TypeError:
        raise _key_error(
            f"{where} is encrypted with a passphrase",
            "store the key unencrypted in a file only you can read, or in the keyring",
        ) from None
    except ValueError:
        raise _key_error(
            f"{where} is not a PEM private key",
            "give a PEM private key (-----BEGIN PRIVATE KEY-----) or a private JWK",
        ) from None
    if alg is None:
        if isinstance(key, rsa.RSAPrivateKey):
            alg = "RS256"
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            alg = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}.get(
                key.curve.name
            )
        elif isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
            alg = "EdDSA"
        if alg is None:
            raise _key_error(
                f"{where}: no signing algorithm known for this key type",
                "set client_assertion_alg in the profile",
            )
    return key, alg, kid


def client_assertion(ctx: FlowContext, mode: str, client_id: str, audience: str) -> str:
    """A signed client assertion for `mode` (private_key_jwt or client_secret_jwt)."""
    import jwt

    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": secrets.token_urlsafe(24),
        "iat": now,
        "exp": now + LIFETIME,
    }
    headers: dict[str, Any] = {}
    if mode == "private_key_jwt":
        key, alg, kid = load_private_key(ctx)
        if alg.startswith("HS"):
            raise _key_error(
                f"private_key_jwt cannot sign with {alg} (a shared-secret algorithm)",
                'use client_auth = "client_secret_jwt" for HMAC, or an RS/PS/ES/EdDSA algorithm',
            )
        if kid:
            headers["kid"] = kid
    else:
        key = ctx.secret("client_secret") or ""
        alg = str(ctx.param("client_assertion_alg") or "HS256")
        if not alg.startswith("HS"):
            raise _key_error(
                f"client_secret_jwt signs with HMAC (HS256/384/512), not {alg}",
                "fix client_assertion_alg, or use private_key_jwt for a key pair",
            )
    try:
        token = jwt.encode(claims, key, algorithm=alg, headers=headers or None)
    except (jwt.PyJWTError, ValueError, TypeError, NotImplementedError) as exc:
        raise _key_error(
            f"could not sign the client assertion with {alg}: {type(exc).__name__}",
            "check that client_assertion_alg fits the key",
        ) from None
    ctx.trace.redactor.add(token)
    return token
