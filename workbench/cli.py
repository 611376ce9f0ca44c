"""The `workbench` command line: argument parsing only; handlers live in workbench.commands.

Exit codes (every command): 0 success, 1 a check/expectation failed, 2 usage or file
error, 3 auth failed, 4 network or server error. Errors are printed as words, never as
tracebacks.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_NETWORK = 0, 1, 2, 3, 4

DEFAULT_DEMO_PORT = 8765


def _add_profiles_dir(p: argparse.ArgumentParser, top: bool = False) -> None:
    # Subcommands repeat the option; SUPPRESS keeps a top-level `--profiles DIR` from being reset.
    p.add_argument(
        "--profiles",
        metavar="DIR",
        help="look for profiles in DIR first",
        default=None if top else argparse.SUPPRESS,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="IoT Workbench: log in to IoT clouds, browse devices, inspect tokens, send and replay requests.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    _add_profiles_dir(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="start the emulated cloud (and the TUI on it)")
    p.add_argument(
        "--serve", action="store_true", help="only serve the emulated cloud, until Ctrl-C"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port (default {DEFAULT_DEMO_PORT}; for the TUI another free one when "
        f"{DEFAULT_DEMO_PORT} is taken, and it says so)",
    )
    p.add_argument(
        "--devices", type=int, default=25, metavar="N", help="devices per platform (default 25)"
    )
    p.add_argument(
        "--token-ttl",
        type=int,
        default=None,
        metavar="S",
        help="access-token lifetime in seconds for every platform (default: each platform's real one)",
    )
    p.add_argument(
        "--latency",
        type=int,
        default=0,
        metavar="MS",
        help="fault: add MS milliseconds to every response",
    )
    p.add_argument(
        "--error-rate",
        type=float,
        default=0.0,
        metavar="F",
        help="fault: answer 500 to this fraction of requests",
    )
    p.add_argument("--maintenance", action="store_true", help="fault: every platform answers 503")
    p.add_argument(
        "--token-rate-limit",
        type=int,
        default=0,
        metavar="N",
        help="fault: at most N token requests per minute per platform (then 429)",
    )

    p = sub.add_parser("profiles", help="list the profiles")
    _add_profiles_dir(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("login", help="log in with a profile's auth flow")
    _add_profiles_dir(p)
    p.add_argument("profile")
    p.add_argument("--json", action="store_true")
    p.add_argument("--trace", action="store_true", help="print the redacted auth trace")
    p.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a browser: with a terminal, print the authorization URL and ask for "
        "the redirect URL (paste-back); with none, fail at once",
    )
    p.add_argument(
        "--paste",
        action="store_true",
        help="paste-back login (over SSH, or a redirect_uri that is not on this machine): print "
        "the authorization URL, read the redirect URL the browser ends on from stdin (a pipe "
        "works too); the loopback listener still waits as well",
    )

    p = sub.add_parser(
        "logout", help="revoke a profile's tokens at the provider and forget them here"
    )
    _add_profiles_dir(p)
    p.add_argument("profile")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--no-revoke",
        action="store_true",
        help="only forget the tokens here; do not ask the provider to revoke them",
    )

    p = sub.add_parser("token", help="token tools")
    tsub = p.add_subparsers(dest="token_command", metavar="ACTION")
    t = tsub.add_parser("inspect", help="decode a token: header, claims, expiry, warnings")
    _add_profiles_dir(t)
    t.add_argument(
        "token", nargs="?", default=None, help="the token, or - for stdin (default: stdin)"
    )
    t.add_argument("--json", action="store_true")
    t.add_argument("--profile", help="verify the signature with this profile's JWKS")
    t.add_argument(
        "--secret-env", metavar="VAR", help="verify an HS* signature with the secret in env VAR"
    )

    p = sub.add_parser("devices", help="print a profile's device tree")
    _add_profiles_dir(p)
    p.add_argument("profile")
    p.add_argument("--json", action="store_true")
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--filter", default=None, metavar="TEXT")

    p = sub.add_parser("run", help="replay a collection headless")
    _add_profiles_dir(p)
    p.add_argument("collection")
    p.add_argument("--profile")
    p.add_argument("--var", action="append", default=[], metavar="K=V")
    p.add_argument("--junit", metavar="FILE")
    p.add_argument("--json", action="store_true")
    p.add_argument("--bail", action="store_true", help="stop at the first failure")

    p = sub.add_parser("import", help="import a request")
    isub = p.add_subparsers(dest="import_command", metavar="FORMAT")
    i = isub.add_parser("curl", help="import a curl command (argument or stdin)")
    i.add_argument("curl", nargs="*", help="the curl command (default: read stdin)")
    i.add_argument("--into", metavar="COLLECTION", help="append to this collection file")
    i.add_argument("--name", help="the request's name")

    p = sub.add_parser("export", help="export a request")
    esub = p.add_subparsers(dest="export_command", metavar="FORMAT")
    e = esub.add_parser("curl", help="print a collection request as a curl command")
    _add_profiles_dir(e)
    e.add_argument("collection")
    e.add_argument("request", help="request name or 1-based index")
    e.add_argument("--profile")
    e.add_argument("--with-secrets", action="store_true", help="include real credentials (careful)")
    return parser


# command -> "module:function" in workbench.commands
HANDLERS: dict[str | None, str] = {
    "demo": "demo:run",
    "profiles": "profiles:run",
    "login": "auth:login",
    "logout": "auth:logout",
    "token": "token:run",
    "devices": "devices:run",
    "run": "runner:run",
    "import": "curl:import_",
    "export": "curl:export",
    None: "tui:run",
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from workbench.core.version import workbench_version

        print(f"workbench {workbench_version()}")
        return EXIT_OK
    module_name, func_name = HANDLERS[args.command].split(":")
    try:
        module = importlib.import_module(f"workbench.commands.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("workbench"):
            print(f"workbench: '{args.command}' is not available in this build", file=sys.stderr)
            return EXIT_USAGE
        raise
    handler = getattr(module, func_name)
    from workbench.commands.output import show_error
    from workbench.core.errors import WorkbenchError

    try:
        return int(handler(args) or 0)
    except WorkbenchError as err:
        show_error(err)
        return getattr(err, "exit_code", EXIT_USAGE)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
