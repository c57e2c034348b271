"""Read queries over reader devices."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.devices.models import DeviceStatus, ReaderDevice


def institution_devices(db: Session, institution_id: int) -> list[ReaderDevice]:
    """The institution's readers, active first, then by label."""
    return list(
        db.scalars(
            select(ReaderDevice)
            .where(ReaderDevice.institution_id == institution_id)
            .order_by(
                (ReaderDevice.status == DeviceStatus.ACTIVE).desc(),
                ReaderDevice.label,
                ReaderDevice.id,
            )
        )
    )
