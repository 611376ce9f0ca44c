"""F1: keys and where things are."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]IoT Workbench[/b] — keys (every action is also in the command palette, Ctrl+P)

[b]Everywhere[/b]
  F1        this help              Ctrl+P   command palette
  Ctrl+Q    quit                   Escape   back / close

[b]Profile picker[/b]
  type      filter                 ↑ ↓      move
  Enter     open (log in)          Ctrl+N   new profile from a template

[b]Main screen[/b]
  1 / 2 / 3 / 4  device tree / token inspector / request composer / collections
  F2        back to the profiles   Escape   leave a text field
  t         auth timeline of this session
  /         filter the device tree
  Enter     on a tree node: open its request in the composer
  Ctrl+S    send the request       Escape   cancel a running request
  Ctrl+R    refresh the token now  f        search in the response body
  w         wrap the body          s        save the body to a file
  Ctrl+B    save the request into a collection

[b]Collections[/b] (tab 4)
  Enter     open the request in the composer
  r         replay the request     R        replay the whole collection
  d         delete the request (asks first)
  o         open a collection file F5 / l   reload the files

Remap keys in ~/.config/iot-workbench/keymap.toml: binding id = "keys", e.g. "main.request" = "f3"
(ids: app.*, picker.*, login.*, main.*, token.*, composer.*, collections.*). No mouse needed; works over SSH and at 80x24.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(HELP)
