"""Staff accounts (password, argon2), patient accounts (passkeys only), web sessions and the
sign-in attempts counted for rate limits. Secrets (session tokens, enrolment codes) are kept only
as hashes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, enum_checks


class StaffRole(StrEnum):
    RECEPTION = "reception"  # 受付: verifies qualification, never sees medical data
    DOCTOR = "doctor"  # 医師
    DENTIST = "dentist"  # 歯科医師
    PHARMACIST = "pharmacist"  # 薬剤師
    INSURER_OPERATOR = "insurer_operator"
    ADMINISTRATOR = "administrator"  # operator of the whole system


CLINIC_ROLES: frozenset[StaffRole] = frozenset(
    {StaffRole.RECEPTION, StaffRole.DOCTOR, StaffRole.DENTIST, StaffRole.PHARMACIST}
)
QUALIFIED_ROLES: frozenset[StaffRole] = frozenset(
    {StaffRole.DOCTOR, StaffRole.DENTIST, StaffRole.PHARMACIST}
)


class SubjectKind(StrEnum):
    STAFF = "staff"
    PATIENT = "patient"


def _in(roles: frozenset[StaffRole]) -> str:
    return ", ".join(f"'{role.value}'" for role in sorted(roles))


class StaffAccount(IdMixin, Base):
    __tablename__ = "staff_accounts"

    login_id: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, PHC string
    role: Mapped[StaffRole] = mapped_column(StrEnumType(StaffRole))
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    insurer_id: Mapped[int | None] = mapped_column(
        ForeignKey("insurers.id", ondelete="RESTRICT"), index=True
    )
    is_institution_admin: Mapped[bool] = mapped_column(default=False)
    emergency_permission: Mapped[bool] = mapped_column(default=False)  # 救急時 viewing
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime | None]
    # Manages the insurer's operator accounts (the insurer's counterpart of is_institution_admin;
    # only insurer operators may hold it, checked by the services: adding a CHECK would rebuild
    # the table on SQLite).
    is_insurer_admin: Mapped[bool] = mapped_column(default=False)
    # Set by a reset (temporary password): every page but the password change is closed.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    password_changed_at: Mapped[datetime | None]

    __table_args__ = (
        *enum_checks(role=StaffRole),
        # Clinic staff belong to exactly one institution and no insurer.
        CheckConstraint(
            f"role NOT IN ({_in(CLINIC_ROLES)}) "
            "OR (institution_id IS NOT NULL AND insurer_id IS NULL)",
            name="clinic_role_institution",
        ),
        # Insurer operators belong to exactly one insurer and no institution.
        CheckConstraint(
            "role <> 'insurer_operator' OR (insurer_id IS NOT NULL AND institution_id IS NULL)",
            name="insurer_operator_insurer",
        ),
        CheckConstraint(
            "role <> 'administrator' OR (insurer_id IS NULL AND institution_id IS NULL)",
            name="administrator_unattached",
        ),
        CheckConstraint(
            "is_institution_admin = false OR institution_id IS NOT NULL",
            name="institution_admin_institution",
        ),
        CheckConstraint(
            f"emergency_permission = false OR role IN ({_in(QUALIFIED_ROLES)})",
            name="emergency_permission_qualified",
        ),
    )


class PatientAccount(IdMixin, Base):
    __tablename__ = "patient_accounts"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime | None]


class PasskeyCredential(IdMixin, Base):
    """A WebAuthn credential of a patient account."""

    __tablename__ = "passkey_credentials"

    patient_account_id: Mapped[int] = mapped_column(
        ForeignKey("patient_accounts.id", ondelete="CASCADE"), index=True
    )
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE key
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[str] = mapped_column(String(128), default="")  # comma separated
    aaguid: Mapped[str | None] = mapped_column(String(36))
    nickname: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("sign_count >= 0", name="sign_count_non_negative"),)


class PatientEnrolmentCode(IdMixin, Base):
    """A one-time code that lets a person create their patient account (only its hash kept)."""

    __tablename__ = "patient_enrolment_codes"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # Set when a newer code for the person closed this one (the page says "replaced").
    superseded_at: Mapped[datetime | None]


class WebSession(IdMixin, Base):
    """A browser session. The cookie holds the token; the table holds its SHA-256."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    subject_kind: Mapped[SubjectKind] = mapped_column(StrEnumType(SubjectKind))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    lang: Mapped[str] = mapped_column(String(5), default="ja")
    # Password accepted, passkey (second factor) still to come: only that page is open.
    second_factor_pending: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        *enum_checks(subject_kind=SubjectKind),
        CheckConstraint("lang IN ('ja', 'en')", name="lang"),
        Index("ix_web_sessions_subject", "subject_kind", "subject_id"),
        Index("ix_web_sessions_expires_at", "expires_at"),
    )


class SignInAttempt(IdMixin, Base):
    """One sign-in (or PIN) attempt, counted per key (e.g. ``login:<id>``, ``ip:<addr>``)."""

    __tablename__ = "sign_in_attempts"

    key: Mapped[str] = mapped_column(String(128))
    attempted_at: Mapped[datetime]
    succeeded: Mapped[bool]

    __table_args__ = (Index("ix_sign_in_attempts_key_attempted_at", "key", "attempted_at"),)
