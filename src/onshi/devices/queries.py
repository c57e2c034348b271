"""Read queries over reader devices."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.devices.models import DeviceStatus, ReaderDevice, ReaderMode
from onshi.errors import NotFoundError
from onshi.institutions.models import Institution


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


@dataclass(frozen=True, slots=True)
class DeviceView:
    device_id: int
    label: str
    mode: ReaderMode
    institution_code: str
    institution_name: str


def device_view(db: Session, device_id: int) -> DeviceView:
    row = db.execute(
        select(
            ReaderDevice.id,
            ReaderDevice.label,
            ReaderDevice.mode,
            Institution.code,
            Institution.name,
        )
        .join(Institution, Institution.id == ReaderDevice.institution_id)
        .where(ReaderDevice.id == device_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError()
    return DeviceView(
        device_id=row[0],
        label=row[1],
        mode=ReaderMode(row[2]),
        institution_code=row[3],
        institution_name=row[4],
    )
