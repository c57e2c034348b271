"""The device-key cache of one worker process (docs/api/device-protocol.md, "Signed device
requests"; used by :func:`onshi.devices.signing.verify_device_request`).

With a :class:`DeviceKeyCache` (the API keeps one per worker process) the device row and its
parsed Ed25519 key are kept between requests, and the nonce is inserted by ``INSERT … SELECT …
FROM reader_devices WHERE id = … AND status = 'active' AND <every cached field equals the row>``:
the same statement that spends the ``jti`` proves the cached row is still the row, against the
committed database. When it inserts nothing, the row is read again (:func:`load_device`):
changed (revoked, other mode, other key, deleted) → the cache is refreshed and the checks run
again on the fresh row; unchanged → ``device.replayed``. So a device revoked or switched to
another mode by any process is refused (or seen in its new mode) on its very next request in
every worker, without notifications, and a warm request costs one statement instead of two.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from onshi.devices.models import ReaderDevice

_DEVICES: Final = cast(Table, ReaderDevice.__table__)
_DEVICE_ROW: Final = select(
    _DEVICES.c.institution_id,
    _DEVICES.c.status,
    _DEVICES.c.mode,
    _DEVICES.c.label,
    _DEVICES.c.public_key,
    _DEVICES.c.last_seen_at,
).where(_DEVICES.c.id == bindparam("device_id"))


@dataclass(frozen=True, slots=True)
class KnownDevice:
    """A device row as read (what the checks and the principal need)."""

    device_id: int
    institution_id: int
    status: str
    mode: str
    label: str
    public_key: bytes
    last_seen_at: datetime | None

    def same_row(self, other: KnownDevice) -> bool:
        return (self.institution_id, self.status, self.mode, self.label, self.public_key) == (
            other.institution_id,
            other.status,
            other.mode,
            other.label,
            other.public_key,
        )


class DeviceKeyCache:
    """Device rows and parsed keys of one process (see "Device cache" above). Thread-safe for
    the ways it is used (single dictionary operations under the GIL); at most ``size`` devices,
    the oldest dropped first."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._devices: dict[int, tuple[KnownDevice, Ed25519PublicKey | None]] = {}

    def get(self, device_id: int) -> tuple[KnownDevice, Ed25519PublicKey | None] | None:
        return self._devices.get(device_id)

    def put(self, device: KnownDevice) -> Ed25519PublicKey | None:
        try:
            key: Ed25519PublicKey | None = Ed25519PublicKey.from_public_bytes(device.public_key)
        except ValueError:
            key = None
        if device.device_id not in self._devices and len(self._devices) >= self.size:
            with contextlib.suppress(KeyError, StopIteration, RuntimeError):
                del self._devices[next(iter(self._devices))]
        self._devices[device.device_id] = (device, key)
        return key

    def seen(self, device: KnownDevice, at: datetime) -> None:
        held = self._devices.get(device.device_id)
        if held is not None and held[0].same_row(device):
            self._devices[device.device_id] = (replace(held[0], last_seen_at=at), held[1])

    def drop(self, device_id: int) -> None:
        self._devices.pop(device_id, None)


def load_device(db: Session, device_id: int) -> KnownDevice | None:
    """The device row as the checks need it (None: no such device)."""
    row = db.execute(_DEVICE_ROW, {"device_id": device_id}).one_or_none()
    if row is None:
        return None
    return KnownDevice(
        device_id=device_id,
        institution_id=row.institution_id,
        status=str(row.status),
        mode=str(row.mode),
        label=row.label,
        public_key=bytes(row.public_key),
        last_seen_at=row.last_seen_at,
    )
