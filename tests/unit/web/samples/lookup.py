"""Sample contexts of the 記号番号 lookup templates (/clinic/lookup)."""

from __future__ import annotations

from typing import Any

from onshi.verification.errors import VerificationError

_VALUES = {
    "insurer_number": "06130014",
    "symbol": "1234",
    "number": "000123",
    "branch": "",
    "birth_date": "1980-05-17",
    "institution_patient_number": "",
}
_RESULT: dict[str, Any] = {
    "result_code": 1,
    "newer_qualification_exists": False,
    "institution_patient_number": "K-1",
    "consents": [],
    "qualification": {
        "card_class": "01",
        "insurer_number": "06130014",
        "insurer_name": "テスト健康保険組合",
        "symbol": "1234",
        "number": "000123",
        "branch": "01",
        "relationship": "1",
        "name": "山田\u3000太郎",
        "name_kana": "ヤマダ\u3000タロウ",
        "name_kana_half_width": "ﾔﾏﾀﾞ ﾀﾛｳ",
        "sex": "1",
        "birth_date": "1980-05-17",
        "address": "東京都千代田区千代田1-1",
        "postal_code": "1000001",
        "acquired_on": "2020-04-01",
        "lost_on": None,
        "loss_reason": None,
        "issued_on": "2020-04-01",
        "valid_from": "2020-04-01",
        "valid_to": None,
        "copayment_ratio": "030",
        "preschool": False,
        "elderly_certificate": {"copayment_ratio": "020", "valid_from": None, "valid_to": None},
        "limit_certifications": None,
        "specific_diseases": [{"disease": "1", "monthly_limit_yen": 10000}],
    },
}
_CONTEXT: dict[str, Any] = {
    "values": _VALUES,
    "problems": {"birth_date": VerificationError("lookup.birth_date", field="birth_date")},
    "result": _RESULT,
    "patient_number_ignored": True,
}

SAMPLES: dict[str, dict[str, Any]] = {
    "pages/clinic/lookup.html": _CONTEXT,
    "partials/verification/_lookup.html": _CONTEXT,
}
