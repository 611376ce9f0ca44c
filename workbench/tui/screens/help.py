"""F1: keys and where things are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.keys import key_to_character
from textual.screen import ModalScreen
from textual.widgets import Static

from workbench.core.text import escape_control
from workbench.tui.keymap import binding_scopes, bound_ids

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
            (not while a text field has the focus: there a digit is text)
  F6 F7 F8 F9  the same tabs, from anywhere (text fields too); Alt+1…4 as well
            where the terminal reports Alt (in a text field some send ¡ ™ £ ¢ instead)
  Ctrl+G    jump mode: every visible control gets a label; press it to go there
  F3        collections sidebar: show and go there / hide (shown from 130 columns)
  F4 / H    request history        a        API view: catalog operations
  F2        back to the profiles   t        auth timeline of this session
  Escape    leave a text field: back to the tab's main control (the URL: to the response)
  Ctrl+R    refresh the token now

[b]Device tree[/b] (tab 1)
  space     expand / collapse      Enter    open the node's request in the composer
  /         filter the tree        r        reload
  a         the API operations this node can fill

[b]Token inspector[/b] (tab 2)
  r refresh now · v verify · s show / hide (masked until asked) · c copy · n next
  p paste box (decode any token locally) · x clear it

[b]Request composer[/b] (tab 3)
  Ctrl+S    send the request       Escape   cancel a running request
  Ctrl+O    paste a curl command   Ctrl+B   save the request into a collection
  an API operation (from `a`): 📘 checks the request as edited, the response's schema

[b]Response[/b] (Escape from the URL, or Ctrl+G)
  f or /    search in the body     n / N    next / previous match
  w         wrap the body          s        save the body to a file
  h         headers / body         e        Sent: as sent, secrets masked
  v         select lines (arrows)  y or c   copy the selection (or the line)
  p         copy the line's JSONPath         P        copy its JSON value
  Y         the selection to a private file  Escape   clear the selection

[b]History[/b] (F4 or H)
  Enter     reopen in the composer space    mark (two entries)
  d         compare the two marked responses (n / N next / previous change,
            s side by side / unified)
  a         this profile / every profile     F5   reload

[b]API view[/b] (a)
  type      search path, summary, operationId, tag     ↓   to the list
  Enter     open the operation in the composer (path parameters filled)
  /         back to the search

[b]Collections[/b] (tab 4, or the F3 sidebar: Enter opens a request)
  Enter     open the request in the composer
  r         replay the request     R        replay the whole collection
  e         edit the request's checks        d   delete the request (asks first)
  o         open a collection file F5 / l   reload the files

Remap keys in ~/.config/iot-workbench/keymap.toml: binding id = "keys", e.g. "main.request" = "f12".
An unknown id, or a key another binding of the same screen (and pane) has, is reported and ignored.
No mouse needed; works over SSH and at 80x24.
"""


def readable_keys(keys: str) -> str:
    """ "f6,alt+1,inverted_exclamation_mark" -> "f6 alt+1 ¡": a key named after a printable
    character is shown as that character (slash, escape... keep their names)."""
    out = []
    for key in keys.split(","):
        key = key.strip()
        char = key_to_character(key) if len(key) > 1 and "+" not in key else None
        out.append(
            char
            if char and char.isprintable() and not char.isspace() and not char.isascii()
            else key
        )
    return " ".join(out)


def binding_table(
    scopes: Mapping[str, Sequence[Sequence[Binding]]], applied: Mapping[str, str]
) -> Text:
    """Every binding id, by screen, with its keys now; a remapped one says so (and its default).
    The keys come from the user's keymap file: escaped."""
    out = Text()
    out.append("Binding ids and their keys now\n", style="bold")
    for screen, rows in bound_ids(scopes).items():
        out.append(f"\n{screen}\n", style="bold")
        for binding_id, binding in rows:
            keys = applied.get(binding_id)
            shown = escape_control(readable_keys(keys or binding.key))
            out.append(f"  {binding_id:<22} ", style="cyan")
            out.append(f"{shown:<18}", style="bold" if keys else "")
            out.append(f" {binding.description}")
            if keys is not None:
                out.append(f"  (remapped; default {readable_keys(binding.key)})", style="yellow")
            out.append("\n")
    return out


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        applied = getattr(self.app, "keymap_applied", {})
        with VerticalScroll(id="dialog"):
            yield Static(HELP)
            yield Static(binding_table(binding_scopes(), applied), id="help-bindings")
