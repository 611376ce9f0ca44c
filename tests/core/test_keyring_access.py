"""The one way to the OS keyring: WORKBENCH_KEYRING=0 turns it off, every call has a
timeout, and a hung keyring neither blocks a caller nor keeps the process alive."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from workbench.core.keyring_access import (
    call_with_timeout,
    enabled,
    keyring_delete,
    keyring_get,
    keyring_set,
    keyring_usable,
)


def test_the_switch_turns_every_call_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_KEYRING", "0")
    assert enabled() is False
    assert keyring_get("k") is None
    assert keyring_set("k", "v") is False
    keyring_delete("k")  # nothing to do, nothing raised
    assert keyring_usable("probe") is False


def test_call_with_timeout_returns_raises_and_gives_up() -> None:
    assert call_with_timeout(lambda: 42, 1.0) == 42

    def boom() -> int:
        raise OSError("locked")

    with pytest.raises(OSError, match="locked"):
        call_with_timeout(boom, 1.0)
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="no answer within 0.1 s"):
        call_with_timeout(lambda: time.sleep(5), 0.1)
    assert time.monotonic() - start < 2


def test_a_hung_keyring_does_not_keep_the_process_alive() -> None:
    code = (
        "import time; from workbench.core.keyring_access import call_with_timeout\n"
        "try:\n    call_with_timeout(lambda: time.sleep(60), 0.2)\n"
        "except TimeoutError:\n    print('gave up')\n"
    )
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert run.stdout.strip() == "gave up"
    assert time.monotonic() - start < 10
