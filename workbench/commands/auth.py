"""`workbench login PROFILE [--json] [--trace] [--no-browser] [--paste]` and `workbench logout PROFILE`.

A browser login opens the browser when one can open; else, on a terminal (or with
``--paste``), it prints the authorization URL and asks for the redirect URL the browser
ends on (paste-back; browser_login.py); with neither it fails at once (exit 3).

Secrets come from the environment variables the profile names, demo values (demo
profiles), the keyring, or a prompt when stdin is a terminal — never from argv.

`login --json` prints one object (stable; documented in docs/profiles.md); a device-code
login (RFC 8628) prints a ``{"event": "device_code", ...}`` line before it
(workbench/commands/device_code.py)::

    {"version": 1, "ok": true, "profile", "platform", "flow", "flow_label",
     "principal": str | null, "token_type", "expires_at": ISO-8601 UTC | null,
     "expires_in": seconds | null, "refreshable": bool, "scope": str | null,
     "store": "keyring" | "file: <path>" | "memory only", "notes": [str],
     "sent_to": [origin URL]  (where the token is sent: the profile's origins + discovered ones),
     "error": null, "trace": [Exchange...] (only with --trace)}

On failure ``ok`` is false and ``error`` is
``{"type", "step", "status", "message", "server_message", "hint"}``.
Exit codes: 0 logged in, 2 profile problem, 3 auth failed, 4 network or server error
(including a 5xx, a maintenance page or a rate limit (429) answered by a login step).

`logout` first asks the provider to revoke the refresh token, then the access token
(RFC 7009; OAuth2 flows whose provider names a revocation endpoint), then forgets the
tokens here — forgotten either way. Exit codes: 0 when the tokens are forgotten and every
revocation tried succeeded (or none could be tried: no endpoint, not an OAuth2 flow,
--no-revoke; said in words); 3 when the provider refused a revocation, 4 when it could
not be reached or answered 5xx — the tokens may still be valid there until they expire.
2 when the token store could not be changed, or when PROFILE is no profile and no tokens
are stored under that name (a typo: nothing to do, said in words; the tokens of a removed
or broken profile can still be forgotten by name). `logout --json` prints one object::

    {"version": 1, "ok": bool, "profile", "forgotten": bool, "store",
     "revocations": [{"token": "refresh token" | "access token", "revoked": bool,
                      "detail": str, "attempted": bool, "unsupported": bool}],
     "error": null | {...}}
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from workbench.cli import EXIT_AUTH, EXIT_NETWORK, EXIT_OK, EXIT_USAGE
from workbench.commands.browser_login import browser_hooks
from workbench.commands.device_code import DeviceCodeDisplay
from workbench.commands.output import describe, emit, emit_json, field, show_error, warn_tls
from workbench.core.auth.base import AuthTrace
from workbench.core.auth.revocation import Revocation
from workbench.core.errors import (
    AuthError,
    ConfigError,
    ResponseError,
    SecretError,
    StoreError,
    TransportError,
    WorkbenchError,
)
from workbench.core.profiles import Profile, get_profile
from workbench.core.secrets import Redactor, SecretResolver, tty_prompter
from workbench.core.session import (
    Session,
    describe_principal,
    expires_text,
    sent_to_text,
    sorted_origins,
)
from workbench.core.store import TokenStore
from workbench.core.text import escape_keep_newlines


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def exit_code_for(err: WorkbenchError) -> int:
    """The documented exit code for `err`: 3 when the credentials or a person must act,
    4 when the network or the server failed (a 5xx, a maintenance page or a rate limit
    during a login step is the server's trouble, not the credentials')."""
    if isinstance(err, AuthError):
        return err.exit_code
    if isinstance(err, SecretError):
        return EXIT_AUTH
    if isinstance(err, TransportError):
        return EXIT_NETWORK
    if isinstance(err, ResponseError):
        return EXIT_NETWORK
    return EXIT_USAGE


def error_json(err: WorkbenchError) -> dict[str, Any]:
    return {
        "type": type(err).__name__,
        "step": getattr(err, "step", None),
        "status": getattr(err, "status", None),
        "message": err.message,
        "server_message": getattr(err, "server_message", None),
        "hint": err.hint,
    }


def redact_error(err: WorkbenchError, traces: list[AuthTrace]) -> None:
    """Take out of `err`'s words every secret value the login's traces learnt (a server
    may echo the password or the token it was sent)."""
    redactor = Redactor()
    for trace in traces:
        redactor.extend(trace.redactor)
    err.message = redactor(err.message)
    if err.hint:
        err.hint = redactor(err.hint)
    said = getattr(err, "server_message", None)
    if isinstance(said, str):
        err.server_message = redactor(said)  # type: ignore[attr-defined]  # AuthError / ResponseError only


def trace_json(traces: list[AuthTrace]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for trace in traces:
        item = trace.to_json()
        item["kind"] = getattr(trace, "kind", "login")
        out.append(item)
    return out


def _body_lines(mark: str, body: str) -> list[str]:
    """A body, one prefixed line per line (so no line of it can pass for one of ours)."""
    return [f"      {mark} {escape_keep_newlines(line)}" for line in body.split("\n")]


def print_trace(traces: list[AuthTrace], out: TextIO | None = None) -> None:
    out = out or sys.stderr
    lines: list[str] = []
    for trace in traces:
        lines.append(f"--- auth trace: {field(getattr(trace, 'kind', 'login'))}")
        lines += [f"  note: {field(note)}" for note in trace.notes]
        for ex in trace.exchanges:
            status = ex.status if ex.status is not None else f"no answer ({field(ex.error)})"
            lines.append(
                f"  [{field(ex.step)}] {field(ex.method)} {field(ex.url)} -> {status}"
                f" ({ex.elapsed_ms:.0f} ms)"
            )
            lines += [f"      > {field(k)}: {field(v)}" for k, v in ex.request_headers.items()]
            if ex.request_body:
                lines += _body_lines(">", ex.request_body)
            lines += [f"      < {field(k)}: {field(v)}" for k, v in ex.response_headers.items()]
            if ex.response_body:
                lines += _body_lines("<", ex.response_body)
        if trace.failure:
            f = trace.failure
            lines.append(f"  FAILED at step '{field(f.step)}': {field(f.message)}")
            if f.server_message:
                lines.append(f"      server said: {field(f.server_message)}")
            if f.hint:
                lines.append(f"      hint: {field(f.hint)}")
    for line in lines:
        emit(line, out)


def print_failure(err: WorkbenchError, out: TextIO | None = None) -> None:
    out = out or sys.stderr
    step = getattr(err, "step", None)
    lead = f"login failed at step '{field(step)}'" if step else "login failed"
    emit(f"workbench: {lead}: {describe(err)}", out)


def login(args: argparse.Namespace) -> int:
    try:
        profile = get_profile(args.profile, getattr(args, "profiles", None))
    except ConfigError as err:
        if args.json:
            emit_json(
                {"version": 1, "ok": False, "profile": args.profile, "error": error_json(err)}
            )
        else:
            show_error(err)
        return EXIT_USAGE
    spec = profile.auth.spec
    resolver = SecretResolver(prompter=tty_prompter())
    store = TokenStore()
    session = Session(profile, resolver=resolver, store=store)
    if spec.legacy and not args.json:
        emit(f"note: {spec.label}: your password is sent to the token endpoint", sys.stderr)
    if not args.json:
        warn_tls(profile)
    hooks = browser_hooks(no_browser=args.no_browser, paste=getattr(args, "paste", False))
    device_display = DeviceCodeDisplay(as_json=args.json)
    error: WorkbenchError | None = None
    try:
        tokens = session.login(
            open_browser=hooks.open_browser,
            show_url=hooks.show_url,
            offer_paste=hooks.offer_paste,
            show_device_code=device_display,
        )
    except WorkbenchError as err:
        error = err
        tokens = None
    finally:
        device_display.stop()
        session.close()
    warnings = [n for t in session.traces for n in t.notes if n.startswith("warning: ")]
    notes = list(dict.fromkeys(session.store_notes + store.notes + warnings))
    if error is not None:
        redact_error(error, session.traces)
        code = exit_code_for(error)
        if args.json:
            out: dict[str, Any] = {
                "version": 1,
                "ok": False,
                "profile": profile.name,
                "platform": profile.platform,
                "flow": spec.name,
                "flow_label": spec.label,
                "notes": notes,
                "error": error_json(error),
            }
            if args.trace:
                out["trace"] = trace_json(session.traces)
            emit_json(out)
        else:
            if args.trace:
                print_trace(session.traces)
            print_failure(error)
        return code
    assert tokens is not None
    who = describe_principal(tokens)
    remaining = tokens.remaining()
    refreshable = bool(tokens.refresh_token) or session.flow.can_login_unattended(resolver)
    if args.json:
        out = {
            "version": 1,
            "ok": True,
            "profile": profile.name,
            "platform": profile.platform,
            "flow": spec.name,
            "flow_label": spec.label,
            "principal": escape_keep_newlines(who) if who else None,
            "token_type": tokens.token_type,
            "expires_at": _iso(tokens.expires_at),
            "expires_in": int(remaining) if remaining is not None else None,
            "refreshable": refreshable,
            "scope": tokens.scope,
            "store": store.kind,
            "notes": notes,
            "sent_to": [o.url for o in sorted_origins(session.token_origins())],
            "error": None,
        }
        if args.trace:
            out["trace"] = trace_json(session.traces)
        emit_json(out)
        return EXIT_OK
    if args.trace:
        print_trace(session.traces)
    as_who = f" as {field(who)}" if who else ""
    emit(f"Logged in to {field(profile.name)} ({spec.label}){as_who}.")
    when = _iso(tokens.expires_at)
    emit(
        f"  token {expires_text(tokens)}"
        + (f" (at {when})" if when else "")
        + ("; it renews by itself" if refreshable and when else "")
    )
    print(f"  {sent_to_text(session.token_origins())}")
    kind = store.kind
    if kind == "keyring":
        emit("  tokens are stored in the OS keyring")
    else:
        emit(
            f"  tokens are stored in {field(kind[len('file: ') :])} (readable only by you; no keyring available)"
        )
    for note in notes:
        emit(f"note: {field(note)}", sys.stderr)
    return EXIT_OK


def _revoke(profile: Profile, store: TokenStore) -> list[Revocation]:
    """RFC 7009 revocation of the stored tokens; never prompts (a logout asks nothing)."""
    session = Session(profile, resolver=SecretResolver(), store=store)
    try:
        return session.revoke()
    finally:
        session.close()


def logout(args: argparse.Namespace) -> int:
    name = args.profile
    as_json = bool(getattr(args, "json", False))
    profile: Profile | None = None
    unknown: ConfigError | None = None
    # a broken or removed profile's tokens can still be forgotten by name
    try:
        profile = get_profile(args.profile, getattr(args, "profiles", None))
        name = profile.name
    except ConfigError as lookup_error:
        unknown = lookup_error
    store = TokenStore()
    revocations: list[Revocation] = []
    if profile is not None and not getattr(args, "no_revoke", False):
        revocations = _revoke(profile, store)
    try:
        removed = store.delete(name)
    except StoreError as err:
        if as_json:
            emit_json(
                {
                    "version": 1,
                    "ok": False,
                    "profile": name,
                    "forgotten": False,
                    "store": store.kind,
                    "revocations": [r.to_json() for r in revocations],
                    "error": error_json(err),
                }
            )
        else:
            show_error(err)
        return EXIT_USAGE
    if unknown is not None and not removed:  # no such profile, nothing stored: a typo
        typo = ConfigError(
            f"{unknown.message}, and no tokens are stored under '{name}': nothing to log out of",
            hint=unknown.hint or "see `workbench profiles`",
        )
        if as_json:
            emit_json(
                {
                    "version": 1,
                    "ok": False,
                    "profile": name,
                    "forgotten": False,
                    "store": store.kind,
                    "revocations": [],
                    "error": error_json(typo),
                }
            )
        else:
            show_error(typo)
        return EXIT_USAGE
    failed = [r for r in revocations if r.failed]
    code = EXIT_OK
    if failed:
        code = EXIT_NETWORK if any(r.network for r in failed) else EXIT_AUTH
    if as_json:
        emit_json(
            {
                "version": 1,
                "ok": code == EXIT_OK,
                "profile": name,
                "forgotten": removed,
                "store": store.kind,
                "revocations": [r.to_json() for r in revocations],
                "error": None,
            }
        )
        return code
    if removed:
        emit(f"Logged out of {field(name)}: its tokens were removed ({field(store.kind)}).")
    else:
        emit(f"No stored tokens for {field(name)}; nothing to do.")
    for r in revocations:
        emit(f"  {field(r.token)}: {field(r.detail)}")
    if failed:
        emit(
            "workbench: the provider may still accept the tokens that were not revoked, until "
            "they expire (they are forgotten here)",
            sys.stderr,
        )
    return code
