"""The coverage progression report, split as coverage.py splits its reporters: `data` gathers
what it says, `markdown` and `json` render it, `output` writes it safely."""

from covtui.report.data import ReportData, build_report, parse_since
from covtui.report.json import render_json, render_json_text
from covtui.report.markdown import md_code, md_escape, render_markdown
from covtui.report.output import output_target, write_atomic

__all__ = [
    "ReportData", "build_report", "md_code", "md_escape", "output_target", "parse_since",
    "render_json", "render_json_text", "render_markdown", "write_atomic",
]
