"""Search in BodyView: find / find_next / find_previous over the display lines (in a worker
thread for long bodies), the matches by line, and moving between them. BodySearch is a mixin
of BodyView (which routes _Found to _set_matches)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from workbench.core.bodies import lines as bodies
from workbench.core.text import display_width

_SEARCH_IN_WORKER = 20_000  # lines: search in a worker beyond this


class BodySearch:
    """Search for BodyView (it provides the lines, SearchResult, _Found, run_worker,
    post_message, refresh and scroll_to_line)."""

    _lines: Sequence[str]
    _needle: str
    _case_sensitive: bool | None
    _matches: list[tuple[int, int]]
    _matches_by_line: dict[int, list[int]]
    _match_index: int
    _search_generation: int

    def find(self, needle: str, *, case_sensitive: bool | None = None) -> None:
        """Highlight every match of ``needle`` and scroll to the first; posts :class:`SearchResult`.

        ``case_sensitive=None`` is smart case (sensitive when the needle has capitals).
        """
        self._needle = needle
        self._case_sensitive = case_sensitive
        self._search_generation += 1
        generation = self._search_generation
        if not needle:
            self._set_matches([], "", keep=None)
            return
        lines = self._lines
        if len(lines) <= _SEARCH_IN_WORKER:
            self._set_matches(
                bodies.search(lines, needle, case_sensitive=case_sensitive), needle, keep=None
            )
            return

        def run() -> None:
            found = bodies.search(lines, needle, case_sensitive=case_sensitive)
            self.post_message(self._Found(generation, needle, found, None))

        self.run_worker(
            run,
            name="body-search",
            group="body-search",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def find_next(self) -> None:
        """Move to the next match (wrapping around); posts :class:`SearchResult`."""
        self._step_match(+1)

    def find_previous(self) -> None:
        """Move to the previous match (wrapping around); posts :class:`SearchResult`."""
        self._step_match(-1)

    def _refind(self) -> None:
        """Search again (the text changed), staying on the same match when it still exists."""
        current = (
            self._matches[self._match_index]
            if 0 <= self._match_index < len(self._matches)
            else None
        )
        needle = self._needle
        case_sensitive = self._case_sensitive
        lines = self._lines
        self._search_generation += 1
        generation = self._search_generation
        if len(lines) <= _SEARCH_IN_WORKER:
            found = bodies.search(lines, needle, case_sensitive=case_sensitive)
            self._set_matches(found, needle, keep=current)
            return

        def run() -> None:
            found = bodies.search(lines, needle, case_sensitive=case_sensitive)
            self.post_message(self._Found(generation, needle, found, current))

        self.run_worker(
            run,
            name="body-search",
            group="body-search",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def _extend_search(self, first_changed: int) -> None:
        """Search the lines from ``first_changed`` on again (streams)."""
        cut = bisect.bisect_left(self._matches, (first_changed, -1))
        del self._matches[cut:]
        tail = bodies.search(
            self._lines[first_changed:], self._needle, case_sensitive=self._case_sensitive
        )
        self._matches.extend((line + first_changed, col) for line, col in tail)
        self._index_matches()
        if self._match_index >= len(self._matches):
            self._match_index = len(self._matches) - 1

    def _index_matches(self) -> None:
        by_line: dict[int, list[int]] = {}
        for line, col in self._matches:
            by_line.setdefault(line, []).append(col)
        self._matches_by_line = by_line

    def _set_matches(
        self,
        matches: list[tuple[int, int]],
        needle: str,
        *,
        keep: tuple[int, int] | None,
        post: bool = True,
    ) -> None:
        self._matches = matches
        self._index_matches()
        if not matches:
            self._match_index = -1
        elif keep is not None:
            self._match_index = min(bisect.bisect_left(matches, keep), len(matches) - 1)
        else:
            self._match_index = 0
        self.refresh()
        if matches and keep is None:
            self._scroll_to_match()
        if post:
            self.post_message(self.SearchResult(self, needle, len(matches), self._match_index))

    def _step_match(self, step: int) -> None:
        if not self._matches:
            self.post_message(self.SearchResult(self, self._needle, 0, -1))
            return
        self._match_index = (self._match_index + step) % len(self._matches)
        self._scroll_to_match()
        self.refresh()
        self.post_message(
            self.SearchResult(self, self._needle, len(self._matches), self._match_index)
        )

    def action_find_next(self) -> None:
        self.find_next()

    def action_find_previous(self) -> None:
        self.find_previous()

    def _scroll_to_match(self) -> None:
        line, col = self._matches[self._match_index]
        text = self._lines[line] if line < len(self._lines) else ""
        cells = col if text.isascii() else display_width(text[:col])
        self.scroll_to_line(line, col=cells)
