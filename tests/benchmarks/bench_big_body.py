"""Benchmark: BodyView with a big JSON body (run on demand, not part of the test suite).

    python tests/benchmarks/bench_big_body.py [--mb 10] [--runs 3] [--size 120x40]

Each run is a separate process (a clean heap, its own peak memory) that hosts a BodyView
in a headless app, loads the body and measures:

* first paint: time from ``load()`` to the end of the first screen refresh that shows the
  new body (layout, render_line of the visible lines, compositing; headless);
* longest stall: the longest gap between ticks of a 10 ms interval timer on the UI event
  loop, from ``load()`` until the full text is in place (plus 0.2 s);
* full text: time from ``load()`` until the whole pretty text replaced the quick head;
* page scroll at several positions: from the PageDown action until the next screen refresh
  is composited (it includes waiting for Textual's frame timer, up to 1/60 s), and the
  cold render of one page of lines (no cached lines);
* search for a rare string (one device id at ~90% of the body): ``find()`` until the last
  search result;
* peak memory (max RSS) of the UI process and of the helper process, and the RSS of the
  app before the body was made (the figures "above an empty app" subtract it).

Modes: ``process`` (the default for bodies over 1 MB: the full text is built in a child
process and read back in chunks) and ``thread`` (built in a worker thread, for comparison:
``json.loads`` holds the GIL). Figures vary with machine load: compare ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POSITIONS = (0.0, 0.25, 0.5, 0.75, 0.99)


def make_big_json(megabytes: float) -> bytes:
    """The same bytes as ``json.dumps({"devices": [...], "count": n})``, built a slice at a
    time (a list of a million dicts would itself take ~1 GiB for 100 MB)."""
    count = int(megabytes * 1024 * 1024 / 120)
    out = io.BytesIO()  # (getvalue() hands over its buffer: the body is never held twice)
    out.write(b'{"devices": [')
    step = 20_000
    for first in range(0, count, step):
        devices = [
            {
                "id": f"dev-{i:07d}",
                "name": f"Sensor {i} \u00e9",
                "online": i % 3 == 0,
                "temp": round((i % 400) / 7, 3),
                "tags": ["a", str(i)],
                "meta": {},
            }
            for i in range(first, min(count, first + step))
        ]
        piece = json.dumps(devices)[1:-1]
        out.write((", " if first else "").encode() + piece.encode())
    out.write(f'], "count": {count}}}'.encode())
    return out.getvalue()


def rare_needle(megabytes: float) -> str:
    """A string found once in the body, at ~90% of it (a device id)."""
    count = int(megabytes * 1024 * 1024 / 120)
    return f"dev-{int(count * 0.9):07d}"


def current_rss_mib() -> float:
    """The resident memory of this process now (MiB; Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def measure(mode: str, megabytes: float, size: tuple[int, int]) -> dict[str, object]:
    from textual.app import App, ComposeResult

    from workbench.tui.widgets.body_view import highlight
    from workbench.tui.widgets.body_view.body_view import BodyView

    if mode == "thread":
        BodyView.PROCESS_THRESHOLD = 1 << 62

    # The helper's own peak memory: a child's ru_maxrss starts at the parent's RSS at fork
    # time, so the helper reports its VmHWM in its answers (older versions: ru_maxrss).
    helper_peaks: list[int] = []
    try:
        from workbench.core.bodies.file_child import HelperJob
    except ImportError:
        HelperJob = None
    if HelperJob is not None:
        helper_run = HelperJob.run

        def recording_run(self, *args, **kwargs):
            answer = helper_run(self, *args, **kwargs)
            if answer is not None and answer.get("peak_rss_kib"):
                helper_peaks.append(int(answer["peak_rss_kib"]))
            return answer

        HelperJob.run = recording_run

    results: list[tuple[float, int, bool]] = []

    class BenchApp(App):
        def compose(self) -> ComposeResult:
            yield BodyView()

        def on_body_view_search_result(self, message: BodyView.SearchResult) -> None:
            results.append((time.perf_counter(), message.count, getattr(message, "done", True)))

    app = BenchApp()
    ticks: list[float] = []
    async with app.run_test(size=size) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        await pilot.pause()
        while not highlight.lexer_imported("json"):  # the app has been up for a moment
            await pilot.pause(0.05)
        app.set_interval(0.01, lambda: ticks.append(time.perf_counter()))
        # Every screen refresh (layout + render_line of the visible lines + compositing; the
        # headless driver writes nothing) is timed, with whether the new body was rendered.
        screen = app.screen
        painted: list[tuple[float, bool]] = []
        compositor_refresh = screen._compositor_refresh

        def timed_refresh() -> None:
            compositor_refresh()
            painted.append((time.perf_counter(), view.first_render_elapsed is not None))

        screen._compositor_refresh = timed_refresh
        await pilot.pause(0.2)
        empty_rss = current_rss_mib()  # the app up, before the body exists
        body = make_big_json(megabytes)
        await pilot.pause(0.1)

        started = time.perf_counter()
        view.load(body, "application/json")
        await pilot.pause()
        while not any(new for t, new in painted if t >= started):
            await pilot.pause(0.005)
        first_paint = next(t for t, new in painted if t >= started and new) - started
        while not view.complete:
            await pilot.pause(0.01)
        full_text = view.load_elapsed
        await pilot.pause(0.2)
        window = [t for t in ticks if t >= started]
        gaps = [(b - a, a - started) for a, b in zip(window, window[1:], strict=False)]
        gaps.insert(0, (window[0] - started if window else 0.0, 0.0))
        stall, stall_at = max(gaps)

        # Page scroll: from the PageDown action to the end of the next screen refresh.
        scroll: dict[str, dict[str, float]] = {}
        height = view.scrollable_content_region.height
        for position in POSITIONS:
            view.scroll_to(y=int(position * view.max_scroll_y), animate=False, force=True)
            await pilot.pause()
            before = len(painted)
            pressed = time.perf_counter()
            view.action_page_down()  # what the pagedown binding runs
            while len(painted) == before:
                await asyncio.sleep(0.0005)
            key = painted[before][0] - pressed
            await pilot.pause()
            view._cache.clear()
            rendering = time.perf_counter()
            for y in range(height):
                view.render_line(y)
            render = time.perf_counter() - rendering
            scroll[f"{position:.0%}"] = {"key": key, "render": render}
        lines = view.line_count

        # Search for a rare string: from find() until the final SearchResult.
        results.clear()
        searching = time.perf_counter()
        view.find(rare_needle(megabytes))
        while not any(done for _, _, done in results):
            await pilot.pause(0.005)
        search = next(t for t, _, done in results if done) - searching
        found = next(count for _, count, done in results if done)

    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_rss = (
        max(helper_peaks, default=0) or resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    return {
        "mode": mode,
        "bytes": len(body),
        "lines": lines,
        "first_paint": first_paint,
        "stall": stall,
        "stall_at": stall_at,
        "full_text": full_text,
        "scroll": scroll,
        "search": search,
        "found": found,
        "empty_rss_mib": empty_rss,
        "rss_mib": self_rss / 1024,
        "child_rss_mib": child_rss / 1024,
    }


def run_one(mode: str, megabytes: float, size: tuple[int, int]) -> dict[str, object]:
    """One measurement in a fresh process (its result is printed as JSON on the last line)."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        mode,
        "--mb",
        str(megabytes),
        "--size",
        f"{size[0]}x{size[1]}",
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark run failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=float, default=10.0, help="body size in MB (default 10)")
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per mode (median shown; default 3)"
    )
    parser.add_argument("--size", default="120x40", help="terminal size (default 120x40)")
    parser.add_argument(
        "--modes", default="process,thread", help="modes to run (default process,thread)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))

    if args.child:
        result = asyncio.run(measure(args.child, args.mb, (width, height)))
        print(json.dumps(result))
        return

    print(
        f"BodyView benchmark: {args.mb:g} MB JSON, terminal {width}x{height}, {args.runs} run(s) per mode, median"
    )
    print()
    header = (
        f"{'mode':8} {'first paint':>12} {'max stall':>10} {'full text':>10} "
        + " ".join(f"{'pgdn@' + p:>9}" for p in ("0%", "25%", "50%", "75%", "99%"))
        + f" {'render pg':>10} {'UI RSS':>8} {'child RSS':>9} {'worst stall':>12}"
        + f" {'search':>8} {'empty app':>10} {'UI+child-empty':>15} {'x body':>7}"
    )
    print(header)
    print(
        f"{'':8} {'ms':>12} {'ms':>10} {'ms':>10} "
        + " ".join(f"{'ms':>9}" for _ in range(5))
        + f" {'ms':>10} {'MiB':>8} {'MiB':>9} {'ms':>12}"
        + f" {'ms':>8} {'MiB':>10} {'MiB':>15} {'':>7}"
    )
    print("-" * len(header))
    for mode in args.modes.split(","):
        results = [run_one(mode, args.mb, (width, height)) for _ in range(args.runs)]

        def med(key: str, results: list[dict] = results) -> float:
            return statistics.median(float(r[key]) for r in results)

        def med_scroll(pos: str, what: str, results: list[dict] = results) -> float:
            return statistics.median(r["scroll"][pos][what] for r in results)

        renders = statistics.median(
            max(r["scroll"][p]["render"] for p in r["scroll"]) for r in results
        )
        print(
            f"{mode:8} {ms(med('first_paint')):>12} {ms(med('stall')):>10} {ms(med('full_text')):>10} "
            + " ".join(f"{ms(med_scroll(p, 'key')):>9}" for p in ("0%", "25%", "50%", "75%", "99%"))
            + f" {ms(renders):>10} {med('rss_mib'):8.0f} {med('child_rss_mib'):9.0f}"
            + f" {ms(max(float(r['stall']) for r in results)):>12}"
            + f" {ms(med('search')):>8} {med('empty_rss_mib'):10.0f}"
            + f" {med('rss_mib') + med('child_rss_mib') - med('empty_rss_mib'):15.0f}"
            + f" {(med('rss_mib') + med('child_rss_mib')) * 1024 * 1024 / float(results[0]['bytes']):7.1f}"
        )
    print()
    print(f"lines: {results[0]['lines']:,}  body: {results[0]['bytes']:,} bytes")
    print(
        "pgdn@N%: PageDown action until the next frame is composited; render pg: slowest cold render of one page."
    )
    print(
        "max stall: the longest gap of a 10 ms UI timer from load() until the full text is in place"
    )
    print("(median of the runs; worst stall: the worst run).")
    print(
        "search: find() of a rare string (one device id at ~90%) until the final result; "
        "empty app: RSS of the app before the body exists;"
    )
    print(
        "UI+child-empty: peak RSS of UI and helper minus the empty app (the body itself "
        "included); x body: peak RSS of UI + helper over the body size."
    )


if __name__ == "__main__":
    main()
