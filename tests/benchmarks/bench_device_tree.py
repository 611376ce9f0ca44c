"""Benchmark: the device tree panel with 100,000 and 1,000,000 devices.

Run on demand (not part of the test suite):

    python tests/benchmarks/bench_device_tree.py [--runs 3] [--no-baseline] [--no-emulator]
        [--devices 100000,1000000] [--big-runs 1] [--before REV]

Scenarios (each in a headless Textual app, 100x30):

- fake: an adapter that yields batches of 1,000 DeviceNodes instantly (100,000 devices,
  and for issue 15 1,000,000: --devices; the big size runs --big-runs times).
- --before REV: the same fake scenarios also run against the workbench package of git
  revision REV (extracted to a temporary directory), in the same run, for before/after.
- emulator: the real Thinger adapter against `workbench demo --serve --devices 100000`
  in a child process (so the server does not share the UI's GIL), over HTTP.
- baseline: a plain Textual Tree given 100,000 leaves up front (what the panel avoids).

Figures (medians over the runs):
- first rows: from the worker posting the first page to the frame that shows it;
- all loaded: from expanding the listing to the last page being applied;
- expand: collapse + expand the 100,000-device listing, to the frame that shows it;
- filter: typing a filter (100 matches / every device / cleared), to the frame that shows it;
  "handler" is the part spent filtering and rebuilding the Tree in the handler; over a listing
  bigger than DeviceTreePanel.FILTER_AT_ONCE the first window shows first and the matches are
  counted after it, a few batches a step ("all counted": until the page lines say how many);
- memory: RSS growth while loading ("tree memory"), and (separate run, 100,000 devices only)
  Python heap via tracemalloc.
Targets (issue 5): first rows <= 200 ms after the first page arrives; expand and filter <= 100 ms.
Targets (issue 15, 1,000,000 devices): the same, and tree memory (RSS growth) <= 300 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT_DIR = Path(__file__).resolve().parents[2]
# the code measured: this checkout, or (--before) an extracted older revision of it
CODE_DIR = Path(os.environ.get("BENCH_DEVICE_TREE_CODE", ROOT_DIR))
sys.path.insert(0, str(CODE_DIR))

from rich.text import Text  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.pilot import Pilot  # noqa: E402
from textual.widgets import Tree  # noqa: E402

from workbench.core.platforms.base import Adapter, DeviceNode  # noqa: E402
from workbench.core.requests import RequestSpec  # noqa: E402
from workbench.tui.widgets.device_tree.device_tree import DeviceTreePanel  # noqa: E402

N = 100_000
BATCH = 1_000
SIZE = (100, 30)


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class FakeAdapter(Adapter):
    platform = "fake"

    def __init__(self, n: int = N, batch: int = BATCH) -> None:
        self.n, self.batch = n, batch

    def roots(self) -> list[DeviceNode]:
        return [
            DeviceNode(id="acct", kind="account", label="Benchmark account", detail={"n": self.n}),
            DeviceNode(id="devs", kind="group", label="devices", expandable=True),
        ]

    def children(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        if node.id != "devs":
            yield [
                DeviceNode(id=f"{node.id}:t", kind="resource", label="temperature", badge="output")
            ]
            return
        for start in range(0, self.n, self.batch):
            if cancel is not None and cancel.is_set():
                return
            yield [
                DeviceNode(
                    id=f"dev:{i}",
                    kind="device",
                    label=f"sensor-{i:06d} (Sensor {i})",
                    status="online" if i % 3 else "offline",
                    badge="MQTT",
                    expandable=True,
                    detail={"device": f"sensor-{i:06d}", "name": f"Sensor {i}"},
                    request=RequestSpec("GET", f"https://bench.example/devices/sensor-{i:06d}"),
                )
                for i in range(start, min(start + self.batch, self.n))
            ]


class Host(App[None]):
    def __init__(self, panel: DeviceTreePanel) -> None:
        super().__init__()
        self.panel = panel

    def compose(self) -> ComposeResult:
        yield self.panel


async def until(pilot: Pilot, cond: Callable[[], Any], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(str(cond))
        await asyncio.sleep(0.005)  # (not pilot.pause: that forces extra screen updates)


async def painted(app: App[Any]) -> float:
    """perf_counter at the next frame after everything queued so far has been handled."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[float] = loop.create_future()
    app.screen.refresh()
    app.call_after_refresh(lambda: done.done() or done.set_result(time.perf_counter()))
    return await done


