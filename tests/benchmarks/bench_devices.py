"""List 100,000 devices per platform from the emulator through the adapters.

Run on demand:  python tests/benchmarks/bench_devices.py [N] [ROUNDS]
The emulator runs in its own process (`workbench demo --serve --devices N`); each
platform's listing runs in a fresh child process so its peak memory is its own.
Reports wall time to the first batch and to the end, batches, devices and peak RSS, and
IoTConnect's median time as a ratio of the fastest other cloud's median over ROUNDS fresh emulators
(default 3; issue 15's goal: <= 2x).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

# profile -> how to reach the device listing node from the roots
PLATFORMS = {
    "demo-thinger": "devices",
    "demo-iotspot": None,  # desks live under workspaces/locations: walk to depth 3
    "demo-iotconnect": None,  # entities -> devices (child devices stay under their gateways)
    "demo-ioto-cloudapi": None,
    "demo-plgd-m2m": "devices (HTTP gateway)",
}

CHILD = r"""
import json, resource, sys, threading, time
from workbench.core.platforms.base import adapter_for
from workbench.core.profiles import get_profile
from workbench.core.session import Session

name, group = sys.argv[1], sys.argv[2] or None
session = Session(get_profile(name))
session.login()
start = time.perf_counter()
first = None
devices = batches = 0
with session.client() as client:
    adapter = adapter_for(session.profile, client, page_size=1000)
    if group:
        root = next(n for n in adapter.roots() if n.label.startswith(group))
        for batch in adapter.children(root, threading.Event()):
            batches += 1
            first = first or time.perf_counter() - start
            devices += sum(1 for n in batch if n.kind == "device")
    else:
        # expand everything but devices (their resources are not part of "listing devices")
        stack = list(adapter.roots())
        while stack:
            node = stack.pop()
            if node.kind == "device":
                continue
            if node.expandable:
                for batch in adapter.children(node, threading.Event()):
                    batches += 1
                    for child in batch:
                        if child.kind == "device":
                            devices += 1
                            first = first or time.perf_counter() - start
                        else:
                            stack.append(child)
elapsed = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"first": first, "elapsed": elapsed, "devices": devices, "batches": batches, "rss": rss}))
"""


def serve(n: int, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "workbench", "demo", "--serve", "--port", str(port)]
        + ["--devices", str(n)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/_emulator/health")
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    return server


def main() -> None:
    """Usage: bench_devices.py [N] [ROUNDS]. Each round starts a fresh emulator (nothing
    cached from an earlier round) and lists every platform once, in a rotated order so that
    a slow patch of the machine does not always hit the same cloud; the ratio is taken of the
    median times (and shown per round: this 2-core VM's speed drifts by +-30 %)."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tempfile.mkdtemp()
    env = {
        **os.environ,
        "WORKBENCH_CONFIG_DIR": tmp + "/c",
        "WORKBENCH_DATA_DIR": tmp + "/d",
        "WORKBENCH_KEYRING": "0",
        "WORKBENCH_DEMO_URL": f"http://127.0.0.1:{port}",
    }
    print(f"{n:,} devices per platform (emulator in its own process; page size 1000)")
    print(
        f"{'round':<6}{'profile':<20} {'first batch':>12} {'all':>8} {'devices':>9} {'peak RSS':>10}"
    )
    times: dict[str, list[float]] = {p: [] for p in PLATFORMS}
    ratios: list[float] = []
    names = list(PLATFORMS)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        server = serve(n, port)
        try:
            elapsed: dict[str, float] = {}
            for profile in order:
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, profile, PLATFORMS[profile] or ""],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                if out.returncode:
                    print(f"{r + 1:<6}{profile:<20} failed: {out.stderr.strip().splitlines()[-1:]}")
                    continue
                res = json.loads(out.stdout.strip().splitlines()[-1])
                elapsed[profile] = res["elapsed"]
                times[profile].append(res["elapsed"])
                print(
                    f"{r + 1:<6}{profile:<20} {res['first'] * 1000:9.0f} ms {res['elapsed']:7.1f}s "
                    f"{res['devices']:>9,} {res['rss']:7.0f} MiB"
                )
            others = {p: t for p, t in elapsed.items() if p != "demo-iotconnect"}
            if "demo-iotconnect" in elapsed and others:
                ratios.append(elapsed["demo-iotconnect"] / min(others.values()))
        finally:
            server.terminate()
            server.wait(10)
    medians = {p: statistics.median(t) for p, t in times.items() if t}
    print("median: " + ", ".join(f"{p.removeprefix('demo-')} {t:.1f}s" for p, t in medians.items()))
    others = {p: t for p, t in medians.items() if p != "demo-iotconnect"}
    if "demo-iotconnect" in medians and others:
        fastest = min(others, key=others.__getitem__)
        ratio = medians["demo-iotconnect"] / others[fastest]
        print(
            f"IoTConnect / fastest other ({fastest}), medians: {ratio:.1f}x (goal: <= 2x); "
            "per round: " + ", ".join(f"{x:.1f}x" for x in ratios)
        )


if __name__ == "__main__":
    main()
