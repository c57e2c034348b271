"""Writes to the SIMULATED J-LIS: loading a checked resident file (one transaction, audited).
Services flush and never commit; the command owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import Clock
from onshi.jlis.loading import ResidentRow
from onshi.jlis.models import SimulatedJlisResident

_CHUNK = 500
_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "address",
    "prefecture_code",
)


@dataclass(frozen=True)
class LoadSummary:
    added: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged


def load_residents(
    db: Session, clock: Clock, rows: Sequence[ResidentRow], *, source: str
) -> LoadSummary:
    """Add each row's resident, or bring an existing resident with the same 個人番号 up to the
    row (the file is the registry's current record: a move changes the address). Loading the
    same file twice changes nothing the second time. One audit event names the counts."""
    added = updated = unchanged = 0
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        existing = {
            record.my_number_hash: record
            for record in db.scalars(
                select(SimulatedJlisResident).where(
                    SimulatedJlisResident.my_number_hash.in_([row.my_number_hash for row in chunk])
                )
            )
        }
        for row in chunk:
            record = existing.get(row.my_number_hash)
            if record is None:
                db.add(
                    SimulatedJlisResident(
                        my_number_hash=row.my_number_hash,
                        postal_code=None,
                        **{name: getattr(row, name) for name in _FIELDS},
                    )
                )
                added += 1
                continue
            changed = False
            for name in _FIELDS:
                if getattr(record, name) != getattr(row, name):
                    setattr(record, name, getattr(row, name))
                    changed = True
            if changed:
                updated += 1
            else:
                unchanged += 1
        db.flush()
    summary = LoadSummary(added, updated, unchanged)
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.SYSTEM,
        actor_id="simulated-jlis load",
        action="jlis.residents_loaded",
        object_type="sim_jlis_residents",
        object_id=source[:200],
        details={"added": added, "updated": updated, "unchanged": unchanged},
    )
    return summary
