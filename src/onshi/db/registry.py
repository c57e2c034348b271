"""Import every domain's models so ``Base.metadata`` is complete (Alembic, tests)."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from onshi.db.base import Base

# Each domain package with a ``models`` module is listed here once.
MODEL_MODULES: tuple[str, ...] = ()


def load_all_models() -> MetaData:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
