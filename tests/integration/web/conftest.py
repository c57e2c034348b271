"""The real app over the migrated test database (SQLite, and PostgreSQL when configured).

Data is made with the factories through the ``db`` fixture and committed so the app's own
sessions see it; the ``db`` fixture empties every table afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine

from onshi.accounts.passwords import PasswordService
from onshi.app import create_app
from onshi.clock import FrozenClock
from onshi.settings import Settings
from tests.tlog_helpers import TEST_SIGNER

SECRET = "integration-secret-key-0123456789abcdef"


def web_settings(db_engine: Engine, **changes: object) -> Settings:
    settings = Settings(
        environment="test",
        database_url=db_engine.url.render_as_string(hide_password=False),
        secret_key=SECRET,
        my_number_key="integration-my-number-key-0123456789abcdef",
        secure_cookies=False,
        sign_in_attempts_per_window=3,
        sign_in_window_seconds=300,
        session_hours=8,
        session_idle_minutes=30,
        # The transparency log: the tests' key; entries are integrated by the tests that look
        # at positions (tests.tlog_helpers), not by a background thread racing the fixtures.
        tlog_signing_key=TEST_SIGNER.encode(),
        tlog_integrator=False,
    )
    return settings.with_(**changes) if changes else settings


# Cheap parameters: the factories' hashes use the defaults, so a sign-in also exercises rehash.
FAST_PASSWORDS = PasswordService(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def web_app(db_engine: Engine, clock: FrozenClock) -> Litestar:
    return create_app(web_settings(db_engine), clock, passwords=FAST_PASSWORDS)


@pytest.fixture
def client(web_app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(web_app) as test_client:
        yield test_client
