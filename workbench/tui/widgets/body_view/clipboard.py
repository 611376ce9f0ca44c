"""Copying text out of the body viewer: the pure helpers (no widget).

Copying goes two ways at once: OSC 52 through the terminal (``App.copy_to_clipboard``;
works over SSH when the terminal allows it, but the app cannot know whether it did), and,
when one is installed for this session, a system clipboard command
(:func:`clipboard_command`: wl-copy, xclip, xsel, pbcopy, clip.exe) run from a worker
thread with a bounded wait (:func:`run_clipboard_command`). When no command worked the
user may write the text to a private file instead (:func:`write_private_file`, mode 0600).

:func:`selected_text` joins display lines ``first..last`` without materialising a huge
body, cut at :data:`MAX_COPY_LINES` lines / :data:`MAX_COPY_CHARS` characters.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.core.atomic import atomic_write

MAX_COPY_LINES = 100_000
"""Lines copied at most from one selection (more is said in words)."""
MAX_COPY_CHARS = 8 * 1024 * 1024
"""Characters copied at most from one selection."""
COMMAND_TIMEOUT = 3.0
"""Seconds a clipboard command may take before it is given up."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Text taken from lines ``first..last``: ``lines`` of them copied (fewer when capped)."""

    text: str
    first: int
    last: int
    lines: int
    capped: bool

    @property
    def selected(self) -> int:
        return self.last - self.first + 1

    @property
    def size(self) -> int:
        """Bytes of the text in UTF-8."""
        return len(self.text.encode("utf-8", "replace"))


def selected_text(
    lines: Sequence[str],
    first: int,
    last: int,
    *,
    max_lines: int = MAX_COPY_LINES,
    max_chars: int = MAX_COPY_CHARS,
) -> Selection:
    """Lines ``first..last`` (inclusive, any order) joined by newlines, capped."""
    first, last = sorted((first, last))
    first = max(0, first)
    last = min(last, len(lines) - 1)
    parts: list[str] = []
    chars = 0
    capped = False
    for index in range(first, last + 1):
        if len(parts) >= max_lines or chars >= max_chars:
            capped = True
            break
        line = lines[index]
        chars += len(line) + 1
        parts.append(line)
    if chars > max_chars + 1 and parts:  # one line too long: cut it
        capped = True
        over = chars - 1 - max_chars
        parts[-1] = parts[-1][: max(0, len(parts[-1]) - over)]
    return Selection("\n".join(parts), first, last, len(parts), capped)


def clipboard_command(
    env: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    platform: str = sys.platform,
) -> list[str] | None:
    """The system clipboard command for this session, or None (then only OSC 52 is used).

    Wayland: wl-copy; X11: xclip, else xsel; macOS: pbcopy; WSL / Windows: clip.exe.
    ``WORKBENCH_CLIPBOARD=osc52`` turns commands off.
    """
    env = os.environ if env is None else env
    if env.get("WORKBENCH_CLIPBOARD", "").lower() == "osc52":
        return None
    candidates: list[list[str]] = []
    if env.get("WAYLAND_DISPLAY"):
        candidates.append(["wl-copy"])
    if env.get("DISPLAY"):
        candidates += [["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]]
    if platform == "darwin":
        candidates.append(["pbcopy"])
    if platform == "win32" or env.get("WSL_DISTRO_NAME"):
        candidates.append(["clip.exe"])
    for command in candidates:
        found = which(command[0])
        if found:
            return [found, *command[1:]]
    return None


def run_clipboard_command(command: list[str], text: str, timeout: float = COMMAND_TIMEOUT) -> str:
    """Feed ``text`` to ``command`` (blocking: call from a worker thread). '' when it
    worked, else why not in words."""
    name = Path(command[0]).name
    try:
        done = subprocess.run(
            command,
            input=text.encode("utf-8", "replace"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"{name} did not finish within {timeout:g} s"
    except OSError as err:
        return f"{name} could not run: {err.strerror or err}"
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"{name} failed (exit {done.returncode}{': ' + why[0][:120] if why else ''})"
    return ""


def write_private_file(text: str, directory: Path, name: str = "clipboard.txt") -> Path:
    """Write ``text`` to ``directory/name`` readable by the user only (0600), atomically."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = directory / name
    atomic_write(target, text.encode("utf-8", "replace"), mode=0o600)
    return target


def size_words(size: int) -> str:
    """1 -> '1 byte', 2048 -> '2.0 KiB'."""
    if size == 1:
        return "1 byte"
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def copy_words(selection: Selection) -> str:
    """E.g. 'line 12 (31 bytes)' or '3 lines (1.2 KiB)' or 'the first 100,000 of 2,000,000
    selected lines (7.9 MiB; capped)'."""
    size = size_words(selection.size)
    if selection.capped:
        return (
            f"the first {selection.lines:,} of {selection.selected:,} selected lines "
            f"({size}; capped)"
        )
    if selection.lines == 1:
        return f"line {selection.first + 1} ({size})"
    return f"{selection.lines:,} lines ({size})"
