"""CSV cells that a spreadsheet cannot run: the one writer every CSV export uses.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
spreadsheet software as a formula (CSV or formula injection: ``=HYPERLINK(...)``,
``@SUM(...)``, DDE payloads). Following the OWASP "CSV Injection" guidance, such a cell is
written with a leading single quote (``'=1+1``), which spreadsheets show as text and which keeps
the value readable. A plain number such as ``-12`` or ``-0.5`` is left as it is: it cannot carry
a formula.

Every CSV export builds its writer with :func:`csv_writer` (or passes each cell through
:func:`neutralise`), never with ``csv.writer`` directly; docs/CONTRIBUTING.md says so.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Final, Protocol

FORMULA_TRIGGERS: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def neutralise(value: object) -> str:
    """The cell as text, with a leading ``'`` when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS) and _PLAIN_NUMBER.fullmatch(text) is None:
        return "'" + text
    return text


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through :func:`neutralise` (header included)."""

    def __init__(self, stream: _Writable, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: _Writable, **options: Any) -> SafeCsvWriter:
    """The writer for every CSV export (same options as :func:`csv.writer`)."""
    return SafeCsvWriter(stream, **options)
