"""Who may manage an institution's card readers (pure functions)."""

from __future__ import annotations

from onshi.accounts.schemas import Principal


def can_manage_devices(principal: Principal) -> bool:
    """Pairing codes, mode switches (目視確認) and unpairing: institution administrators only."""
    return (
        principal.is_staff
        and principal.is_clinic_staff
        and principal.is_institution_admin
        and principal.institution_id is not None
    )


def can_view_devices(principal: Principal) -> bool:
    return principal.is_staff and principal.is_clinic_staff and principal.institution_id is not None
