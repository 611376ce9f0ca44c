"""Token signature checks with keys the caller gives: an HS* shared secret, a JWKS (or one
JWK), or a PyJWK / PyJWKClient-like key object.

Keys a token brings itself are never used. PyJWT is imported lazily, only when a JWKS or
key object is used (HS* checks need only the standard library).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from workbench.core.text import escape_control
from workbench.core.tokens.report import SignatureCheck, TokenReport

_HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
# Secrets copied from tutorials and defaults; a token signed with one of them can be forged by anyone.
_WELL_KNOWN_SECRETS = (
    "secret", "your-256-bit-secret", "your-384-bit-secret", "your-512-bit-secret",
    "changeme", "change-me", "password", "secretkey", "secret-key", "jwt-secret",
    "jwt_secret", "mysecret", "my-secret", "key", "test", "123456", "default",
)  # fmt: skip
_NO_KEY = "no key known: neither a JWKS nor a shared secret was given"


def str_or_none(value: Any) -> str | None:
    """``value`` when it is a string (a header's alg / kid), else None."""
    return value if isinstance(value, str) else None


def check_signature(
    report: TokenReport,
    header: dict[str, Any],
    signing_input: bytes,
    signature: bytes,
    jwks: Any,
    secret: Any,
    no_key_reason: str | None,
) -> SignatureCheck:
    """The signature check of a JWS with the given ``jwks`` / ``secret``; HS* findings (a
    short or publicly known secret) are added to ``report``'s warnings."""
    alg = header.get("alg")
    kid = str_or_none(header.get("kid"))
    check = SignatureCheck("not-checked", None, str_or_none(alg), kid)
    if not isinstance(alg, str):
        check.reason = "the header has no usable alg"
        return check
    if alg.lower() == "none":
        check.status, check.reason = "unsigned", "alg is 'none': there is no signature to check"
        return check
    if not signature:
        check.status, check.reason = "invalid", "the signature segment is empty"
        return check
    if alg in _HMAC_HASHES:
        return _check_hmac(
            report, check, alg, signing_input, signature, jwks, secret, no_key_reason
        )
    if jwks is None:
        wrong = (
            (
                f"{alg} is verified with the issuer's public key (a JWKS); a shared secret "
                "cannot verify it"
            )
            if secret is not None
            else None
        )
        return _no_usable_key(check, wrong, no_key_reason)
    return _check_with_jwks(check, alg, kid, signing_input, signature, jwks)


def _check_hmac(
    report: TokenReport,
    check: SignatureCheck,
    alg: str,
    signing_input: bytes,
    signature: bytes,
    jwks: Any,
    secret: Any,
    no_key_reason: str | None,
) -> SignatureCheck:
    digest = _HMAC_HASHES[alg]
    if secret is not None:
        key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        expected = hmac.new(key, signing_input, digest).digest()
        if hmac.compare_digest(expected, signature):
            check.status, check.reason = "valid", f"{alg} signature matches the given secret"
        else:
            check.status, check.reason = (
                "invalid",
                (
                    f"{alg} signature does not match the given secret (wrong secret, or the token "
                    "was altered)"
                ),
            )
        size = digest().digest_size
        if len(key) < size:
            report.warn(
                "hs-weak",
                f"the {alg} secret is only {len(key)} bytes; RFC 7518 wants "
                f"at least {size}: a short secret can be guessed offline from any token",
            )
        return check
    for known in _WELL_KNOWN_SECRETS:
        if hmac.compare_digest(hmac.new(known.encode(), signing_input, digest).digest(), signature):
            report.warn(
                "hs-weak",
                f"signed with the publicly known secret '{known}': anyone can forge this token",
                "danger",
            )
            check.status = "valid"
            check.reason = f"{alg} signature matches the well-known secret '{known}'"
            return check
    if jwks is not None and _jwks_has_oct(jwks):
        return _check_with_jwks(check, alg, check.kid, signing_input, signature, jwks)
    wrong = (
        (f"{alg} is signed with a shared secret; a JWKS holds public keys and cannot verify it")
        if jwks is not None
        else None
    )
    return _no_usable_key(check, wrong, no_key_reason)


def _no_usable_key(
    check: SignatureCheck, wrong_key: str | None, no_key_reason: str | None
) -> SignatureCheck:
    """Not checked: why the key that was given cannot verify this algorithm (``wrong_key``),
    else why no key is known."""
    check.reason = wrong_key or no_key_reason or _NO_KEY
    return check


def _jwks_has_oct(jwks: Any) -> bool:
    if isinstance(jwks, Mapping):
        keys = jwks.get("keys") if "keys" in jwks else [jwks]
        return isinstance(keys, list) and any(
            isinstance(k, Mapping) and k.get("kty") == "oct" for k in keys
        )
    return False


_FAMILY = {"RS": "RSA", "PS": "RSA", "ES": "EC", "HS": "oct", "Ed": "OKP"}


def _kty_for(alg: str) -> str | None:
    return _FAMILY.get(alg[:2])


def _key_label(jwk: Mapping[str, Any], index: int) -> str:
    kid = jwk.get("kid")
    return f"key '{escape_control(kid)}'" if isinstance(kid, str) else f"key #{index + 1}"


def _check_with_jwks(
    check: SignatureCheck,
    alg: str,
    kid: str | None,
    signing_input: bytes,
    signature: bytes,
    jwks: Any,
) -> SignatureCheck:
    import jwt  # lazily: keeps importing this module cheap

    algorithms = jwt.algorithms.get_default_algorithms()
    if alg not in algorithms or _kty_for(alg) is None:
        check.reason = f"algorithm '{escape_control(alg)}' is not supported"
        return check
    algorithm = algorithms[alg]
    if not isinstance(jwks, Mapping):
        return _check_with_key_object(check, algorithm, alg, signing_input, signature, jwks)
    if "keys" in jwks:
        keys = jwks.get("keys")
        if not isinstance(keys, list):
            check.reason = "the JWKS has no list of keys"
            return check
    else:
        keys = [jwks]
    jwk_list = [k for k in keys if isinstance(k, Mapping)]
    if not jwk_list:
        check.reason = "the JWKS holds no keys"
        return check
    if kid is not None:
        candidates = [(i, k) for i, k in enumerate(jwk_list) if k.get("kid") == kid]
        if not candidates:
            known = ", ".join(escape_control(str(k.get("kid"))) for k in jwk_list if "kid" in k)
            check.reason = (
                f"no key with kid '{escape_control(kid)}' in the JWKS"
                f"{f' (it has: {known})' if known else ''}; a server using this "
                "JWKS would reject the token"
            )
            return check
    elif len(jwk_list) == 1:
        candidates = [(0, jwk_list[0])]
    else:
        candidates = [(i, k) for i, k in enumerate(jwk_list) if k.get("kty") == _kty_for(alg)]
    problems: list[str] = []
    tried: list[str] = []
    for index, jwk in candidates:
        label = _key_label(jwk, index)
        problem = _jwk_mismatch(jwk, alg)
        if problem:
            problems.append(f"{label} {problem}")
            continue
        try:
            key = jwt.PyJWK(dict(jwk), algorithm=alg)
            ok = bool(key.Algorithm.verify(signing_input, key.key, signature))
        except Exception as exc:
            problems.append(f"{label} is unusable ({escape_control(str(exc))[:120]})")
            continue
        tried.append(label)
        if ok:
            check.status, check.reason = (
                "valid",
                f"{alg} signature verified with {label} of the JWKS",
            )
            return check
    if tried:
        which = tried[0] if len(tried) == 1 else f"any of {len(tried)} keys"
        check.status = "invalid"
        check.reason = (
            f"{alg} signature does not match {which} of the JWKS (the token was "
            "altered or signed by another key)"
        )
    elif problems:
        check.status = "invalid" if kid is not None else "not-checked"
        check.reason = "; ".join(problems)
    else:
        check.reason = f"the JWKS has no {_kty_for(alg)} key for {alg}"
    return check


def _jwk_mismatch(jwk: Mapping[str, Any], alg: str) -> str | None:
    kty = jwk.get("kty")
    if kty != _kty_for(alg):
        return f"is a {escape_control(str(kty))} key, but the token says {alg}"
    key_alg = jwk.get("alg")
    if isinstance(key_alg, str) and key_alg != alg:
        return f"is for {escape_control(key_alg)}, but the token says {alg}"
    use = jwk.get("use")
    if isinstance(use, str) and use != "sig":
        return f"is for use '{escape_control(use)}', not signatures"
    return None


def _check_with_key_object(
    check: SignatureCheck,
    algorithm: Any,
    alg: str,
    signing_input: bytes,
    signature: bytes,
    source: Any,
) -> SignatureCheck:
    """A PyJWK (``.key``) or a PyJWKClient-like object (``get_signing_key_from_jwt``)."""
    try:
        if hasattr(source, "get_signing_key_from_jwt"):
            token = signing_input.decode("ascii") + "." + _b64url_encode(signature)
            source = source.get_signing_key_from_jwt(token)
        key = getattr(source, "key", None)
        if key is None:
            check.reason = "the given key object holds no key"
            return check
        key_alg = getattr(source, "algorithm_name", None)
        if isinstance(key_alg, str) and key_alg != alg:
            check.status = "invalid"
            check.reason = f"the key is for {key_alg}, but the token says {alg}"
            return check
        ok = bool(algorithm.verify(signing_input, key, signature))
    except Exception as exc:
        check.reason = f"the key could not be used ({escape_control(str(exc))[:160]})"
        return check
    check.status = "valid" if ok else "invalid"
    check.reason = (
        f"{alg} signature verified with the given key"
        if ok
        else f"{alg} signature does not match the given key"
    )
    return check


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
