"""PKCE (RFC 7636) with the S256 method only."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass

_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_verifier(nbytes: int = 32) -> str:
    """A fresh code_verifier: `nbytes` random bytes, base64url without padding (43 chars for 32)."""
    return _b64url(secrets.token_bytes(nbytes))


def s256_challenge(verifier: str) -> str:
    """code_challenge = BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2)."""
    if not _VERIFIER.fullmatch(verifier):
        raise ValueError("a code_verifier is 43-128 characters of A-Z a-z 0-9 - . _ ~")
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True)
class PkcePair:
    verifier: str
    challenge: str
    method: str = "S256"

    @classmethod
    def generate(cls) -> PkcePair:
        verifier = make_verifier()
        return cls(verifier, s256_challenge(verifier))
