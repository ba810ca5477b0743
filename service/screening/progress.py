"""Progress of the evaluation: a bar on a terminal, plain lines otherwise.

On a TTY: ``evaluating [#########.........] 412/1,000 patients  152/s  4 s left``,
redrawn in place at most ten times a second. Otherwise (a log, CI) one plain line at
most every ``interval`` seconds and one at the end, so logs stay short.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress"]

_WIDTH = 24


class Progress:
    """Count finished patients out of ``total`` and show it on ``stream``."""

    def __init__(
        self,
        total: int,
        stream: TextIO,
        *,
        tty: bool | None = None,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.done = 0
        self._stream = stream
        self._tty = stream.isatty() if tty is None else tty
        self._interval = interval if not self._tty else 0.1
        self._clock = clock
        self._started = clock()
        self._shown = float("-inf")

    def rate(self) -> float:
        """Return patients per second so far."""
        elapsed = self._clock() - self._started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        """Return the progress text (without bar on a non-terminal)."""
        rate = self.rate()
        left = (self.total - self.done) / rate if rate > 0 else None
        eta = f"{left:,.0f} s left" if left is not None else "estimating"
        counts = f"{self.done:,}/{self.total:,} patients  {rate:,.0f}/s  {eta}"
        if not self._tty:
            return f"evaluating: {counts}"
        filled = int(_WIDTH * self.done / self.total) if self.total else _WIDTH
        return f"evaluating [{'#' * filled}{'.' * (_WIDTH - filled)}] {counts}"

    def advance(self, count: int) -> None:
        """Add ``count`` finished patients and redraw if it is time."""
        self.done += count
        now = self._clock()
        if now - self._shown >= self._interval:
            self._show()
            self._shown = now

    def finish(self) -> None:
        """Show the final state (and end the terminal line)."""
        self._show()
        if self._tty:
            self._stream.write("\n")
        self._stream.flush()

    def _show(self) -> None:
        if self._tty:
            self._stream.write("\r\x1b[2K" + self.line())
        else:
            self._stream.write(self.line() + "\n")
        self._stream.flush()
