"""Cross-process refresh: ten `workbench devices` processes renew one rotating refresh token at
once (Thinger's and IoTConnect's emulated refresh tokens are single use), round after round,
after the emulator expired every access token. Nobody loses the session, nobody exits
non-zero or shows an error node, and the store entry survives.

The profile's password comes only from an environment variable that the ten processes do
NOT get: a process that lost the session cannot quietly log in again, it would exit 3.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.authkit import write_profile
from workbench.core.errors import StoreError
from workbench.core.store import TokenStore
from workbench.core.token_lock import TokenLock, lock_path

PROCESSES = 10
ROUNDS = 3


PROFILES = {
    # platform: (profile body after [urls], the secrets withheld from the ten, node kind listed)
    "thinger": (
        """[urls]
api = "{base}/thinger"
[auth]
flow = "oauth2_password"
token_url = "{base}/thinger/oauth/token"
username = "demo"
password = {{ env = "RACE_PASSWORD" }}
""",
        {"RACE_PASSWORD": "thinger-demo-pass-1157"},
        "device",
    ),
    "iotconnect": (
        """[urls]
auth = "{base}/iotconnect/auth/api/v2"
device = "{base}/iotconnect/device/api/v2"
user = "{base}/iotconnect/user/api/v2"
[auth]
flow = "iotconnect"
auth_url = "{base}/iotconnect/auth/api/v2"
username = "demo@iotconnect.example"
password = {{ env = "RACE_PASSWORD" }}
solution_key = {{ env = "RACE_SOLUTION_KEY" }}
""",
        {"RACE_PASSWORD": "IoTC-demo-pass-7319", "RACE_SOLUTION_KEY": "demo-solution-key-5c1e"},
        "entity",
    ),
}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RACE_")}
    return {**env, **extra}


def _profile(directory: Path, platform: str, base_url: str) -> Path:
    body = PROFILES[platform][0].format(base=base_url)
    text = f'version = 1\nplatform = "{platform}"\n{body}[headers]\nAccept = "application/json"\n'
    return write_profile(directory, "race", text)


def _stored_refresh_token() -> str | None:
    path = TokenStore().path
    if not path.exists():
        return None
    entry = json.loads(path.read_text())["profiles"].get("race")
    return entry["tokens"]["refresh_token"] if entry else None


def _flat(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for node in nodes:
        out.append(node)
        out.extend(_flat(node.get("children", [])))
    return out


@pytest.mark.parametrize("platform", sorted(PROFILES))
def test_ten_processes_refresh_one_rotating_token(fresh_emulator, tmp_path, platform) -> None:
    profiles = tmp_path / "profiles"
    _profile(profiles, platform, fresh_emulator.base_url)
    cmd = [sys.executable, "-m", "workbench", "--profiles", str(profiles)]
    login = subprocess.run(
        [*cmd, "login", "race"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(**PROFILES[platform][1]),
    )
    assert login.returncode == 0, login.stderr
    failures: list[str] = []
    for round_no in range(1, ROUNDS + 1):
        before = _stored_refresh_token()
        assert before, f"round {round_no}: the store entry is gone"
        expired = httpx.post(
            f"{fresh_emulator.base_url}/_emulator/tokens/expire",
            json={"platform": platform},
            timeout=10,
        )
        assert expired.status_code == 200 and expired.json()["expired"][platform] >= 1
        start = time.monotonic()
        procs = [
            subprocess.Popen(
                [*cmd, "devices", "race", "--json", "--depth", "2"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_env(),
            )
            for _ in range(PROCESSES)
        ]
        for n, proc in enumerate(procs):
            out, err = proc.communicate(timeout=120)
            nodes = _flat(json.loads(out)["nodes"]) if proc.returncode == 0 and out.strip() else []
            errors = [node["label"] for node in nodes if node.get("kind") == "error"]
            devices = [node for node in nodes if node["kind"] == PROFILES[platform][2]]
            if proc.returncode != 0 or not devices or errors:
                failures.append(
                    f"round {round_no}, process {n}: exit {proc.returncode}, "
                    f"{len(nodes)} nodes, error nodes {errors}, stderr {err.strip()[-300:]!r}"
                )
            assert "Traceback" not in err
        elapsed = time.monotonic() - start
        after = _stored_refresh_token()
        assert after is not None, f"round {round_no}: the store entry was deleted ({failures})"
        assert after != before, f"round {round_no}: nobody refreshed ({failures})"
        print(f"round {round_no}: {PROCESSES} processes in {elapsed:.1f} s")
    assert failures == []


def test_a_held_token_lock_is_waited_for_then_words(tmp_path) -> None:
    """Another process holding the profile's lock: a bounded wait, then a StoreError naming it."""
    store = tmp_path / "data" / "tokens.json"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from workbench.core.token_lock import TokenLock\n"
            f"with TokenLock(Path({str(store)!r}), 'shared/profile'):\n"
            "    print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        with pytest.raises(StoreError) as info, TokenLock(store, "shared/profile", timeout=0.5):
            pass
        assert 0.4 < time.monotonic() - start < 5
        assert f"workbench process {holder.pid}" in info.value.message
        assert "'shared/profile'" in info.value.message and info.value.hint
        assert lock_path(store, "shared/profile").parent == store.parent
        with TokenLock(store, "another-profile", timeout=0.5):
            pass  # one lock per profile
    finally:
        holder.kill()
        holder.wait()
    with TokenLock(store, "shared/profile", timeout=5) as lock:  # released when its process died
        assert lock.waited < 5
