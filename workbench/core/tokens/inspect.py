"""Token inspection: header, claims, iat/nbf/exp, countdown, warnings, optional signature check.

The entry point is :func:`inspect_token`; it never raises for bad input. Whatever the
input, it returns a :class:`TokenReport` whose ``kind`` says what it is ("jwt", "jwe",
"opaque", "malformed") and whose ``error`` says, in plain words, why it could not be fully
decoded (``None`` when it could).

Decoding is done here (base64url + JSON of each segment), not by PyJWT, so tokens PyJWT
refuses are still shown: ``exp`` in milliseconds, ``exp`` as a string, a JSON list as payload.
PyJWT (imported lazily) is used only for keys and signature algorithms.

Signature checks use only keys given by the caller: a JWKS document (or one JWK, or a
PyJWK / PyJWKClient-like object) fetched elsewhere (see :func:`fetch_jwks`), or an HS*
shared secret. Keys a token brings itself (``jwk``, ``jku``, ``x5u``, ``x5c`` headers) are
never used and never fetched; they only produce warnings.

Text from a token may hold terminal control codes: :func:`format_report` and
:func:`escape_control` turn them into visible ``\\x..`` escapes. :func:`principal` and the
report's fields hold the raw values; escape them before showing them.

The pieces live in small modules of this package: :mod:`.token_report` (the report
classes), :mod:`.token_decode` (base64url / JSON segments), :mod:`.token_signature` (the
checks), :mod:`.token_text` (escaping, durations), :mod:`.token_format` (summary, text,
JSON) and :mod:`.jwks_fetch`. This module holds the inspection itself and its findings
(times, claims, header warnings).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from workbench.core.errors import MalformedToken
from workbench.core.text import (
    escape_control,
    format_duration,
    format_time,
    humanize_delta,
)
from workbench.core.tokens.decode import (
    b64url_decode,
    bad_char,
    clean_token,
    json_object,
)
from workbench.core.tokens.report import (
    SignatureCheck,
    TokenReport,
)
from workbench.core.tokens.signature import check_signature, str_or_none

CLOCK_SKEW_SECONDS = 60
"""``iat`` further than this in the future is reported as clock skew."""
LONG_LIVED_SECONDS = 30 * 86400
"""A lifetime above this is reported as long-lived."""
MS_THRESHOLD = 1e11
"""A NumericDate above this (year 5138 in seconds) is read as milliseconds."""
_MS_UPPER = 1e14  # above this even milliseconds make no sense (year 5138)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 b64token


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    text = escape_control(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- inspection


def inspect_token(
    token: str | bytes,
    *,
    now: float | None = None,
    expires_in: int | float | None = None,
    obtained_at: float | None = None,
    jwks: Mapping[str, Any] | Any | None = None,
    secret: str | bytes | None = None,
    issuer: str | None = None,
    audience: str | None = None,
    no_key_reason: str | None = None,
) -> TokenReport:
    """Decode ``token`` and report on it; never raises for bad input.

    ``now``: the time to judge expiry against (default: the current time).
    ``expires_in`` / ``obtained_at``: from the token response, for tokens without ``exp``
    (opaque tokens); the expiry is ``obtained_at + expires_in`` when both are given.
    ``jwks``: a JWKS document ``{"keys": [...]}``, a single JWK dict, a ``jwt.PyJWK``, or a
    ``jwt.PyJWKClient``-like object (``get_signing_key_from_jwt``), for RS*/PS*/ES*/EdDSA.
    ``secret``: the shared secret for HS*. ``issuer`` / ``audience``: expected values,
    a mismatch is a warning, not a failure. ``no_key_reason``: what to say when no key
    was given (e.g. why the caller could not find one).

    Surrounding whitespace, quotes and a leading ``Bearer `` (or ``Authorization: Bearer ``)
    are stripped.
    """
    now = time.time() if now is None else float(now)
    report = TokenReport(checked_at=now)
    try:
        _inspect(
            report,
            token,
            now,
            expires_in,
            obtained_at,
            jwks,
            secret,
            issuer,
            audience,
            no_key_reason,
        )
    except MalformedToken as exc:
        report.kind = "malformed"
        report.error = str(exc)
    except Exception as exc:  # a bug must not take the caller down; say what happened
        report.kind = "malformed"
        report.error = f"could not inspect the token ({type(exc).__name__}: {exc})"
    return report


def _inspect(
    report: TokenReport,
    token: Any,
    now: float,
    expires_in: Any,
    obtained_at: Any,
    jwks: Any,
    secret: Any,
    issuer: str | None,
    audience: str | None,
    no_key_reason: str | None,
) -> None:
    if isinstance(token, bytes | bytearray):
        token = bytes(token).decode("utf-8", errors="replace")
    if not isinstance(token, str):
        raise MalformedToken(f"not a token: expected text, got {type(token).__name__}")
    text = clean_token(token)
    if not text:
        raise MalformedToken("empty input: no token given")
    bad = bad_char(text)
    if bad:
        raise MalformedToken(f"not a token: it {bad}")
    parts = text.split(".")
    if len(parts) >= 3 or (len(parts) == 2 and text.startswith("eyJ")):
        if len(parts) == 5:
            _inspect_jwe(report, parts)
        elif len(parts) == 3:
            _inspect_jws(
                report,
                parts,
                now,
                expires_in,
                obtained_at,
                jwks,
                secret,
                issuer,
                audience,
                no_key_reason,
            )
        else:
            _wrong_segment_count(report, parts)
        return
    _inspect_opaque(report, text, now, expires_in, obtained_at)


def _wrong_segment_count(report: TokenReport, parts: list[str]) -> None:
    n = len(parts)
    hint = ""
    if n == 2:
        hint = " (the signature segment is missing: was the token cut short when copied?)"
    elif n == 4:
        hint = " (a JWT has 3, an encrypted JWE has 5: was part of it lost or added?)"
    elif n > 5:
        hint = " (were several tokens pasted together?)"
    with contextlib.suppress(MalformedToken):
        report.header = json_object(b64url_decode(parts[0], 1, "header"), 1, "header")
    raise MalformedToken(f"not a JWT: expected 3 dot-separated segments, got {n}{hint}")


def _inspect_jwe(report: TokenReport, parts: list[str]) -> None:
    message = (
        "not a JWT: expected 3 dot-separated segments, got 5 (a 5-segment token is an "
        "encrypted JWE; it cannot be decoded without the key)"
    )
    try:
        header = json_object(b64url_decode(parts[0], 1, "header"), 1, "header")
    except MalformedToken:
        raise MalformedToken(message) from None
    report.header = header
    if "enc" in header:
        report.kind = "jwe"
        report.signature = SignatureCheck(
            "not-checked",
            "encrypted JWE: only the recipient's key can decrypt it",
            str_or_none(header.get("alg")),
            str_or_none(header.get("kid")),
        )
        report.warn(
            "encrypted",
            "encrypted JWE: the header is readable, the claims are not "
            f"(alg {_short(header.get('alg'))}, enc {_short(header.get('enc'))})",
            "info",
        )
        report.error = message
        _header_warnings(report, header, b"")
        return
    raise MalformedToken(message)


def _inspect_opaque(
    report: TokenReport, text: str, now: float, expires_in: Any, obtained_at: Any
) -> None:
    if not _B64TOKEN.fullmatch(text):
        ch = next((c for c in text if not re.fullmatch(r"[A-Za-z0-9\-._~+/=]", c)), "=")
        raise MalformedToken(
            f"not a token: '{ch}' cannot appear in a bearer token (RFC 6750 allows letters, "
            "digits and - . _ ~ + / with = only at the end)"
        )
    report.kind = "opaque"
    report.signature = SignatureCheck(
        "not-checked", "opaque token: nothing to verify locally (only its server can)"
    )
    if text.startswith("eyJ"):
        report.warn(
            "not-jwt",
            "starts like base64url JSON but has no dots: not a JWT (or a JWT cut short)",
            "info",
        )
    if _apply_expires_in(report, now, expires_in, obtained_at):
        return
    report.warn(
        "expiry-unknown",
        "opaque token: it carries no readable expiry; only its "
        "server knows when it ends (no expires_in was given)",
        "info",
    )


def _apply_expires_in(report: TokenReport, now: float, expires_in: Any, obtained_at: Any) -> bool:
    """Use a token response's expires_in; True when it gave a lifetime."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
        return False
    if not math.isfinite(expires_in):
        return False
    report.lifetime = float(expires_in)
    if isinstance(obtained_at, int | float) and not isinstance(obtained_at, bool):
        exp = float(obtained_at) + float(expires_in)
        report.expires_at = _to_datetime(exp)
        if report.expires_at is not None:
            report.expiry_source = "expires_in"
            report.remaining = exp - now
            _expiry_findings(report)
    else:
        report.warn(
            "expiry-unknown",
            f"lifetime {format_duration(expires_in)} (expires_in), "
            "but when the token was obtained is unknown, so its expiry is too",
            "info",
        )
    if report.lifetime > LONG_LIVED_SECONDS:
        _long_lived(report, report.lifetime)
    return True


