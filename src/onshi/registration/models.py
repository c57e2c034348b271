"""Insurer registration intake: a job per file, its stored input, one result per row, the
notifications it accepted (the 5-day deadline and the holds), the four-eyes link requests,
and the keys insurer systems sign their API requests with.

Processing state lives in the database: ``processed_rows`` / ``position_line`` of a job count
the rows already committed (results, member records, links and audit events in one transaction
per chunk), so a process that dies mid-file is followed by one that skips those rows and carries
on; a job whose file could not be processed says so in ``failure_code``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onshi.db.base import Base, IdMixin
from onshi.db.enums import StrEnumType, enum_checks


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobSource(StrEnum):
    CLI = "cli"
    UPLOAD = "upload"
    API = "api"


class RowOutcome(StrEnum):
    """The outcome of one row, exactly as the result file names it."""

    LINKED = "linked"
    LINKED_CONFIRM = "linked_confirm"
    HELD = "held"
    REJECTED = "rejected"
    UNCHANGED = "unchanged"


OUTCOME_COLUMNS = {
    RowOutcome.LINKED: "linked_rows",
    RowOutcome.LINKED_CONFIRM: "linked_confirm_rows",
    RowOutcome.HELD: "held_rows",
    RowOutcome.REJECTED: "rejected_rows",
    RowOutcome.UNCHANGED: "unchanged_rows",
}


class RegistrationJob(IdMixin, Base):
    """One intake file of one insurer."""

    __tablename__ = "registration_jobs"

    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id", ondelete="CASCADE"))
    source: Mapped[JobSource] = mapped_column(StrEnumType(JobSource))
    filename: Mapped[str | None] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    encoding: Mapped[str] = mapped_column(String(16))  # utf-8-sig, cp932, json
    status: Mapped[JobStatus] = mapped_column(StrEnumType(JobStatus))
    total_rows: Mapped[int] = mapped_column(Integer)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    position_line: Mapped[int] = mapped_column(Integer, default=1)  # last line committed
    linked_rows: Mapped[int] = mapped_column(Integer, default=0)
    linked_confirm_rows: Mapped[int] = mapped_column(Integer, default=0)
    held_rows: Mapped[int] = mapped_column(Integer, default=0)
    rejected_rows: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_rows: Mapped[int] = mapped_column(Integer, default=0)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    submitted_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    submitted_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("insurer_api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        *enum_checks(status=JobStatus, source=JobSource),
        CheckConstraint(
            "processed_rows >= 0 AND processed_rows <= total_rows", name="processed_in_range"
        ),
        CheckConstraint(
            "linked_rows + linked_confirm_rows + held_rows + rejected_rows + unchanged_rows"
            " = processed_rows",
            name="counts_add_up",
        ),
        CheckConstraint(
            "(status IN ('done', 'failed')) = (finished_at IS NOT NULL)", name="finished_has_time"
        ),
        Index("ix_registration_jobs_insurer_created", "insurer_id", "created_at"),
        Index("ix_registration_jobs_insurer_sha", "insurer_id", "file_sha256"),
    )


class RegistrationJobInput(IdMixin, Base):
    """An uploaded file as received, in pieces of about 1 MiB (``seq`` from 0)."""

    __tablename__ = "registration_job_inputs"

    job_id: Mapped[int] = mapped_column(ForeignKey("registration_jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (UniqueConstraint("job_id", "seq"),)


class RegistrationResult(IdMixin, Base):
    """The outcome of one row: ``line,outcome,reason_code,message`` of the result file."""

    __tablename__ = "registration_results"

    job_id: Mapped[int] = mapped_column(ForeignKey("registration_jobs.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[RowOutcome] = mapped_column(StrEnumType(RowOutcome))
    reason_code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    qualification_id: Mapped[int | None] = mapped_column(
        ForeignKey("qualifications.id", ondelete="SET NULL")
    )

    __table_args__ = (
        *enum_checks(outcome=RowOutcome),
        UniqueConstraint("job_id", "line"),
    )


class NoticeState(StrEnum):
    REGISTERED = "registered"  # linked or linked_confirm
    HELD = "held"  # waiting for a correction or a confirmation
    WITHDRAWN = "withdrawn"  # the member was undone or replaced by a later notification


class RegistrationNotice(IdMixin, Base):
    """One accepted notification (届出) for a member record: when it was received, when it is
    due (5 days, :mod:`onshi.registration.deadline`), whether and when it was registered, and
    — while held — what the check found (the items that differ, the variations, the person of
    a 個人番号 that did not match). ``person_notified_at`` is when the person's portal started
    saying that the registration is complete."""

    __tablename__ = "registration_notices"

    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id", ondelete="CASCADE"))
    qualification_id: Mapped[int] = mapped_column(
        ForeignKey("qualifications.id", ondelete="CASCADE")
    )
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration_jobs.id", ondelete="SET NULL")
    )
    line: Mapped[int | None] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(8))
    fingerprint: Mapped[str] = mapped_column(String(64))  # the row's content (idempotency)
    notified_on: Mapped[date]
    due_on: Mapped[date]
    state: Mapped[NoticeState] = mapped_column(StrEnumType(NoticeState))
    reason_code: Mapped[str] = mapped_column(String(64))
    differences: Mapped[list[str]] = mapped_column(JSON, default=list)
    variations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    my_number_hash: Mapped[str | None] = mapped_column(String(64))  # as given on the row
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    registered_at: Mapped[datetime | None]
    registered_on: Mapped[date | None]  # the JST day of registered_at
    person_notified_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (
        *enum_checks(state=NoticeState),
        CheckConstraint("due_on >= notified_on", name="due_after_notified"),
        CheckConstraint(
            "(state = 'registered') = (registered_at IS NOT NULL)", name="registered_has_time"
        ),
        Index("ix_registration_notices_insurer_state", "insurer_id", "state", "due_on"),
        Index("ix_registration_notices_qualification", "qualification_id"),
        Index("ix_registration_notices_person", "person_id", "registered_at"),
    )


class RequestAction(StrEnum):
    CONFIRM = "confirm"  # a held record confirmed with the member (same person)
    CORRECT = "correct"  # a held record linked to the person of a corrected 個人番号
    UNDO = "undo"  # a wrong link detached everywhere


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class LinkChangeRequest(IdMixin, Base):
    """A change of a member's link proposed by one operator; it takes effect only when a second,
    different operator of the same insurer approves it (four-eyes)."""

    __tablename__ = "registration_link_requests"

    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id", ondelete="CASCADE"))
    qualification_id: Mapped[int] = mapped_column(
        ForeignKey("qualifications.id", ondelete="CASCADE")
    )
    notice_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration_notices.id", ondelete="SET NULL")
    )
    action: Mapped[RequestAction] = mapped_column(StrEnumType(RequestAction))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(512))
    state: Mapped[RequestState] = mapped_column(StrEnumType(RequestState))
    requested_by: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id", ondelete="RESTRICT"))
    requested_at: Mapped[datetime]
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="RESTRICT")
    )
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(512))

    __table_args__ = (
        *enum_checks(action=RequestAction, state=RequestState),
        CheckConstraint("decided_by IS NULL OR decided_by <> requested_by", name="four_eyes"),
        CheckConstraint("(state = 'pending') = (decided_at IS NULL)", name="decided_has_time"),
        Index("ix_registration_link_requests_insurer_state", "insurer_id", "state"),
    )


class ApiKeyStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class InsurerApiKey(IdMixin, Base):
    """An insurer system's Ed25519 public key, registered by an insurer administrator; its
    requests are signed like a card reader's (docs/api/registration.md)."""

    __tablename__ = "insurer_api_keys"

    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # raw 32 bytes
    status: Mapped[ApiKeyStatus] = mapped_column(StrEnumType(ApiKeyStatus))
    registered_by: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    __table_args__ = (
        *enum_checks(status=ApiKeyStatus),
        CheckConstraint("length(public_key) = 32", name="ed25519_key"),
        Index("ix_insurer_api_keys_insurer", "insurer_id"),
    )


class InsurerApiNonce(Base):
    """A spent ``jti`` of a key (kept until ``expires_at``: a replay is refused)."""

    __tablename__ = "insurer_api_nonces"

    key_id: Mapped[int] = mapped_column(
        ForeignKey("insurer_api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]
