"""How the headless commands (`login`, `run`, `devices`, ...) carry out a browser login.

- A browser is tried only when one can open: ``BROWSER`` is set, or there is a display
  (``DISPLAY`` / ``WAYLAND_DISPLAY``), or the OS is macOS / Windows — and not with
  ``--no-browser`` / ``--paste``. Over SSH there is none, so no text-mode browser is
  started inside the session by surprise.
- Paste-back (callback.py) is offered when no browser opens and stdin is a terminal, or
  always with ``--paste`` (stdin may then be a pipe: a script writes the redirect URL to
  it). The URL is printed once, whole, on its own line; the person logs in anywhere, copies
  the address the browser ends on and pastes it. The loopback listener waits at the same
  time (with the ``ssh -L`` command that would let it receive the callback): the first wins.
- With no browser and no terminal the login fails at once, in words (and the command's JSON
  says so): a callback that nobody can trigger is never waited for.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from workbench.commands.output import emit, field
from workbench.core.auth.callback import PasteOffer
from workbench.core.auth.ssh_hint import ssh_forward_command


def browser_available() -> bool:
    """True when `webbrowser.open` can plausibly show a page to the person at this terminal."""
    if os.environ.get("BROWSER"):
        return True
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def terminal_attached() -> bool:
    stdin = sys.stdin
    try:
        return stdin is not None and stdin.isatty()
    except (ValueError, OSError):
        return False


def open_in_browser(url: str) -> bool:
    import webbrowser

    try:
        opened = bool(webbrowser.open(url))
    except Exception:
        return False
    if opened:
        emit("Opened your browser to log in. If no page appeared, open this URL:", sys.stderr)
        emit(f"  {field(url)}", sys.stderr)
    return opened


def show_url(url: str) -> None:
    emit("Open this URL in your browser to log in:", sys.stderr)
    emit(f"  {field(url)}", sys.stderr)


def read_paste(offer: PasteOffer, stream: TextIO | None = None) -> None:
    """Ask for the redirect URL on stderr and read it from stdin (a thread: the loopback
    listener may answer first). Lines are joined until the text has a state (a URL the
    terminal broke over lines); an empty line starts over."""
    source = stream if stream is not None else sys.stdin
    emit("", sys.stderr)
    emit(
        "Open this URL in a browser (on any machine) and log in. It is one line; copy it whole:",
        sys.stderr,
    )
    emit(f"  {field(offer.authorization_url)}", sys.stderr)
    emit("", sys.stderr)
    emit(
        f"The browser then goes to {field(offer.redirect_uri)}?code=... — that page may fail to "
        "load. Copy the whole address from the address bar and paste it here (Enter).",
        sys.stderr,
    )
    if offer.loopback_port is not None:
        emit(
            "Or let this machine receive it: forward the port from your laptop with "
            f"`{ssh_forward_command(offer.loopback_port)}` (in a running ssh session: "
            f"Enter, then ~C, then -L {offer.loopback_port}:127.0.0.1:{offer.loopback_port}).",
            sys.stderr,
        )
    emit("Redirect URL: ", sys.stderr, end="", flush=True)

    def run() -> None:
        buffer = ""
        while True:
            try:
                line = source.readline()
            except (OSError, ValueError):
                line = ""
            if not line:
                offer.give_up("stdin was closed")
                return
            if not line.strip():
                if buffer:
                    buffer = ""
                    emit("(started over) Redirect URL: ", sys.stderr, end="", flush=True)
                continue
            buffer += line.strip()
            if "state=" not in buffer and "error=" not in buffer and "code=" in buffer:
                continue  # a URL broken over lines: wait for the rest
            problem = offer.submit(buffer)
            if problem is None:
                return
            buffer = ""
            emit(f"workbench: {field(problem)}", sys.stderr)
            emit("Redirect URL: ", sys.stderr, end="", flush=True)

    threading.Thread(target=run, name="workbench-paste", daemon=True).start()


@dataclass
class BrowserHooks:
    open_browser: Callable[[str], bool] | None
    show_url: Callable[[str], None] | None
    offer_paste: Callable[[PasteOffer], None] | None


def browser_hooks(*, no_browser: bool = False, paste: bool = False) -> BrowserHooks:
    """The hooks a headless browser login runs with (module docstring)."""
    use_browser = not no_browser and not paste and browser_available()
    can_paste = paste or terminal_attached()
    return BrowserHooks(
        open_browser=open_in_browser if use_browser else None,
        # with paste-back, the offer prints the URL; without it the URL alone helps nobody
        # (no terminal: the flow fails at once instead of waiting)
        show_url=None,
        offer_paste=read_paste if can_paste else None,
    )
