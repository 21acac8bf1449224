"""Disk full while writing, and a test command that prints 100 MB."""

from __future__ import annotations

import json
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from ..conftest import Project, clean_env
from .test_kill import everything


def limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an EFBIG error instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_disk_full_fails_clearly_and_keeps_the_previous_state(project: Project) -> None:
    project.covtui("scan", check=True)
    before = everything(project.db)
    lcov = project.root / "big.info"
    # A real report, made large: coverage.py's lcov output for many copies of the package,
    # enough that the write-ahead log alone outgrows the limit below (the database has grown
    # with the schema, and the limit is counted from its size).
    for i in range(1000):
        project.write(f"pkg/copy{i}.py", (project.root / "pkg" / "calc.py").read_text())
    subprocess.run([sys.executable, "-m", "coverage", "run", "--branch", "--source=pkg", "-m", "pytest", "-q"],
                   cwd=project.root, env=clean_env(), check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "coverage", "lcov", "-o", str(lcov)],
                   cwd=project.root, env=clean_env(), check=True, capture_output=True)
    sizes = [p.stat().st_size for p in project.db.parent.glob("covtui.db*")]
    proc = subprocess.run(
        [sys.executable, "-m", "covtui", "ingest", str(lcov)],
        cwd=project.root, env=clean_env(), capture_output=True, text=True,
        preexec_fn=limit_file_size(max(sizes) + 8192),
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "covtui.db" in lines[0] and ("full" in lines[0] or "disk" in lines[0]), lines[0]
    assert everything(project.db) == before
    # And with room again, the next write works without any cleanup.
    project.covtui("ingest", str(lcov), check=True)
    with sqlite3.connect(project.db) as conn:
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == len(before) + 1


def test_a_command_printing_100_mb_keeps_memory_bounded(project: Project, tmp_path: Path) -> None:
    printer = project.write("printer.py", """
        import sys
        line = "x" * 1023 + "\\n"
        for _ in range(100 * 1024):
            sys.stdout.write(line)
        print("the last line")
        open("cov.info", "w").write("SF:pkg/calc.py\\nDA:2,1\\nDA:3,0\\nend_of_record\\n")
    """)
    project.write("covtui.toml", f"""
        [[sources]]
        name = "noisy"
        command = "{sys.executable} {printer}"
        report = "cov.info"
    """)
    usage = tmp_path / "usage.json"
    subprocess.run(
        [sys.executable, "-m", "covtui.scan.measure", str(usage), "--",
         sys.executable, "-m", "covtui", "scan", "-q"],
        cwd=project.root, env=clean_env(), check=True, capture_output=True,
    )
    peak_mb = json.loads(usage.read_text())["peak_rss_kb"] / 1024
    assert peak_mb < 150, f"peak memory {peak_mb:.0f} MB while 100 MB went by"
    with sqlite3.connect(project.db) as conn:
        tail, status = conn.execute("SELECT output_tail, status FROM source_results").fetchone()
    assert status == "ok"
    assert tail.endswith("the last line") and len(tail) <= 20_000
