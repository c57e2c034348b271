"""Reading inquiries and their results. Another institution's 受付番号 is "not found"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, and_, select
from sqlalchemy.orm import Session

from onshi.batch.models import BatchInquiry, BatchInquiryRow, BatchStatus
from onshi.errors import NotFoundError
from onshi.identity.models import Sex
from onshi.qualification.models import (
    CopaymentRatio,
    Insurer,
    MemberLink,
    Qualification,
    Relationship,
)
from onshi.qualification.visibility import shown_link

RESULT_FETCH = 5000


def get_inquiry(db: Session, *, institution_id: int, receipt_number: str) -> BatchInquiry:
    inquiry = db.scalar(
        select(BatchInquiry).where(
            BatchInquiry.receipt_number == receipt_number[:20],
            BatchInquiry.institution_id == institution_id,
        )
    )
    if inquiry is None:
        raise NotFoundError()
    return inquiry


def recent_inquiries(db: Session, *, institution_id: int, limit: int = 10) -> list[BatchInquiry]:
    return list(
        db.scalars(
            select(BatchInquiry)
            .where(BatchInquiry.institution_id == institution_id)
            .order_by(BatchInquiry.created_at.desc(), BatchInquiry.id.desc())
            .limit(limit)
        )
    )


def is_finished(inquiry: BatchInquiry) -> bool:
    return inquiry.status in (BatchStatus.DONE, BatchStatus.FAILED)


@dataclass(frozen=True, slots=True)
class ResultLine:
    """One result row as exported: the input keys echoed (normalised), the result code or the
    error, and for 1 有効 the key fields of the qualification."""

    line_no: int
    patient_ref: str | None
    insurer_number: str | None
    symbol: str | None
    number: str | None
    branch: str | None
    birth_date: date | None
    result_code: int | None
    error_code: str | None
    error_params: str | None
    insurer_name: str | None
    name: str | None
    name_kana: str | None
    sex: Sex | None
    relationship: Relationship | None
    acquired_on: date | None
    valid_to: date | None
    copayment_ratio: CopaymentRatio | None


def iter_results(engine: Engine, inquiry_id: int) -> Iterator[ResultLine]:
    """Every result row in line order, streamed on a connection of its own (the response
    outlives the request's session); memory stays flat whatever the size."""
    r = BatchInquiryRow
    query = (
        select(
            r.line_no,
            r.patient_ref,
            r.insurer_number,
            r.symbol,
            r.number,
            r.branch,
            r.birth_date,
            r.result_code,
            r.error_code,
            r.error_params,
            Insurer.name,
            Qualification.name,
            Qualification.name_kana,
            Qualification.sex,
            Qualification.relationship,
            Qualification.acquired_on,
            Qualification.valid_to,
            Qualification.copayment_ratio,
        )
        # The shown rule holds when the results are fetched too: a member whose link was held
        # or undone since the inquiry ran gives no details.
        .outerjoin(
            MemberLink, and_(MemberLink.qualification_id == r.qualification_id, shown_link())
        )
        .outerjoin(Qualification, Qualification.id == MemberLink.qualification_id)
        .outerjoin(Insurer, Insurer.id == Qualification.insurer_id)
        .where(r.inquiry_id == inquiry_id)
        .order_by(r.line_no)
        .execution_options(yield_per=RESULT_FETCH)
    )
    with engine.connect() as connection:
        for row in connection.execute(query):
            yield ResultLine(
                line_no=row[0],
                patient_ref=row[1],
                insurer_number=row[2],
                symbol=row[3],
                number=row[4],
                branch=row[5],
                birth_date=row[6],
                result_code=row[7],
                error_code=row[8],
                error_params=row[9],
                insurer_name=row[10],
                name=row[11],
                name_kana=row[12],
                sex=row[13],
                relationship=row[14],
                acquired_on=row[15],
                valid_to=row[16],
                copayment_ratio=row[17],
            )
