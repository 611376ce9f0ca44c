"""Startup: the profile picker's first frame vs a minimal Textual app (Header + Tree + Footer).

Run on demand:  python tests/benchmarks/bench_startup.py [RUNS]
Each run is a fresh process (headless), timed from process start to the first frame
after mount; peak RSS is read in the child. Targets (issue 5): our first frame within
1.3x the minimal app's; peak memory at startup <= 50 MiB; no httpx / jwt / pygments
lexers / uvicorn imported before the first frame.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, os, resource, sys, time
T0 = float(os.environ["BENCH_T0"])
which = sys.argv[1]
if which == "minimal":
    from textual.app import App
    from textual.widgets import Footer, Header, Tree

    class Minimal(App):
        def compose(self):
            yield Header()
            tree = Tree("root")
            for i in range(20):
                tree.root.add_leaf(f"leaf {i}")
            yield tree
            yield Footer()

    base = Minimal
else:
    from workbench.tui.app import WorkbenchApp as base

class Bench(base):
    def on_mount(self):
        sup = getattr(super(), "on_mount", None)
        if sup:
            sup()
        self.call_after_refresh(self._first_frame)

    def _first_frame(self):
        self.first = time.time() - T0
        self.exit()

app = Bench()
app.run(headless=True, size=(100, 30))
heavy = [m for m in ("httpx", "jwt", "pygments.lexers", "uvicorn", "starlette") if m in sys.modules]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"first": app.first, "rss_mib": rss, "heavy": heavy}))
"""


def run(which: str, env: dict[str, str]) -> dict:
    env = {**env, "BENCH_T0": repr(time.time())}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, which], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    tmp = tempfile.mkdtemp()
    env = {
        **os.environ,
        "WORKBENCH_CONFIG_DIR": tmp + "/c",
        "WORKBENCH_DATA_DIR": tmp + "/d",
        "WORKBENCH_KEYRING": "0",
    }
    results: dict[str, list[dict]] = {"minimal": [], "workbench": []}
    for _ in range(runs):  # interleaved, so machine noise hits both alike
        for which in results:
            results[which].append(run(which, env))
    med = {w: statistics.median(r["first"] for r in rs) for w, rs in results.items()}
    rss = {w: max(r["rss_mib"] for r in rs) for w, rs in results.items()}
    print(f"runs: {runs} each (headless, 100x30)")
    for w in results:
        print(f"{w:<10} first frame {med[w] * 1000:6.0f} ms   peak RSS {rss[w]:5.1f} MiB")
    print(f"ratio      {med['workbench'] / med['minimal']:.2f}x (target <= 1.3x)")
    print(f"heavy modules before first frame: {results['workbench'][0]['heavy'] or 'none'}")


if __name__ == "__main__":
    main()
