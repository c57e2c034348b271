"""Sample contexts of the viewer's alerts partial and the 災害時 pages."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from onshi.accounts.models import StaffRole
from onshi.audit.models import DataKind
from onshi.identity.models import Sex
from onshi.portal.paging import Page
from onshi.qualification.models import CopaymentRatio, Relationship
from onshi.verification.models import ResultCode
from onshi.verification.results import QualificationRecord
from onshi.viewer.alerts import alerts_for
from onshi.viewer.disaster import DeclarationForm, DisasterDeclarationRef, DisasterError
from onshi.viewer.disaster_queries import DeclarationSummary, DisasterView, PersonDeclaration
from onshi.viewer.disaster_search import (
    DisasterSearchError,
    NotDeclaredError,
    SearchHit,
    SearchOutcome,
)
from onshi.web.admin.disasters import prefecture_regions


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

NOW = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
DECLARATION = DeclarationSummary(
    id=1,
    title="テスト地震",
    reason="震度6強",
    prefectures=("13", "14"),
    prefecture_names=("東京都", "神奈川県"),
    starts_at=NOW,
    ends_at=None,
    ended_at=NOW,
    declared_by="管理者",
    ended_by="管理者",
    created_at=NOW,
    state="active",
)
_FORM_CONTEXT: dict[str, Any] = {
    "declarations": [DECLARATION, replace(DECLARATION, id=2, state="over")],
    "regions": prefecture_regions(),
    "form": DeclarationForm(prefectures=("13",), title="テスト", starts_at="2026-04-01T09:00"),
    "problems": {
        "prefectures": DisasterError("disaster.prefectures.required"),
        "ends_at": DisasterError("disaster.ends_at.before_start"),
        "title": DisasterError("disaster.title.too_long", max=100, got=120),
    },
}
_VIEW = DisasterView(
    occurred_at=NOW,
    data_kind=DataKind.DRUG,
    institution_name="テスト医院",
    institution_code="1310100011",
    prefecture_code="13",
    staff_name="職員1",
    staff_role=StaffRole.DOCTOR,
)

_REF = DisasterDeclarationRef(id=1, title="テスト地震", starts_at=NOW, ends_at=NOW)
_QUALIFICATION = QualificationRecord(
    id=1,
    person_id=7,
    insurer_number="06130014",
    insurer_name="テスト健康保険組合",
    card_class="01",
    symbol="1234",
    number="000123",
    branch="00",
    relationship=Relationship.INSURED,
    acquired_on=date(2020, 4, 1),
    lost_on=None,
    loss_reason=None,
    issued_on=date(2020, 4, 1),
    valid_from=date(2020, 4, 1),
    valid_to=None,
    copayment_ratio=CopaymentRatio.THIRTY,
    preschool=False,
    elderly_certificate_ratio=None,
    elderly_certificate_valid_from=None,
    elderly_certificate_valid_to=None,
    name="山田\u3000太郎",
    name_kana="ヤマダ\u3000タロウ",
    sex=Sex.MALE,
    birth_date=date(1980, 5, 17),
    address="東京都千代田区千代田1-1",
    postal_code="1000001",
)
_HIT = SearchHit(
    person_id=7,
    result_code=ResultCode.VALID,
    name="山田\u3000太郎",
    name_kana="ヤマダ\u3000タロウ",
    birth_date=date(1980, 5, 17),
    address="東京都千代田区千代田1-1",
    qualification=_QUALIFICATION,
)
_SEARCH: dict[str, Any] = {
    "declaration": _REF,
    "mode": "identity",
    "values": {"kanji_name": "山田太郎", "birth_date": "1980-05-17", "address": "東京"},
    "problems": {"address": DisasterSearchError("disaster.search.address_short", min=6)},
    "outcome": SearchOutcome(
        _REF,
        "identity",
        (_HIT, replace(_HIT, result_code=ResultCode.INVALID, qualification=None)),
    ),
    "can_view": True,
    "viewer_link": "/clinic/viewer/{person_id}/drugs?mode=disaster",
}

SAMPLES: dict[str, dict[str, Any]] = {
    "pages/clinic/disaster.html": _SEARCH,
    "partials/disaster/_search.html": {
        **_SEARCH,
        "can_view": False,
        "outcome": SearchOutcome(_REF, "card", (), multiple=True),
    },
    "partials/viewer/_disaster_declarations.html": {
        "disaster_declarations": [
            PersonDeclaration(id=1, title="テスト地震", starts_at=NOW, ends_at=None, views=2),
            PersonDeclaration(id=2, title="テスト豪雨", starts_at=NOW, ends_at=NOW, views=1),
        ]
    },
    "pages/clinic/disaster_refused.html": {"error": NotDeclaredError(prefecture="東京都")},
    "partials/viewer/_alerts.html": {"alerts": ALERTS},
    "pages/admin/disasters.html": _FORM_CONTEXT,
    "partials/disaster/_declare_form.html": _FORM_CONTEXT,
    "partials/disaster/_period.html": {"declaration": DECLARATION},
    "pages/admin/disaster.html": {
        "declaration": DECLARATION,
        "page": Page(
            items=[_VIEW, replace(_VIEW, staff_name=None, staff_role=None)],
            page=2,
            per_page=2,
            has_next=True,
        ),
        "views_total": 600,
        "error": DisasterError("disaster.end.already_ended"),
    },
    "partials/disaster/_views.html": {
        "declaration": DECLARATION,
        "page": Page(items=[], page=1, per_page=100, has_next=False),
        "views_total": 0,
    },
}
