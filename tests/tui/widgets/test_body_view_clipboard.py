"""The pure copy helpers of the body viewer: capped selections (without materialising a
huge body), which clipboard command is used, running it with a bounded wait, 0600 files."""

from __future__ import annotations

import stat
import sys
import time
from pathlib import Path

from workbench.core.bodies.lines import TextLines
from workbench.tui.widgets.body_view.clipboard import (
    clipboard_command,
    copy_words,
    run_clipboard_command,
    selected_text,
    write_private_file,
)


def test_selected_text_is_inclusive_in_any_order() -> None:
    lines = ["a", "b", "c", "d"]
    sel = selected_text(lines, 2, 1)
    assert (sel.text, sel.first, sel.last, sel.lines, sel.capped) == ("b\nc", 1, 2, 2, False)
    assert copy_words(sel) == "2 lines (3 bytes)"
    assert copy_words(selected_text(lines, 3, 3)) == "line 4 (1 byte)"


def test_a_selection_of_millions_of_lines_is_capped_fast() -> None:
    lines = TextLines.from_lines([f"row {i}" for i in range(2_000_000)])
    started = time.perf_counter()
    sel = selected_text(lines, 0, len(lines) - 1, max_lines=100_000)
    elapsed = time.perf_counter() - started
    assert sel.capped and sel.lines == 100_000 and sel.selected == 2_000_000
    assert sel.text.endswith("row 99999")
    assert copy_words(sel).startswith("the first 100,000 of 2,000,000 selected lines (")
    assert elapsed < 2.0  # only the copied lines are touched (measured ~0.1 s)


def test_a_single_huge_line_is_cut_at_the_character_cap() -> None:
    sel = selected_text(["x" * 1000], 0, 0, max_chars=100)
    assert sel.capped and len(sel.text) == 100


def test_which_clipboard_command() -> None:
    def which(name: str) -> str | None:
        return f"/usr/bin/{name}" if name in have else None

    have = {"wl-copy", "xclip", "xsel"}
    assert clipboard_command({"WAYLAND_DISPLAY": "wayland-0"}, which, "linux") == [
        "/usr/bin/wl-copy"
    ]
    assert clipboard_command({"DISPLAY": ":0"}, which, "linux") == [
        "/usr/bin/xclip",
        "-selection",
        "clipboard",
    ]
    have = {"xsel"}
    assert clipboard_command({"DISPLAY": ":0"}, which, "linux") == [
        "/usr/bin/xsel",
        "--clipboard",
        "--input",
    ]
    assert clipboard_command({}, which, "linux") is None  # SSH without X: OSC 52 only
    have = {"pbcopy"}
    assert clipboard_command({}, which, "darwin") == ["/usr/bin/pbcopy"]
    have = {"clip.exe"}
    assert clipboard_command({"WSL_DISTRO_NAME": "Ubuntu"}, which, "linux") == ["/usr/bin/clip.exe"]
    assert (
        clipboard_command({"WORKBENCH_CLIPBOARD": "osc52", "WSL_DISTRO_NAME": "x"}, which) is None
    )


def test_run_clipboard_command_reports_failures_in_words(tmp_path: Path) -> None:
    out = tmp_path / "got"
    ok = [
        sys.executable,
        "-c",
        f"import sys; open({str(out)!r}, 'wb').write(sys.stdin.buffer.read())",
    ]
    assert run_clipboard_command(ok, "héllo") == ""
    assert out.read_text(encoding="utf-8") == "héllo"
    failing = [sys.executable, "-c", "import sys; sys.stderr.write('no display\\n'); sys.exit(3)"]
    assert "failed (exit 3: no display)" in run_clipboard_command(failing, "x")
    slow = [sys.executable, "-c", "import time; time.sleep(5)"]
    started = time.perf_counter()
    assert "did not finish within 0.5 s" in run_clipboard_command(slow, "x", timeout=0.5)
    assert time.perf_counter() - started < 4
    assert "could not run" in run_clipboard_command([str(tmp_path / "missing")], "x")


def test_write_private_file_is_0600(tmp_path: Path) -> None:
    target = write_private_file("secret-ish\n", tmp_path / "sub")
    assert target.read_text() == "secret-ish\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["clipboard.txt"]  # no temp file left