async def mark(panel: DeviceTreePanel, name: str, timeout: float = 30.0) -> float:
    """perf_counter of the frame that showed what the panel marked as `name` (see DeviceTreePanel._mark)."""
    key = f"{name}_painted"
    panel.timings.pop(key, None)
    deadline = time.monotonic() + timeout
    while key not in panel.timings:
        if time.monotonic() > deadline:
            raise TimeoutError(key)
        await asyncio.sleep(0.001)
    return panel.timings[key]


async def watch_stalls(stalls: list[float], tick: float = 0.005) -> None:
    """How late the UI's event loop wakes up for a 5 ms timer (the longest is what a key press waits)."""
    stalls.append(0.0)
    while True:
        t0 = time.perf_counter()
        await asyncio.sleep(tick)
        stalls[0] = max(stalls[0], time.perf_counter() - t0 - tick)


def find(panel: DeviceTreePanel, text: str):
    return next(n for n in panel.tree.root.children if text in n.label.plain)


async def measure_panel(
    panel: DeviceTreePanel, key: str, needle: str, *, memory: bool = False, n: int = N
) -> dict[str, float]:
    """Expand the big listing, wait for all of it, then time expand and filters."""
    app = Host(panel)
    out: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot, lambda: any("devices" in n.label.plain for n in panel.tree.root.children)
        )
        await pilot.pause()
        gc.collect()
        rss0 = rss_mib()
        if memory:
            tracemalloc.start()
        group = find(panel, "devices")
        panel.tree.focus()
        # a frame first: a mark of the roots still waiting for one must not land after clear()
        await painted(app)
        await painted(app)
        panel.timings.clear()
        stalls: list[float] = []
        monitor = asyncio.create_task(watch_stalls(stalls))
        t_expand = time.perf_counter()
        group.expand()
        await until(pilot, lambda: "first_batch_painted" in panel.timings)
        t = panel.timings
        out["first rows after first page (ms)"] = (
            t["first_batch_painted"] - t["first_batch_posted"]
        ) * 1000
        out["first rows after expand (ms)"] = (t["first_batch_painted"] - t_expand) * 1000
        await until(
            pilot,
            lambda: panel.listings.get(key) is not None and panel.listings[key].state == "done",
            timeout=1500,
        )
        out["all loaded (s)"] = panel.timings["last_done"] - t_expand
        monitor.cancel()
        out["longest UI stall while loading (ms)"] = max(stalls) * 1000
        out["devices loaded"] = len(panel.listings[key].children)
        out["tree lines"] = panel.tree.last_line + 1
        await pilot.pause()
        if memory:
            gc.collect()
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            out["heap held (MiB)"] = current / 2**20
            out["heap peak (MiB)"] = peak / 2**20
        gc.collect()
        out["RSS growth (MiB)"] = rss_mib() - rss0
        out["RSS total (MiB)"] = rss_mib()
        if memory:
            return out
        # expand: collapse and expand the loaded listing (100,000 or 1,000,000 devices)
        group = find(panel, "devices")
        group.collapse()
        await pilot.pause()
        t0 = time.perf_counter()
        group.expand()
        out[f"expand {n:,} loaded (ms)"] = (await mark(panel, "expand") - t0) * 1000
        # expand a device (its children come from the adapter)
        await pilot.pause()
        device = group.children[1]
        t0 = time.perf_counter()
        device.expand()
        await until(
            pilot,
            lambda: (
                device.data.id in panel.listings and panel.listings[device.data.id].state == "done"
            ),
        )
        out["expand a device (ms)"] = (await painted(app) - t0) * 1000
        # filters
        for label, text in (
            (f"filter {needle!r} (ms)", needle),
            ("filter matching all (ms)", "sensor"),
            ("filter cleared (ms)", ""),
        ):
            await pilot.pause()
            panel.timings.pop("filter_counted", None)
            t0 = time.perf_counter()
            panel.set_filter(text)
            out[label] = (await mark(panel, "filter") - t0) * 1000
            out[label.replace("(ms)", "(handler, ms)")] = panel.timings["filter_seconds"] * 1000
            cached = panel.listings[key].view_cache
            if text and cached is not None and not getattr(cached[2], "complete", True):
                # a big listing: the first window is shown, the matches are counted after it
                await until(pilot, lambda: "filter_counted" in panel.timings)
                counted = (panel.timings["filter_counted"] - t0) * 1000
                out[label.replace("(ms)", "(all counted, ms)")] = counted
        out["tree lines after filters"] = panel.tree.last_line + 1
    return out


