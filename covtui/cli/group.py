"""The command group: imports a command's module only when that command is asked for, and turns
a user's mistake into one line on stderr and an exit code, never a traceback."""

from __future__ import annotations

import importlib
import sys

import click


class CommandGroup(click.Group):
    """A group whose commands live in modules of their own, named in `lazy_commands`
    (command name -> "package.module:attribute"), and which reports errors once for all of them.
    """

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            module_name, attribute = self.lazy_commands[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _stderr().print("covtui: interrupted")
            sys.exit(130)
        except Exception as exc:
            exit_on_user_error(exc)
            raise


def exit_on_user_error(exc: BaseException) -> None:
    """Exit with one line on stderr when `exc` is the user's to fix (bad input, config or
    database) or a stop signal; return for anything else (a bug keeps its traceback)."""
    from covtui.errors import CovtuiError

    if isinstance(exc, CovtuiError):
        fail(str(exc), exc.exit_code)
    # An exception of a module not yet imported cannot be this one: don't import it to ask.
    if (sqlite3 := sys.modules.get("sqlite3")) and isinstance(exc, sqlite3.Error):
        fail(f"database error: {exc}")
    if (signals := sys.modules.get("covtui.signals")) and isinstance(exc, signals.Interrupted):
        try:
            _stderr().print(f"covtui: {exc}")
        except OSError:
            pass  # the terminal that closed took stderr with it
        sys.exit(exc.exit_code)


def fail(message: str, code: int = 2) -> None:
    from rich.text import Text

    from covtui.display import printable

    _stderr().print(Text(f"covtui: error: {printable(message)}"))
    sys.exit(code)


def _stderr():
    from covtui.cli.console import err_console

    return err_console
