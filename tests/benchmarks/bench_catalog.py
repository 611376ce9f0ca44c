"""Benchmark: opening and searching the vendors' API documents (run on demand).

    python tests/benchmarks/bench_catalog.py [--runs 5]

Measures (modules already imported, as in the running app), each cold open in a fresh process (empty cache dir: read, parse, $refs, examples,
write the pre-parsed JSON) and each warm open in another fresh process (read the document,
hash it, load the pre-parsed JSON), for the 500 KB IoTConnect device document and the others
in ../shared/reference; then the search latency over all their operations together (the
median of a set of queries). Goals (issue 14): warm open <= 200 ms, search <= 30 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference"
DOCS = [
    "iotconnect-device.swagger.json",
    "iotconnect-user.swagger.json",
    "thinger.openapi.json",
    "plgd-http-gateway.swagger.yaml",
]
QUERIES = [
    "device",
    "child device",
    "dvcmd",
    "resources",
    "template attribute",
    "get things",
    "zzz",
]

CHILD = """
import json, sys, time
from workbench.core.catalog.cache import open_catalog  # imported, as in the running app
t = time.perf_counter()
opened = open_catalog(sys.argv[1])
print(json.dumps({"ms": (time.perf_counter() - t) * 1000, "cached": opened.from_cache,
                  "ops": len(opened.catalog.operations)}))
"""


def open_in_child(path: Path, cache: str) -> dict[str, float]:
    env = {**os.environ, "WORKBENCH_CACHE_DIR": cache}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for name in DOCS:
        path = REFERENCE / name
        cold, warm = [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as cache:
                first = open_in_child(path, cache)
                second = open_in_child(path, cache)
                assert not first["cached"] and second["cached"]
                cold.append(first["ms"])
                warm.append(second["ms"])
        size = path.stat().st_size // 1024
        print(
            f"{name:<34} {size:>4} KB {int(first['ops']):>4} ops   cold {statistics.median(cold):6.1f} ms"
            f"   warm {statistics.median(warm):6.1f} ms (median of {args.runs}, fresh processes)"
        )
    with tempfile.TemporaryDirectory() as cache:
        os.environ["WORKBENCH_CACHE_DIR"] = cache
        from workbench.core.catalog.cache import open_catalog
        from workbench.core.catalog.search import search

        catalogs = [open_catalog(str(REFERENCE / n)).catalog for n in DOCS]
        total = sum(len(c.operations) for c in catalogs)
        times = []
        for _ in range(args.runs):
            for q in QUERIES:
                t = time.perf_counter()
                for c in catalogs:
                    search(c, q)
                times.append((time.perf_counter() - t) * 1000)
        print(
            f"search over {total} operations: median {statistics.median(times):.2f} ms, "
            f"max {max(times):.2f} ms ({len(times)} queries)"
        )


if __name__ == "__main__":
    main()
