"""Import hygiene (issue 9), checked on the source: every import names the defining module
with an absolute path, an ``__init__.py`` is a docstring only, and no ``_private`` name of
one workbench module is imported by another.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "workbench"


@functools.cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def sources(*folders: Path) -> list[tuple[str, ast.Module]]:
    return [
        (path.relative_to(ROOT).as_posix(), parsed(path))
        for folder in folders
        for path in sorted(folder.rglob("*.py"))
    ]


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_every_import_is_absolute() -> None:
    relative = [
        (name, node.lineno)
        for name, tree in sources(PKG, ROOT / "tests")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert relative == []


def test_init_files_are_a_docstring_only() -> None:
    fat = set()
    for name, tree in sources(PKG):
        if not name.endswith("/__init__.py"):
            continue
        body = tree.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        if body:
            fat.add(name)
    assert fat == set(), "an __init__.py holds more than its docstring"


def test_no_private_name_crosses_a_module() -> None:
    found = set()
    for name, tree in sources(PKG):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workbench"):
                found |= {(name, node.module, a.name) for a in node.names if is_private(a.name)}
            elif isinstance(node, ast.Import):
                found |= {
                    (name, a.name, a.name)
                    for a in node.names
                    if a.name.startswith("workbench") and any(map(is_private, a.name.split(".")))
                }
    assert found == set(), "a _private name is imported from another module"


def test_tests_use_no_private_name_of_the_package() -> None:
    found = {
        (name, node.module, a.name)
        for name, tree in sources(ROOT / "tests")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workbench")
        for a in node.names
        if is_private(a.name)
    }
    assert found == set(), "tests go through the public surface"
