"""The OS keyring, the one way the workbench reaches it.

Every call runs with a timeout (a locked or hung keyring must not hang the workbench: it
is given up after about 3 s and treated as absent), and ``WORKBENCH_KEYRING=0`` turns the
keyring off altogether (the tests do). Entries live under the service ``iot-workbench``.
Failures are never raised: a read gives None, a write False, a probe False.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import TypeVar

KEYRING_SERVICE = "iot-workbench"
TIMEOUT = 3.0
ENV_SWITCH = "WORKBENCH_KEYRING"

T = TypeVar("T")


def enabled() -> bool:
    """False when WORKBENCH_KEYRING=0 turns the keyring off."""
    return os.environ.get(ENV_SWITCH, "1") != "0"


def call_with_timeout(fn: Callable[[], T], timeout: float) -> T:
    """Run `fn` in a daemon thread and give up after `timeout` s (TimeoutError).

    A daemon thread, not an executor: a keyring call stuck on a locked keyring must not
    keep the process from exiting (executor workers are joined at interpreter exit)."""
    values: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            values.append(fn())
        except BaseException as exc:  # handed to the caller
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True, name="workbench-keyring")
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {timeout:g} s")
    if errors:
        raise errors[0]
    return values[0]


def keyring_get(key: str, timeout: float = TIMEOUT) -> str | None:
    """The entry `key`, or None (absent, keyring off, or no answer in time)."""
    if not enabled():
        return None

    def read() -> str | None:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, key)

    try:
        return call_with_timeout(read, timeout)
    except Exception:
        return None


def keyring_set(key: str, value: str, timeout: float = TIMEOUT) -> bool:
    """Store `value` as `key`; False when no working keyring answered in time."""
    if not enabled():
        return False

    def write() -> bool:
        import keyring

        keyring.set_password(KEYRING_SERVICE, key, value)
        return True

    try:
        return call_with_timeout(write, timeout)
    except Exception:
        return False


def keyring_delete(key: str, timeout: float = TIMEOUT) -> None:
    """Forget `key` (nothing happens when it is absent or the keyring does not answer)."""
    if not enabled():
        return

    def delete() -> None:
        import keyring

        with contextlib.suppress(Exception):
            keyring.delete_password(KEYRING_SERVICE, key)

    with contextlib.suppress(Exception):
        call_with_timeout(delete, timeout)


def keyring_usable(probe_key: str, timeout: float = TIMEOUT) -> bool:
    """True when a real OS keyring backend (not the 'fail' / 'null' ones) answers a read
    of `probe_key` in time."""
    if not enabled():
        return False

    def probe() -> bool:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or type(backend).__module__.endswith(("null", "fail")):
            return False
        if getattr(backend, "priority", 1) <= 0:
            return False
        # chained backends: usable only if something real sits behind them
        inner = getattr(backend, "backends", None)
        if inner is not None and not inner:
            return False
        keyring.get_password(KEYRING_SERVICE, probe_key)
        return True

    try:
        return call_with_timeout(probe, timeout)
    except Exception:
        return False
