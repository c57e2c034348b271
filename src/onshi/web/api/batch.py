"""一括照会 over the device-signed API: post rows as JSON, get a 受付番号 at once (202), poll the
status, fetch the results (JSON, streamed). Rows are validated one by one in the background; a
malformed row is reported with its row number (1-based) and does not stop the others."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, SkipValidation
from litestar.response import Stream
from sqlalchemy.orm import Session

from onshi.batch.errors import BatchFileError
from onshi.batch.export import json_chunks, summary
from onshi.batch.queries import get_inquiry, iter_results
from onshi.batch.services import submit_rows
from onshi.batch.views import log_result_views
from onshi.clock import Clock
from onshi.devices.signing import DevicePrincipal
from onshi.web.api.signed import MAX_TOKEN_OPT
from onshi.web.clinic.batch import translator
from onshi.web.i18n import Catalogue

TAGS = ["batch"]
#: Rows per signed request (larger lists: several requests, or the CSV upload on the clinic page).
API_MAX_ROWS = 100_000
#: The signed request may be this large (the JWS of 100,000 rows with every field at its longest
#: is ~33 MiB; a typical row is ~160 characters, so 100,000 typical rows are ~16 MiB). Other
#: signed routes keep the 512 KiB cap of onshi.devices.signing.
API_MAX_BODY = 48 * 2**20


@post(
    "/v1/batch-inquiries",
    name="api-batch-submit",
    sync_to_thread=True,
    status_code=202,
    request_max_body_size=API_MAX_BODY,
    opt={MAX_TOKEN_OPT: API_MAX_BODY},
    tags=TAGS,
    summary="Submit a 一括照会: {rows: [{patient_ref, insurer_number, symbol, number, branch, "
    "birth_date}]} → 受付番号",
)
def submit_batch(
    request: Request[Any, Any, Any],
    device: NamedDependency[SkipValidation[DevicePrincipal]],
    signed_body: NamedDependency[SkipValidation[dict[str, Any]]],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
) -> dict[str, Any]:
    rows = signed_body.get("rows")
    if not isinstance(rows, list):
        raise BatchFileError("batch.api.bad_body")
    inquiry = submit_rows(
        db,
        clock,
        rows,
        institution_id=device.institution_id,
        device_id=device.device_id,
        max_rows=API_MAX_ROWS,
    )
    worker = getattr(request.app.state, "batch_worker", None)
    if worker is not None:
        worker.wake()
    return summary(inquiry)


@get(
    "/v1/batch-inquiries/{receipt:str}",
    name="api-batch-status",
    sync_to_thread=True,
    tags=TAGS,
    summary="Status and counts of a 一括照会",
)
def batch_status(
    receipt: FromPath[str],
    device: NamedDependency[SkipValidation[DevicePrincipal]],
    db: NamedDependency[SkipValidation[Session]],
) -> dict[str, Any]:
    inquiry = get_inquiry(db, institution_id=device.institution_id, receipt_number=receipt)
    return summary(inquiry)


@get(
    "/v1/batch-inquiries/{receipt:str}/results",
    name="api-batch-results",
    sync_to_thread=True,
    tags=TAGS,
    summary="Results of a 一括照会 (status, counts and one entry per row)",
)
def batch_results(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    receipt: FromPath[str],
    device: NamedDependency[SkipValidation[DevicePrincipal]],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    catalogue: NamedDependency[SkipValidation[Catalogue]],
) -> Response[Any]:
    inquiry = get_inquiry(db, institution_id=device.institution_id, receipt_number=receipt)
    # The names and 負担割合 served are qualification views (the device's institution).
    log_result_views(db, clock, inquiry_id=inquiry.id, institution_id=inquiry.institution_id)
    lines = iter_results(request.app.state.engine, inquiry.id)
    return Stream(
        json_chunks(summary(inquiry), lines, translator(catalogue)),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


BATCH_API_HANDLERS = [submit_batch, batch_status, batch_results]
