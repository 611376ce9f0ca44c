"""`workbench run COLLECTION [--profile P] [--var K=V] [--junit FILE] [--json] [--bail] [--allow-outside-files]`.

Logs in headless with each profile's own flow (secrets from the environment, demo values,
the keyring, or a prompt on a TTY), runs the requests in order with captures and
expectations, prints progress to stderr, and writes a JUnit XML and/or JSON report.
A 401 or 403 answer fails its request unless the request's status expectation allows it.
The files of multipart bodies must be in the collection's folder (or below it) unless
``--allow-outside-files``.

Exit codes: 0 every request passed; 1 an expectation failed (or a request got no answer);
2 usage or file error (bad collection, unknown profile, bad --var, a secret refused for an
origin that is not its profile's); 3 a login failed (refused credentials, missing secret, a
browser-flow profile with no stored tokens, no browser and no terminal: that fails at once);
4 a login could not get an answer from the network or server (connection, 5xx, maintenance
page, rate limit). With ``--json`` a run stopped by such an error still prints one JSON
object: ``{"version": 1, "collection", "path", "ok": false, "requests": [], "error": {"type",
"step", "status", "message", "server_message", "hint"}}``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from workbench.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from workbench.commands.auth import exit_code_for
from workbench.commands.output import emit, emit_json, field, show_error
from workbench.core.errors import (
    AuthError,
    ConfigError,
    ResponseError,
    SecretError,
    StoreError,
    TransportError,
    WorkbenchError,
)

if TYPE_CHECKING:
    from workbench.core.session import Session


def _vars(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair or not pair.split("=", 1)[0].strip():
            raise ConfigError(f"--var expects NAME=VALUE, got {pair!r}")
        k, v = pair.split("=", 1)
        out[k.strip()] = v
    return out


def run(args: argparse.Namespace) -> int:
    from workbench.commands.common import headless_session
    from workbench.core.atomic import atomic_write
    from workbench.core.collection.collection import load_collection
    from workbench.core.collection.runner import RequestResult, Runner
    from workbench.core.profiles import get_profile

    profiles_dir = getattr(args, "profiles", None)
    try:
        variables = _vars(args.var)
        collection = load_collection(args.collection)
        default = args.profile or collection.profile
        if default:
            get_profile(
                default, profiles_dir
            )  # unknown profile: a usage error before anything runs
    except WorkbenchError as err:
        show_error(err)
        return EXIT_USAGE

    def session_for(name: str) -> Session:
        return headless_session(get_profile(name, profiles_dir), quiet=True)

    def progress(r: RequestResult) -> None:
        mark = "✓" if r.passed else "✗"
        status = r.status if r.status is not None else "—"
        took = f"{r.elapsed_ms:.0f} ms" if r.elapsed_ms is not None else ""
        emit(f"{mark} {r.index:>3} {field(r.name)}  {field(r.method)} {status} {took}", sys.stderr)
        for failure in r.failures():
            for line in failure.splitlines():  # e.g. "...\n  hint: ...": each on its own line
                emit(f"      {field(line)}", sys.stderr)

    runner = Runner(
        collection,
        session_for=session_for,
        default_profile=default,
        variables=variables,
        bail=args.bail,
        on_result=progress,
        files_anywhere=bool(getattr(args, "allow_outside_files", False)),
    )

    def failed(err: WorkbenchError, code: int, lead: str = "workbench") -> int:
        """Words on stderr, and with --json a report that says what stopped the run."""
        show_error(err, lead=lead)
        if args.json:
            from workbench.commands.auth import error_json

            emit_json(
                {
                    "version": 1,
                    "collection": collection.name,
                    "path": str(args.collection),
                    "ok": False,
                    "requests": [],
                    "error": error_json(err),
                }
            )
        return code

    try:
        report = runner.run()
    except (AuthError, SecretError, TransportError, ResponseError) as err:
        # a login that failed: 3 when the credentials or a person must act, 4 when the
        # network or the server did (the same mapping as `workbench login`)
        return failed(err, exit_code_for(err), lead="workbench: login failed")
    except StoreError as err:
        return failed(err, EXIT_USAGE)
    except WorkbenchError as err:
        return failed(err, EXIT_USAGE)
    if args.junit:
        try:
            atomic_write(args.junit, report.to_junit())
        except OSError as exc:
            show_error(f"cannot write {args.junit}: {exc.strerror or exc}")
            return EXIT_USAGE
    if args.json:
        emit_json(report.to_json())
    summary = f"{report.passed} passed, {report.failed} failed"
    if report.skipped:
        summary += f", {report.skipped} skipped (--bail)"
    emit(f"{summary} in {report.duration_ms / 1000:.2f} s", sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAILED
