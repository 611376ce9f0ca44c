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
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import math
import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Kind = Literal["jwt", "jwe", "opaque", "malformed"]
SignatureStatus = Literal["valid", "invalid", "not-checked", "unsigned"]
Level = Literal["danger", "warning", "info"]

CLOCK_SKEW_SECONDS = 60
"""``iat`` further than this in the future is reported as clock skew."""
LONG_LIVED_SECONDS = 30 * 86400
"""A lifetime above this is reported as long-lived."""
MS_THRESHOLD = 1e11
"""A NumericDate above this (year 5138 in seconds) is read as milliseconds."""
_MS_UPPER = 1e14  # above this even milliseconds make no sense (year 5138)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 b64token
_PREFIX = re.compile(r"^(?:authorization\s*:\s*)?(?:bearer(?:\s+|$))?", re.IGNORECASE)
_HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
# Secrets copied from tutorials and defaults; a token signed with one of them can be forged by anyone.
_WELL_KNOWN_SECRETS = (
    "secret", "your-256-bit-secret", "your-384-bit-secret", "your-512-bit-secret",
    "changeme", "change-me", "password", "secretkey", "secret-key", "jwt-secret",
    "jwt_secret", "mysecret", "my-secret", "key", "test", "123456", "default",
)  # fmt: skip
_NO_KEY = "no key known: neither a JWKS nor a shared secret was given"


@dataclass(frozen=True)
class TokenWarning:
    """One finding about a token: a stable ``code`` and a plain-words ``message``.

    ``level`` is "danger" (never accept / anyone can forge), "warning" or "info".
    """

    code: str
    message: str
    level: Level = "warning"


@dataclass
class SignatureCheck:
    """The outcome of the signature check.

    ``status``: "valid", "invalid", "not-checked" or "unsigned" (alg none); ``reason`` says
    why in plain words; ``algorithm`` and ``kid`` are the header's ``alg`` and ``kid``.
    """

    status: SignatureStatus = "not-checked"
    reason: str | None = None
    algorithm: str | None = None
    kid: str | None = None


@dataclass
class TokenReport:
    """What :func:`inspect_token` found. Times are aware UTC datetimes; durations are seconds.

    ``remaining`` is relative to ``checked_at`` (the ``now`` of the inspection); use
    :meth:`remaining_at` for a live countdown.
    """

    kind: Kind = "malformed"
    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    issued_at: datetime | None = None
    not_before: datetime | None = None
    expires_at: datetime | None = None
    lifetime: float | None = None
    remaining: float | None = None
    expired: bool = False
    not_yet_valid: bool = False
    exp_in_milliseconds: bool = False
    signature: SignatureCheck = field(default_factory=SignatureCheck)
    warnings: list[TokenWarning] = field(default_factory=list)
    error: str | None = None
    checked_at: float = 0.0
    expiry_source: Literal["exp", "expires_in"] | None = None

    @property
    def ok(self) -> bool:
        """True when the token could be decoded (even if expired or unverified)."""
        return self.error is None

    def has_warning(self, code: str) -> bool:
        return any(w.code == code for w in self.warnings)

    def warn(self, code: str, message: str, level: Level = "warning") -> None:
        self.warnings.append(TokenWarning(code, message, level))

    def remaining_at(self, now: float | None = None) -> float | None:
        """Seconds left at ``now`` (default: the current time); negative once expired."""
        if self.expires_at is None:
            return None
        now = time.time() if now is None else now
        return self.expires_at.timestamp() - now


class _Malformed(Exception):
    """Internal: the token cannot be decoded further; the message is the report's error."""


