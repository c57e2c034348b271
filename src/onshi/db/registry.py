"""Import every domain's models so ``Base.metadata`` is complete (Alembic, tests)."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from onshi.db.base import Base

# Each domain package with a ``models`` module is listed here once.
MODEL_MODULES: tuple[str, ...] = (
    "onshi.identity.models",
    "onshi.qualification.models",
    "onshi.institutions.models",
    "onshi.devices.models",
    "onshi.accounts.models",
    "onshi.accounts.passkey_models",
    "onshi.verification.models",
    "onshi.consent.models",
    "onshi.records.models",
    "onshi.audit.models",
    "onshi.batch.models",
    "onshi.accounts.staff_passkey_models",
    "onshi.jlis.models",
    "onshi.registration.models",
    "onshi.uptake.models",
    "onshi.viewer.models",
    "onshi.viewer.disaster_models",
)


def load_all_models() -> MetaData:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
