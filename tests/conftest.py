"""Suite-wide pytest configuration for unit and integration tests.

Database fixtures (``db_url`` on SQLite, and on PostgreSQL when ``ONSHI_TEST_DATABASE_URL`` is
set) live in ``tests/integration/conftest.py``; factories in ``tests/factories.py``.
"""

from __future__ import annotations

import pytest

from onshi.devtools.pytest_ci import register


def pytest_configure(config: pytest.Config) -> None:
    register(config)
