"""`{{name}}` templating for URLs, headers and bodies (profiles, requests, collections)."""

from __future__ import annotations

import re
from collections.abc import Mapping

_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}")


def variables_in(text: str) -> list[str]:
    return _VAR.findall(text)


def render(text: str, variables: Mapping[str, object], *, strict: bool = True) -> str:
    """Replace `{{name}}` with variables[name]. Unknown names raise KeyError (listing them)
    when strict, else are left as they are."""
    missing: list[str] = []

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in variables:
            return str(variables[name])
        missing.append(name)
        return m.group(0)

    out = _VAR.sub(sub, text)
    if missing and strict:
        raise KeyError(", ".join(dict.fromkeys(missing)))
    return out
