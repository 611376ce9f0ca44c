"""Replaying a collection from the browser: the thread worker that runs the requests with
workbench.core.collection.runner.Runner, the sessions it uses (the screen's, the app's, restored ones)
and the secret prompts it raises in a dialog. A mixin of CollectionBrowser."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.worker import get_current_worker

from workbench.core.errors import WorkbenchError
from workbench.tui.widgets.collection_browser.entries import Entry
from workbench.tui.widgets.dialogs import AskScreen

if TYPE_CHECKING:
    from workbench.core.collection.collection import Collection
    from workbench.core.collection.runner import RequestResult


class CollectionReplay:
    """The replay half of CollectionBrowser (which provides profile, session, captures,
    start_run / add_result / finish_run, notify, app and the _generation counter)."""

    profile: Any
    session: Any
    captures: dict[Path, dict[str, str]]
    _generation: int
    _secret_values: dict[str, str]
    _host_app: App[Any] | None

    def replay(self, entry: Entry, names: list[str] | None) -> None:
        """Replay `names` of the entry's collection (None: all of it, in order)."""
        if entry.collection is None:
            self.notify(
                entry.error.describe() if entry.error else "nothing to replay",
                title="cannot replay a broken file",
                severity="error",
            )
            return
        coll = copy.deepcopy(entry.collection)
        if not coll.requests:
            self.notify(f"{entry.path.name} has no requests", severity="warning")
            return
        indices = (
            list(range(len(coll.requests))) if names is None else [coll.index_of(n) for n in names]
        )
        title = coll.name if names is None else f"{coll.name} › {names[0]}"
        self._generation += 1
        self.start_run(title, len(indices))
        captures = {} if names is None else dict(self.captures.get(entry.path, {}))
        session_for, restored = self._session_for()
        self._replay(coll, indices, captures, entry.path, self._generation, session_for, restored)

    def _session_for(self) -> tuple[Callable[[str], Any], list[Any]]:
        """Built on the UI thread, called from the worker: profile name -> Session. The list
        gets the sessions it restored (the worker closes them when the replay ends)."""
        from workbench.core.errors import LoginRequired

        own = {self.profile.name: self.session}
        app = self.app
        others = dict(getattr(app, "sessions", None) or {})
        discovery = getattr(app, "discovery", None)
        failed: dict[str, WorkbenchError] = {}
        restored: list[Any] = []

        def session_for(name: str) -> Any:
            if name in own:
                return own[name]
            if others.get(name) is not None:
                return others[name]
            if name in failed:
                raise failed[name]
            from workbench.core.profiles import get_profile
            from workbench.core.session import Session

            try:
                profiles = getattr(discovery, "profiles", {}) or {}
                profile = profiles[name] if name in profiles else get_profile(name)
                session = Session.restore(profile, prompter=self._prompter)
                if session is None:
                    raise LoginRequired(
                        f"log in to {name} first",
                        hint=f"open the profile {name} and log in; replays then use its session",
                    )
            except WorkbenchError as err:
                failed[name] = err
                raise
            own[name] = session
            restored.append(session)
            return session

        return session_for, restored

    def _prompter(self, label: str, secret: bool) -> str:
        """Ask for a secret in a dialog (called from the worker thread; blocks it, not the UI)."""
        if label in self._secret_values:
            return self._secret_values[label]
        done = threading.Event()
        box: dict[str, str | None] = {}

        def answered(value: str | None) -> None:
            box["value"] = value
            done.set()

        app = self._host_app
        if app is None:
            return ""

        def ask() -> None:
            app.push_screen(AskScreen(label, password=secret), answered)

        worker = get_current_worker()
        if not _call(app, ask):
            return ""
        while not done.wait(0.1):
            if worker.is_cancelled:
                return ""
        value = box.get("value") or ""
        if value:
            self._secret_values[label] = value
        return value

    @work(thread=True, exclusive=True, group="collection-replay", exit_on_error=False)
    def _replay(
        self,
        coll: Collection,
        indices: list[int],
        captures: dict[str, str],
        path: Path,
        generation: int,
        session_for: Callable[[str], Any],
        restored: list[Any],
    ) -> None:
        from workbench.core.collection.runner import RequestResult, Runner
        from workbench.core.secrets import SecretResolver
        from workbench.core.text import escape_keep_newlines

        worker = get_current_worker()
        app = self._host_app
        if app is None:
            return
        resolver = SecretResolver(prompter=self._prompter)
        runner = Runner(
            coll,
            session_for=session_for,
            default_profile=coll.profile or self.profile.name,
            resolver=resolver,
        )
        base_vars: dict[str | None, dict[str, str]] = {}
        start = time.perf_counter()
        try:
            for i in indices:
                if worker.is_cancelled or generation != self._generation:
                    return
                req = coll.requests[i]
                try:
                    result = runner.run_one(i + 1, req, captures, base_vars)
                except WorkbenchError as err:
                    result = RequestResult(
                        index=i + 1,
                        name=req.name,
                        method=req.spec.method.upper(),
                        url=escape_keep_newlines(req.spec.url),
                        profile=req.profile or runner.default_profile,
                        error=escape_keep_newlines(runner.redactor(err.describe())),
                    )
                except Exception as exc:  # a bug: say so in the row rather than lose the run
                    result = RequestResult(
                        index=i + 1,
                        name=req.name,
                        method=req.spec.method.upper(),
                        url=escape_keep_newlines(req.spec.url),
                        profile=req.profile,
                        error=f"unexpected error: {type(exc).__name__}: {exc}",
                    )
                if not _call(app, self._add_if_current, generation, result):
                    return
        finally:
            runner.close()
            for session in restored:
                session.close()
        _call(app, self._finish, generation, path, captures, time.perf_counter() - start)

    def _add_if_current(self, generation: int, result: RequestResult) -> None:
        if generation == self._generation:
            self.add_result(result)

    def _finish(
        self, generation: int, path: Path, captures: dict[str, str], duration_s: float
    ) -> None:
        if generation != self._generation:
            return
        self.captures.setdefault(path, {}).update(captures)
        self.finish_run(duration_s)


def _call(app: App[Any], callback: Callable[..., Any], *args: Any) -> bool:
    """app.call_from_thread, False when the app is gone (closing while a replay runs)."""
    try:
        app.call_from_thread(callback, *args)
    except RuntimeError:
        return False
    return True
