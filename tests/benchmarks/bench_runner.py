"""Runner overhead: replay 1,000 requests against the emulator vs a bare httpx loop.

Run on demand:  python tests/benchmarks/bench_runner.py [N]
Target (issue 6): the runner runs at >= 0.8x the speed of the bare loop.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from workbench.core.collection.collection import load_collection
from workbench.core.collection.runner import Runner
from workbench.core.profiles import get_profile
from workbench.core.session import Session

ROUNDS = 5


class EmulatorProcess:
    """The demo cloud in its own process, so its CPU does not share our GIL."""

    def __enter__(self):
        import socket
        import subprocess

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "workbench", "demo", "--serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base_url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(self.base_url + "/_emulator/health")
                return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("emulator did not start")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(5)


def collection_text(n: int) -> str:
    parts = ['version = 1\n[collection]\nname = "bench"\nprofile = "demo-thinger"\n']
    for i in range(n):
        parts.append(
            f'[[requests]]\nname = "r{i}"\nmethod = "GET"\n'
            'url = "{{urls.api}}/v2/users/demo/devices/nodemcu/temperature"\n'
            "[requests.expect]\nstatus = 200\n"
        )
    return "\n".join(parts)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    tmp = Path(tempfile.mkdtemp())
    os.environ.update(
        WORKBENCH_CONFIG_DIR=str(tmp / "c"),
        WORKBENCH_DATA_DIR=str(tmp / "d"),
        WORKBENCH_KEYRING="0",
    )
    with EmulatorProcess() as server:
        os.environ["WORKBENCH_DEMO_URL"] = server.base_url
        profile = get_profile("demo-thinger")
        session = Session(profile)
        session.login()
        token = session.tokens.access_token
        url = f"{server.base_url}/thinger/v2/users/demo/devices/nodemcu/temperature"
        path = tmp / "bench.toml"
        path.write_text(collection_text(n))
        collection = load_collection(path)

        def bare() -> tuple[float, float]:
            start, cpu = time.perf_counter(), time.process_time()
            with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
                for _ in range(n):
                    r = client.get(url)
                    assert r.status_code == 200
            return time.perf_counter() - start, time.process_time() - cpu

        def runner() -> tuple[float, float]:
            start, cpu = time.perf_counter(), time.process_time()
            report = Runner(collection, session_for=lambda name: session).run()
            assert report.ok, report.to_json()["requests"][:1]
            return time.perf_counter() - start, time.process_time() - cpu

        bare(), runner()  # warm up
        # interleaved rounds: a machine whose load drifts (other processes on a shared VM)
        # weighs on both sides alike, instead of on whichever ran second
        b: list[tuple[float, float]] = []
        r: list[tuple[float, float]] = []
        for _ in range(ROUNDS):
            b.append(bare())
            r.append(runner())
    bm, rm = statistics.median(x[0] for x in b), statistics.median(x[0] for x in r)
    bc, rc = statistics.median(x[1] for x in b), statistics.median(x[1] for x in r)
    print(f"requests: {n}, {ROUNDS} interleaved rounds (medians)")
    print(
        f"bare httpx loop : {bm:6.3f} s  ({n / bm:7.0f} req/s), {bc / n * 1e6:5.0f} us CPU/request"
    )
    print(
        f"workbench runner: {rm:6.3f} s  ({n / rm:7.0f} req/s), {rc / n * 1e6:5.0f} us CPU/request"
    )
    print(f"runner speed    : {bm / rm:.2f}x of the bare loop (target >= 0.8x)")


if __name__ == "__main__":
    main()
