"""What a token inspection finds: :class:`TokenReport`, its :class:`SignatureCheck` and
:class:`TokenWarning` findings (plain data; filled in by :mod:`workbench.core.tokens.inspect`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Kind = Literal["jwt", "jwe", "opaque", "malformed"]
SignatureStatus = Literal["valid", "invalid", "not-checked", "unsigned"]
Level = Literal["danger", "warning", "info"]


@dataclass(frozen=True)
class TokenWarning:
    """One finding about a token: a stable ``code`` and a plain-words ``message``.

    ``level`` is "danger" (never accept / anyone can forge), "warning" or "info".
    """

    code: str
    message: str
    level: Level = "warning"


@dataclass
class SignatureCheck:
    """The outcome of the signature check.

    ``status``: "valid", "invalid", "not-checked" or "unsigned" (alg none); ``reason`` says
    why in plain words; ``algorithm`` and ``kid`` are the header's ``alg`` and ``kid``.
    """

    status: SignatureStatus = "not-checked"
    reason: str | None = None
    algorithm: str | None = None
    kid: str | None = None


@dataclass
class TokenReport:
    """What :func:`inspect_token` found. Times are aware UTC datetimes; durations are seconds.

    ``remaining`` is relative to ``checked_at`` (the ``now`` of the inspection); use
    :meth:`remaining_at` for a live countdown.
    """

    kind: Kind = "malformed"
    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    issued_at: datetime | None = None
    not_before: datetime | None = None
    expires_at: datetime | None = None
    lifetime: float | None = None
    remaining: float | None = None
    expired: bool = False
    not_yet_valid: bool = False
    never_valid: str | None = None  # why the token can never be valid ("exp is before nbf")
    exp_in_milliseconds: bool = False
    signature: SignatureCheck = field(default_factory=SignatureCheck)
    warnings: list[TokenWarning] = field(default_factory=list)
    error: str | None = None
    checked_at: float = 0.0
    expiry_source: Literal["exp", "expires_in"] | None = None

    @property
    def ok(self) -> bool:
        """True when the token could be decoded (even if expired or unverified)."""
        return self.error is None

    def has_warning(self, code: str) -> bool:
        return any(w.code == code for w in self.warnings)

    def warn(self, code: str, message: str, level: Level = "warning") -> None:
        self.warnings.append(TokenWarning(code, message, level))

    def remaining_at(self, now: float | None = None) -> float | None:
        """Seconds left at ``now`` (default: the current time); negative once expired."""
        if self.expires_at is None:
            return None
        now = time.time() if now is None else now
        return self.expires_at.timestamp() - now
