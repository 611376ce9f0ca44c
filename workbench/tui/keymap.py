"""The user's key remapping: `<config dir>/keymap.toml`, binding id -> keys.

    # keymap.toml
    "main.request" = "f3"          # the Request tab on F3 instead of 3
    "composer.send" = "ctrl+s,f5"  # several keys: comma-separated

Binding ids are shown in the help screen (F1). A malformed file is reported with its
line and ignored; it never stops the app.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from workbench.core import paths
from workbench.core.errors import ConfigError

_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def keymap_path() -> Path:
    return paths.config_dir() / "keymap.toml"


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """{binding id: keys}; {} when there is no file. Raises ConfigError naming file, line, key."""
    path = path or keymap_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the keymap: {exc}", path=str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _POS.search(str(exc))
        raise ConfigError(
            f"not valid TOML: {_POS.sub('', str(exc)).strip()}",
            path=str(path),
            line=int(m.group(1)) if m else None,
            column=int(m.group(2)) if m else None,
        ) from None
    out: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(value, str) or not value.strip():
            line = next(
                (
                    n
                    for n, t in enumerate(text.splitlines(), 1)
                    if t.lstrip().lstrip('"').startswith(key)
                ),
                None,
            )
            raise ConfigError(
                'a keymap value must be a key string like "f3" or "ctrl+s,f5"',
                path=str(path),
                line=line,
                key=key,
            )
        out[key] = value.strip()
    return out
