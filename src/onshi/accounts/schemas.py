"""Plain data the web layer receives from the accounts services (no ORM objects leak out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from onshi.accounts.models import CLINIC_ROLES, QUALIFIED_ROLES, StaffRole, SubjectKind


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is signed in on this request: a staff member or a patient.

    ``subject_id`` is the staff account id or the patient account id; ``person_id`` is set for
    patients. Institution / insurer scope every staff query (another institution's object is a
    404, never a 403)."""

    session_id: int
    subject_kind: SubjectKind
    subject_id: int
    display_name: str
    role: StaffRole | None = None
    login_id: str | None = None
    institution_id: int | None = None
    insurer_id: int | None = None
    person_id: int | None = None
    is_institution_admin: bool = False
    emergency_permission: bool = False
    is_insurer_admin: bool = False
    # A restricted session (see ``restriction``): only the page that lifts it is open.
    must_change_password: bool = False
    second_factor_pending: bool = False
    needs_passkey: bool = False

    @property
    def restriction(self) -> str | None:
        """What this session must do before anything else: ``second_factor`` (give the
        passkey), ``password`` (replace a temporary password), ``passkey`` (the institution
        requires a passkey and the account has none), or None."""
        if not self.is_staff:
            return None
        if self.second_factor_pending:
            return "second_factor"
        if self.must_change_password:
            return "password"
        if self.needs_passkey:
            return "passkey"
        return None

    @property
    def is_staff(self) -> bool:
        return self.subject_kind is SubjectKind.STAFF

    @property
    def is_patient(self) -> bool:
        return self.subject_kind is SubjectKind.PATIENT

    @property
    def is_clinic_staff(self) -> bool:
        return self.role in CLINIC_ROLES

    @property
    def is_qualified(self) -> bool:
        return self.role in QUALIFIED_ROLES


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A new session: ``token`` goes into the cookie once and is never stored."""

    token: str
    session_id: int
    expires_at: datetime
