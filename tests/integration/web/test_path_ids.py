"""Integer path ids outside the 64-bit range are a 404, not a 500 from the database driver."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from tests.factories import DEFAULT_PASSWORD, make_staff_account
from tests.integration.web.web_helpers import csrf_from, sign_in


@pytest.mark.parametrize("device_id", [2**63, 2**64 + 5, 10**30, 0])
def test_out_of_range_device_ids_are_not_found(
    db: Session, client: TestClient[Litestar], device_id: int
) -> None:
    admin = make_staff_account(db, StaffRole.DOCTOR, is_institution_admin=True)
    db.commit()
    assert sign_in(client, admin.login_id, DEFAULT_PASSWORD).status_code == 303
    csrf = csrf_from(client.get("/clinic/devices").text)
    for action in ("revoke", "mode"):
        answer = client.post(
            f"/clinic/devices/{device_id}/{action}", data={"csrf_token": csrf, "mode": "visual"}
        )
        assert answer.status_code == 404, (action, answer.status_code)
    assert client.get("/clinic/devices").status_code == 200
