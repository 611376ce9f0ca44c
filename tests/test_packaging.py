"""Every package under workbench/ is listed in pyproject.toml's [tool.setuptools] packages.

The list is explicit (the built-in profiles live outside the package tree), so a package that
is missing from it works in an editable install but is absent from a wheel: this test says so.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_for_the_wheel() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "workbench").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert sorted(found - listed) == []
