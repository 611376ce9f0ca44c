"""`workbench demo`: the emulated cloud, alone (--serve) or with the TUI on it."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import TYPE_CHECKING, TextIO

from workbench.cli import DEFAULT_DEMO_PORT, EXIT_USAGE

if TYPE_CHECKING:
    from workbench.emulator.context import EmulatorConfig, EmulatorContext

BANNER = "IoT Workbench demo cloud on "


def _config(args: argparse.Namespace) -> EmulatorConfig:
    from workbench.emulator.context import EmulatorConfig

    return EmulatorConfig(devices=max(0, args.devices), token_ttl=args.token_ttl)


def _apply_faults(ctx: EmulatorContext, args: argparse.Namespace) -> None:
    for f in ctx.faults.values():
        f.latency_ms = args.latency
        f.error_rate = args.error_rate
        f.maintenance = args.maintenance
        f.token_rate_limit = args.token_rate_limit


def print_banner(base_url: str, out: TextIO | None = None) -> None:
    from workbench.emulator.app import describe

    out = out or sys.stdout
    print(f"{BANNER}{base_url}", file=out)
    print(f"  admin / faults: {base_url}/_emulator/faults", file=out)
    for name, info in describe(base_url).items():
        print(f"\n[{name}]", file=out)
        for label, url in info.get("urls", {}).items():
            print(f"  {label:<14} {url}", file=out)
        for label, value in info.get("credentials", {}).items():
            print(f"  {label:<14} {value}", file=out)
    print("\nPress Ctrl-C to stop.", file=out, flush=True)


def run(args: argparse.Namespace) -> int:
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"workbench: warning: serving the demo cloud on {args.host}, reachable beyond this machine",
            file=sys.stderr,
        )
    if args.serve:
        return _serve(args)
    try:
        child, base_url, note = start_on_default_port(args)
    except RuntimeError as exc:
        print(f"workbench: cannot start the demo cloud: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if note:
        print(f"workbench: {note}", file=sys.stderr, flush=True)
    os.environ["WORKBENCH_DEMO_URL"] = base_url
    try:
        from workbench.commands.tui import run_app

        code = run_app(args, demo_url=base_url, demo_note=note)
        if note:  # again, after the TUI has given the terminal back
            print(f"workbench: {note}", file=sys.stderr)
        return code
    finally:
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()


def port_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (SO_REUSEADDR, as the server binds: a port
    left in TIME_WAIT by the last demo counts as free)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def taken_note(port: int, base_url: str) -> str:
    return (
        f"port {port} is taken (another demo cloud?): this demo cloud runs on {base_url}; "
        f"its logins are its own, and examples that name localhost:{port} need this port instead"
    )


def start_on_default_port(
    args: argparse.Namespace,
) -> tuple[subprocess.Popen[str], str, str | None]:
    """The demo cloud for the TUI: on --port when given, else on DEFAULT_DEMO_PORT (the
    port the demo profiles, the README and stored demo logins know) when it is free, else
    on a free port, with a note that says so. Returns (child, base URL, note or None)."""
    if args.port is not None:
        child, base_url = start_child(args, args.port)
        return child, base_url, None
    if port_free(args.host, DEFAULT_DEMO_PORT):
        try:
            child, base_url = start_child(args, DEFAULT_DEMO_PORT)
            return child, base_url, None
        except RuntimeError:
            pass  # taken in the meantime: a free port below
    child, base_url = start_child(args, 0)
    return child, base_url, taken_note(DEFAULT_DEMO_PORT, base_url)


def start_child(args: argparse.Namespace, port: int) -> tuple[subprocess.Popen[str], str]:
    """The demo cloud in its own process (its CPU work never stalls the UI) on `port` (0: a
    free one); returns its base URL."""
    cmd = [
        sys.executable,
        "-m",
        "workbench",
        "demo",
        "--serve",
        "--host",
        args.host,
        "--port",
        str(port),
        "--devices",
        str(args.devices),
        "--latency",
        str(args.latency),
        "--error-rate",
        str(args.error_rate),
        "--token-rate-limit",
        str(args.token_rate_limit),
    ]
    if args.token_ttl:
        cmd += ["--token-ttl", str(args.token_ttl)]
    if args.maintenance:
        cmd.append("--maintenance")
    import tempfile

    errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 - lives as long as the child; never a pipe nobody reads
    child = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL, text=True
    )
    assert child.stdout is not None
    first = child.stdout.readline()
    if not first.startswith(BANNER):
        child.wait(timeout=5)
        errors.seek(0)
        err = errors.read()
        raise RuntimeError(
            (err or first).strip().splitlines()[-1] if (err or first).strip() else "no answer"
        )
    return child, first[len(BANNER) :].strip()


def _serve(args: argparse.Namespace) -> int:
    from workbench.emulator.app import EmulatorServer

    port = DEFAULT_DEMO_PORT if args.port is None else args.port
    try:
        server = EmulatorServer(args.host, port, _config(args), log_level="warning")
    except OSError as exc:
        print(
            f"workbench: cannot listen on {args.host}:{port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        print("  hint: another demo may be running; pick another port with --port", file=sys.stderr)
        return EXIT_USAGE
    _apply_faults(server.ctx, args)
    server.start()
    print_banner(server.base_url)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
