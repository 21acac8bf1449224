"""What every command shares: the project and database options and the context they fill."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from covtui.config import Config
    from covtui.dsn import PostgresTarget
    from covtui.store import Store

T = TypeVar("T")


def run(coro: Awaitable):
    """Run `coro`; SIGINT, SIGTERM and SIGHUP cancel it cleanly and exit 130, 143 or 129."""
    from covtui.signals import run_stoppable

    return run_stoppable(coro)


class Context:
    def __init__(self, project: Path | None = None, db: str | None = None) -> None:
        self.project = project
        self.db = db
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from covtui.config import load_config

            self._config = load_config(self.project)
            if self.db is not None:
                self._config.database = _database_option(self.db)
        return self._config

    @property
    def db_path(self) -> Path | PostgresTarget:
        """The database: an SQLite file, or a PostgreSQL database (`str()` masks its password)."""
        return self.config.database_target

    def read(self, query: Callable[[Store], Awaitable[T]]) -> T:
        """`query`'s answer from the database opened read-only (run as `run` runs)."""
        from covtui.store import Store

        async def main() -> T:
            async with await Store.open(self.db_path, read_only=True) as store:
                return await query(store)

        return run(main())


def _database_option(value: str) -> str:
    """`--db`: a postgresql:// URL as given, a path from the current directory."""
    from covtui.dsn import is_postgres

    return value if is_postgres(value) else str(Path(value).resolve())


pass_ctx = click.make_pass_decorator(Context)


def _set_context(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        setattr(ctx.ensure_object(Context), param.name, value)


def project_options(command):
    """`--db` and `--project`, taken before the subcommand or after it (the later one wins)."""
    command = click.option(
        "--db", metavar="PATH|URL", expose_value=False, callback=_set_context,
        help="Monitoring database: a file, or a postgresql:// URL "
        "(default: $COVTUI_DATABASE, then the config's, then .covtui/covtui.db).",
    )(command)
    return click.option(
        "--project", type=click.Path(path_type=Path, file_okay=False, exists=True),
        expose_value=False, callback=_set_context,
        help="Project directory (default: the current one).",
    )(command)


