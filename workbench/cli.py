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
    t.add_argument(
        "--verify-with",
        metavar="PROFILE",
        help="verify the signature with PROFILE's keys (its JWKS; the token itself is "
        "given as the argument, on stdin or by --session)",
    )
    t.add_argument(
        "--profile",
        metavar="PROFILE",
        help="deprecated: the old name of --verify-with (same meaning; removed in the next "
        "release)",
    )
    t.add_argument(
        "--session",
        metavar="PROFILE",
        help="inspect the token stored for PROFILE (after `workbench login PROFILE`), masked",
    )
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
    p.add_argument(
        "--allow-outside-files",
        action="store_true",
        help="let multipart bodies upload files outside the collection's folder",
    )

    p = sub.add_parser(
        "api", help="a profile's API catalog (OpenAPI/Swagger): list, fill and send operations"
    )
    _add_profiles_dir(p)
    p.add_argument("profile")
    p.add_argument(
        "words",
        nargs="*",
        metavar="SEARCH|OPERATION_ID",
        help="search words; or one operationId to show its request (filled with --device)",
    )
    p.add_argument("--tag", help="only operations with this tag")
    p.add_argument("--device", help="a device-tree node id (or its last part) to fill from")
    p.add_argument("--depth", type=int, default=3, help="how deep to look for --device")
    p.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a path parameter value"
    )
    p.add_argument("--send", action="store_true", help="send it and check the response")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("import", help="import a request")
    isub = p.add_subparsers(dest="import_command", metavar="FORMAT")
    o = isub.add_parser(
        "openapi", help="write a collection from an OpenAPI 3.x / Swagger 2.0 document"
    )
    _add_profiles_dir(o)
    o.add_argument("spec", help="a file path or https URL")
    o.add_argument("--into", required=True, metavar="COLLECTION", help="the collection file")
    o.add_argument("--tag", action="append", default=[], help="only operations with this tag")
    o.add_argument("--profile", help="the profile the collection is for (URLs relative to it)")
    o.add_argument("--base", help="which of the profile's [urls] the paths are under")
    o.add_argument("--force", action="store_true", help="overwrite an existing collection file")
    i = isub.add_parser("curl", help="import a curl command (argument or stdin)")
    i.add_argument("curl", nargs="*", help="the curl command (default: read stdin)")
    i.add_argument("--into", metavar="COLLECTION", help="append to this collection file")
    i.add_argument("--name", help="the request's name")
    i.add_argument(
        "--profile",
        help="the profile the request uses (default: the one whose base URL the URL starts with)",
    )
    _add_profiles_dir(i)

    p = sub.add_parser("export", help="export a request")
    esub = p.add_subparsers(dest="export_command", metavar="FORMAT")
    e = esub.add_parser("curl", help="print a collection request as a curl command")
    _add_profiles_dir(e)
    e.add_argument("collection")
    e.add_argument("request", help="request name or 1-based index")
    e.add_argument("--profile")
    e.add_argument("--with-secrets", action="store_true", help="include real credentials (careful)")

    p = sub.add_parser("history", help="the requests sent from the TUI: list, show, clear")
    p.add_argument("--profile", help="only this profile's entries")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N (default 50)")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    hsub = p.add_subparsers(dest="history_command", metavar="ACTION")
    h = hsub.add_parser("show", help="one entry with its body")
    h.add_argument("id", type=int)
    h.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    h = hsub.add_parser("clear", help="delete the entries (of --profile)")
    h.add_argument("--profile", default=argparse.SUPPRESS)
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
    "api": "api:run",
    "import": "curl:import_",
    "export": "curl:export",
    "history": "history:run",
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
    if args.command == "import" and getattr(args, "import_command", None) == "openapi":
        module_name, func_name = "openapi_import", "run"
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
