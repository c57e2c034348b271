"""Results as CSV or JSON, produced line by line (streamed; never the whole file in memory).

Texts (result labels, error messages) come through a ``translate(lang, key, params)`` callable
the web layer supplies from its catalogue, so this module holds no wording.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any, Final

from onshi.batch.models import BatchInquiry
from onshi.batch.queries import ResultLine
from onshi.csvsafe import csv_writer

Translate = Callable[[str, str, Mapping[str, str]], str]

CSV_FIELDS: Final[tuple[str, ...]] = (
    "line",
    "patient_ref",
    "status",
    "result_code",
    "result",
    "insurer_number",
    "symbol",
    "number",
    "branch",
    "birth_date",
    "insurer_name",
    "name",
    "name_kana",
    "sex",
    "relationship",
    "acquired_on",
    "valid_to",
    "copayment_ratio",
    "error_code",
    "error_message",
)


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _params(line: ResultLine) -> dict[str, str]:
    if not line.error_params:
        return {}
    loaded = json.loads(line.error_params)
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def _value(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def csv_row(line: ResultLine, lang: str, translate: Translate) -> list[str]:
    error = line.error_code is not None
    return [
        str(line.line_no),
        line.patient_ref or "",
        "error" if error else "normal",
        "" if line.result_code is None else str(line.result_code),
        translate(lang, f"batch.result.{line.result_code}", {}) if not error else "",
        line.insurer_number or "",
        line.symbol or "",
        line.number or "",
        line.branch or "",
        _day(line.birth_date),
        line.insurer_name or "",
        line.name or "",
        line.name_kana or "",
        _value(line.sex),
        _value(line.relationship),
        _day(line.acquired_on),
        _day(line.valid_to),
        _value(line.copayment_ratio),
        line.error_code or "",
        translate(lang, line.error_code, _params(line)) if line.error_code else "",
    ]


def csv_lines(
    lines: Iterable[ResultLine], lang: str, translate: Translate, *, batch: int = 1000
) -> Iterator[str]:
    """UTF-8 CSV text with a BOM (spreadsheet software needs it to read Japanese) and the
    header line in ``lang`` (``batch.csv.<field>``), in pieces of ``batch`` rows. Cells that a
    spreadsheet would run as a formula are neutralised (:mod:`onshi.csvsafe`)."""
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\r\n")
    writer.writerow([translate(lang, f"batch.csv.{name}", {}) for name in CSV_FIELDS])
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for count, line in enumerate(lines, start=1):
        writer.writerow(csv_row(line, lang, translate))
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _both(translate: Translate, key: str, params: Mapping[str, str]) -> dict[str, str]:
    return {"ja": translate("ja", key, params), "en": translate("en", key, params)}


def json_row(line: ResultLine, translate: Translate) -> dict[str, Any]:
    error = None
    if line.error_code is not None:
        params = _params(line)
        error = {
            "code": line.error_code,
            "message": _both(translate, line.error_code, params),
            "params": params,
        }
    qualification = None
    if line.name is not None:
        qualification = {
            "insurer_name": line.insurer_name,
            "name": line.name,
            "name_kana": line.name_kana,
            "sex": _value(line.sex),
            "relationship": _value(line.relationship),
            "acquired_on": _day(line.acquired_on) or None,
            "valid_to": _day(line.valid_to) or None,
            "copayment_ratio": _value(line.copayment_ratio),
        }
    return {
        "line": line.line_no,
        "patient_ref": line.patient_ref,
        "status": "error" if error else "normal",
        "result_code": line.result_code,
        "verdict": (
            _both(translate, f"batch.result.{line.result_code}", {})
            if line.result_code is not None
            else None
        ),
        "query": {
            "insurer_number": line.insurer_number,
            "symbol": line.symbol,
            "number": line.number,
            "branch": line.branch,
            "birth_date": _day(line.birth_date) or None,
        },
        "qualification": qualification,
        "error": error,
    }


def _instant(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def summary(inquiry: BatchInquiry) -> dict[str, Any]:
    return {
        "receipt_number": inquiry.receipt_number,
        "status": inquiry.status.value,
        "total_rows": inquiry.total_rows,
        "processed_rows": inquiry.processed_rows,
        "normal_rows": inquiry.normal_rows,
        "error_rows": inquiry.error_rows,
        "created_at": _instant(inquiry.created_at),
        "finished_at": _instant(inquiry.finished_at),
        "failure_code": inquiry.failure_code,
    }


def json_chunks(
    inquiry_summary: Mapping[str, Any],
    lines: Iterable[ResultLine],
    translate: Translate,
    *,
    batch: int = 1000,
) -> Iterator[str]:
    """``{...summary, "rows": [...]}`` as a stream of text pieces."""
    head = json.dumps(dict(inquiry_summary), ensure_ascii=False)
    yield head[:-1] + ', "rows": ['
    pieces: list[str] = []
    first = True
    for line in lines:
        text = json.dumps(json_row(line, translate), ensure_ascii=False)
        pieces.append(text if first else "," + text)
        first = False
        if len(pieces) >= batch:
            yield "".join(pieces)
            pieces = []
    pieces.append("]}")
    yield "".join(pieces)
