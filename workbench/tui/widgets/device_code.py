"""The device-code login's panel (RFC 8628): the verification URI, the user code in large
type, the QR code of ``verification_uri_complete`` (half blocks, black on white so it scans
on any theme) and a countdown to the code's expiry. The login screen shows it while its
worker polls; Escape there cancels.

At 80x24 the QR (37x19 for a typical URL) sits left of the words; the panel takes the
screen's body while it is shown (the login form and timeline come back afterwards).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from workbench.core.qr import qr_lines, spaced_code
from workbench.core.text import escape_control

if TYPE_CHECKING:
    from workbench.core.auth.oauth2_device_code import DevicePrompt


def countdown_words(seconds: float) -> str:
    left = max(0, int(seconds))
    return f"code expires in {left // 60}:{left % 60:02d}"


class DeviceCodePanel(Horizontal):
    """Shows one device prompt; ``show(prompt)`` starts its countdown, ``clear()`` ends it."""

    DEFAULT_CSS = """
    DeviceCodePanel { height: auto; display: none; padding: 0 1; }
    DeviceCodePanel.-shown { display: block; layout: horizontal; }
    DeviceCodePanel #device-qr { width: auto; height: auto; margin-right: 2; }
    DeviceCodePanel #device-words { width: 1fr; height: auto; }
    DeviceCodePanel #device-user-code { margin: 1 0; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.prompt: DevicePrompt | None = None
        self._deadline = 0.0

    def compose(self) -> ComposeResult:
        yield Static("", id="device-qr")
        with Vertical(id="device-words"):
            yield Static("", id="device-uri")
            yield Static("", id="device-user-code")
            yield Static("", id="device-countdown")
            yield Static(
                Text("Waiting for approval… Escape cancels.", style="dim"), id="device-help"
            )

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def show(self, prompt: DevicePrompt) -> None:
        self.prompt = prompt
        self._deadline = time.monotonic() + prompt.expires_in
        if prompt.verification_uri_complete:
            qr = Text("\n".join(qr_lines(escape_control(prompt.verification_uri_complete))))
            qr.stylize("black on white")
            self.query_one("#device-qr", Static).update(qr)
            self.query_one("#device-qr", Static).display = True
        else:
            self.query_one("#device-qr", Static).display = False
        self.query_one("#device-uri", Static).update(
            Text.assemble(
                ("Open this URL on any device", "bold"),
                " (or scan the code):\n",
                (escape_control(prompt.verification_uri), "cyan underline"),
                "\nsign in and enter:",
            )
        )
        self.query_one("#device-user-code", Static).update(
            Text(f" {spaced_code(escape_control(prompt.user_code))} ", style="bold reverse")
        )
        self.add_class("-shown")
        self._tick()

    def clear(self) -> None:
        self.prompt = None
        self.remove_class("-shown")

    def _tick(self) -> None:
        if self.prompt is None:
            return
        self.query_one("#device-countdown", Static).update(
            Text(countdown_words(self._deadline - time.monotonic()), style="yellow")
        )
