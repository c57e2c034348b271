"""Sample contexts of the viewer's alerts partial and the 災害時 pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from onshi.viewer.alerts import alerts_for


@dataclass(frozen=True)
class _Row:
    id: int
    drug_code: str
    drug_name: str
    dispensed_on: date
    days: int | None
    institution_name: str
    prescribing_institution_name: str | None = None


_TODAY = date(2026, 4, 1)
_ROWS = [
    _Row(1, "2189011F1041", "シンバスタチン錠5mg「アメル」", date(2026, 3, 10), 28, "みなと薬局",
         "さくら内科"),
    _Row(2, "6290004M1029", "イトリゾールカプセル50", date(2026, 3, 20), 7, "ひかり皮膚科"),
    _Row(3, "2189017F1022", "クレストール錠2.5mg", date(2026, 3, 1), 28, "さくら内科"),
    _Row(4, "2189017F1022", "クレストール錠2.5mg", date(2026, 3, 15), None, "あおば医院"),
]  # fmt: skip
ALERTS = alerts_for(_ROWS, today=_TODAY)
assert len(ALERTS) == 2  # one of each kind: the sample shows both

SAMPLES: dict[str, dict[str, Any]] = {
    "partials/viewer/_alerts.html": {"alerts": ALERTS},
}
NOW = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