def _inspect_jws(
    report: TokenReport,
    parts: list[str],
    now: float,
    expires_in: Any,
    obtained_at: Any,
    jwks: Any,
    secret: Any,
    issuer: str | None,
    audience: str | None,
    no_key_reason: str | None,
) -> None:
    header = json_object(b64url_decode(parts[0], 1, "header"), 1, "header")
    report.header = header
    signature_error: str | None = None
    try:
        signature = b64url_decode(parts[2], 3, "signature")
    except MalformedToken as exc:
        signature, signature_error = b"", str(exc)
    _header_warnings(report, header, signature)
    report.claims = json_object(b64url_decode(parts[1], 2, "payload"), 2, "payload")
    report.kind = "jwt"
    _times(report, now, expires_in, obtained_at)
    _claim_checks(report, issuer, audience)
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    if signature_error:
        report.signature = SignatureCheck(
            "invalid",
            signature_error,
            str_or_none(header.get("alg")),
            str_or_none(header.get("kid")),
        )
        report.kind = "malformed"
        report.error = signature_error
        return
    report.signature = check_signature(
        report, header, signing_input, signature, jwks, secret, no_key_reason
    )


# --------------------------------------------------------------------------- findings


def _header_warnings(report: TokenReport, header: dict[str, Any], signature: bytes) -> None:
    alg = header.get("alg")
    if isinstance(alg, str) and alg.lower() == "none":
        extra = " (it still carries a signature segment, which means nothing)" if signature else ""
        report.warn(
            "alg-none",
            f"alg is '{escape_control(alg)}': this token is unsigned and must "
            f"never be accepted{extra}",
            "danger",
        )
    elif "alg" not in header:
        report.warn(
            "no-alg", "the header has no alg: no verifier should accept this token", "danger"
        )
    elif not isinstance(alg, str):
        report.warn("no-alg", f"the header's alg is not a string ({_short(alg)})", "danger")
    if "jwk" in header:
        report.warn(
            "embedded-key",
            "the header embeds its own key (jwk): a verifier must never "
            "trust a key the token brings itself; it is ignored here",
            "danger",
        )
    for name in ("jku", "x5u"):
        if name in header:
            report.warn(
                "remote-key-url",
                f"the header points to a key URL ({name} = "
                f"{_short(header[name], 120)}); it is never fetched: trusting it would "
                "let the token choose its own key",
                "danger",
            )
    if "x5c" in header:
        report.warn(
            "x5c",
            "the header carries a certificate chain (x5c); it is not used here: "
            "trust only keys from the issuer's JWKS",
        )
    crit = header.get("crit")
    if crit is not None:
        report.warn(
            "crit",
            f"the header marks extensions as critical ({_short(crit)}): a "
            "verifier that does not understand them must reject the token",
            "info",
        )


