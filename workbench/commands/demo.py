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
        child, base_url = start_child(args)
    except RuntimeError as exc:
        print(f"workbench: cannot start the demo cloud: {exc}", file=sys.stderr)
        return EXIT_USAGE
    os.environ["WORKBENCH_DEMO_URL"] = base_url
    try:
        from workbench.commands.tui import run_app

        return run_app(args, demo_url=base_url)
    finally:
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()


def start_child(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str]:
    """The demo cloud in its own process (its CPU work never stalls the UI); returns its base URL."""
    cmd = [
        sys.executable,
        "-m",
        "workbench",
        "demo",
        "--serve",
        "--host",
        args.host,
        "--port",
        str(args.port or 0),
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
