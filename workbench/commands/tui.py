"""`workbench` (no command): the TUI, starting at the profile picker."""

from __future__ import annotations

import argparse


def run_app(
    args: argparse.Namespace, demo_url: str | None = None, demo_note: str | None = None
) -> int:
    from workbench.tui.app import WorkbenchApp

    app = WorkbenchApp(
        profiles_dir=getattr(args, "profiles", None), demo_url=demo_url, demo_note=demo_note
    )
    app.run()
    return app.return_code or 0


def run(args: argparse.Namespace) -> int:
    return run_app(args)
