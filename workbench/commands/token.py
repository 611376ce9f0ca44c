"""`workbench token inspect [TOKEN|-] [--json] [--profile P] [--secret-env VAR]`.

The token comes from the argument, or from stdin when the argument is ``-`` or missing.
Exit codes: 0 the token was decoded (even if expired or its signature is invalid: this is
an inspection), 2 no token / malformed or unusable input / bad option.

``--profile P`` verifies against the profile's JWKS. The URL comes from
``workbench.core.profiles.jwks_url_for(name, extra_dir=None)`` when that function exists
(it may return a URL, a mapping ``{"jwks_url", "issuer", "audience", "verify_tls"}``, or
None), else from a ``jwks_url`` on the loaded profile (attribute, ``[auth]`` parameter or
``[variables]`` entry). When none is found, the report says "signature not checked" and why.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from workbench.cli import EXIT_OK, EXIT_USAGE

USAGE = "usage: workbench token inspect [TOKEN|-] [--json] [--profile P] [--secret-env VAR]"
MAX_INPUT = 1024 * 1024
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _emit(text: str, stream: TextIO) -> None:
    """Write ``text`` + newline, never failing on an encoding the terminal lacks."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = text.encode(encoding, errors="backslashreplace").decode(encoding, errors="replace")
    stream.write(text + "\n")
    stream.flush()


def _fail(message: str) -> int:
    from workbench.core.tokens import escape_control

    _emit(f"workbench: {escape_control(message)}", sys.stderr)
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
        return None, (f"no token given\n{USAGE}\n  pass the token as an argument, or pipe it in: "
                      "echo \"$TOKEN\" | workbench token inspect -")
    if is_tty:
        _emit("Paste the token, then press Ctrl-D:", sys.stderr)
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
        return None, ("--secret-env takes the NAME of an environment variable holding the "
                      "secret, not the secret itself (secrets never go on the command line)")
    value = os.environ.get(var)
    if value is None:
        return None, f"environment variable {var} is not set (--secret-env {var})"
    if value == "":
        return None, f"environment variable {var} is empty (--secret-env {var})"
    return value, None


def _profile_jwks_source(name: str, extra_dir: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """({"jwks_url", "issuer", "audience", "verify_tls"}, None) or (None, why not)."""
    from workbench.core.errors import WorkbenchError

    try:
        profiles = importlib.import_module("workbench.core.profiles")
    except Exception:
        return None, "profiles are not available in this build"
    try:
        hook = getattr(profiles, "jwks_url_for", None)
        if callable(hook):
            found = hook(name, extra_dir=extra_dir)
        elif callable(getattr(profiles, "get_profile", None)):
            found = _jwks_from_profile(profiles.get_profile(name, extra_dir))
        else:
            return None, "this build cannot look up a profile's JWKS yet"
    except WorkbenchError as err:
        return None, err.message
    except Exception as exc:
        return None, f"the profile could not be read ({type(exc).__name__}: {exc})"
    if isinstance(found, str) and found:
        return {"jwks_url": found}, None
    if isinstance(found, Mapping) and isinstance(found.get("jwks_url"), str) and found["jwks_url"]:
        return dict(found), None
    return None, "the profile names no JWKS URL"


def _jwks_from_profile(profile: Any) -> dict[str, Any] | None:
    auth = getattr(profile, "auth", None)
    params = getattr(auth, "params", None) or {}
    variables = getattr(profile, "variables", None) or {}
    url = getattr(profile, "jwks_url", None) or params.get("jwks_url") or variables.get("jwks_url")
    if not isinstance(url, str) or not url:
        return None
    return {
        "jwks_url": url,
        "issuer": params.get("issuer") if isinstance(params.get("issuer"), str) else None,
        "audience": params.get("audience") if isinstance(params.get("audience"), str) else None,
        "verify_tls": getattr(profile, "verify_tls", True),
    }


def _profile_key(name: str, extra_dir: str | None) -> tuple[dict | None, str | None, str | None, str | None]:
    """(jwks, issuer, audience, why-not) for --profile."""
    from workbench.core.errors import WorkbenchError
    from workbench.core.tokens import fetch_jwks

    source, why = _profile_jwks_source(name, extra_dir)
    if source is None:
        return None, None, None, why
    url = source["jwks_url"]
    issuer = source.get("issuer") if isinstance(source.get("issuer"), str) else None
    audience = source.get("audience") if isinstance(source.get("audience"), str) else None
    try:
        jwks = fetch_jwks(url, verify=bool(source.get("verify_tls", True)))
    except WorkbenchError as err:
        return None, issuer, audience, err.message
    return jwks, issuer, audience, None


def inspect(args: argparse.Namespace) -> int:
    from workbench.core.tokens import escape_control, format_report, inspect_token, report_to_json

    token, problem = _read_token(args.token)
    if token is None:
        return _fail(problem or "no token given")
    secret = None
    if args.secret_env:
        secret, problem = _secret_from_env(args.secret_env)
        if problem:
            return _fail(problem)
    jwks = issuer = audience = no_key_reason = None
    if args.profile:
        jwks, issuer, audience, no_key_reason = _profile_key(args.profile, args.profiles)
        if no_key_reason:
            no_key_reason = f"profile '{args.profile}': {no_key_reason}"
    report = inspect_token(token, jwks=jwks, secret=secret, issuer=issuer, audience=audience,
                           no_key_reason=no_key_reason)
    if no_key_reason and report.signature.status == "not-checked" and report.kind != "opaque":
        _emit(f"signature not checked: {escape_control(report.signature.reason or '')}",
              sys.stderr)
    if args.json:
        _emit(json.dumps(report_to_json(report), indent=2, ensure_ascii=True), sys.stdout)
    elif report.kind != "malformed" or report.header:
        _emit(format_report(report, now=report.checked_at), sys.stdout)
    if report.error:
        _fail(f"cannot inspect the token: {report.error}")
        return EXIT_USAGE
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if getattr(args, "token_command", None) != "inspect":
        _emit(f"workbench: which token action?\n{USAGE}", sys.stderr)
        return EXIT_USAGE
    return inspect(args)
