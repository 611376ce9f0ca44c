"""The IoT Workbench Textual app: a thin shell that routes between screens.

Screens and widgets call workbench.core; nothing here knows any platform.
Heavy modules (httpx, jwt, pygments) are imported only after the first frame.

The screens only ever run in this app: they reach it typed with
``app = getters.app(WorkbenchApp)`` (so this module imports no screen at import time).
Widgets do not assume this app: what they need from it (the clock, the sessions) is handed
down to them as attributes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen

from workbench.core.profiles import Profile, discover

if TYPE_CHECKING:
    from workbench.core.session import Session
    from workbench.tui.keymap import KeymapEntry
    from workbench.tui.screens.profile_picker import ProfilePicker


class WorkbenchApp(App[int]):
    CSS_PATH = Path(__file__).parent / "workbench.tcss"
    TITLE = "IoT Workbench"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("ctrl+p", "command_palette", "Commands", id="app.palette", show=False),
    ]

    def __init__(
        self,
        *,
        profiles_dir: str | Path | None = None,
        demo_url: str | None = None,
        demo_note: str | None = None,
        clock: Callable[[], float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.profiles_dir = profiles_dir
        self.demo_url = demo_url
        self.demo_note = demo_note
        """What the person should know about the demo cloud (it is not on its usual port)."""
        self.clock: Callable[[], float] = clock or time.time
        self.sessions: dict[str, Session] = {}
        """The logged-in sessions, by profile name."""
        self.discovery = discover(profiles_dir)
        self.keymap_applied: dict[str, str] = {}
        """The keymap entries in use (binding id -> keys), after the checks."""
        self.keymap_problems: list[str] = []
        """The keymap entries left out, in words ("path:line: ...")."""

    def get_default_screen(self) -> ProfilePicker:
        from workbench.tui.screens.profile_picker import ProfilePicker

        return ProfilePicker(self.discovery)

    def on_mount(self) -> None:
        if self.demo_url:
            self.sub_title = f"demo cloud on {self.demo_url}"
        self.load_keymap()
        self.call_after_refresh(self.freeze_startup_heap)

    @staticmethod
    def freeze_startup_heap() -> None:
        """After the first frame: move what startup made (modules, widgets, styles) out of the
        garbage collector's view, so a full collection while a 100 MB body is prepared walks
        only what was made since (it took 36-160 ms of UI stall, bench_big_body.py)."""
        import gc

        gc.collect()
        gc.freeze()

    def load_keymap(self) -> None:
        """Remapped keys from <config dir>/keymap.toml (binding id -> keys). A bad file is
        reported, not fatal; an unknown binding id or a key already bound on the same screen
        is reported with its file:line and left out (the rest of the keymap applies)."""
        from workbench.core.errors import ConfigError
        from workbench.tui.keymap import keymap_path, read_keymap

        path = keymap_path()
        try:
            entries = read_keymap(path)
        except ConfigError as err:
            self.notify(err.describe(), title="keymap ignored", severity="warning", timeout=10)
            return
        if not entries:
            return
        # In use at once; the checks import every screen (~0.4 s), so they run after the
        # first frame and then leave out what they refuse.
        self.keymap_applied = {e.id: e.keys for e in entries}
        self.set_keymap(self.keymap_applied)
        self.call_after_refresh(self.check_keymap, entries, str(path))

    def check_keymap(self, entries: list[KeymapEntry], path: str) -> None:
        from workbench.core.text import escape_control
        from workbench.tui.keymap import binding_scopes, check_keymap

        check = check_keymap(entries, binding_scopes(), path=path)
        self.keymap_applied = check.applied
        self.keymap_problems = check.problems
        self.set_keymap(check.applied)
        if check.problems:
            self.notify(
                "\n".join(escape_control(problem) for problem in check.problems),
                title="keymap: entries ignored",
                severity="warning",
                timeout=15,
                markup=False,
            )

    def key_of(self, binding: Binding) -> str:
        """The keys of ``binding`` now (the keymap's, when it remaps them), comma-separated."""
        return self.keymap_applied.get(binding.id or "", binding.key)

    def key_display_of(self, binding: Binding) -> str:
        """How the footer would show the first current key of ``binding``."""
        first = self.key_of(binding).split(",")[0].strip()
        return self.get_key_display(binding.with_key(first))

    def on_profile_picker_open(self, event: ProfilePicker.Open) -> None:
        self.open(event.profile)

    def open(self, profile: Profile) -> None:
        """Main screen when a session can be restored, else the login screen."""
        from workbench.tui.screens.login import LoginScreen

        self.push_screen(LoginScreen(profile))

    def show_main(self, profile: Profile, session: Session) -> None:
        from workbench.tui.screens.login import LoginScreen
        from workbench.tui.screens.main import MainScreen

        self.sessions[profile.name] = session
        if isinstance(self.screen, LoginScreen):
            self.switch_screen(MainScreen(profile, session))
        else:
            self.push_screen(MainScreen(profile, session))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette lists every action bound on the current screen, whatever has the focus
        (one in another tab of the main screen switches to that tab first), and every profile."""
        from textual.actions import parse

        from workbench.tui.keymap import bindings_of
        from workbench.tui.screens.main import MainScreen

        yield from super().get_system_commands(screen)
        seen: set[tuple[int, str]] = set()
        for node in [*screen.walk_children(with_self=True), self]:
            for binding in bindings_of(type(node)):
                if (
                    not binding.id
                    or not binding.description
                    or binding.action in ("command_palette", "quit")
                    or (id(node), binding.action) in seen
                    or (id(node), binding.description) in seen
                ):
                    continue
                _, name, params = parse(binding.action)
                if not node.check_action(name, params):
                    continue  # (1-4 in a text field: F6-F9 stand in for them)
                seen |= {(id(node), binding.action), (id(node), binding.description)}
                place = screen.where(node) if isinstance(screen, MainScreen) else ""
                yield SystemCommand(
                    binding.description,
                    f"key: {self.key_display_of(binding)}" + (f" · {place}" if place else ""),
                    partial(self.run_anywhere, screen, node, binding.action),
                )
        for name, profile in sorted(self.discovery.profiles.items()):
            yield SystemCommand(
                f"Open profile {name}",
                f"{profile.platform} · {profile.base_url}",
                partial(self.open, profile),
            )
        for name in sorted(self.sessions):
            yield SystemCommand(
                f"Log out of {name}",
                "forget the stored tokens of this profile",
                partial(self.logout, name),
            )

    def run_anywhere(self, screen: Screen[Any], node: DOMNode, action: str) -> None:
        """Run ``action`` on ``node``; first bring it into view when the screen can
        (the main screen switches to the tab that holds it)."""
        from workbench.tui.screens.main import MainScreen

        if isinstance(screen, MainScreen) and node is not self:
            screen.reveal(node)
            screen.call_after_refresh(self.run_action, action, node)
        else:
            self.call_later(self.run_action, action, node)

    def logout(self, name: str) -> None:
        """Revoke the tokens at the provider (RFC 7009) and forget them, in a worker thread
        (the revocation is network I/O); the outcome is told in a notification."""
        session = self.sessions.pop(name, None)
        self.notify(f"logging out of {name}…")
        self.run_worker(
            partial(self._logout_in_thread, name, session),
            thread=True,
            group="logout",
            exit_on_error=False,
        )

    def _logout_in_thread(self, name: str, session: Session | None) -> None:
        from workbench.core.errors import WorkbenchError
        from workbench.core.secrets import SecretResolver
        from workbench.core.session import Session
        from workbench.core.store import TokenStore

        words: list[str] = []
        failed = False
        profile = session.profile if session is not None else self.discovery.profiles.get(name)
        try:
            if session is None and profile is not None:
                session = Session(profile, resolver=SecretResolver())  # never prompts
            if session is not None:
                for r in session.revoke():
                    words.append(f"{r.token}: {r.detail}")
                    failed = failed or r.failed
                session.logout()
                session.close()
            else:
                TokenStore().delete(name)
        except WorkbenchError as err:
            words.append(f"the tokens could not be forgotten: {err.message}")
            failed = True
        text = "\n".join([f"logged out of {name}", *words])
        self.call_from_thread(
            self.notify, text, severity="warning" if failed else "information", markup=False
        )

    def action_help(self) -> None:
        from workbench.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())
