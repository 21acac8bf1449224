"""Hostile names: markup, escape sequences, very long and non-UTF-8 names show literally."""

from __future__ import annotations

import json

from ..conftest import Project

NAMES = [
    "pkg/[red]x[/].py",
    "pkg/[@click=app.quit]y.py",
    "pkg/\x1b[2Jclear\x07.py",
    "pkg/" + "L" * 3000 + ".py",
]


def write_lcov(project: Project) -> bytes:
    records = b"".join(
        b"SF:" + name.encode() + b"\nDA:1,1\nDA:2,0\nend_of_record\n" for name in NAMES
    ) + b"SF:pkg/\xff\xfebad.py\nDA:1,0\nend_of_record\n"
    (project.root / "hostile.info").write_bytes(records)
    return records


def test_status_and_report_show_names_literally_and_no_escape_reaches_the_terminal(project: Project) -> None:
    write_lcov(project)
    project.covtui("ingest", "hostile.info", check=True)
    status = project.covtui("status", check=True).stdout
    report = project.covtui("report", check=True).stdout
    for out in (status, report):
        assert "\x1b" not in out and "\x07" not in out  # shown as \x1b, never sent raw
    assert "pkg/[red]x[/].py" in status
    assert "pkg/[@click=app.quit]y.py" in status
    assert "pkg/\\x1b[2Jclear\\x07.py" in status
    assert "\ufffdbad.py" in status  # undecodable bytes become U+FFFD, not a crash
    assert r"pkg/\[red\]x\[/\].py" in report  # Markdown-escaped
    data = json.loads(project.covtui("status", "--json", check=True).stdout)
    assert set(NAMES) <= set(data["files"]["lcov"])  # JSON keeps the exact names
