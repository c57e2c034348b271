"""一括照会 results disclose each identified member's name, 負担割合 and period to the
institution: every time results are served, each person shown in them gets one access-log row
(kind ``qualification``, purpose ``batch``), in the serving request's transaction, naming the
member record shown. The same shown rule as the results themselves
(:func:`onshi.batch.queries.iter_results`): a member whose link is held or undone since the
inquiry ran shows nothing and is not logged. One INSERT … SELECT, whatever the size."""

from __future__ import annotations

from typing import Any, Final, cast

from sqlalchemy import BigInteger, CursorResult, String, Table, insert, literal, select
from sqlalchemy.orm import Session

from onshi.audit.models import AccessPurpose, DataAccess, DataKind
from onshi.audit.services import utc
from onshi.batch.models import BatchInquiryRow
from onshi.clock import Clock
from onshi.db.types import UTCDateTime
from onshi.qualification.models import MemberLink
from onshi.qualification.visibility import shown_link

_ACCESS: Final = cast(Table, DataAccess.__table__)
_COLUMNS: Final = (
    "person_id",
    "qualification_id",
    "institution_id",
    "staff_account_id",
    "staff_role",
    "data_kind",
    "purpose",
    "occurred_at",
)


def log_result_views(
    db: Session,
    clock: Clock,
    *,
    inquiry_id: int,
    institution_id: int,
    staff_account_id: int | None = None,
    staff_role: str | None = None,
) -> int:
    """Log the views of one serve of the inquiry's results; returns how many rows."""
    rows = BatchInquiryRow
    shown = (
        select(
            MemberLink.person_id,
            rows.qualification_id,
            literal(institution_id, BigInteger()),
            literal(staff_account_id, BigInteger()),
            literal(staff_role, String(32)),
            literal(DataKind.QUALIFICATION.value, String(16)),
            literal(AccessPurpose.BATCH.value, String(16)),
            literal(utc(clock.now()), UTCDateTime()),
        )
        .join(MemberLink, (MemberLink.qualification_id == rows.qualification_id) & shown_link())
        .where(rows.inquiry_id == inquiry_id, rows.qualification_id.is_not(None))
        .distinct()
    )
    result = cast(CursorResult[Any], db.execute(insert(_ACCESS).from_select(list(_COLUMNS), shown)))
    return int(result.rowcount or 0)