async def fake_run(memory: bool = False, n: int = N) -> dict[str, float]:
    adapter = FakeAdapter(n)
    panel = DeviceTreePanel(None, None, adapter=adapter)  # type: ignore[arg-type]
    return await measure_panel(panel, "devs", "sensor-0999", memory=memory, n=adapter.n)


async def baseline_run() -> dict[str, float]:
    """A plain Tree given 100,000 leaves before its first frame."""

    class Naive(App[None]):
        def compose(self) -> ComposeResult:
            tree: Tree[Any] = Tree("devices")
            for i in range(N):
                tree.root.add_leaf(Text(f"sensor-{i:06d} (Sensor {i})"))
            tree.root.expand()
            yield tree

    gc.collect()
    rss0 = rss_mib()
    t0 = time.perf_counter()
    app = Naive()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = await painted(app) - t0
        rss = rss_mib() - rss0
    return {"first frame (ms)": first * 1000, "RSS growth (MiB)": rss}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_emulator(devices: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workbench",
            "demo",
            "--serve",
            "--port",
            str(port),
            "--devices",
            str(devices),
        ],
        cwd=ROOT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"{base}/_emulator/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(
                f"the emulator did not start: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the emulator did not answer")


async def emulator_run(base: str, page_size: int) -> dict[str, float]:
    from workbench.core.platforms.base import adapter_for
    from workbench.core.profiles import get_profile
    from workbench.core.session import Session

    os.environ["WORKBENCH_DEMO_URL"] = base
    profile = get_profile("demo-thinger")
    session = Session(profile, persist=False)
    session.login()
    panel = DeviceTreePanel(
        profile,
        session,
        adapter_factory=lambda p, client: adapter_for(p, client, page_size=page_size),
    )
    return await measure_panel(panel, "thinger:devices", "-0999")


def nodes_only(n: int = N) -> dict[str, float]:
    """The DeviceNodes alone (what the adapter hands over), to tell the panel's own share."""
    gc.collect()
    tracemalloc.start()
    nodes = [
        node
        for batch in FakeAdapter(n).children(DeviceNode(id="devs", kind="group", label="devices"))
        for node in batch
    ]
    gc.collect()
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(nodes) == n
    return {f"heap of {n:,} DeviceNodes alone (MiB)": current / 2**20}


