"""Runs a command and writes what it cost (wall, CPU, peak memory) as JSON to a file.

`python -m covtui.scan.measure OUT -- CMD...`: a fresh process, so RUSAGE_CHILDREN counts
exactly the command and every descendant it waited for.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    out, sep, *command = argv
    assert sep == "--" and command
    started = time.perf_counter()
    try:
        child = subprocess.Popen(command)
    except OSError as exc:
        print(f"covtui: cannot run {command[0]!r}: {exc.strerror}", file=sys.stderr)
        return 127
    # Pass termination on to the command; the whole group is killed on timeout anyway.
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    signal.signal(signal.SIGINT, lambda *_: child.send_signal(signal.SIGINT))
    code = child.wait()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        json.dump(
            {
                "wall_s": time.perf_counter() - started,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "peak_rss_kb": usage.ru_maxrss,  # kilobytes on Linux
                "exit_code": code,
            },
            f,
        )
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
