"""The Alembic migrations build exactly the models' schema, and go back down, on both backends."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from onshi.audit.models import GENESIS_HASH
from onshi.cli import main
from onshi.db.migrate import alembic_config, downgrade, upgrade
from onshi.db.registry import load_all_models


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_every_model_table_and_downgrade_removes_them(db_url: str) -> None:
    expected = set(load_all_models().tables)

    upgrade(db_url)
    assert _tables(db_url) == expected | {"alembic_version"}

    downgrade(db_url, "base")
    assert _tables(db_url) == {"alembic_version"}

    upgrade(db_url)  # and up again from base
    assert _tables(db_url) == expected | {"alembic_version"}


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    upgrade(db_url)
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, load_all_models()) == []
    finally:
        engine.dispose()
    command.check(alembic_config(db_url))  # raises if autogenerate would emit anything


def test_migration_inserts_the_audit_chain_head(db_url: str) -> None:
    upgrade(db_url)
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, last_seq, last_hash FROM audit_chain_head")
            ).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [(1, 0, GENESIS_HASH)]


def test_onshi_migrate_command(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONSHI_ENV", "test")
    monkeypatch.setenv("ONSHI_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("ONSHI_MY_NUMBER_KEY", "m" * 40)
    monkeypatch.setenv("ONSHI_DATABASE_URL", db_url)

    assert main(["migrate"]) == 0

    assert "migrated" in capsys.readouterr().out
    assert set(load_all_models().tables) <= _tables(db_url)
