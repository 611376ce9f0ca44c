"""What a token's claims and header fields mean, in plain words (for the inspector views).

Standard JWT / OIDC claims, plus the platform claims of the clouds we know (Thinger.io's
`usr`, IoTConnect's `user` object, Cognito's `token_use`...). IoTConnect's `user` object
is flattened to `user.*` rows.
"""

from __future__ import annotations

import json
import time
from typing import Any

from workbench.core.text import escape_control, format_time
from workbench.core.tokens.report import TokenReport

VALUE_LIMIT = 60
"""Claim values longer than this are cut with an ellipsis."""

TIME_CLAIMS = {
    "exp": "expires",
    "iat": "issued",
    "nbf": "not valid before",
    "auth_time": "user logged in",
}
CLAIM_MEANINGS: dict[str, str] = {
    "iss": "issuer: who made and signed the token",
    "sub": "subject: whom the token is about (user or client)",
    "aud": "audience: which API the token is for",
    "scope": "scopes: what the token allows",
    "scp": "scopes: what the token allows",
    "client_id": "the OAuth2 client the token was issued to",
    "azp": "authorized party: the client that asked for it",
    "usr": "Thinger.io user the token acts for",
    "dev": "Thinger.io device the token is for",
    "res": "Thinger.io resources the token may use",
    "svr": "Thinger.io private server (host) the token belongs to: its API is https://<svr>",
    "jti": "token id: lets the server revoke it or spot reuse",
    "token_use": "Cognito: 'access' or 'id' token",
    "username": "user name",
    "preferred_username": "user name the user prefers",
    "email": "e-mail address",
    "email_verified": "whether the e-mail address was verified",
    "name": "full name",
    "nonce": "login nonce (binds an ID token to one login)",
    "sid": "login session id",
    "at_hash": "hash of the access token issued with this ID token",
    "amr": "how the user authenticated",
    "acr": "authentication strength",
    "cognito:username": "Cognito user name",
    "cognito:groups": "Cognito groups of the user",
    "event_id": "Cognito login event",
    "origin_jti": "Cognito: id of the original token of this login",
    "version": "token format version",
}
USER_MEANINGS: dict[str, str] = {
    "id": "IoTConnect user GUID",
    "userId": "IoTConnect user (login name)",
    "companyId": "IoTConnect company (tenant) GUID",
    "cpId": "IoTConnect company id (CPID)",
    "roleId": "IoTConnect role GUID",
    "roleName": "IoTConnect role",
    "entityGuid": "IoTConnect top entity GUID",
    "solutionGuid": "IoTConnect solution GUID",
    "solutionKey": "IoTConnect solution key",
}
ALG_MEANINGS: dict[str, str] = {
    "HS": "HMAC, shared secret: only the server can check it",
    "RS": "RSA signature: checkable with the issuer's public key",
    "PS": "RSA-PSS signature: checkable with the issuer's public key",
    "ES": "ECDSA signature: checkable with the issuer's public key",
    "Ed": "EdDSA signature: checkable with the issuer's public key",
}
HEADER_MEANINGS: dict[str, str] = {
    "typ": "token type",
    "kid": "id of the signing key",
    "cty": "content type",
    "jku": "key URL named by the token (never fetched)",
    "x5u": "certificate URL (never fetched)",
    "jwk": "key embedded in the token (never trusted)",
    "x5c": "certificate chain (not used)",
    "enc": "content encryption",
    "crit": "critical extensions",
}


def value_text(value: Any, limit: int = VALUE_LIMIT) -> str:
    """A claim value for the table: strings as they are, the rest as JSON; escaped and cut."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
        except (TypeError, ValueError):  # pragma: no cover - decoded JSON always dumps
            text = repr(value)
    text = escape_control(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def time_of(report: TokenReport, name: str) -> str | None:
    """The time claim `name` of the report in words, or None when it has none."""
    when = {
        "exp": report.expires_at if report.expiry_source == "exp" else None,
        "iat": report.issued_at,
        "nbf": report.not_before,
    }.get(name)
    if when is not None:
        return format_time(when)
    value = report.claims.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1e11:
        try:
            return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value))
        except (OverflowError, OSError, ValueError):
            return None
    return None


def claim_meaning(name: str, report: TokenReport) -> str:
    if name in TIME_CLAIMS:
        when = time_of(report, name)
        suffix = " (milliseconds)" if name == "exp" and report.exp_in_milliseconds else ""
        return f"{TIME_CLAIMS[name]}: {when}{suffix}" if when else TIME_CLAIMS[name]
    if name.startswith("user."):
        return USER_MEANINGS.get(name[5:], "IoTConnect user field")
    return CLAIM_MEANINGS.get(name, "")


def claim_rows(report: TokenReport) -> list[tuple[str, str, str]]:
    """(claim, value, meaning) rows; IoTConnect's ``user`` object is flattened to ``user.*``."""
    rows: list[tuple[str, str, str]] = []
    for key, value in report.claims.items():
        if key == "user" and isinstance(value, dict):
            for sub, sub_value in value.items():
                name = f"user.{sub}"
                rows.append(
                    (escape_control(name), value_text(sub_value), claim_meaning(name, report))
                )
            continue
        rows.append((escape_control(str(key)), value_text(value), claim_meaning(str(key), report)))
    return rows
