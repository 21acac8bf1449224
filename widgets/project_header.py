"""The header line: which project this is (name, path) and the git state of its latest snapshot."""

from __future__ import annotations

from pathlib import Path

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from covtui.display import printable
from covtui.domain.records import SnapshotRow
from covtui.query.dashboard import DashboardState

from .format import shorten_path

#: A commit is shown by its first characters, as `git log --oneline` does.
SHORT_COMMIT = 7


def home_path(path: Path) -> str:
    """`path` with the home directory written as "~"."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except (ValueError, RuntimeError):
        return str(path)


def git_parts(latest: SnapshotRow | None) -> list[tuple[str, str]]:
    """The branch, short commit and dirty mark the latest snapshot recorded (its git state
    when it was scanned: the header reads no git itself)."""
    if latest is None:
        return [("no snapshots yet", "$text-muted")]
    if latest.git_commit is None and latest.git_branch is None:
        return [("no git information", "$text-muted"), (f" · snapshot #{latest.id}", "$text-muted")]
    parts: list[tuple[str, str]] = []
    if latest.git_branch:
        parts.append((printable(latest.git_branch), "bold"))
    else:
        parts.append(("detached", "$text-muted"))
    if latest.git_commit:
        parts += [(" @ ", "$text-muted"), (printable(latest.git_commit[:SHORT_COMMIT]), "")]
    if latest.git_dirty:
        parts += [(" · ", "$text-muted"), ("● uncommitted changes", "bold $text-warning")]
    elif latest.git_dirty is False:
        parts.append((" · clean", "$text-muted"))
    parts.append((f" · at snapshot #{latest.id}", "$text-muted"))
    return parts


class ProjectHeader(Widget):
    """One line at the top of the main screen: project, path, branch @ commit, dirty mark."""

    DEFAULT_CSS = """
    ProjectHeader {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    state: reactive[DashboardState | None] = reactive(None, always_update=True)

    def __init__(self, name: str, path: Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.project_name = name
        self.project_path = path

    def render(self) -> Content:
        # Content.assemble takes text as text: a branch called "[bold]x" is shown as typed.
        git = [("loading…", "$text-muted")] if self.state is None else git_parts(self.state.latest)
        name = (printable(self.project_name), "bold $text-primary")
        component = self.state.component if self.state is not None else None
        if component is not None:  # the dashboard shows one component: said before anything else
            git = [(f"component {printable(component.name)}", "bold $text-warning"),
                   ("  (w: whole project)  ", "$text-muted"), *git]
        room = self.content_region.width - len(name[0]) - sum(len(text) for text, _ in git) - 5
        # The path gives way first (its end kept): the git state matters more at 80 columns.
        path = shorten_path(printable(home_path(self.project_path)), room) if room >= 20 else ""
        return Content.assemble(name, "  ", (path, "$text-muted"), "   " if path else " ", *git)
