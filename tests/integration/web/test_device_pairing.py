"""Pairing and device management: /clinic/devices (institution administrators), the unsigned
POST /api/v1/devices/pair with its rate limit, unpairing and mode switches, audit events."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffAccount, StaffRole
from onshi.audit.models import AuditEvent
from onshi.clock import FrozenClock
from onshi.devices.models import DeviceStatus, PairingCode, ReaderDevice, ReaderMode
from onshi.devices.services import PAIRING_ALPHABET, hash_pairing_code
from onshi.institutions.models import Institution
from tests.device_client import DeviceKey, make_paired_device
from tests.factories import DEFAULT_PASSWORD, make_institution, make_staff_account
from tests.integration.web.web_helpers import csrf_from, sign_in

PAIR = "/api/v1/devices/pair"
ME = "/api/v1/devices/me"
_CODE = re.compile(r'<code id="pairing-code">([A-Z0-9]{4})-([A-Z0-9]{4})</code>')


def _actions(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _admin(db: Session, institution: Institution, **overrides: Any) -> StaffAccount:
    return make_staff_account(
        db, StaffRole.DOCTOR, institution=institution, is_institution_admin=True, **overrides
    )


def _signed_in(client: TestClient[Litestar], account: StaffAccount) -> str:
    assert sign_in(client, account.login_id, DEFAULT_PASSWORD).status_code == 303
    return csrf_from(client.get("/clinic/devices").text)


def _issue_code(client: TestClient[Litestar], csrf: str) -> str:
    response = client.post("/clinic/devices/pairing-codes", data={"csrf_token": csrf})
    assert response.status_code == 201, response.text
    match = _CODE.search(response.text)
    assert match is not None
    return match.group(1) + match.group(2)


def _pair(client: TestClient[Litestar], code: str, key: DeviceKey, label: str = "受付1") -> Any:
    return client.post(PAIR, json={"code": code, "public_key": key.public_key_b64u, "label": label})


@pytest.fixture
def institution(db: Session) -> Institution:
    return make_institution(db, name="オンシ総合病院")


def test_admin_pairs_a_reader_which_then_signs_requests(
    client: TestClient[Litestar], db: Session, clock: FrozenClock, institution: Institution
) -> None:
    admin = _admin(db, institution)
    db.commit()
    csrf = _signed_in(client, admin)
    code = _issue_code(client, csrf)
    assert set(code) <= set(PAIRING_ALPHABET)
    row = db.scalars(select(PairingCode)).one()
    assert row.code_hash == hash_pairing_code(code)
    assert code not in row.code_hash
    assert row.expires_at == clock.now() + timedelta(minutes=10)

    key = DeviceKey.generate(clock)
    response = _pair(client, f"{code[:4].lower()}-{code[4:]}", key)  # typed loosely
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["institution"] == {"code": institution.code, "name": "オンシ総合病院"}
    key.device_id = body["device_id"]
    device = db.get_one(ReaderDevice, key.device_id)
    assert device.institution_id == institution.id
    assert device.public_key == key.public_key_raw
    assert device.mode is ReaderMode.UNATTENDED
    assert key.signed_get(client, ME).json()["label"] == "受付1"
    assert _actions(db)[-2:] == ["device.pairing_code_created", "device.paired"]

    page = client.get("/clinic/devices")
    assert "受付1" in page.text
    assert _CODE.search(page.text) is None  # shown once


@pytest.mark.parametrize("case", ["unknown", "used", "expired"])
def test_invalid_used_and_expired_codes_get_one_answer(
    client: TestClient[Litestar],
    db: Session,
    clock: FrozenClock,
    institution: Institution,
    case: str,
) -> None:
    admin = _admin(db, institution)
    db.commit()
    code = _issue_code(client, _signed_in(client, admin))
    if case == "unknown":
        code = "".join(reversed(code)) if code != code[::-1] else "ZZZZZZZZ"
    elif case == "used":
        assert _pair(client, code, DeviceKey.generate(clock)).status_code == 201
    else:
        clock.advance(timedelta(minutes=10))
    response = _pair(client, code, DeviceKey.generate(clock))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "pairing.invalid_code"
    assert error["message"]["ja"]
    assert error["message"]["en"]
    assert "device.pairing_failed" in _actions(db)


@pytest.mark.parametrize(
    "case",
    [
        ("AAAA", "受付", "pairing.bad_key"),
        ("A" * 43 + "=", "受付", "pairing.bad_key"),
        (None, "  ", "pairing.bad_label"),
        (None, "x" * 65, "pairing.bad_label"),
    ],
)
def test_bad_key_or_label(
    client: TestClient[Litestar],
    db: Session,
    clock: FrozenClock,
    institution: Institution,
    case: tuple[str | None, str, str],
) -> None:
    public_key, label, code = case
    admin = _admin(db, institution)
    db.commit()
    pairing_code = _issue_code(client, _signed_in(client, admin))
    key = public_key or DeviceKey.generate(clock).public_key_b64u
    response = client.post(PAIR, json={"code": pairing_code, "public_key": key, "label": label})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    # The code was not spent by a broken request.
    assert _pair(client, pairing_code, DeviceKey.generate(clock)).status_code == 201


def test_pairing_is_rate_limited_per_address(
    client: TestClient[Litestar], db: Session, clock: FrozenClock, institution: Institution
) -> None:
    admin = _admin(db, institution)
    db.commit()
    good = _issue_code(client, _signed_in(client, admin))
    for _ in range(3):  # web_settings: 3 attempts per 300 s
        assert _pair(client, "WRONG234", DeviceKey.generate(clock)).status_code == 400
    locked = _pair(client, good, DeviceKey.generate(clock))
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "pairing.rate_limited"
    assert locked.json()["error"]["params"] == {"minutes": 5}
    assert locked.headers["Retry-After"] == "300"
    clock.advance(timedelta(seconds=301))
    assert _pair(client, good, DeviceKey.generate(clock)).status_code == 201


def test_pair_request_shape_is_validated(client: TestClient[Litestar]) -> None:
    response = client.post(PAIR, json={"code": "ABCDEFGH"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_mode_switch_by_admin_is_audited_and_seen_by_the_device(
    client: TestClient[Litestar], db: Session, clock: FrozenClock, institution: Institution
) -> None:
    admin = _admin(db, institution)
    device, key = make_paired_device(db, institution=institution, clock=clock, label="受付2")
    db.commit()
    csrf = _signed_in(client, admin)
    response = client.post(
        f"/clinic/devices/{device.id}/mode",
        data={"csrf_token": csrf, "mode": "visual"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'id="device-panel"' in response.text
    assert "<html" not in response.text
    assert key.signed_get(client, ME).json()["mode"] == "visual"
    assert "device.mode_changed" in _actions(db)
    back = client.post(
        f"/clinic/devices/{device.id}/mode",
        data={"csrf_token": csrf, "mode": "unattended"},
        follow_redirects=False,
    )
    assert back.status_code == 303
    assert back.headers["location"] == "/clinic/devices"
    assert key.signed_get(client, ME).json()["mode"] == "unattended"


def test_mode_switch_needs_an_institution_admin(
    client: TestClient[Litestar], db: Session, clock: FrozenClock, institution: Institution
) -> None:
    clerk = make_staff_account(db, StaffRole.RECEPTION, institution=institution)
    device, _key = make_paired_device(db, institution=institution, clock=clock)
    db.commit()
    csrf = _signed_in(client, clerk)
    page = client.get("/clinic/devices")
    assert page.status_code == 200
    assert "/mode" not in page.text  # no controls for a non-admin
    for path, data in (
        (f"/clinic/devices/{device.id}/mode", {"mode": "visual"}),
        (f"/clinic/devices/{device.id}/revoke", {}),
        ("/clinic/devices/pairing-codes", {}),
    ):
        response = client.post(path, data={"csrf_token": csrf, **data})
        assert response.status_code == 403, path
    db.expire_all()
    assert db.get_one(ReaderDevice, device.id).mode is ReaderMode.UNATTENDED


def test_another_institutions_device_is_not_found(
    client: TestClient[Litestar], db: Session, clock: FrozenClock, institution: Institution
) -> None:
    admin = _admin(db, institution)
    foreign, _key = make_paired_device(db, institution=make_institution(db), clock=clock)
    db.commit()
    csrf = _signed_in(client, admin)
    for path, data in (
        (f"/clinic/devices/{foreign.id}/mode", {"mode": "visual"}),
        (f"/clinic/devices/{foreign.id}/revoke", {}),
    ):
        assert client.post(path, data={"csrf_token": csrf, **data}).status_code == 404
    db.expire_all()
    assert db.get_one(ReaderDevice, foreign.id).status is DeviceStatus.ACTIVE


def test_bad_mode_value(
    client: TestClient[Litestar], db: Session, clock: FrozenClock, institution: Institution
) -> None:
    admin = _admin(db, institution)
    device, _key = make_paired_device(db, institution=institution, clock=clock)
    db.commit()
    csrf = _signed_in(client, admin)
    response = client.post(
        f"/clinic/devices/{device.id}/mode", data={"csrf_token": csrf, "mode": "auto"}
    )
    assert response.status_code == 400


def test_forms_need_csrf(
    client: TestClient[Litestar], db: Session, clock: FrozenClock, institution: Institution
) -> None:
    admin = _admin(db, institution)
    device, _key = make_paired_device(db, institution=institution, clock=clock)
    db.commit()
    _signed_in(client, admin)
    assert client.post(f"/clinic/devices/{device.id}/revoke").status_code == 403
    assert client.post("/clinic/devices/pairing-codes").status_code == 403
    db.expire_all()
    assert db.get_one(ReaderDevice, device.id).status is DeviceStatus.ACTIVE


def test_unpair_then_the_device_is_revoked(
    client: TestClient[Litestar], db: Session, clock: FrozenClock, institution: Institution
) -> None:
    admin = _admin(db, institution)
    device, key = make_paired_device(db, institution=institution, clock=clock)
    db.commit()
    assert key.signed_get(client, ME).status_code == 200
    csrf = _signed_in(client, admin)
    response = client.post(f"/clinic/devices/{device.id}/revoke", data={"csrf_token": csrf})
    assert response.status_code == 200  # followed the 303 back to the page
    db.expire_all()
    revoked = db.get_one(ReaderDevice, device.id)
    assert revoked.status is DeviceStatus.REVOKED
    assert revoked.revoked_at == clock.now()
    assert "device.revoked" in _actions(db)
    denied = key.signed_get(client, ME)
    assert denied.status_code == 401
    assert denied.json()["error"]["code"] == "device.revoked"
    again = client.post(f"/clinic/devices/{device.id}/revoke", data={"csrf_token": csrf})
    assert again.status_code == 409


def test_page_needs_clinic_staff(client: TestClient[Litestar]) -> None:
    response = client.get("/clinic/devices", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/clinic/sign-in")
