"""Ending cleanly on SIGINT, SIGTERM and SIGHUP: cancel the work, then exit as shells expect."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

#: What a user (Ctrl-C), a service manager or a closing terminal sends to end covtui.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(Exception):
    """A stop signal ended the work; the process exits 128 + its number (130, 143, 129)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def on_stop_signals(callback: Callable[[int], None]) -> Callable[[], None]:
    """Call `callback(signum)` in the running loop on a stop signal; returns the undo."""
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, callback, sig)

    def undo() -> None:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)

    return undo


def run_stoppable(work: Awaitable[T]) -> T:
    """`asyncio.run(work)`, where a stop signal cancels `work` and then raises Interrupted.

    Cancelling is what ends a scan cleanly: it kills its command's process group, removes its
    temporary files and records the scan as cancelled before the cancel goes on.
    """

    async def main() -> T:
        task = asyncio.current_task()
        received: list[int] = []

        def stop(signum: int) -> None:
            if not received:  # a second signal waits for the first one's (bounded) cleanup
                received.append(signum)
                task.cancel()

        undo = on_stop_signals(stop)
        try:
            result = await work
        except asyncio.CancelledError:
            if received:
                raise Interrupted(received[0]) from None
            raise
        finally:
            undo()
        if received:  # the signal came as the work was ending: still stop here
            raise Interrupted(received[0])
        return result

    return asyncio.run(main())
