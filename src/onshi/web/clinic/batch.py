"""一括照会 pages: upload (CSV), the list of recent 受付番号, a progress page whose fragment htmx
polls while the worker runs, and the results as CSV or JSON (streamed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, BinaryIO, cast
from urllib.parse import quote

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, SkipValidation
from litestar.response import Redirect, Stream, Template
from sqlalchemy.orm import Session

from onshi.accounts.schemas import Principal
from onshi.batch.errors import BatchFileError
from onshi.batch.export import csv_lines, json_chunks, summary
from onshi.batch.ingest import ENCODING_CHOICES, MAX_ROWS, EncodingChoice
from onshi.batch.models import BatchInquiry
from onshi.batch.queries import get_inquiry, is_finished, iter_results, recent_inquiries
from onshi.batch.services import submit_csv
from onshi.batch.views import log_result_views
from onshi.clock import Clock
from onshi.errors import NotFoundError
from onshi.web.htmx import hx_redirect_headers, is_htmx, page_or_fragment
from onshi.web.i18n import Catalogue
from onshi.web.rendering import render
from onshi.web.state import request_lang

MAX_UPLOAD_BYTES = 160 * 2**20  # 1,000,000 rows of the documented columns fit comfortably
RECENT = 20


def translator(catalogue: Catalogue) -> Any:
    def translate(lang: str, key: str, params: Mapping[str, str]) -> str:
        return catalogue.error_message(lang, key, **params)  # type: ignore[arg-type]

    return translate


def _institution_id(principal: Principal) -> int:
    if principal.institution_id is None:  # excluded by a DB constraint for clinic roles
        raise NotFoundError()
    return principal.institution_id


def _list_context(db: Session, principal: Principal) -> dict[str, Any]:
    return {
        "inquiries": recent_inquiries(db, institution_id=_institution_id(principal), limit=RECENT),
        "encodings": ENCODING_CHOICES,
        "max_rows": MAX_ROWS,
        "is_finished": is_finished,
    }


@get("/batch", name="clinic-batch", sync_to_thread=True)
def batch_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    return page_or_fragment(
        request,
        page="pages/clinic/batch.html",
        fragment="partials/batch/_recent.html",
        context=_list_context(db, principal),
    )


@post(
    "/batch",
    name="clinic-batch-upload",
    sync_to_thread=True,
    request_max_body_size=MAX_UPLOAD_BYTES,
)
def batch_upload(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template | Redirect:
    upload = data.get("file")
    encoding = data.get("encoding") or "auto"
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise BatchFileError("batch.file.missing")
        if encoding not in ENCODING_CHOICES:
            raise BatchFileError("batch.file.encoding_choice")
        chosen: EncodingChoice = encoding
        inquiry = submit_csv(
            db,
            clock,
            cast(BinaryIO, upload.file),
            institution_id=_institution_id(principal),
            encoding=chosen,
            filename=upload.filename,
            staff_id=principal.subject_id,
        )
    except BatchFileError as exc:
        context = _list_context(db, principal)
        context.update(error_code=exc.code, error_params=exc.params, chosen_encoding=encoding)
        return render(request, "pages/clinic/batch.html", context, status_code=exc.status_code)
    worker = getattr(request.app.state, "batch_worker", None)
    if worker is not None:
        worker.wake()
    location = f"/clinic/batch/{inquiry.receipt_number}?accepted=1"
    if is_htmx(request):
        return Redirect(location, status_code=303, headers=hx_redirect_headers(location))
    return Redirect(location, status_code=303)


def _detail_context(inquiry: BatchInquiry) -> dict[str, Any]:
    return {"inquiry": inquiry, "finished": is_finished(inquiry)}


@get("/batch/{receipt:str}", name="clinic-batch-detail", sync_to_thread=True)
def batch_detail(
    request: Request[Any, Any, Any],
    receipt: FromPath[str],
    db: NamedDependency[SkipValidation[Session]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    inquiry = get_inquiry(db, institution_id=_institution_id(principal), receipt_number=receipt)
    context = _detail_context(inquiry)
    context["accepted"] = request.query_params.get("accepted") == "1"
    return page_or_fragment(
        request,
        page="pages/clinic/batch_detail.html",
        fragment="partials/batch/_progress.html",
        context=context,
    )


def _log_views(db: Session, clock: Clock, principal: Principal, inquiry: BatchInquiry) -> None:
    """The names and 負担割合 served are qualification views of each person shown."""
    log_result_views(
        db,
        clock,
        inquiry_id=inquiry.id,
        institution_id=inquiry.institution_id,
        staff_account_id=principal.subject_id,
        staff_role=None if principal.role is None else principal.role.value,
    )


def _count_headers(inquiry: BatchInquiry, filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store",
        "Onshi-Batch-Status": inquiry.status.value,
        "Onshi-Batch-Total": str(inquiry.total_rows),
        "Onshi-Batch-Processed": str(inquiry.processed_rows),
        "Onshi-Batch-Normal": str(inquiry.normal_rows),
        "Onshi-Batch-Error": str(inquiry.error_rows),
    }


@get("/batch/{receipt:str}/results.csv", name="clinic-batch-csv", sync_to_thread=True)
def batch_results_csv(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    receipt: FromPath[str],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
    catalogue: NamedDependency[SkipValidation[Catalogue]],
) -> Stream:
    inquiry = get_inquiry(db, institution_id=_institution_id(principal), receipt_number=receipt)
    _log_views(db, clock, principal, inquiry)
    lines = iter_results(request.app.state.engine, inquiry.id)
    return Stream(
        csv_lines(lines, request_lang(request), translator(catalogue)),
        media_type="text/csv; charset=utf-8",
        headers=_count_headers(inquiry, f"一括照会結果_{inquiry.receipt_number}.csv"),
    )


@get("/batch/{receipt:str}/results.json", name="clinic-batch-json", sync_to_thread=True)
def batch_results_json(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    receipt: FromPath[str],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
    catalogue: NamedDependency[SkipValidation[Catalogue]],
) -> Stream:
    inquiry = get_inquiry(db, institution_id=_institution_id(principal), receipt_number=receipt)
    _log_views(db, clock, principal, inquiry)
    lines = iter_results(request.app.state.engine, inquiry.id)
    return Stream(
        json_chunks(summary(inquiry), lines, translator(catalogue)),
        media_type="application/json",
        headers=_count_headers(inquiry, f"batch-{inquiry.receipt_number}.json"),
    )


BATCH_HANDLERS = [batch_page, batch_upload, batch_detail, batch_results_csv, batch_results_json]
