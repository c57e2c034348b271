"""Who may open the 災害時 pages: administrators the declarations, every clinic role the search
(inside a declaration); everyone else is refused, and a form without its CSRF token too."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from tests.factories import (
    DEFAULT_PASSWORD,
    make_disaster_declaration,
    make_institution,
    make_staff_account,
)
from tests.integration.web.web_helpers import sign_in

AUDIENCE = {
    StaffRole.RECEPTION: "clinic",
    StaffRole.DOCTOR: "clinic",
    StaffRole.DENTIST: "clinic",
    StaffRole.PHARMACIST: "clinic",
    StaffRole.INSURER_OPERATOR: "insurer",
    StaffRole.ADMINISTRATOR: "admin",
}


@pytest.mark.parametrize("role", list(StaffRole), ids=lambda role: role.value)
def test_each_role_on_each_disaster_page(
    db: Session, client: TestClient[Litestar], role: StaffRole
) -> None:
    institution = make_institution(db, prefecture_code="13")
    staff = make_staff_account(db, role, institution)
    declaration = make_disaster_declaration(db, ("13",))
    db.commit()
    assert sign_in(client, staff.login_id, DEFAULT_PASSWORD, AUDIENCE[role]).status_code == 303
    admin_pages = ("/admin/disasters", f"/admin/disasters/{declaration.id}")
    for path in admin_pages:
        status = client.get(path, follow_redirects=False).status_code
        assert status == (200 if role is StaffRole.ADMINISTRATOR else 403), path
    status = client.get("/clinic/disaster", follow_redirects=False).status_code
    assert status == (200 if AUDIENCE[role] == "clinic" else 403)


def test_signed_out_visitors_go_to_the_sign_in(client: TestClient[Litestar]) -> None:
    for path, sign_in_path in (
        ("/admin/disasters", "/admin/sign-in"),
        ("/clinic/disaster", "/clinic/sign-in"),
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith(sign_in_path)


def test_forms_need_their_csrf_token(db: Session, client: TestClient[Litestar]) -> None:
    admin = make_staff_account(db, StaffRole.ADMINISTRATOR)
    declaration = make_disaster_declaration(db, ("13",))
    db.commit()
    assert sign_in(client, admin.login_id, DEFAULT_PASSWORD, "admin").status_code == 303
    declared = client.post("/admin/disasters", data={"prefectures": "13", "title": "x"})
    assert declared.status_code == 403
    ended = client.post(f"/admin/disasters/{declaration.id}/end", data={})
    assert ended.status_code == 403
