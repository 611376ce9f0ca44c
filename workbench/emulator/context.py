"""Shared state of one emulator instance: configuration, token bookkeeping, faults."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

PLATFORMS = ("iotconnect", "ioto", "plgd", "iotspot", "thinger")


@dataclass
class EmulatorConfig:
    devices: int = 25  # devices per platform
    token_ttl: int | None = None  # overrides every platform's access-token lifetime
    seed: int = 20261122


@dataclass
class PlatformFaults:
    """Fault switches of one platform; all off by default."""

    latency_ms: int = 0  # added to every response
    error_rate: float = 0.0  # fraction of requests answered 500
    reset: bool = False  # close the connection without an answer
    truncate: bool = False  # send only half the body (Content-Length kept)
    invalid_json: bool = False  # body replaced by garbage that is not JSON
    huge_body_mb: int = 0  # body replaced by a valid JSON document of about N MB
    maintenance: bool = False  # 503 with an HTML page
    token_rate_limit: int = 0  # max token requests per 60 s window (0 = unlimited) -> 429
    # the device authorization grant (device_grant.py): tuning for tests and demos
    device_code_ttl: int = 0  # seconds a device code lives (0 = the platform's 600)
    device_code_interval: int = 0  # polling interval it asks for (0 = 5 s)
    device_slow_down: int = 0  # answer the first N polls of each code with slow_down

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


FAULT_FIELDS = {name: type(value) for name, value in PlatformFaults().__dict__.items()}


class TokenBook:
    """Access and refresh tokens issued by one platform.

    Access tokens are self-contained JWTs; the book only remembers which were expired
    by the admin switch. Refresh tokens are single-use where the platform rotates them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.issued_access: set[str] = set()
        self.expired_access: set[str] = set()
        self.refresh: dict[str, dict[str, Any]] = {}  # token -> {"data":..., "used": bool}

    def issue_access(self, token: str) -> str:
        with self._lock:
            self.issued_access.add(token)
        return token

    def access_revoked(self, token: str) -> bool:
        return token in self.expired_access

    def expire_all_access(self) -> int:
        with self._lock:
            n = len(self.issued_access)
            self.expired_access |= self.issued_access
            self.issued_access = set()
            return n

    def issue_refresh(self, data: dict[str, Any], token: str | None = None) -> str:
        token = token or secrets.token_urlsafe(32)
        with self._lock:
            self.refresh[token] = {"data": data, "used": False, "revoked": False}
        return token

    def use_refresh(self, token: str, *, rotate: bool = True) -> tuple[str, dict[str, Any] | None]:
        """Returns ("ok", data) or ("unknown"|"used"|"revoked", None). Marks it used if rotating."""
        with self._lock:
            entry = self.refresh.get(token)
            if entry is None:
                return "unknown", None
            if entry["revoked"]:
                return "revoked", None
            if entry["used"]:
                return "used", None
            if rotate:
                entry["used"] = True
            return "ok", entry["data"]

    def revoke_refresh(self, token: str) -> bool:
        """RFC 7009: this refresh token is refused from now on (False: not one of ours)."""
        with self._lock:
            entry = self.refresh.get(token)
            if entry is not None:
                entry["revoked"] = True
            return entry is not None

    def revoke_access(self, token: str) -> bool:
        """RFC 7009: this access token is refused from now on (False: not one of ours)."""
        with self._lock:
            known = token in self.issued_access
            if known:
                self.issued_access.discard(token)
                self.expired_access.add(token)
            return known

    def revoke_all_refresh(self) -> int:
        with self._lock:
            for entry in self.refresh.values():
                entry["revoked"] = True
            return len(self.refresh)


@dataclass
class EmulatorContext:
    config: EmulatorConfig = field(default_factory=EmulatorConfig)
    faults: dict[str, PlatformFaults] = field(
        default_factory=lambda: {p: PlatformFaults() for p in PLATFORMS}
    )
    tokens: dict[str, TokenBook] = field(
        default_factory=lambda: {p: TokenBook() for p in PLATFORMS}
    )
    token_requests: dict[str, list[float]] = field(
        default_factory=lambda: {p: [] for p in PLATFORMS}
    )
    started: float = field(default_factory=time.time)

    def ttl(self, default: int) -> int:
        """The access-token lifetime: the platform's real default unless --token-ttl says otherwise."""
        return self.config.token_ttl if self.config.token_ttl else default

    def now(self) -> int:
        return int(time.time())
