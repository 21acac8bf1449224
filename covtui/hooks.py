"""The `on_alert` hook: each new alert goes to a command as JSON on stdin."""

from __future__ import annotations

import asyncio
import json
import shlex
import signal
from collections.abc import Callable, Iterable

from covtui.config import Config
from covtui.domain.model import Alert
from covtui.present.serialise import alert_json
from covtui.processes import reap, signal_group

HOOK_TIMEOUT_S = 30.0


async def run_alert_hook(
    config: Config, alerts: Iterable[Alert], log: Callable[[str], None]
) -> None:
    """Send each alert to `config.on_alert`; a failing hook is logged, never fatal."""
    if not config.on_alert:
        return
    try:
        argv = shlex.split(config.on_alert)
    except ValueError as exc:
        log(f"on_alert: cannot split the command: {exc}")
        return
    alerts = list(alerts)
    for i, alert in enumerate(alerts):
        payload = json.dumps(alert_json(alert)).encode()
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, cwd=config.root, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            log(f"on_alert: cannot run {argv[0]!r}: {exc.strerror}")
            return
        try:
            _, err = await asyncio.wait_for(process.communicate(payload), HOOK_TIMEOUT_S)
        except asyncio.TimeoutError:
            # The whole group: a child it left may hold the pipe open; then stop reading it.
            signal_group(process.pid, signal.SIGKILL)
            await reap(process, within=1.0)
            # A hook that hung once would hang again: the remaining alerts would cost a
            # timeout each, so they are not sent.
            not_sent = len(alerts) - i - 1
            log(
                f"on_alert: {argv[0]} took longer than {HOOK_TIMEOUT_S:g}s: its process group "
                "was killed"
                + (f"; {not_sent} more alert{'s' if not_sent != 1 else ''} not sent" if not_sent else "")
            )
            return
        except asyncio.CancelledError:  # covtui is being stopped: the hook goes with it
            signal_group(process.pid, signal.SIGKILL)
            await reap(process, within=1.0)
            raise
        if process.returncode != 0:
            detail = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
            log(f"on_alert: {argv[0]} exited with {process.returncode} {detail[0]}".rstrip())
