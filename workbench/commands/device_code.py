"""How `workbench login` (and a headless `run` that must log in) shows a device code (RFC 8628).

Text mode, on stderr (the person's channel, like the browser URL): the verification URI,
the user code spaced out in bold, a QR code of ``verification_uri_complete`` in half blocks
(black on white on a terminal, so it scans whatever the theme; 37x19 cells for a typical
URL, so it fits at 80x24), and a countdown line that rewrites itself each second on a
terminal (printed once elsewhere). ``--json``: one JSON line on stdout for scripts::

    {"event": "device_code", "verification_uri", "user_code", "verification_uri_complete",
     "expires_in", "interval"}

then the usual login document.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import TextIO

from workbench.commands.output import emit, emit_styled, field
from workbench.core.auth.oauth2_device_code import DevicePrompt
from workbench.core.qr import qr_lines, spaced_code
from workbench.core.text import escape_control

QR_STYLE = "30;47"  # black modules on a white ground, whatever the terminal's colours
CODE_STYLE = "1;7"  # bold, reversed: the user code stands out


def countdown_text(seconds: float) -> str:
    left = max(0, int(seconds))
    return f"  code expires in {left // 60}:{left % 60:02d} — waiting for approval (Ctrl-C cancels)"


class DeviceCodeDisplay:
    """The callback the device flow calls with its prompt; ``stop()`` ends the countdown."""

    def __init__(self, *, as_json: bool = False, stream: TextIO | None = None) -> None:
        self.as_json = as_json
        self.stream = stream
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.prompt: DevicePrompt | None = None

    @property
    def out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stderr

    def __call__(self, prompt: DevicePrompt) -> None:
        self.prompt = prompt
        if self.as_json:
            event = {
                "event": "device_code",
                "verification_uri": prompt.verification_uri,
                "user_code": prompt.user_code,
                "verification_uri_complete": prompt.verification_uri_complete,
                "expires_in": prompt.expires_in,
                "interval": prompt.interval,
            }
            emit(json.dumps(event, ensure_ascii=True), flush=True)
            return
        out = self.out
        emit("To log in, open this URL on any device and enter the code:", out)
        emit(f"  {field(prompt.verification_uri)}", out)
        emit_styled([f"  {spaced_code(prompt.user_code)}  "], CODE_STYLE, out)
        if prompt.verification_uri_complete:  # 24 lines in all for a typical URL: fits 80x24
            emit("or scan this QR code (it opens the page with the code filled in):", out)
            emit_styled(qr_lines(escape_control(prompt.verification_uri_complete)), QR_STYLE, out)
        deadline = time.monotonic() + prompt.expires_in
        if getattr(out, "isatty", lambda: False)():
            self._thread = threading.Thread(
                target=self._count, args=(deadline,), daemon=True, name="device-countdown"
            )
            self._thread.start()
        else:
            emit(countdown_text(prompt.expires_in), out)

    def _count(self, deadline: float) -> None:
        while True:
            emit(countdown_text(deadline - time.monotonic()), self.out, end="\r", flush=True)
            if self._stop.wait(1.0):
                return

    def stop(self) -> None:
        """End the countdown line (on a terminal), leaving the cursor on a fresh line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
            emit("", self.out)
