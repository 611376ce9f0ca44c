"""Layering rules: core never imports Textual; the emulator and core never import each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "workbench"


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


def _imports(folder: Path) -> set[tuple[str, str]]:
    found = set()
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(PKG)), node.module))
            elif isinstance(node, ast.Import):
                found.update((str(path.relative_to(PKG)), a.name) for a in node.names)
    return found


def test_emulator_is_independent_of_core_and_tui() -> None:
    bad = [
        (f, m)
        for f, m in _imports(PKG / "emulator")
        if m.startswith(("workbench.core", "workbench.tui"))
    ]
    assert bad == []


def test_core_and_tui_do_not_import_emulator() -> None:
    bad = [
        (f, m)
        for folder in ("core", "tui")
        for f, m in _imports(PKG / folder)
        if m.startswith("workbench.emulator")
    ]
    assert bad == []


def test_core_has_no_textual_import_statements() -> None:
    bad = [(f, m) for f, m in _imports(PKG / "core") if m == "textual" or m.startswith("textual.")]
    assert bad == []
