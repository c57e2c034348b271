"""Sample contexts of the insurer registration templates (/insurer/registrations)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from onshi.registration.models import JobSource, JobStatus, RegistrationJob
from onshi.registration.queries import DeadlineRow, DeadlineView, DoubleEnrolment, MonthShare

AT = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


def _job(status: JobStatus) -> RegistrationJob:
    return RegistrationJob(
        id=7, insurer_id=1, source=JobSource.UPLOAD, filename="members.csv", file_sha256="0" * 64,
        encoding="utf-8-sig", status=status, total_rows=10, processed_rows=6, position_line=7,
        linked_rows=3, linked_confirm_rows=1, held_rows=1, rejected_rows=1, unchanged_rows=0,
        failure_code="registration.failed.internal" if status is JobStatus.FAILED else None,
        created_at=AT,
    )  # fmt: skip


ROW = DeadlineRow(1, "12345", "山田\u3000太郎", date(2026, 3, 27), date(2026, 4, 1), None, 2)
VIEW = DeadlineView([ROW], [ROW], [ROW], [MonthShare("2026-03", 10, 9)], 12)
DOUBLE = DoubleEnrolment(1, 2, "12345", 3, "06130011", "健康保険組合", date(2026, 3, 1))

SAMPLES: dict[str, dict[str, Any]] = {
    "pages/insurer/registrations.html": {
        "jobs": [_job(JobStatus.DONE)],
        "held_count": 1,
        "notified_members": 3,
        "overdue_count": 1,
        "double": [DOUBLE],
    },
    "pages/insurer/registration_job.html": {"job": _job(JobStatus.RUNNING), "finished": False},
    "partials/registration/_progress.html": {"job": _job(JobStatus.FAILED), "finished": True},
    "pages/insurer/registration_deadline.html": {"view": VIEW},
}
