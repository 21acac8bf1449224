"""The store's SQL for PostgreSQL: the same statements, translated mechanically.

The store writes SQL that both backends run (ON CONFLICT upserts, coalesce, explicit casts);
what differs is spelling: `?` / `:name` placeholders become `%s` / `%(name)s`, SQLite's column
types become PostgreSQL's (`INTEGER PRIMARY KEY` an identity column, REAL double precision,
TEXT with byte-order collation, as SQLite compares), and planner hints SQLite alone knows
(`INDEXED BY`, a `CROSS JOIN` with `ON`) are dropped. Anything SQLite-only that has no
mechanical translation fails loudly here, never quietly on a server.
"""

from __future__ import annotations

import re
from functools import lru_cache


class NotPortable(ValueError):
    """SQL that only SQLite runs (a pragma, `INSERT OR REPLACE`, `json_each`, a typeless column)."""


# Things with no mechanical translation: the store must say them portably instead.
_SQLITE_ONLY = [
    (re.compile(r"\bPRAGMA\b", re.I), "PRAGMA"),
    (re.compile(r"\bINSERT\s+OR\b", re.I), "INSERT OR … (use ON CONFLICT)"),
    (re.compile(r"\bREPLACE\s+INTO\b", re.I), "REPLACE INTO (use ON CONFLICT)"),
    (re.compile(r"\bAUTOINCREMENT\b", re.I), "AUTOINCREMENT"),
    (re.compile(r"\)\s*STRICT\b", re.I), "STRICT tables"),
    (re.compile(r"\bCOLLATE\s+NOCASE\b", re.I), "COLLATE NOCASE"),
    (re.compile(r"\b(rowid|_rowid_)\b", re.I), "rowid"),
    (re.compile(r"\b(ifnull|group_concat|strftime|julianday|datetime|printf|instr|typeof|"
                r"json_each|json_extract|total|glob|iif|unixepoch|last_insert_rowid|changes)\s*\(",
                re.I), "an SQLite-only function"),
    (re.compile(r"\bCREATE\s+(VIRTUAL\s+TABLE|TRIGGER)\b", re.I), "CREATE VIRTUAL TABLE / TRIGGER"),
    (re.compile(r"\b(ATTACH|DETACH)\s+", re.I), "ATTACH"),
    (re.compile(r"\bWHERE\s+[01]\s*(?:$|\)|ORDER|GROUP|LIMIT|AND|OR)", re.I), "WHERE 0/1 (use a comparison)"),
]

_TYPES = {"INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION", "TEXT": 'TEXT COLLATE "C"', "BLOB": "BYTEA"}
_TABLE_CONSTRAINTS = ("PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "CONSTRAINT")

_STRING_OR_CODE = re.compile(r"('(?:[^']|'')*')|([^']+)", re.S)
_PLACEHOLDER = re.compile(r"(?<![:\w])(\?|:[A-Za-z_]\w*)|%")


def _check_portable(sql: str) -> None:
    code = " ".join(m.group(2) or "''" for m in _STRING_OR_CODE.finditer(sql))
    code = re.sub(r"\)\s*WITHOUT\s+ROWID\s*$", ")", code, flags=re.I)  # (translated: dropped)
    for pattern, what in _SQLITE_ONLY:
        if pattern.search(code):
            raise NotPortable(f"SQLite-only SQL ({what}) has no PostgreSQL translation: {_short(sql)}")


def _short(sql: str) -> str:
    return " ".join(sql.split())[:200]


@lru_cache(maxsize=1024)
def query(sql: str) -> str:
    """One statement of the store's, as psycopg takes it."""
    _check_portable(sql)
    if re.match(r"\s*(CREATE|ALTER)\b", sql, re.I):
        sql = ddl(sql)
    sql = re.sub(r"\s+INDEXED\s+BY\s+\w+", "", sql, flags=re.I)
    sql = re.sub(r"\bCROSS\s+JOIN\b", "JOIN", sql, flags=re.I)
    out = []
    for m in _STRING_OR_CODE.finditer(sql):
        if m.group(1) is not None:
            out.append(m.group(1).replace("%", "%%"))
            continue
        out.append(_PLACEHOLDER.sub(_placeholder, m.group(2)))
    return "".join(out)


def _placeholder(m: re.Match) -> str:
    token = m.group(1)
    if token is None:
        return "%%"
    return "%s" if token == "?" else f"%({token[1:]})s"


def migration(script: str) -> list[str]:
    """One of schema.MIGRATIONS, as PostgreSQL statements (NotPortable if it can't be)."""
    script = re.sub(r"--[^\n]*", "", script)
    return [query(s.strip()) for s in script.split(";") if s.strip()]


def ddl(statement: str) -> str:
    """CREATE TABLE / CREATE INDEX / ALTER TABLE … ADD COLUMN with PostgreSQL's types."""
    s = statement.strip()
    s = re.sub(r"\)\s*WITHOUT\s+ROWID\s*$", ")", s, flags=re.I)
    if m := re.match(r"(CREATE\s+(?:TEMP(?:ORARY)?\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?\w+\s*)\((.*)\)$",
                     s, re.I | re.S):
        head, body = m.groups()
        return f"{head}({', '.join(_column(c) for c in _split_top_level(body))})"
    if m := re.match(r"(ALTER\s+TABLE\s+\w+\s+ADD\s+COLUMN\s+)(.*)$", s, re.I | re.S):
        return m.group(1) + _column(m.group(2))
    if re.match(r"CREATE\s+(UNIQUE\s+)?INDEX\b", s, re.I):
        return s
    raise NotPortable(f"a schema statement covtui cannot translate: {_short(s)}")


def _split_top_level(body: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return [p.strip() for p in parts if p.strip()]


def _column(definition: str) -> str:
    words = definition.split()
    if words[0].upper() in _TABLE_CONSTRAINTS:
        return definition
    if len(words) < 2 or words[1].upper() not in _TYPES:
        raise NotPortable(
            f"column {words[0]!r} needs one of the types {', '.join(_TYPES)}: {_short(definition)}"
        )
    rest = " ".join(words[2:])
    if words[1].upper() == "INTEGER" and re.match(r"PRIMARY\s+KEY\b", rest, re.I):
        # SQLite's rowid alias: ids handed out one past the largest, or given explicitly.
        return f"{words[0]} BIGINT GENERATED BY DEFAULT AS IDENTITY {rest}"
    return f"{words[0]} {_TYPES[words[1].upper()]}" + (f" {rest}" if rest else "")
