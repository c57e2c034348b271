"""Database fixtures for integration tests, on SQLite and (when configured) PostgreSQL.

Every fixture below is parametrised over the backends through ``db_backend``: a test that uses
any of them runs once on SQLite and once on PostgreSQL. The PostgreSQL run is skipped only when
``ONSHI_TEST_DATABASE_URL`` is unset (CI sets it and fails on any skip); when it is set but the
server cannot be reached, the tests error.

Fixtures
    ``db_backend``  "sqlite" or "postgresql" (session scope).
    ``db_url``      URL of an EMPTY database (no tables) for this test: a fresh SQLite file, or
                    the session's scratch PostgreSQL database with its public schema recreated.
                    For migration tests and anything that builds its own schema.
    ``db_engine``   Engine on a database migrated to head once per session (``make_engine``,
                    the app's own settings).
    ``db_session_factory``  ``sessionmaker`` on ``db_engine`` (the app's factory).
    ``db``          A Session for one test. Tests may flush and commit; after the test every
                    table is emptied (the transparency log's tree state included), so tests
                    stay independent.
    ``clock``       A ``FrozenClock`` at 2026-04-01 00:00 UTC.

Two PostgreSQL databases are created per session on the server named by the variable
(``<prefix>_empty`` for ``db_url``, ``<prefix>_migrated`` for ``db_engine``) and dropped at the end.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from onshi.clock import FrozenClock
from onshi.db.engine import make_engine, make_session_factory
from onshi.db.migrate import upgrade
from onshi.settings import normalise_database_url

POSTGRES_ENV = "ONSHI_TEST_DATABASE_URL"
_KEEP_TABLES = frozenset({"alembic_version"})

BACKENDS = (
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not os.environ.get(POSTGRES_ENV),
            reason=f"PostgreSQL tests need {POSTGRES_ENV} (a server URL; databases are created)",
        ),
    ),
)


class _PostgresScratch:
    """Creates and drops the session's databases on the configured server."""

    def __init__(self, server_url: str) -> None:
        self.server_url = make_url(normalise_database_url(server_url))
        self.prefix = f"onshi_test_{os.getpid()}_{secrets.token_hex(3)}"
        self._admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self, suffix: str) -> str:
        name = f"{self.prefix}_{suffix}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self._admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture(scope="session")
def _postgres_scratch() -> Iterator[_PostgresScratch | None]:
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        yield None
        return
    scratch = _PostgresScratch(server_url)
    try:
        yield scratch
    finally:
        scratch.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


@pytest.fixture(scope="session")
def _postgres_empty_url(db_backend: str, _postgres_scratch: _PostgresScratch | None) -> str | None:
    if db_backend != "postgresql":
        return None
    assert _postgres_scratch is not None
    return _postgres_scratch.create("empty")


@pytest.fixture
def db_url(db_backend: str, tmp_path: Path, _postgres_empty_url: str | None) -> str:
    if db_backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    assert _postgres_empty_url is not None
    engine = create_engine(_postgres_empty_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return _postgres_empty_url


@pytest.fixture(scope="session")
def db_engine(
    db_backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    _postgres_scratch: _PostgresScratch | None,
) -> Iterator[Engine]:
    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'migrated.sqlite3'}"
    else:
        assert _postgres_scratch is not None
        url = _postgres_scratch.create("migrated")
    upgrade(url)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _reflected(db_engine: Engine) -> MetaData:
    metadata = MetaData()
    metadata.reflect(db_engine)
    return metadata


@pytest.fixture
def db_session_factory(db_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(db_engine)


@pytest.fixture
def db(
    db_session_factory: sessionmaker[Session], db_engine: Engine, _reflected: MetaData
) -> Iterator[Session]:
    session = db_session_factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
        _empty_all_tables(db_engine, _reflected)


def _empty_all_tables(engine: Engine, metadata: MetaData) -> None:
    tables = [t for t in reversed(metadata.sorted_tables) if t.name not in _KEEP_TABLES]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()
