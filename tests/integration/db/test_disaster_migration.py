"""0012_disaster_mode: the declaration tables, their checks, and the way back down (SQLite and
PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from onshi.db.migrate import downgrade, upgrade

_STAFF = (
    "INSERT INTO staff_accounts (id, login_id, display_name, password_hash, role,"
    " is_institution_admin, emergency_permission, active, created_at, is_insurer_admin,"
    " must_change_password) VALUES (1, 'admin1', 'a', 'x', 'administrator', false, false, true,"
    " '2026-04-01 00:00:00', false, false)"
)
_DECLARATION = (
    "INSERT INTO disaster_declarations (id, title, reason, starts_at, ends_at, declared_by,"
    " created_at) VALUES (:id, 't', '', '2026-04-01 00:00:00', :ends, 1, '2026-04-01 00:00:00')"
)


def test_upgrade_creates_the_tables_with_their_checks_and_downgrade_drops_them(
    db_url: str,
) -> None:
    upgrade(db_url, "0012_disaster_mode")
    engine = create_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"disaster_declarations", "disaster_prefectures"} <= tables
        with engine.begin() as connection:
            connection.execute(text(_STAFF))
            connection.execute(text(_DECLARATION), {"id": 1, "ends": None})
            connection.execute(text("INSERT INTO disaster_prefectures VALUES (1, '13'), (1, '47')"))
        for statement, values in (
            (_DECLARATION, {"id": 2, "ends": "2026-03-31 00:00:00"}),  # end before start
            ("INSERT INTO disaster_prefectures VALUES (1, '48')", {}),  # no such prefecture
            ("INSERT INTO disaster_prefectures VALUES (1, '13')", {}),  # twice
            ("INSERT INTO disaster_prefectures VALUES (9, '14')", {}),  # no declaration
        ):
            with engine.begin() as connection:
                if engine.dialect.name == "sqlite":
                    connection.execute(text("PRAGMA foreign_keys = ON"))
                with pytest.raises(IntegrityError):
                    connection.execute(text(statement), values)
        with pytest.raises(IntegrityError), engine.begin() as connection:  # end needs who
            connection.execute(
                text("UPDATE disaster_declarations SET ended_at = '2026-04-02 00:00:00'")
            )
    finally:
        engine.dispose()
    downgrade(db_url, "0009_transparency_log")
    engine = create_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert "disaster_declarations" not in tables
        assert "disaster_prefectures" not in tables
    finally:
        engine.dispose()
