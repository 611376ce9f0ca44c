"""The authorization URL of a running login, kept in a file readable only by its owner
(``<data dir>/login-url-<profile>.txt``): the fallback for a terminal that cannot copy it
(no OSC 52) — ``cat`` it, or copy it from there. It holds no secret (state, PKCE challenge,
nonce: the verifier never leaves the process), and is replaced by the next login."""

from __future__ import annotations

import os
import re

from workbench.core.paths import data_dir


def write_login_url(profile: str, url: str) -> str | None:
    """The path written, or None when the data directory cannot be written."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", profile)[:80] or "profile"
    path = data_dir() / f"login-url-{safe}.txt"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(url + "\n")
        os.chmod(path, 0o600)
    except OSError:
        return None
    return str(path)
