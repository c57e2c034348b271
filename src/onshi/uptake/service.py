"""One entry point for a table, whichever the source: the web pages and the command line both
call :func:`get_table`, so the figures on a page and in its download are the same."""

from __future__ import annotations

from datetime import date
from typing import cast

from sqlalchemy.orm import Session

from onshi.uptake import official, system
from onshi.uptake.tables import SOURCES, TABLES, Source, Table, TableName, check_choice


def get_table(db: Session, source: str, name: str, as_of: date) -> Table:
    chosen = cast(Source, check_choice(source, SOURCES, "source"))
    table_name = cast(TableName, check_choice(name, TABLES, "table"))
    month = system.usage_month_for(as_of)
    if chosen == "official":
        return official.table(table_name, as_of, month)
    return system.table(db, table_name, as_of, month)