# --------------------------------------------------------------------------- text helpers

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_control(text: str) -> str:
    """``text`` with control characters made visible (``\\x1b``, ``\\n``, ``\\u202e``...).

    Escapes C0/C1 controls, DEL, and the invisible format / separator characters (bidi
    overrides, zero-width, U+2028) and lone surrogates, so nothing reaches a terminal raw.
    """
    if text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            out.append(f"\\x{code:02x}")
        elif unicodedata.category(ch) in ("Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


_UNITS = (("year", 365 * 86400), ("day", 86400), ("h", 3600), ("min", 60), ("s", 1))


def _unit(n: int, name: str) -> str:
    if name in ("year", "day"):
        return f"{n} {name}" + ("" if n == 1 else "s")
    return f"{n} {name}"


def format_duration(seconds: float) -> str:
    """A length of time in at most two units, rounded down: "1 h 59 min", "3 days", "42 s"."""
    total = int(abs(seconds))
    if total == 0:
        return "0 s"
    parts: list[str] = []
    for i, (name, size) in enumerate(_UNITS):
        if total >= size:
            parts.append(_unit(total // size, name))
            rest = total % size
            if i + 1 < len(_UNITS):
                nxt_name, nxt_size = _UNITS[i + 1]
                if rest // nxt_size:
                    parts.append(_unit(rest // nxt_size, nxt_name))
            break
    return " ".join(parts)


def humanize_delta(seconds: float, *, future: str = "", past: str = "") -> str:
    """A signed time difference in words: positive is ahead, negative is behind.

    ``humanize_delta(42)`` -> "in 42 s"; ``humanize_delta(-259200)`` -> "3 days ago";
    with ``future="expires", past="expired"``: "expires in 1 h 59 min" / "expired 3 days ago".
    """
    if abs(seconds) < 1:
        words = "now" if seconds >= 0 else "just now"
        lead = future if seconds >= 0 else past
    elif seconds > 0:
        words, lead = f"in {format_duration(seconds)}", future
    else:
        words, lead = f"{format_duration(seconds)} ago", past
    return f"{lead} {words}" if lead else words


def format_time(when: datetime) -> str:
    """``2026-11-22 22:40:00 UTC``."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    text = escape_control(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- decoding


def _clean(token: str) -> str:
    text = token.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return _PREFIX.sub("", text, count=1).strip()


def _bad_char(text: str) -> str | None:
    for pos, ch in enumerate(text):
        if ch.isspace():
            return (
                f"contains whitespace at position {pos + 1}: a token is a single word "
                "(were two things pasted, or was it wrapped over lines?)"
            )
        if not (0x21 <= ord(ch) <= 0x7E):
            return (
                f"contains a character that cannot appear in a token "
                f"('{escape_control(ch) if not ch.isprintable() else ch}' at position {pos + 1})"
            )
    return None


_SEGMENT_NAMES = {1: "header", 2: "payload", 3: "signature"}


def _b64url_decode(segment: str, index: int, name: str) -> bytes:
    where = f"segment {index} ({name})"
    body = segment.rstrip("=")
    match = _B64URL.match(body)
    if match is None or match.end() != len(body):
        pos = match.end() if match else 0
        ch = body[pos]
        if ch in "+/":
            raise _Malformed(
                f"{where} is not valid base64url: it contains '{ch}', a character of standard "
                "base64 (base64url uses '-' and '_')"
            )
        raise _Malformed(
            f"{where} is not valid base64url: unexpected character '{escape_control(ch)}' "
            f"at position {pos + 1}"
        )
    if len(body) % 4 == 1:
        raise _Malformed(
            f"{where} is not valid base64url: its length ({len(body)}) is impossible "
            "(was the token cut short?)"
        )
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the checks above cover it
        raise _Malformed(f"{where} is not valid base64url ({exc})") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, bool):
        return "a JSON boolean"
    if value is None:
        return "JSON null"
    return "a JSON number"


def _json_object(raw: bytes, index: int, name: str) -> dict[str, Any]:
    if not raw:
        raise _Malformed(f"segment {index} ({name}) is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Malformed(
            f"{name} (segment {index}) is not UTF-8 text: it decodes to binary data, not JSON"
        ) from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _Malformed(f"{name} (segment {index}) is not usable JSON: nested too deeply") from None
    except ValueError as exc:
        raise _Malformed(f"{name} (segment {index}) is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise _Malformed(f"{name} is not a JSON object (it is {_json_type(value)})")
    return value


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
        _inspect(report, token, now, expires_in, obtained_at, jwks, secret, issuer, audience,
                 no_key_reason)
    except _Malformed as exc:
        report.kind = "malformed"
        report.error = str(exc)
    except Exception as exc:  # a bug must not take the caller down; say what happened
        report.kind = "malformed"
        report.error = f"could not inspect the token ({type(exc).__name__}: {exc})"
    return report


def _inspect(report: TokenReport, token: Any, now: float, expires_in: Any, obtained_at: Any,
             jwks: Any, secret: Any, issuer: str | None, audience: str | None,
             no_key_reason: str | None) -> None:
    if isinstance(token, bytes | bytearray):
        token = bytes(token).decode("utf-8", errors="replace")
    if not isinstance(token, str):
        raise _Malformed(f"not a token: expected text, got {type(token).__name__}")
    text = _clean(token)
    if not text:
        raise _Malformed("empty input: no token given")
    bad = _bad_char(text)
    if bad:
        raise _Malformed(f"not a token: it {bad}")
    parts = text.split(".")
    if len(parts) >= 3 or (len(parts) == 2 and text.startswith("eyJ")):
        if len(parts) == 5:
            _inspect_jwe(report, parts)
        elif len(parts) == 3:
            _inspect_jws(report, parts, now, expires_in, obtained_at, jwks, secret, issuer,
                         audience, no_key_reason)
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
    with contextlib.suppress(_Malformed):
        report.header = _json_object(_b64url_decode(parts[0], 1, "header"), 1, "header")
    raise _Malformed(f"not a JWT: expected 3 dot-separated segments, got {n}{hint}")


def _inspect_jwe(report: TokenReport, parts: list[str]) -> None:
    message = (
        "not a JWT: expected 3 dot-separated segments, got 5 (a 5-segment token is an "
        "encrypted JWE; it cannot be decoded without the key)"
    )
    try:
        header = _json_object(_b64url_decode(parts[0], 1, "header"), 1, "header")
    except _Malformed:
        raise _Malformed(message) from None
    report.header = header
    if "enc" in header:
        report.kind = "jwe"
        report.signature = SignatureCheck(
            "not-checked", "encrypted JWE: only the recipient's key can decrypt it",
            _str_or_none(header.get("alg")), _str_or_none(header.get("kid")),
        )
        report.warn("encrypted", "encrypted JWE: the header is readable, the claims are not "
                    f"(alg {_short(header.get('alg'))}, enc {_short(header.get('enc'))})", "info")
        report.error = message
        _header_warnings(report, header, b"")
        return
    raise _Malformed(message)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _inspect_opaque(report: TokenReport, text: str, now: float, expires_in: Any,
                    obtained_at: Any) -> None:
    if not _B64TOKEN.fullmatch(text):
        ch = next((c for c in text if not re.fullmatch(r"[A-Za-z0-9\-._~+/=]", c)), "=")
        raise _Malformed(
            f"not a token: '{ch}' cannot appear in a bearer token (RFC 6750 allows letters, "
            "digits and - . _ ~ + / with = only at the end)"
        )
    report.kind = "opaque"
    report.signature = SignatureCheck(
        "not-checked", "opaque token: nothing to verify locally (only its server can)")
    if text.startswith("eyJ"):
        report.warn("not-jwt", "starts like base64url JSON but has no dots: not a JWT "
                    "(or a JWT cut short)", "info")
    if _apply_expires_in(report, now, expires_in, obtained_at):
        return
    report.warn("expiry-unknown", "opaque token: it carries no readable expiry; only its "
                "server knows when it ends (no expires_in was given)", "info")


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
        report.warn("expiry-unknown", f"lifetime {format_duration(expires_in)} (expires_in), "
                    "but when the token was obtained is unknown, so its expiry is too", "info")
    if report.lifetime > LONG_LIVED_SECONDS:
        _long_lived(report, report.lifetime)
    return True


def _inspect_jws(report: TokenReport, parts: list[str], now: float, expires_in: Any,
                 obtained_at: Any, jwks: Any, secret: Any, issuer: str | None,
                 audience: str | None, no_key_reason: str | None) -> None:
    header = _json_object(_b64url_decode(parts[0], 1, "header"), 1, "header")
    report.header = header
    signature_error: str | None = None
    try:
        signature = _b64url_decode(parts[2], 3, "signature")
    except _Malformed as exc:
        signature, signature_error = b"", str(exc)
    _header_warnings(report, header, signature)
    report.claims = _json_object(_b64url_decode(parts[1], 2, "payload"), 2, "payload")
    report.kind = "jwt"
    _times(report, now, expires_in, obtained_at)
    _claim_checks(report, issuer, audience)
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    if signature_error:
        report.signature = SignatureCheck(
            "invalid", signature_error, _str_or_none(header.get("alg")),
            _str_or_none(header.get("kid")))
        report.kind = "malformed"
        report.error = signature_error
        return
    report.signature = _check_signature(report, header, signing_input, signature, jwks, secret,
                                        no_key_reason)


# --------------------------------------------------------------------------- findings


def _header_warnings(report: TokenReport, header: dict[str, Any], signature: bytes) -> None:
    alg = header.get("alg")
    if isinstance(alg, str) and alg.lower() == "none":
        extra = " (it still carries a signature segment, which means nothing)" if signature else ""
        report.warn("alg-none", f"alg is '{escape_control(alg)}': this token is unsigned and must "
                    f"never be accepted{extra}", "danger")
    elif "alg" not in header:
        report.warn("no-alg", "the header has no alg: no verifier should accept this token",
                    "danger")
    elif not isinstance(alg, str):
        report.warn("no-alg", f"the header's alg is not a string ({_short(alg)})", "danger")
    if "jwk" in header:
        report.warn("embedded-key", "the header embeds its own key (jwk): a verifier must never "
                    "trust a key the token brings itself; it is ignored here", "danger")
    for name in ("jku", "x5u"):
        if name in header:
            report.warn("remote-key-url", f"the header points to a key URL ({name} = "
                        f"{_short(header[name], 120)}); it is never fetched: trusting it would "
                        "let the token choose its own key", "danger")
    if "x5c" in header:
        report.warn("x5c", "the header carries a certificate chain (x5c); it is not used here: "
                    "trust only keys from the issuer's JWKS")
    crit = header.get("crit")
    if crit is not None:
        report.warn("crit", f"the header marks extensions as critical ({_short(crit)}): a "
                    "verifier that does not understand them must reject the token", "info")


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
        report.warn("bad-time", f"{name} is a string, not a number as RFC 7519 requires; "
                    f"read as {_short(value)}", "info")
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
            report.warn("ms-exp", "exp is in milliseconds, not seconds (read as "
                        f"{int(number)}): most libraries will treat this token as valid for "
                        "thousands of years")
        else:
            report.warn("ms-time", f"{name} is in milliseconds, not seconds (read as "
                        f"{int(number)})")
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
            report.warn("clock-skew", f"issued {format_duration(iat - now)} in the future "
                        f"(iat {format_time(report.issued_at)}): the issuer's clock or this "
                        "machine's clock is off")
    if nbf is not None:
        report.not_before = _to_datetime(nbf)
        if nbf > now:
            report.not_yet_valid = True
            report.warn("not-yet-valid", f"not valid before {format_time(report.not_before)} "
                        f"({humanize_delta(nbf - now)})")
    if exp is not None:
        report.expires_at = _to_datetime(exp)
        report.expiry_source = "exp"
        report.remaining = exp - now
        start = iat if iat is not None else nbf
        if start is not None:
            report.lifetime = exp - start
            if exp < start:
                report.warn("bad-time", f"exp is before {'iat' if iat is not None else 'nbf'}: "
                            "this token was never valid")
        _expiry_findings(report)
        lifetime = report.lifetime if report.lifetime is not None else report.remaining
        if lifetime is not None and lifetime > LONG_LIVED_SECONDS:
            _long_lived(report, lifetime)
    elif not _apply_expires_in(report, now, expires_in, obtained_at) and "exp" not in claims:
        report.warn("no-exp", "no exp claim: this token never expires; if it leaks it stays "
                    "usable until its key or the token itself is revoked")


def _expiry_findings(report: TokenReport) -> None:
    if report.remaining is None or report.expires_at is None:
        return
    if report.remaining <= 0:
        report.expired = True
        report.warn("expired", f"expired {format_time(report.expires_at)} "
                    f"({humanize_delta(report.remaining, past='expired')})")


def _long_lived(report: TokenReport, lifetime: float) -> None:
    report.warn("long-lived", f"long-lived: valid for {format_duration(lifetime)}; a leaked "
                "bearer token stays usable that long")


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


# --------------------------------------------------------------------------- signatures


def _check_signature(report: TokenReport, header: dict[str, Any], signing_input: bytes,
                     signature: bytes, jwks: Any, secret: Any,
                     no_key_reason: str | None) -> SignatureCheck:
    alg = header.get("alg")
    kid = _str_or_none(header.get("kid"))
    check = SignatureCheck("not-checked", None, _str_or_none(alg), kid)
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
        return _check_hmac(report, check, alg, signing_input, signature, jwks, secret,
                           no_key_reason)
    if jwks is None:
        if secret is not None:
            check.reason = (f"{alg} is verified with the issuer's public key (a JWKS); a shared "
                            "secret cannot verify it")
        else:
            check.reason = no_key_reason or _NO_KEY
        return check
    return _check_with_jwks(check, alg, kid, signing_input, signature, jwks)


def _check_hmac(report: TokenReport, check: SignatureCheck, alg: str, signing_input: bytes,
                signature: bytes, jwks: Any, secret: Any, no_key_reason: str | None) -> SignatureCheck:
    digest = _HMAC_HASHES[alg]
    if secret is not None:
        key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        expected = hmac.new(key, signing_input, digest).digest()
        if hmac.compare_digest(expected, signature):
            check.status, check.reason = "valid", f"{alg} signature matches the given secret"
        else:
            check.status, check.reason = "invalid", (
                f"{alg} signature does not match the given secret (wrong secret, or the token "
                "was altered)")
        size = digest().digest_size
        if len(key) < size:
            report.warn("hs-weak", f"the {alg} secret is only {len(key)} bytes; RFC 7518 wants "
                        f"at least {size}: a short secret can be guessed offline from any token")
        return check
    for known in _WELL_KNOWN_SECRETS:
        if hmac.compare_digest(hmac.new(known.encode(), signing_input, digest).digest(), signature):
            report.warn("hs-weak", f"signed with the publicly known secret '{known}': anyone can "
                        "forge this token", "danger")
            check.status = "valid"
            check.reason = f"{alg} signature matches the well-known secret '{known}'"
            return check
    if jwks is not None and _jwks_has_oct(jwks):
        return _check_with_jwks(check, alg, check.kid, signing_input, signature, jwks)
    if jwks is not None:
        check.reason = (f"{alg} is signed with a shared secret; a JWKS holds public keys and "
                        "cannot verify it")
    else:
        check.reason = no_key_reason or _NO_KEY
    return check


def _jwks_has_oct(jwks: Any) -> bool:
    if isinstance(jwks, Mapping):
        keys = jwks.get("keys") if "keys" in jwks else [jwks]
        return isinstance(keys, list) and any(
            isinstance(k, Mapping) and k.get("kty") == "oct" for k in keys)
    return False


_FAMILY = {"RS": "RSA", "PS": "RSA", "ES": "EC", "HS": "oct", "Ed": "OKP"}


def _kty_for(alg: str) -> str | None:
    return _FAMILY.get(alg[:2])


def _key_label(jwk: Mapping[str, Any], index: int) -> str:
    kid = jwk.get("kid")
    return f"key '{escape_control(kid)}'" if isinstance(kid, str) else f"key #{index + 1}"


def _check_with_jwks(check: SignatureCheck, alg: str, kid: str | None, signing_input: bytes,
                     signature: bytes, jwks: Any) -> SignatureCheck:
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
            check.reason = (f"no key with kid '{escape_control(kid)}' in the JWKS"
                            f"{f' (it has: {known})' if known else ''}; a server using this "
                            "JWKS would reject the token")
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
            check.status, check.reason = "valid", f"{alg} signature verified with {label} of the JWKS"
            return check
    if tried:
        which = tried[0] if len(tried) == 1 else f"any of {len(tried)} keys"
        check.status = "invalid"
        check.reason = (f"{alg} signature does not match {which} of the JWKS (the token was "
                        "altered or signed by another key)")
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


def _check_with_key_object(check: SignatureCheck, algorithm: Any, alg: str, signing_input: bytes,
                           signature: bytes, source: Any) -> SignatureCheck:
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
    check.reason = (f"{alg} signature verified with the given key" if ok else
                    f"{alg} signature does not match the given key")
    return check


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# --------------------------------------------------------------------------- JWKS fetching


def fetch_jwks(url: str, *, verify: bool = True, timeout: float = 5.0) -> dict[str, Any]:
    """GET a JWKS document from ``url`` and return it (``{"keys": [...]}``).

    Raises :class:`~workbench.core.errors.TransportError` (connection, timeout, TLS, bad
    URL) or :class:`~workbench.core.errors.ResponseError` (not 200, not JSON, no ``keys``
    list, larger than 1 MiB). Redirects are not followed.
    """
    import httpx  # lazily

    from workbench.core.errors import ResponseError, TransportError

    limit = 1024 * 1024
    try:
        with (
            httpx.Client(verify=verify, timeout=timeout, follow_redirects=False) as client,
            client.stream("GET", url, headers={"Accept": "application/json"}) as response,
        ):
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > limit:
                    raise ResponseError(f"the JWKS at {url} is larger than 1 MiB",
                                        status=response.status_code)
            status = response.status_code
    except httpx.InvalidURL as exc:
        raise TransportError(f"invalid JWKS URL {url!r}: {exc}") from None
    except httpx.TimeoutException:
        raise TransportError(f"timed out fetching the JWKS from {url}",
                             hint="check the URL and the network") from None
    except httpx.TransportError as exc:
        raise TransportError(f"cannot fetch the JWKS from {url}: {exc or type(exc).__name__}",
                             hint="check the URL and the network") from None
    if status != 200:
        raise ResponseError(f"the JWKS URL {url} answered HTTP {status}", status=status)
    try:
        document = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ResponseError(f"the JWKS at {url} is not JSON", status=status) from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ResponseError(f"the document at {url} is not a JWKS (no \"keys\" list)",
                            status=status)
    return document


# --------------------------------------------------------------------------- presentation


def principal(report: TokenReport) -> str | None:
    """A human identity from the claims, or None.

    Preference: ``usr`` (Thinger.io), ``user.userId`` (IoTConnect), ``username``,
    ``preferred_username``, ``email``, ``sub``, ``client_id``. The value is raw: escape
    it (:func:`escape_control`) before showing it.
    """
    claims = report.claims
    user = claims.get("user")
    candidates = [
        claims.get("usr"),
        user.get("userId") if isinstance(user, dict) else None,
        claims.get("username"),
        claims.get("preferred_username"),
        claims.get("email"),
        claims.get("sub"),
        claims.get("client_id"),
    ]
    for value in candidates:
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def expiry_phrase(report: TokenReport, now: float | None = None) -> str:
    """"expires in 1 h 59 min", "expired 3 days ago", "never expires" or "expiry unknown"."""
    remaining = report.remaining_at(now)
    if remaining is not None:
        return humanize_delta(remaining, future="expires", past="expired")
    if report.has_warning("no-exp"):
        return "never expires"
    return "expiry unknown"


def summarize(report: TokenReport, now: float | None = None) -> str:
    """One line for a status bar: "JWT ES256 · demo · expires in 1 h 59 min · signature valid"."""
    if report.kind == "malformed":
        return escape_control(f"malformed token: {report.error}")
    bits = [report.kind.upper() if report.kind != "opaque" else "opaque token"]
    if report.signature.algorithm and report.kind != "opaque":
        bits[0] += f" {report.signature.algorithm}"
    who = principal(report)
    if who:
        bits.append(who)
    if report.kind != "jwe":
        bits.append(expiry_phrase(report, now))
    bits.append(f"signature {report.signature.status.replace('-', ' ')}")
    return escape_control(" · ".join(bits))


_KIND_WORDS = {
    "jwt": "JWT (signed JSON Web Token)",
    "jwe": "JWE (encrypted JSON Web Token)",
    "opaque": "opaque token (not a JWT: its content means something only to its server)",
    "malformed": "malformed",
}
_TEXT_VALUE_LIMIT = 300


def _value_text(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > _TEXT_VALUE_LIMIT:
        text = text[:_TEXT_VALUE_LIMIT] + f"… ({len(text) - _TEXT_VALUE_LIMIT} more characters)"
    return text


def _time_line(label: str, when: datetime | None, now: float, **words: str) -> str | None:
    if when is None:
        return None
    delta = humanize_delta(when.timestamp() - now, **words)
    return f"{label:<12}{format_time(when)} ({delta})"


def format_report(report: TokenReport, now: float | None = None) -> str:
    """The report as plain text lines for a terminal (control characters escaped).

    Relative times are computed against ``now`` (default: the current time), so a caller
    can redraw a countdown from one report.
    """
    now = time.time() if now is None else now
    lines: list[str] = []
    if report.error:
        lines.append(f"{'Error:':<12}{report.error}")
    lines.append(f"{'Kind:':<12}{_KIND_WORDS[report.kind]}")
    sig = report.signature
    if report.kind in ("jwt", "jwe") or (report.kind == "malformed" and report.header):
        status = sig.status.replace("-", " ")
        lines.append(f"{'Signature:':<12}{status}" + (f": {sig.reason}" if sig.reason else ""))
    who = principal(report)
    if who:
        lines.append(f"{'Principal:':<12}{who}")
    if report.kind != "malformed" or report.claims:
        if report.expires_at is not None:
            expires = _time_line("Expires:", report.expires_at, now, future="expires",
                                 past="expired")
            source = " from expires_in" if report.expiry_source == "expires_in" else ""
            lines.append(f"{expires}{source}")
        elif report.kind != "jwe":
            lines.append(f"{'Expires:':<12}{expiry_phrase(report, now)}")
        for label, when in (("Issued:", report.issued_at), ("Not before:", report.not_before)):
            line = _time_line(label, when, now)
            if line:
                lines.append(line)
        if report.lifetime is not None:
            lines.append(f"{'Lifetime:':<12}{format_duration(report.lifetime)}")
    if report.warnings:
        lines.append("Warnings:")
        marks = {"danger": "!!", "warning": "! ", "info": "- "}
        for w in report.warnings:
            lines.append(f"  {marks[w.level]} [{w.code}] {w.message}")
    if report.header:
        lines.append("Header:")
        lines.extend(f"  {key}: {_value_text(value)}" for key, value in report.header.items())
    if report.claims:
        lines.append("Claims:")
        times = {"iat": report.issued_at, "nbf": report.not_before, "exp": report.expires_at
                 if report.expiry_source == "exp" else None}
        for key, value in report.claims.items():
            line = f"  {key}: {_value_text(value)}"
            when = times.get(key)
            if when is not None:
                line += f"  ({format_time(when)})"
            lines.append(line)
    return "\n".join(escape_control(line) for line in lines)


def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 3)


def report_to_json(report: TokenReport) -> dict[str, Any]:
    """The report as a JSON-ready dict: the stable shape of ``workbench token inspect --json``.

    ::

        {
          "kind": "jwt" | "jwe" | "opaque" | "malformed",
          "header": {...},              # the decoded JOSE header ({} when unreadable / opaque)
          "claims": {...},              # the decoded payload ({} when unreadable / opaque / JWE)
          "issued_at": "2026-11-22T20:40:00Z" | null,    # iat, ISO 8601 UTC
          "not_before": "2026-11-22T20:40:00Z" | null,   # nbf
          "expires_at": "2026-11-22T22:40:00Z" | null,   # exp, or obtained_at + expires_in
          "lifetime_seconds": 7200 | null,      # exp - iat (or expires_in)
          "remaining_seconds": 7140 | null,     # exp - now; negative once expired
          "expired": false,
          "not_yet_valid": false,               # nbf is in the future
          "exp_in_milliseconds": false,         # exp was in ms and has been converted
          "expiry_source": "exp" | "expires_in" | null,
          "principal": "demo@example.com" | null,   # see principal()
          "signature": {
            "status": "valid" | "invalid" | "not-checked" | "unsigned",
            "reason": "plain words" | null,
            "algorithm": "RS256" | null,        # the header's alg
            "kid": "key-1" | null               # the header's kid
          },
          "warnings": [                         # in the order found
            {"code": "expired", "message": "plain words", "level": "danger" | "warning" | "info"}
          ],
          "error": "plain words" | null         # why the token could not be fully decoded
        }

    Numbers of seconds are integers when whole, else rounded to milliseconds. Warning
    codes: alg-none, no-alg, embedded-key (jwk header), remote-key-url (jku / x5u, never
    fetched), x5c, crit, expired, not-yet-valid, clock-skew (iat more than 60 s ahead),
    no-exp, ms-exp, ms-time, bad-time, long-lived (over 30 days), hs-weak (short or
    well-known HS secret), issuer-mismatch, audience-mismatch, expiry-unknown, encrypted,
    not-jwt. Keys may be added in later versions; existing keys keep their meaning.
    """
    sig = report.signature
    return {
        "kind": report.kind,
        "header": report.header,
        "claims": report.claims,
        "issued_at": _iso(report.issued_at),
        "not_before": _iso(report.not_before),
        "expires_at": _iso(report.expires_at),
        "lifetime_seconds": _number(report.lifetime),
        "remaining_seconds": _number(report.remaining),
        "expired": report.expired,
        "not_yet_valid": report.not_yet_valid,
        "exp_in_milliseconds": report.exp_in_milliseconds,
        "expiry_source": report.expiry_source,
        "principal": principal(report),
        "signature": {
            "status": sig.status,
            "reason": sig.reason,
            "algorithm": sig.algorithm,
            "kid": sig.kid,
        },
        "warnings": [{"code": w.code, "message": w.message, "level": w.level}
                     for w in report.warnings],
        "error": report.error,
    }
