"""Sample contexts for the card-reader management page (/clinic/devices)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from .staff import INSTITUTION, STAFF

NOW = datetime(2026, 4, 1, 0, 30, tzinfo=UTC)
_DEVICES = [
    SimpleNamespace(
        id=1, label="受付1", status="active", mode="unattended", paired_at=NOW, last_seen_at=NOW
    ),
    SimpleNamespace(
        id=2, label="受付2", status="revoked", mode="visual", paired_at=NOW, last_seen_at=None
    ),
]
_PANEL: dict[str, Any] = {
    "institution": INSTITUTION,
    "devices": _DEVICES,
    "can_manage": True,
    "issued": SimpleNamespace(code="ABCD2345", expires_at=NOW),
    "notice": {"key": "devices.updated.mode", "label": "受付1", "mode": "visual"},
    "pairing_minutes": 10,
}

SAMPLES: dict[str, dict[str, Any]] = {
    "pages/clinic/devices.html": {**_PANEL, "principal": STAFF},
    "partials/devices/_device_panel.html": _PANEL,
}
