"""Sample contexts of the 一括照会 templates (/clinic/batch)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from onshi.batch.ingest import ENCODING_CHOICES, MAX_ROWS
from onshi.batch.models import BatchInquiry, BatchStatus, InputFormat


def _inquiry(status: BatchStatus, processed: int) -> BatchInquiry:
    return BatchInquiry(
        receipt_number="20260401-7KQ2M9XH",
        institution_id=1,
        input_format=InputFormat.CSV,
        source_encoding="utf-8-sig",
        columns="patient_ref,insurer_number,symbol,number,branch,birth_date",
        first_line=2,
        status=status,
        total_rows=1000,
        processed_rows=processed,
        normal_rows=processed - 3 if processed else 0,
        error_rows=3 if processed else 0,
        input_bytes=40000,
        created_at=datetime(2026, 4, 1, 0, 0, tzinfo=UTC),
        failure_code="batch.failed.internal" if status is BatchStatus.FAILED else None,
    )


_RUNNING = _inquiry(BatchStatus.RUNNING, 400)
_LIST: dict[str, Any] = {
    "inquiries": [_RUNNING, _inquiry(BatchStatus.DONE, 1000)],
    "encodings": ENCODING_CHOICES,
    "max_rows": MAX_ROWS,
    "error_code": "batch.file.header",
    "error_params": {"expected": "patient_ref,…", "line": "1"},
    "chosen_encoding": "cp932",
}

SAMPLES: dict[str, dict[str, Any]] = {
    "pages/clinic/batch.html": _LIST,
    "partials/batch/_recent.html": _LIST,
    "pages/clinic/batch_detail.html": {"inquiry": _RUNNING, "finished": False, "accepted": True},
    "partials/batch/_progress.html": {
        "inquiry": _inquiry(BatchStatus.FAILED, 1000),
        "finished": True,
    },
}
