"""`workbench token inspect [TOKEN|-] [--json] [--session P] [--verify-with P] [--secret-env VAR]`.

The token comes from the argument, or from stdin when the argument is ``-`` or missing,
or with ``--session P`` from the tokens stored for profile P by ``workbench login P``
(the access token, as stored: not renewed). The token itself is never printed in full:
``--session`` shows it masked (``eyJhbGci…Xk9w``) with its header, claims and expiry;
``--json`` adds ``"session": {"profile", "token": "access_token", "masked", "store"}``.
Exit codes: 0 the token was decoded (even if expired or its signature is invalid: this is
an inspection), 2 no token / malformed or unusable input / bad option / unknown profile /
unreadable token store, 3 ``--session P`` and no usable token is stored for P (log in).

Two options name a profile, for two different things: ``--session P`` says WHICH token
(the one stored for P), ``--verify-with P`` says WHOSE KEYS check its signature. They can be
combined (``--session P --verify-with P``). ``--profile P`` is the old name of
``--verify-with P``: it still works, for one release, with a deprecation note on stderr
(stdout and ``--json`` unchanged); both spelled with different profiles is refused.

``--verify-with P`` verifies against the profile's JWKS, located by workbench.core.tokens.jwks: the
profile's ``[auth] jwks_url``, OIDC discovery from its ``issuer``, or the token's ``iss``
when that is one of the profile's origins (never the token's ``jku``/``x5u``). When none is
found, the report says "signature not checked" and why.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

from workbench.cli import EXIT_AUTH, EXIT_OK, EXIT_USAGE
from workbench.commands.output import emit, emit_json, warn_tls

USAGE = (
    "usage: workbench token inspect [TOKEN|-] [--json] [--session P] [--verify-with P] "
    "[--secret-env VAR]"
)
DEPRECATED_PROFILE = (
    "workbench: note: `token inspect --profile P` is deprecated: use --verify-with P (the same "
    "meaning: check the signature with P's keys); --profile will be removed in the next release"
)
MAX_INPUT = 1024 * 1024
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _fail(message: str) -> int:
    from workbench.core.text import escape_control

    emit(f"workbench: {escape_control(message)}", sys.stderr)
    return EXIT_USAGE


def _read_token(arg: str | None) -> tuple[str | None, str | None]:
    """(token, None) or (None, error message)."""
    if arg is not None and arg != "-":
        return arg, None
    stdin = sys.stdin
    if stdin is None:
        return None, f"no token given and no stdin to read it from\n{USAGE}"
    try:
        is_tty = stdin.isatty()
    except (ValueError, OSError):
        is_tty = False
    if is_tty and arg is None:
        return None, (
            f"no token given\n{USAGE}\n  pass the token as an argument, or pipe it in: "
            'echo "$TOKEN" | workbench token inspect -'
        )
    if is_tty:
        emit("Paste the token, then press Ctrl-D:", sys.stderr)
    try:
        buffer = getattr(stdin, "buffer", None)
        if buffer is not None:
            raw = buffer.read(MAX_INPUT + 1)
            if len(raw) > MAX_INPUT:
                return None, "the input is larger than 1 MiB: that is not a token"
            return raw.decode("utf-8", errors="replace"), None
        text = stdin.read(MAX_INPUT + 1)
    except (OSError, ValueError) as exc:
        return None, f"cannot read the token from stdin: {exc}"
    if len(text) > MAX_INPUT:
        return None, "the input is larger than 1 MiB: that is not a token"
    return text, None


def _secret_from_env(var: str) -> tuple[str | None, str | None]:
    if not _ENV_NAME.fullmatch(var):
        return None, (
            "--secret-env takes the NAME of an environment variable holding the "
            "secret, not the secret itself (secrets never go on the command line)"
        )
    value = os.environ.get(var)
    if value is None:
        return None, f"environment variable {var} is not set (--secret-env {var})"
    if value == "":
        return None, f"environment variable {var} is empty (--secret-env {var})"
    return value, None


def _profile_key(
    name: str, extra_dir: str | None, claims: dict[str, Any]
) -> tuple[dict[str, Any] | None, str | None, str | None, str | None]:
    """(jwks, issuer, audience, why-not) for --verify-with: the profile's JWKS, found by
    workbench.core.tokens.jwks (jwks_url, OIDC discovery from issuer, or the token's iss when it is
    one of the profile's origins; never the token's jku/x5u)."""
    from workbench.core.errors import WorkbenchError
    from workbench.core.profiles import get_profile
    from workbench.core.tokens.jwks import profile_jwks_url
    from workbench.core.tokens.jwks_fetch import fetch_jwks

    try:
        profile = get_profile(name, extra_dir)
        url, issuer = profile_jwks_url(profile, claims)
        audience = profile.auth.params.get("audience")
        warn_tls(profile)
        jwks = fetch_jwks(url, verify=profile.verify_tls)
    except WorkbenchError as err:
        return None, None, None, err.message
    return jwks, issuer, audience if isinstance(audience, str) else None, None


def mask_token(token: str) -> str:
    """``eyJhbGci…Xk9w``: the first 8 and last 4 characters; short tokens show only their
    length (the token inspector's mask)."""
    if len(token) < 24:
        return f"•••••••• ({len(token)} characters)"
    return f"{token[:8]}…{token[-4:]}"


def _session_token(name: str, extra_dir: str | None) -> tuple[Any, dict[str, Any], int]:
    """(tokens, session facts, 0) for --session, or (None, {}, exit code) after saying why."""
    from workbench.core.errors import WorkbenchError
    from workbench.core.profiles import get_profile
    from workbench.core.store import TokenStore
    from workbench.core.text import escape_control

    try:
        profile = get_profile(name, extra_dir)
    except WorkbenchError as err:
        hint = f"\n  hint: {err.hint}" if err.hint else ""
        return None, {}, _fail(f"--session: {err.message}{hint}")
    store = TokenStore()
    try:
        tokens = store.get(profile.name, profile)
        why = store.why_not(profile.name, profile) if tokens is None else None
    except WorkbenchError as err:
        return None, {}, _fail(f"cannot read the token store: {err.message}")
    if tokens is None or not tokens.access_token:
        reason = why or f"no token is stored for '{profile.name}'"
        emit(
            f"workbench: {escape_control(reason)}\n"
            f"  hint: log in first: workbench login {escape_control(profile.name)}",
            sys.stderr,
        )
        return None, {}, EXIT_AUTH
    facts = {
        "profile": profile.name,
        "token": "access_token",
        "masked": mask_token(tokens.access_token),
        "store": store.kind,
    }
    return tokens, facts, EXIT_OK


def verify_profile(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(the profile whose keys verify the signature, None) from --verify-with or its
    deprecated alias --profile (said on stderr); (None, error) when both name different
    profiles."""
    verify_with = getattr(args, "verify_with", None)
    alias = getattr(args, "profile", None)
    if alias is None:
        return verify_with, None
    if verify_with is not None and verify_with != alias:
        return None, (
            f"--profile is the old name of --verify-with: give one of them, not two "
            f"different profiles\n{USAGE}"
        )
    emit(DEPRECATED_PROFILE, sys.stderr)
    return alias, None


def inspect(args: argparse.Namespace) -> int:
    from workbench.core.text import escape_control
    from workbench.core.tokens.format import format_report, report_to_json
    from workbench.core.tokens.inspect import inspect_token

    verify_with, problem = verify_profile(args)
    if problem:
        return _fail(problem)
    session = getattr(args, "session", None)
    facts: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if session is not None:
        if args.token is not None:
            return _fail(f"give a token or --session, not both\n{USAGE}")
        tokens, facts, code = _session_token(session, getattr(args, "profiles", None))
        if tokens is None:
            return code
        token = str(tokens.access_token)
        if tokens.expires_at is not None:  # what the token response said (opaque tokens)
            extra = {
                "expires_in": tokens.expires_at - tokens.obtained_at,
                "obtained_at": tokens.obtained_at,
            }
    else:
        read, problem = _read_token(args.token)
        if read is None:
            return _fail(problem or "no token given")
        token = read
    secret = None
    if args.secret_env:
        secret, problem = _secret_from_env(args.secret_env)
        if problem:
            return _fail(problem)
    jwks = issuer = audience = no_key_reason = None
    if verify_with:
        claims = inspect_token(token).claims
        jwks, issuer, audience, no_key_reason = _profile_key(
            verify_with, getattr(args, "profiles", None), claims
        )
        if no_key_reason:
            no_key_reason = f"profile '{verify_with}': {no_key_reason}"
    report = inspect_token(
        token,
        jwks=jwks,
        secret=secret,
        issuer=issuer,
        audience=audience,
        no_key_reason=no_key_reason,
        **extra,
    )
    if no_key_reason and report.signature.status == "not-checked" and report.kind != "opaque":
        emit(f"signature not checked: {escape_control(report.signature.reason or '')}", sys.stderr)
    if args.json:
        data = report_to_json(report)
        if facts:
            data["session"] = facts
        emit_json(data)
    else:
        if facts:
            emit(
                escape_control(
                    f"{'Token:':<12}{facts['masked']} (the access token stored for "
                    f"{facts['profile']}, {facts['store']}; not renewed)"
                ),
                sys.stdout,
            )
        if report.kind != "malformed" or report.header:
            emit(format_report(report, now=report.checked_at), sys.stdout)
    if report.error:
        _fail(f"cannot inspect the token: {report.error}")
        return EXIT_USAGE
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if getattr(args, "token_command", None) != "inspect":
        emit(f"workbench: which token action?\n{USAGE}", sys.stderr)
        return EXIT_USAGE
    return inspect(args)
