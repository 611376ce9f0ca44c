"""Small view-model helpers the screens share (no widgets here)."""

from __future__ import annotations

from workbench.core.profiles import Profile


def relative(seconds: float) -> str:
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {s} s" if minutes < 5 and s else "")
    hours, m = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {m} min" if m else f"{hours} h"
    return f"{hours // 24} days"


def profile_state(profile: Profile, now: float) -> str:
    """'logged in, expires in 1 h 59 min' / 'token expired 3 min ago' / 'not logged in'."""
    try:
        from workbench.core.store import TokenStore

        tokens = TokenStore().get(profile.name, profile)
    except Exception:  # the store's own errors are shown on the login screen
        return "not logged in"
    if tokens is None:
        return "not logged in"
    remaining = tokens.remaining(now)
    if remaining is None:
        return "logged in (no expiry)"
    if remaining <= 0:
        return f"token expired {relative(remaining)} ago" + (
            ", can refresh" if tokens.refresh_token else ""
        )
    return f"logged in, expires in {relative(remaining)}"