def child(argv: list[str]) -> None:
    """One scenario in this (fresh) process; prints its figures as JSON."""
    import json

    kind = argv[0]
    if kind == "fake":
        result = asyncio.run(fake_run(n=int(argv[1]) if len(argv) > 1 else N))
    elif kind == "fake-memory":
        n = int(argv[1]) if len(argv) > 1 else N
        result = {**asyncio.run(fake_run(memory=True, n=n)), **nodes_only(n)}
    elif kind == "emulator":
        result = asyncio.run(emulator_run(argv[1], int(argv[2])))
    elif kind == "baseline":
        result = asyncio.run(baseline_run())
    else:
        raise SystemExit(f"unknown scenario {kind}")
    print("RESULT " + json.dumps(result))


def run_child(*args: str, code: str | None = None) -> dict[str, float]:
    import json

    env = os.environ.copy()
    if code is not None:
        env["BENCH_DEVICE_TREE_CODE"] = code
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        cwd=ROOT_DIR,
        env=env,
        timeout=3600,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"scenario {args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def median_table(title: str, runs: list[dict[str, float]]) -> None:
    print(
        f"\n{title}  (median of {len(runs)} run{'s' if len(runs) > 1 else ''}, each in a fresh process)"
    )
    keys = list(runs[0])
    width = max(len(k) for k in keys)
    for k in keys:
        values = [r[k] for r in runs if k in r]
        med = statistics.median(values)
        spread = f"  [{min(values):,.1f} .. {max(values):,.1f}]" if len(values) > 1 else ""
        print(f"  {k:<{width}}  {med:>10,.1f}{spread}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-emulator", action="store_true")
    parser.add_argument(
        "--page-size", type=int, default=500, help="Thinger page size for the emulator run"
    )
    parser.add_argument(
        "--devices",
        default=f"{N},1000000",
        help="comma-separated listing sizes for the fake adapter (default: 100000,1000000)",
    )
    parser.add_argument(
        "--big-runs", type=int, default=1, help="runs of the sizes above 100,000 (slow)"
    )
    parser.add_argument(
        "--before", metavar="REV", help="also measure this git revision (before/after, one run)"
    )
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-device-tree-")
    os.environ.update(
        WORKBENCH_CONFIG_DIR=f"{tmp}/config",
        WORKBENCH_DATA_DIR=f"{tmp}/data",
        WORKBENCH_KEYRING="0",
    )

    print(
        f"device tree benchmark: {N:,} devices, window {DeviceTreePanel.PAGE_SIZE} children, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    print("targets: first rows <= 200 ms after the first page arrives; expand and filter <= 100 ms")
    print("         and at 1,000,000 devices: tree memory (RSS growth) <= 300 MiB")
    codes: list[tuple[str, str | None]] = [("this checkout", None)]
    if args.before:
        before = Path(tmp) / "before"
        before.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT_DIR), "archive", args.before, "workbench"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
        codes.insert(0, (f"before ({args.before})", str(before)))
    for n in (int(x) for x in args.devices.split(",") if x.strip()):
        runs = args.runs if n <= N else args.big_runs
        for name, code in codes:
            median_table(
                f"fake adapter: {n // BATCH:,} batches of {BATCH:,} devices, instantly [{name}]",
                [run_child("fake", str(n), code=code) for _ in range(runs)],
            )
        for name, code in codes if n <= N else ():  # (tracemalloc: minutes at 1,000,000)
            median_table(
                f"memory, fake adapter, {n:,} devices (tracemalloc on: times not comparable)"
                f" [{name}]",
                [run_child("fake-memory", str(n), code=code)],
            )
    if not args.no_emulator:
        proc, base = start_emulator(N)
        try:
            for name, code in codes:
                median_table(
                    f"emulator: Thinger over HTTP, pages of {args.page_size}, server in its own"
                    f" process [{name}]",
                    [
                        run_child("emulator", base, str(args.page_size), code=code)
                        for _ in range(args.runs)
                    ],
                )
        finally:
            proc.terminate()
            proc.wait(10)
    if not args.no_baseline:
        median_table(
            "baseline: a plain Tree given 100,000 leaves up front", [run_child("baseline")]
        )


if __name__ == "__main__":
    main()
