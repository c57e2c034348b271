"""Helpers for tests of the transparency log: a fixed test signing key, and integrating
(committed) entries on an engine."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from onshi.audit.integrator import integrate_pending
from onshi.audit.keys import LogIdentity
from onshi.audit.note import Signer
from onshi.audit.verify import VerifyReport, verify_log
from onshi.clock import Clock, FrozenClock

TEST_SIGNER = Signer("onshi.test/transparency", bytes(range(32)))
TEST_IDENTITY = LogIdentity(origin="onshi.test/transparency", signer=TEST_SIGNER)


def integrate(
    engine: Engine,
    clock: Clock | None = None,
    *,
    export: Path | None = None,
    limit: int = 5000,
) -> int:
    """Integrate every committed entry waiting (in as many batches of ``limit`` as needed)."""
    with engine.connect() as connection:
        return integrate_pending(
            connection, TEST_IDENTITY, clock or FrozenClock(), export=export, limit=limit
        )


def verify(engine: Engine, notes: list[str] | None = None) -> VerifyReport:
    with engine.connect() as connection:
        return verify_log(connection, TEST_IDENTITY, notes)
