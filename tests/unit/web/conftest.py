"""An app over an empty SQLite file: enough for pages that read no data (headers, errors,
home, sign-in form)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from onshi.app import create_app
from onshi.settings import Settings


def make_settings(tmp_path: Path, **changes: object) -> Settings:
    base = Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'unit.sqlite3'}",
        data_dir=tmp_path,
        secret_key="unit-test-secret-key-0123456789abcdef",
        my_number_key="unit-test-my-number-key-0123456789abcdef",
        secure_cookies=False,
    )
    return base.with_(**changes) if changes else base


@pytest.fixture
def app(tmp_path: Path) -> Litestar:
    return create_app(make_settings(tmp_path))


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client
