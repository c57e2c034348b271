"""Pure consent rules (no database): is a consent valid now, and its flag value."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from onshi.consent.models import Consent, ConsentKind, ConsentValue
from onshi.settings import ConsentRules

#: The per-kind viewing questions of the seed flow.
PER_KIND_VIEWING: tuple[ConsentKind, ...] = (
    ConsentKind.HEALTH_CHECK,
    ConsentKind.DRUG,
    ConsentKind.CLINICAL,
    ConsentKind.SURGERY,
)


def kinds_allowing(kind: ConsentKind) -> tuple[ConsentKind, ...]:
    """The consents that allow viewing ``kind``: its own, or a 包括同意 (which covers every
    viewing kind, 手術情報 included)."""
    return (kind, ConsentKind.COMPREHENSIVE)


def strongest(consents: Iterable[Consent], now: datetime) -> Consent | None:
    """The valid consent among ``consents`` that lasts longest (one without an expiry — a
    居宅同意取得型 consent — first), or None when none is valid at ``now``."""
    valid = [consent for consent in consents if consent_is_valid(consent, now)]
    if not valid:
        return None
    return max(valid, key=lambda c: (c.expires_at is None, c.expires_at or now, c.id))


def latest_lapsed(consents: Iterable[Consent], now: datetime) -> Consent | None:
    """The given (not archived) consent among ``consents`` that expired last before ``now``:
    what a refusal names as 「有効期限切れ（HH:MM）」."""
    lapsed = [
        consent
        for consent in consents
        if consent.value is ConsentValue.GIVEN
        and consent.archived_at is None
        and consent.expires_at is not None
        and not consent_is_valid(consent, now)
    ]
    return max(lapsed, key=lambda c: (c.expires_at, c.id)) if lapsed else None


def asked_kinds(rules: ConsentRules) -> tuple[ConsentKind, ...]:
    """The kinds the reader asks under ``rules``: the four viewing kinds (seed flow) or one
    包括同意 (2024-10), then 限度額 when its step is on."""
    viewing = (ConsentKind.COMPREHENSIVE,) if rules.comprehensive_consent else PER_KIND_VIEWING
    return (*viewing, ConsentKind.LIMIT_INFO) if rules.limit_consent_step else viewing


def consent_expiry(registered_at: datetime, rules: ConsentRules) -> datetime:
    """An outpatient consent lasts ``consent_hours`` (24) from registration, not to end of day."""
    return registered_at + timedelta(hours=rules.consent_hours)


def consent_is_valid(consent: Consent, now: datetime) -> bool:
    """Given, not archived, and not yet expired (valid strictly before ``expires_at``; a
    居宅同意取得型 consent without an expiry lasts while home-visit care continues)."""
    if consent.value is not ConsentValue.GIVEN or consent.archived_at is not None:
        return False
    if consent.expires_at is None:
        return consent.home_visit
    return now < consent.expires_at


def consent_flag(consent: Consent, now: datetime) -> ConsentValue:
    """The flag a result shows: 2 (期限切れ) for a given consent past its expiry."""
    if consent.value is ConsentValue.GIVEN and not consent_is_valid(consent, now):
        return ConsentValue.EXPIRED
    return ConsentValue(consent.value)
