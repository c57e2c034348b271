"""What the viewer shows and on which basis it may (docs/viewer.md)."""

from __future__ import annotations

from enum import StrEnum

from onshi.audit.models import AccessPurpose, DataKind
from onshi.consent.models import ConsentKind


class ViewKind(StrEnum):
    """The three kinds of information the viewer opens. 手術 items are part of 診療情報 and
    shown only with the 手術情報 consent as well (see :mod:`onshi.viewer.gate`)."""

    DRUG = "drug"  # 薬剤情報
    HEALTH_CHECK = "health_check"  # 特定健診情報
    CLINICAL = "clinical"  # 診療情報

    @property
    def consent_kind(self) -> ConsentKind:
        return ConsentKind(self.value)

    @property
    def data_kind(self) -> DataKind:
        return DataKind(self.value)


class AccessMode(StrEnum):
    CONSENT = "consent"  # the patient's consent given at this institution's reader
    DISASTER = "disaster"  # 災害時: inside an active declaration covering the institution
    EMERGENCY = "emergency"  # 救急時: a hospital's permitted staff, with a reason

    @property
    def purpose(self) -> AccessPurpose:
        return {
            AccessMode.CONSENT: AccessPurpose.NORMAL,
            AccessMode.DISASTER: AccessPurpose.DISASTER,
            AccessMode.EMERGENCY: AccessPurpose.EMERGENCY,
        }[self]
