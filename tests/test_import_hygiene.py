"""Import hygiene (issue 9), checked on the source: every import names the defining module
with an absolute path, an ``__init__.py`` is a docstring only, and no ``_private`` name of
one workbench module is imported by another.

The violations that exist in code other work is still changing are listed in ``KNOWN_*``:
a new one fails; remove an entry when its code is fixed (the lists only ever shrink).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "workbench"

# __init__.py files that still hold more than a docstring.
KNOWN_FAT_INITS = {"workbench/__init__.py"}  # __version__ (read by cli.py and core/http.py)

# (importing file, defining module, private name) still crossing a module boundary.
KNOWN_PRIVATE_IMPORTS = (
    {
        (
            "workbench/tui/widgets/body_view/body_view.py",
            "workbench.tui.widgets.body_view.render",
            n,
        )
        for n in ("_LEXER_CLASSES", "_LEXER_NAMES", "_charset", "_clean")
    }
    | {
        (
            "workbench/tui/widgets/collection_browser/collection_browser.py",
            "workbench.tui.widgets.collection_browser.entries",
            n,
        )
        for n in ("_check_collection_path", "_fmt_ms")
    }
    | {
        (
            "workbench/tui/widgets/device_tree/device_tree.py",
            "workbench.tui.widgets.device_tree.loading",
            "_Batch",
        ),
        (
            "workbench/tui/widgets/device_tree/device_tree.py",
            "workbench.tui.widgets.device_tree.loading",
            "_Done",
        ),
        (
            "workbench/tui/widgets/device_tree/labels.py",
            "workbench.tui.widgets.device_tree.model",
            "_count",
        ),
        (
            "workbench/tui/widgets/device_tree/view.py",
            "workbench.tui.widgets.device_tree.model",
            "_count",
        ),
        (
            "workbench/tui/widgets/token_inspector/token_inspector.py",
            "workbench.tui.widgets.token_inspector.view",
            "_Outcome",
        ),
        (
            "workbench/tui/widgets/token_inspector/workers.py",
            "workbench.tui.widgets.token_inspector.view",
            "_Outcome",
        ),
        (
            "workbench/tui/widgets/token_inspector/view.py",
            "workbench.core.tokens.claims",
            "_TIME_CLAIMS",
        ),
        (
            "workbench/tui/widgets/token_inspector/view.py",
            "workbench.core.tokens.claims",
            "_time_of",
        ),
    }
)


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
    assert fat - KNOWN_FAT_INITS == set(), "an __init__.py holds more than its docstring"


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
    assert found - KNOWN_PRIVATE_IMPORTS == set(), "a _private name is imported from another module"


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
