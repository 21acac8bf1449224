"""What every command shares: the project and database options, the context, error handling."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path

import click
from rich.text import Text

from covtui.cli.render import err_console
from covtui.config import Config, load_config
from covtui.display import printable
from covtui.errors import CovtuiError
from covtui.signals import Interrupted, run_stoppable


def fail(message: str, code: int = 2) -> None:
    err_console.print(Text(f"covtui: error: {printable(message)}"))
    sys.exit(code)


def handles_errors(func: Callable) -> Callable:
    """User mistakes become one line on stderr and a non-zero exit, never a traceback."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CovtuiError as exc:
            fail(str(exc), exc.exit_code)
        except sqlite3.Error as exc:
            fail(f"database error: {exc}")
        except Interrupted as exc:
            try:
                err_console.print(f"covtui: {exc}")
            except OSError:
                pass  # the terminal that closed took stderr with it
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            err_console.print("covtui: interrupted")
            sys.exit(130)

    return wrapper


def run(coro: Awaitable):
    """Run `coro`; SIGINT, SIGTERM and SIGHUP cancel it cleanly and exit 130, 143 or 129."""
    return run_stoppable(coro)


class Context:
    def __init__(self, project: Path | None = None, db: Path | None = None) -> None:
        self.project = project
        self.db = db
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.project)
            if self.db is not None:
                self._config.database = str(self.db.resolve())
        return self._config

    @property
    def db_path(self) -> Path:
        return self.config.database_path


pass_ctx = click.make_pass_decorator(Context)


def _set_context(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        setattr(ctx.ensure_object(Context), param.name, value)


def project_options(command):
    """`--db` and `--project`, taken before the subcommand or after it (the later one wins)."""
    command = click.option(
        "--db", type=click.Path(path_type=Path, dir_okay=False), expose_value=False,
        callback=_set_context, help="Monitoring database (default from config: .covtui/covtui.db).",
    )(command)
    return click.option(
        "--project", type=click.Path(path_type=Path, file_okay=False, exists=True),
        expose_value=False, callback=_set_context,
        help="Project directory (default: the current one).",
    )(command)

