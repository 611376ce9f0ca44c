"""The layers (issue 9), enforced for real.

The contracts live in pyproject.toml (``[tool.importlinter]``) and ``.ci/run`` runs
``lint-imports`` on them: core never imports the TUI, the emulator, the CLI or Textual; the
emulator never imports core, the TUI or the CLI; the TUI never imports the emulator or the CLI.

These tests prove the contracts bite: each plants one violating import (absolute, relative,
inside a function, or through an intermediate module) in a copy of the package and runs
lint-imports with the project's own configuration on it; it must fail, naming the contract,
while the unmodified copy (and the real tree) passes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "workbench"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports with cwd's pyproject.toml, importing `workbench` from cwd."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the package and of pyproject.toml (the contracts) in tmp_path."""
    shutil.copytree(PKG, tmp_path / "workbench", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_real_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout, result.stdout


def test_the_copy_is_checked_not_the_installed_package(tree: Path) -> None:
    """The planted tests below only mean something if lint-imports reads the copy."""
    code = "import workbench, sys; print(workbench.__file__)"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True
    )
    assert Path(out.stdout.strip()).resolve() == (tree / "workbench" / "__init__.py").resolve()
    clean = lint_imports(tree)
    assert clean.returncode == 0, clean.stdout + clean.stderr


# (file to create inside the copy, its source, the contract that must break)
PLANTED = {
    "core-imports-tui": (
        "core/planted.py",
        "from workbench.tui import app\n",
        "core-is-pure",
    ),
    "core-imports-textual": (
        "core/planted.py",
        "import textual.widgets\n",
        "core-is-pure",
    ),
    "core-imports-emulator-relatively": (
        "core/auth/planted.py",
        "from ...emulator import faults\n",
        "core-is-pure",
    ),
    "core-imports-cli-lazily": (
        "core/planted.py",
        "def later() -> None:\n    import workbench.cli\n",
        "core-is-pure",
    ),
    "core-imports-commands": (
        "core/planted.py",
        "from workbench.commands import devices\n",
        "core-is-pure",
    ),
    "core-reaches-tui-through-another-module": (
        "core/planted.py",
        "import workbench.planted_middle\n",
        "core-is-pure",
    ),
    "emulator-imports-core-relatively": (
        "emulator/planted.py",
        "from ..core import text\n",
        "emulator-is-independent",
    ),
    "emulator-subpackage-imports-core-relatively": (
        "emulator/thinger/planted.py",
        "from ...core.text import escape_control\n",
        "emulator-is-independent",
    ),
    "emulator-imports-core": (
        "emulator/planted.py",
        "import workbench.core.profiles\n",
        "emulator-is-independent",
    ),
    "emulator-imports-tui": (
        "emulator/planted.py",
        "from workbench.tui.app import WorkbenchApp\n",
        "emulator-is-independent",
    ),
    "emulator-imports-cli": (
        "emulator/planted.py",
        "from workbench import cli\n",
        "emulator-is-independent",
    ),
    "tui-imports-emulator": (
        "tui/planted.py",
        "from workbench.emulator.app import build_app\n",
        "tui-not-emulator",
    ),
    "tui-imports-emulator-relatively": (
        "tui/screens/planted.py",
        "from ...emulator import seeded\n",
        "tui-not-emulator",
    ),
    "tui-imports-commands": (
        "tui/planted.py",
        "import workbench.commands.demo\n",
        "tui-not-emulator",
    ),
}


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_a_planted_violation_breaks_its_contract(tree: Path, case: str) -> None:
    relative, source, contract = PLANTED[case]
    (tree / "workbench" / relative).write_text(source)
    # the intermediate module for the indirect case: harmless on its own
    (tree / "workbench" / "planted_middle.py").write_text("import workbench.tui.app\n")
    result = lint_imports(tree)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "1 broken" in output, output
    names = {
        "core-is-pure": "workbench.core imports neither",
        "emulator-is-independent": "workbench.emulator imports nothing",
        "tui-not-emulator": "workbench.tui imports neither",
    }
    broken = [line for line in output.splitlines() if line.endswith("BROKEN")]
    assert len(broken) == 1 and broken[0].startswith(names[contract]), output
    # and the same tree without the planted file is clean again
    (tree / "workbench" / relative).unlink()
    again = lint_imports(tree)
    assert again.returncode == 0, again.stdout + again.stderr


def test_core_does_not_import_textual() -> None:
    code = (
        "import sys, pkgutil, importlib, workbench.core as c\n"
        "for m in pkgutil.walk_packages(c.__path__, 'workbench.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'textual' or n.startswith('textual.'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
