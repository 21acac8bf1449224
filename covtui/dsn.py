"""Where the monitoring database is: a file path (SQLite) or a PostgreSQL URL, whose password
is never shown."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

SCHEMES = ("postgresql://", "postgres://")
MASK = "***"

# `scheme://user:password@`: the password ends at the last "@" before the host part.
_URL_PASSWORD = re.compile(r"(?i)\b(postgres(?:ql)?://[^:/@\s]*):([^/\s]*)@")
# `password=secret` in a URL's query or a libpq keyword string (quoted or not).
_KEYWORD_PASSWORD = re.compile(r"(?i)\b(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)")


def is_postgres(text: str) -> bool:
    return text.strip().lower().startswith(SCHEMES)


def mask_passwords(text: str) -> str:
    """`text` with every PostgreSQL password in it (URL or `password=` form) replaced by ***."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    return _KEYWORD_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}", text)


@dataclass(frozen=True, repr=False)
class PostgresTarget:
    """A PostgreSQL database, by its libpq URL. `str()` is the URL with its password masked:
    the only form that is ever printed. `conninfo` (with the password) goes to libpq only."""

    conninfo: str
    _secrets: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def parse(cls, url: str) -> PostgresTarget:
        url = url.strip()
        secrets = []
        try:
            parts = urlsplit(url)
        except ValueError as exc:  # "Invalid IPv6 URL", a port out of range
            from covtui.errors import StoreError

            raise StoreError(f"{mask_passwords(url)}: not a usable PostgreSQL URL: {exc}") from None
        if parts.password:
            secrets.append(unquote(parts.password))
        for m in _KEYWORD_PASSWORD.finditer(parts.query):
            secrets.append(unquote(m.group(2).strip("'")))
        return cls(url, tuple(s for s in secrets if s))

    def __str__(self) -> str:
        return self.scrub(self.conninfo)

    def __repr__(self) -> str:
        return f"PostgresTarget({str(self)!r})"

    @property
    def name(self) -> str:
        """What a status line calls it (a file's name, for SQLite)."""
        return str(self)

    def scrub(self, text: str) -> str:
        """`text` (an error message, a log line) with this database's password masked, however
        it got in."""
        text = mask_passwords(text)
        for secret in self._secrets:
            # (a one- or two-letter password would mask ordinary words: the patterns cover it)
            if len(secret) >= 3:
                text = text.replace(secret, MASK)
        return text


def database_target(value: str, root: Path) -> Path | PostgresTarget:
    """The database a config's or the command line's `database` names: a PostgreSQL URL, or
    a file path relative to `root`."""
    if is_postgres(value):
        return PostgresTarget.parse(value)
    return (root / value).resolve()
