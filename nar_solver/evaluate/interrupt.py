"""SIGINT and SIGTERM as an exception a long evaluation can catch, to keep what it has finished.

Python turns only SIGINT into KeyboardInterrupt; SIGTERM (what ``kill``, batch schedulers and
container stops send) kills the process where it stands, and with it every finished result. Inside
:func:`interruptible` both raise :class:`Interrupted` in the main thread, so ``evaluate`` and
``tune`` can write the report of what is done and exit with 128 + the signal's number (130, 143),
as a shell reports a process ended by that signal.

A signal that arrives inside :meth:`Guard.critical` (appending one finished result to the partial
file) is held until the block ends, so a result is never half written by us. Only the first signal
raises; more while the loop winds down are ignored, so the report of the first still gets written.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

#: The signals an evaluation turns into :class:`Interrupted`.
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):
    """A stop signal arrived; ``exit_code`` is 128 + its number."""

    def __init__(self, signum: int):
        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


class Guard:
    """The handler state: a signal during a critical block waits for the block's end."""

    def __init__(self) -> None:
        self._depth = 0
        self._pending: int | None = None
        self._raised = False

    def handle(self, signum, frame) -> None:  # noqa: ARG002 - the signal module's signature
        if self._raised:  # a second Ctrl-C while the report of the first is being made
            return
        if self._depth:
            self._pending = signum
            return
        self._raised = True
        raise Interrupted(signum)

    @contextlib.contextmanager
    def critical(self) -> Iterator[None]:
        """Hold stop signals until the block is done, then raise the held one."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if not self._depth and self._pending is not None:
            signum, self._pending = self._pending, None
            self._raised = True
            raise Interrupted(signum)


@contextlib.contextmanager
def interruptible() -> Iterator[Guard]:
    """SIGINT and SIGTERM raise :class:`Interrupted` inside the block (main thread only; elsewhere
    the block runs with the handlers as they are). The previous handlers come back afterwards."""
    guard = Guard()
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    for s in SIGNALS:
        signal.signal(s, guard.handle)
    try:
        yield guard
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