def _when(moment: datetime | None, seconds: float) -> str:
    """A claim's time in words (its number when it is out of the calendar's range)."""
    return format_time(moment) if moment is not None else f"{seconds:g} s after the epoch"


def _to_datetime(seconds: float) -> datetime | None:
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        return None


def _numeric_date(report: TokenReport, claims: dict[str, Any], name: str) -> float | None:
    """A claim as seconds since the epoch, or None (with a warning saying why)."""
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            report.warn("bad-time", f"{name} is not a number ({_short(value)}): ignored")
            return None
        report.warn(
            "bad-time",
            f"{name} is a string, not a number as RFC 7519 requires; read as {_short(value)}",
            "info",
        )
    elif isinstance(value, bool) or not isinstance(value, int | float):
        report.warn("bad-time", f"{name} is not a number ({_short(value)}): ignored")
        return None
    else:
        number = float(value)
    if not math.isfinite(number) or abs(number) >= _MS_UPPER:
        report.warn("bad-time", f"{name} is out of range ({_short(value)}): ignored")
        return None
    if number > MS_THRESHOLD:
        number /= 1000.0
        if name == "exp":
            report.exp_in_milliseconds = True
            report.warn(
                "ms-exp",
                "exp is in milliseconds, not seconds (read as "
                f"{int(number)}): most libraries will treat this token as valid for "
                "thousands of years",
            )
        else:
            report.warn(
                "ms-time", f"{name} is in milliseconds, not seconds (read as {int(number)})"
            )
    if _to_datetime(number) is None:
        report.warn("bad-time", f"{name} is out of range ({_short(value)}): ignored")
        return None
    return number


