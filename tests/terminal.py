"""The dashboard as people run it: `python -m covtui` as its own process in a pseudo-terminal
120x36, with a reader draining what it draws (a terminal reads, or the app blocks)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
import time
from pathlib import Path

from .conftest import clean_env


class Terminal:
    """`with Terminal(root) as term:` starts the dashboard; `term.screen` is every byte drawn."""

    def __init__(
        self, root: Path, env: dict[str, str] | None = None, args: list[str] | None = None
    ) -> None:
        self.root = root
        self.env = env or {}
        self.args = args or []
        self.screen = bytearray()

    def __enter__(self) -> Terminal:
        self.master, slave = pty.openpty()
        self.app = subprocess.Popen(
            [sys.executable, "-m", "covtui", *self.args], cwd=self.root,
            env={**clean_env(), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "36",
                 **self.env},
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
        )
        os.close(slave)
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self.app.poll() is None:
            self.app.kill()
            self.app.wait()
        os.close(self.master)

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.screen.extend(chunk)

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_until(self, predicate, timeout: float = 60.0, what: str = "a condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen ends:\n{self.tail()}")
            time.sleep(0.05)

    def wait_for_footer(self) -> None:
        """Until the footer is drawn (the app is up and takes keys)."""
        self.wait_until(lambda: b"Rescan" in self.screen, 60, "the footer")
        time.sleep(0.5)

    def tail(self) -> str:
        return bytes(self.screen[-3000:]).decode(errors="replace")
