from __future__ import annotations

import pytest

from onshi.accounts.models import StaffRole, SubjectKind
from onshi.accounts.schemas import Principal
from onshi.web.navigation import after_sign_in, safe_next


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/clinic", "/clinic"),
        ("/clinic?x=1", "/clinic?x=1"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/a\r\nSet-Cookie: x", "/"),
    ],
)
def test_safe_next(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def _staff(role: StaffRole) -> Principal:
    return Principal(
        session_id=1, subject_kind=SubjectKind.STAFF, subject_id=1, display_name="x", role=role
    )


def test_after_sign_in_keeps_next_only_within_the_role() -> None:
    doctor = _staff(StaffRole.DOCTOR)
    assert after_sign_in(doctor, "/clinic/patients") == "/clinic/patients"
    assert after_sign_in(doctor, "/admin") == "/clinic"
    assert after_sign_in(doctor, None) == "/clinic"
    assert after_sign_in(_staff(StaffRole.INSURER_OPERATOR), "/") == "/insurer"
    assert after_sign_in(_staff(StaffRole.ADMINISTRATOR), "//evil") == "/admin"
