"""Sample contexts for the staff account pages (own account, passkeys, management)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from onshi.accounts.errors import AccountError
from onshi.accounts.management import IssuedPassword
from onshi.accounts.models import StaffRole
from onshi.accounts.staff_passkeys import StaffPasskeyView

from .staff import STAFF

NOW = datetime(2026, 4, 1, 1, 30, tzinfo=UTC)
ACCOUNT = SimpleNamespace(
    id=2,
    login_id="reception2",
    display_name="受付 二郎",
    role=StaffRole.RECEPTION,
    is_institution_admin=False,
    is_insurer_admin=False,
    emergency_permission=False,
    active=True,
    must_change_password=True,
    last_sign_in_at=NOW,
)
ROLES = (StaffRole.RECEPTION, StaffRole.DOCTOR)
ISSUED = IssuedPassword(account_id=2, login_id="reception2", password="abcd-efgh-jkmn-pqrs")
KEY = StaffPasskeyView(id=1, nickname="受付PC", created_at=NOW, last_used_at=None)

SAMPLES: dict[str, dict[str, Any]] = {
    "pages/staff/account.html": {
        "audience": "clinic",
        "principal": STAFF,
        "passkeys": [KEY],
        "can_manage": True,
    },
    "pages/staff/password.html": {
        "audience": "clinic",
        "problems": {"current": AccountError("accounts.password.current_wrong")},
        "forced": True,
    },
    "pages/staff/passkeys.html": {
        "audience": "insurer",
        "passkeys": [KEY],
        "required": True,
        "configured": True,
        "right_url": "http://localhost:8000/insurer/account/passkeys",
    },
    "pages/staff/second_factor.html": {"audience": "admin", "configured": True},
    "pages/staff/manage.html": {
        "audience": "clinic",
        "accounts": [ACCOUNT],
        "roles": ROLES,
        "admin_flag": True,
        "institution": SimpleNamespace(require_staff_second_factor=False),
        "values": {},
        "error": AccountError("accounts.login_id_taken"),
        "issued": ISSUED,
    },
    "pages/staff/manage_account.html": {
        "audience": "clinic",
        "account": ACCOUNT,
        "roles": ROLES,
        "admin_flag": True,
        "is_self": False,
        "error": None,
        "notice": "staff.manage.saved",
        "issued": ISSUED,
    },
    "partials/staff/_issued.html": {"issued": ISSUED},
    "partials/staff/_permission_fields.html": {
        "audience": "clinic",
        "roles": ROLES,
        "admin_flag": True,
        "selected": "doctor",
    },
}
