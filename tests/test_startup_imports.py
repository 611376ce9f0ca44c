"""`workbench` with no arguments shows the profile picker without importing anything heavy.

In a fresh process (so nothing else has imported them), run exactly what the `workbench`
script runs — ``workbench.cli.main([])`` → ``workbench.commands.tui`` → ``WorkbenchApp`` —
headless, and look at ``sys.modules`` after the imports, at the picker's first frame and
once the picker's background workers (login states) have had time to run: no httpx, jwt,
Pygments or uvicorn (nor their companions httpcore and starlette) may be loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("httpx", "httpcore", "jwt", "pygments", "uvicorn", "starlette")

CHILD = r"""
import json, sys

HEAVY = set(sys.argv[1].split(","))

def heavy():
    return sorted(n for n in sys.modules if n.split(".")[0] in HEAVY)

import workbench.tui.app as app_module
from workbench import cli

seen = {"after_import": heavy()}


class Probe(app_module.WorkbenchApp):
    def on_mount(self):
        super().on_mount()
        self.call_after_refresh(self.first_frame)

    def first_frame(self):
        seen["screen"] = type(self.screen).__name__
        seen["first_frame"] = heavy()
        self.set_timer(1.0, self.settled)

    def settled(self):
        seen["settled"] = heavy()
        self.exit(0)

    def run(self, **kwargs):
        return super().run(headless=True, size=(100, 30))


app_module.WorkbenchApp = Probe  # what workbench.commands.tui instantiates
seen["exit_code"] = cli.main([])
print(json.dumps(seen))
"""


def test_the_profile_picker_loads_no_heavy_module(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "WORKBENCH_CONFIG_DIR": str(tmp_path / "config"),
        "WORKBENCH_DATA_DIR": str(tmp_path / "data"),
        "WORKBENCH_KEYRING": "0",
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD, ",".join(HEAVY)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["exit_code"] == 0
    assert seen["screen"] == "ProfilePicker"
    assert seen["after_import"] == []
    assert seen["first_frame"] == []
    assert seen["settled"] == []


def test_the_probe_would_see_a_heavy_import(tmp_path: Path) -> None:
    """The check itself works: a module that imports httpx and jwt is seen."""
    code = (
        "import sys, httpx, jwt, pygments.lexers\n"
        f"print(sorted({{n.split('.')[0] for n in sys.modules}} & set({HEAVY!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert {"httpx", "jwt", "pygments"} <= set(json.loads(out.stdout.replace("'", '"')))
