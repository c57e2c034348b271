"""/clinic and /clinic/reception are counter views: 一括照会 rows stay on the batch pages, and no
message on them shows a raw ``{placeholder}`` (a batch row error has its details only there)."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.verification.models import VerificationMethod
from tests.factories import (
    DEFAULT_PASSWORD,
    make_institution,
    make_person,
    make_qualification,
    make_staff_account,
    make_verification_event,
)
from tests.integration.web.web_helpers import sign_in

LEFTOVER = re.compile(r"\{[a-z_]+\}")


def test_batch_rows_stay_off_the_counter_views(client: TestClient[Litestar], db: Session) -> None:
    institution = make_institution(db, name="一括照会診療所")
    counter_person = make_person(db, family_name="窓口", given_name="太郎")
    batch_person = make_person(db, family_name="一括", given_name="花子")
    make_verification_event(
        db,
        institution=institution,
        qualification=make_qualification(db, person=counter_person),
        method=VerificationMethod.CARD_FACE,
    )
    for _ in range(25):  # more than either screen lists: a flood would push the counter out
        make_verification_event(
            db,
            institution=institution,
            qualification=None,
            person_id=None,
            result_code=None,
            error_code="batch.row.birth_date_future",
            method=VerificationMethod.BATCH,
        )
        make_verification_event(
            db,
            institution=institution,
            qualification=make_qualification(db, person=batch_person),
            method=VerificationMethod.BATCH,
        )
    staff = make_staff_account(db, StaffRole.RECEPTION, institution=institution)
    db.commit()

    sign_in(client, staff.login_id, DEFAULT_PASSWORD)
    for path in ("/clinic", "/clinic/reception"):
        html = client.get(path).text
        assert "窓口\u3000太郎" in html, path
        assert "一括\u3000花子" not in html, path
        assert "未来の日付" not in html, path
        assert LEFTOVER.search(html) is None, (path, LEFTOVER.findall(html))