def _times(report: TokenReport, now: float, expires_in: Any, obtained_at: Any) -> None:
    claims = report.claims
    iat = _numeric_date(report, claims, "iat")
    nbf = _numeric_date(report, claims, "nbf")
    exp = _numeric_date(report, claims, "exp")
    if iat is not None:
        report.issued_at = _to_datetime(iat)
        if iat > now + CLOCK_SKEW_SECONDS:
            report.warn(
                "clock-skew",
                f"issued {format_duration(iat - now)} in the future "
                f"(iat {_when(report.issued_at, iat)}): the issuer's clock or this "
                "machine's clock is off",
            )
    if nbf is not None:
        report.not_before = _to_datetime(nbf)
        if nbf > now:
            report.not_yet_valid = True
            report.warn(
                "not-yet-valid",
                f"not valid before {_when(report.not_before, nbf)} ({humanize_delta(nbf - now)})",
            )
    if exp is not None:
        report.expires_at = _to_datetime(exp)
        report.expiry_source = "exp"
        report.remaining = exp - now
        start = iat if iat is not None else nbf
        if nbf is not None and exp < nbf:
            report.never_valid = "exp is before nbf"
        elif iat is not None and exp < iat:
            report.never_valid = "exp is before iat"
        if report.never_valid is not None:
            # no lifetime: the window from nbf (or iat) to exp is empty
            report.warn("bad-time", f"never valid: {report.never_valid}")
        elif start is not None:
            report.lifetime = exp - start
        _expiry_findings(report)
        lifetime = report.lifetime if report.lifetime is not None else report.remaining
        if report.never_valid is None and lifetime is not None and lifetime > LONG_LIVED_SECONDS:
            _long_lived(report, lifetime)
    elif not _apply_expires_in(report, now, expires_in, obtained_at) and "exp" not in claims:
        report.warn(
            "no-exp",
            "no exp claim: this token never expires; if it leaks it stays "
            "usable until its key or the token itself is revoked",
        )


def _expiry_findings(report: TokenReport) -> None:
    if report.remaining is None or report.expires_at is None:
        return
    if report.remaining <= 0:
        report.expired = True
        report.warn(
            "expired",
            f"expired {format_time(report.expires_at)} "
            f"({humanize_delta(report.remaining, past='expired')})",
        )


def _long_lived(report: TokenReport, lifetime: float) -> None:
    report.warn(
        "long-lived",
        f"long-lived: valid for {format_duration(lifetime)}; a leaked "
        "bearer token stays usable that long",
    )


def _claim_checks(report: TokenReport, issuer: str | None, audience: str | None) -> None:
    claims = report.claims
    if issuer is not None and claims.get("iss") != issuer:
        got = _short(claims["iss"], 120) if "iss" in claims else "none"
        report.warn("issuer-mismatch", f"issuer is {got}, expected {_short(issuer, 120)}")
    if audience is not None:
        aud = claims.get("aud")
        if isinstance(aud, str):
            values = [aud]
        elif isinstance(aud, list):
            values = [a for a in aud if isinstance(a, str)]
        else:
            values = []
        if audience not in values and claims.get("client_id") != audience:
            got = _short(aud, 120) if "aud" in claims else "none"
            report.warn("audience-mismatch", f"audience is {got}, expected {_short(audience, 120)}")
