"""How long a request may take and how big its answer may be (pure data, no httpx).

:class:`RequestLimits` is what a profile's ``[limits]`` table gives (``deadline`` in
seconds, ``max_body_mb`` in MiB) and what :mod:`workbench.core.http_limits` enforces on
every request a workbench client sends. A collection request's ``deadline`` overrides the
profile's for that request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_DEADLINE = 60.0  # seconds: connect + headers + body, all redirect hops
DEFAULT_MAX_BODY = 512 * 1024 * 1024  # decoded bytes
MAX_DEADLINE = 24 * 3600.0  # the most a profile or a collection request may ask for
MAX_BODY_MB = 64 * 1024  # the most [limits] max_body_mb may ask for (64 GiB)


@dataclass(frozen=True)
class RequestLimits:
    """The total deadline (seconds) and the decoded-body cap (bytes) of requests."""

    deadline: float = DEFAULT_DEADLINE
    max_body: int = DEFAULT_MAX_BODY


def deadline_problem(value: object) -> str | None:
    """Why `value` is not a usable deadline in seconds (None: it is)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "'deadline' must be a number of seconds"
    if not math.isfinite(value) or value <= 0 or value > MAX_DEADLINE:
        return f"'deadline' must be more than 0 and at most {MAX_DEADLINE:g} seconds"
    return None


def size_words(n: int) -> str:
    """A byte count in words (``512 MiB``, ``1.5 KiB``)."""
    mib = 1024 * 1024
    if n >= mib:
        return f"{n // mib} MiB" if n % mib == 0 else f"{n / mib:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"
