"""Signing keys of the emulated cloud, and their JWKS documents.

HS256 secrets are fixed strings (the real platforms keep theirs private); RS256 (iotspot)
and ES256 (plgd) key pairs are made once per process.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

if TYPE_CHECKING:
    from jwt.types import Options

IOTCONNECT_HS256_SECRET = "emulated-iotconnect-signing-secret-0123456789"
THINGER_HS256_SECRET = "emulated-thinger-signing-secret-0123456789abcdef"
IOTO_HS256_SECRET = "emulated-ioto-cognito-signing-secret-0123456789"

IOTSPOT_KID = "iotspot-emulator-rs256-1"
PLGD_KID = "plgd-emulator-es256-1"


@functools.cache
def rsa_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def ec_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _public_jwk(public_key: Any, kid: str, alg: str) -> dict[str, Any]:
    jwk: dict[str, Any]
    if alg == "RS256":
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public_key))
    else:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public_key))
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


def iotspot_jwks() -> dict[str, Any]:
    return {"keys": [_public_jwk(rsa_private_key().public_key(), IOTSPOT_KID, "RS256")]}


def plgd_jwks() -> dict[str, Any]:
    return {"keys": [_public_jwk(ec_private_key().public_key(), PLGD_KID, "ES256")]}


def sign_rs256(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, rsa_private_key(), algorithm="RS256", headers={"kid": IOTSPOT_KID})


def sign_es256(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, ec_private_key(), algorithm="ES256", headers={"kid": PLGD_KID})


def sign_hs256(claims: dict[str, Any], secret: str) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(
    token: str, key: Any, algorithm: str, *, options: Options | None = None, **checks: Any
) -> dict[str, Any]:
    """Decode and verify signature + exp (no audience check unless given). Raises jwt.PyJWTError."""
    merged: Options = {"verify_aud": False, **(options or {})}
    claims: dict[str, Any] = jwt.decode(
        token, key, algorithms=[algorithm], options=merged, **checks
    )
    return claims
