"""Safe XML input for the Cobertura and JUnit readers: defusedxml, a size cap, one-line errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml

from covtui.errors import InputError

MAX_BYTES = 1 << 30  # refuse reports over 1 GiB


@contextlib.contextmanager
def xml_errors(path: Path) -> Iterator[None]:
    """Refuse files over the cap, and turn I/O, attack and parse errors into `InputError`."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(path, "larger than 1 GiB; refusing to read it")
        yield
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    except defusedxml.DefusedXmlException as exc:
        raise InputError(path, f"unsafe XML refused ({type(exc).__name__})") from None
    except ParseError as exc:
        raise InputError(path, f"not well-formed XML: {exc}") from None


def tag(elem: Element) -> str:
    """An element's tag without its namespace."""
    return elem.tag.rsplit("}", 1)[-1] if isinstance(elem.tag, str) else ""
