"""reader_bridge against the REAL portal app (create_app, in process through Litestar's test
transport): pairing with a code made by an institution admin, 利用登録 and verification of a
VIRTUAL card by PIN (the portal checks the card's signature), the wrong-PIN countdown, card
removal mid-flow, 目視 confirmed by staff, and unpairing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.accounts.schemas import Principal, SubjectKind
from onshi.app import create_app
from onshi.clock import FrozenClock, today_jst
from onshi.devices.models import ReaderMode
from onshi.devices.services import create_pairing_code, revoke_device, set_device_mode
from onshi.jlis.simulated import IssuedCertificate, SimulatedJlis
from onshi.pki import TrustStore
from onshi.pki.devpki import DevelopmentPKI
from onshi.settings import Settings
from onshi.verification.models import VerificationEvent
from onshi.verification.visual import confirm_visual, pending_visual_checks
from onshi.web.api.verifications import TRUST_STATE_KEY
from reader_bridge.face import SimulatedFaceMatcher
from reader_bridge.flow import KioskFlow, Step
from reader_bridge.identity import DeviceIdentity, save_identity
from reader_bridge.portal import PortalClient, RetryPolicy, pair
from reader_bridge.readers.inprocess import InProcessReader
from reader_bridge.virtual_card import VirtualJpkiCard
from tests.factories import (
    make_institution,
    make_insurer,
    make_person,
    make_qualification,
    make_resident_record,
    make_staff_account,
)

SLOT = "Onshi SIMULATED Reader"
PIN = "1234"
CONSENTS = {"health_check": True, "drug": True, "clinical": False, "surgery": False}


@pytest.fixture
def pki(tmp_path: Path, clock: FrozenClock) -> DevelopmentPKI:
    pki = DevelopmentPKI(tmp_path / "dev-pki")
    pki.init(at=clock.now() - timedelta(days=1), crl_url="http://127.0.0.1/crl.pem")
    return pki


@pytest.fixture
def api(
    db_engine: Engine, clock: FrozenClock, pki: DevelopmentPKI
) -> Iterator[TestClient[Litestar]]:
    settings = Settings(
        environment="test",
        database_url=db_engine.url.render_as_string(hide_password=False),
        secret_key="reader-bridge-test-secret-key-0123456789",
        my_number_key="reader-bridge-test-my-number-key-0123456789",
        secure_cookies=False,
    )
    app = create_app(settings, clock)
    app.state[TRUST_STATE_KEY] = TrustStore.from_files([pki.ca_path], [pki.crl_path])
    with TestClient(app) as client:
        yield client


class _InProcess(httpx.BaseTransport):
    """Requests go to the app through Litestar's test transport (no socket)."""

    def __init__(self, client: TestClient[Litestar]) -> None:
        self._inner = client._transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)


@pytest.fixture
def clinic(db: Session) -> dict[str, Any]:
    institution = make_institution(db)
    admin = make_staff_account(db, StaffRole.DOCTOR, institution, is_institution_admin=True)
    person = make_person(db)
    insurer = make_insurer(db)
    qualification = make_qualification(db, person, insurer, branch="01")
    resident = make_resident_record(db, person)
    db.commit()
    principal = Principal(
        session_id=1,
        subject_kind=SubjectKind.STAFF,
        subject_id=admin.id,
        display_name="管理者",
        role=StaffRole.DOCTOR,
        institution_id=institution.id,
        is_institution_admin=True,
    )
    return {
        "institution": institution,
        "admin": principal,
        "person": person,
        "q": qualification,
        "insurer_number": insurer.number,
        "resident_id": resident.id,
    }


@pytest.fixture
def bridge(
    db: Session,
    clock: FrozenClock,
    api: TestClient[Litestar],
    clinic: dict[str, Any],
    tmp_path: Path,
) -> Iterator[tuple[KioskFlow, PortalClient, InProcessReader]]:
    """A reader paired the way a clinic does it: the admin's code, then the bridge pairs."""
    code = create_pairing_code(db, clock, clinic["admin"]).code
    db.commit()
    transport = _InProcess(api)
    key = Ed25519PrivateKey.generate()
    paired = pair(str(api.base_url), code, "受付1", key, transport=transport)
    identity: DeviceIdentity = save_identity(
        tmp_path / "state",
        key,
        device_id=paired.device_id,
        portal=str(api.base_url),
        label="受付1",
        institution=paired.institution,
    )
    assert identity.institution_code == clinic["institution"].code
    portal = PortalClient(
        identity,
        transport=transport,
        now=lambda: clock.now().timestamp(),
        retry=RetryPolicy(attempts=2, initial_delay=0.01),
    )
    reader = InProcessReader([SLOT])
    flow = KioskFlow(reader, portal, SimulatedFaceMatcher(), poll_interval=0.02)
    yield flow, portal, reader
    portal.close()


def _card(
    db: Session, pki: DevelopmentPKI, clinic: dict[str, Any], clock: FrozenClock
) -> VirtualJpkiCard:
    """A card issued to the clinic person's resident record (SIMULATED J-LIS knows its holder)."""
    record = pki.issue(
        person="bridge-test",
        birth_date=clinic["person"].birth_date,
        issued_on=today_jst(clock) - timedelta(days=30),
    )
    issued = IssuedCertificate.of(pki.card_certificate(record.card_id), issued_at=clock.now())
    SimulatedJlis(db).record_issuance(clinic["resident_id"], issued)
    db.commit()
    return VirtualJpkiCard.load(pki.card_dir(record.card_id), ca_path=pki.ca_path, pin=PIN)


def _event(flow: KioskFlow, reader: InProcessReader) -> None:
    event = reader.wait_for_event(1)
    assert event is not None
    flow.handle_event(event)


def _register_and_verify(flow: KioskFlow, reader: InProcessReader, card: VirtualJpkiCard) -> None:
    """One visit: PIN once, consents once; card.not_registered → agree → registered and
    verified with fresh challenges the still PIN-verified card signs."""
    reader.insert(card, SLOT)
    _event(flow, reader)
    assert flow.snapshot().step is Step.CHOOSE_METHOD
    flow.choose("pin")
    flow.enter_pin(PIN)
    flow.set_consents(CONSENTS)
    flow.set_limit(True)
    assert flow.snapshot().step is Step.REGISTER_INTRO  # card.not_registered from the portal
    flow.consent_registration()


def test_pair_register_and_verify_by_pin_end_to_end(
    db: Session,
    clock: FrozenClock,
    pki: DevelopmentPKI,
    clinic: dict[str, Any],
    bridge: tuple[KioskFlow, PortalClient, InProcessReader],
) -> None:
    flow, portal, reader = bridge
    status = portal.device_status()
    assert status.mode == "unattended"
    card = _card(db, pki, clinic, clock)
    _register_and_verify(flow, reader, card)
    screen = flow.snapshot()
    assert screen.step is Step.DONE, screen
    assert screen.result == {"result_code": 1, "verdict": {"ja": "有効", "en": "Valid"}}
    events = db.scalars(select(VerificationEvent).order_by(VerificationEvent.id)).all()
    assert [e.result_code for e in events if e.error_code is None] == [1]
    assert events[-1].person_id == clinic["person"].id
    reader.remove(SLOT)
    _event(flow, reader)
    assert flow.snapshot().step is Step.PLACE_CARD


def test_wrong_pin_countdown_and_removal_mid_flow(
    db: Session,
    clock: FrozenClock,
    pki: DevelopmentPKI,
    clinic: dict[str, Any],
    bridge: tuple[KioskFlow, PortalClient, InProcessReader],
) -> None:
    flow, _portal, reader = bridge
    card = _card(db, pki, clinic, clock)
    reader.insert(card, SLOT)
    _event(flow, reader)
    flow.choose("pin")
    flow.enter_pin("9999")
    assert (flow.snapshot().step, flow.snapshot().tries_left) == (Step.PIN, 2)
    flow.enter_pin("8888")
    assert flow.snapshot().tries_left == 1
    flow.enter_pin(PIN)  # a right PIN resets the card's counter
    assert flow.snapshot().step is Step.CONSENT
    assert card.tries_left == 3
    reader.remove(SLOT)
    _event(flow, reader)
    assert flow.snapshot().step is Step.PLACE_CARD
    assert db.scalars(select(VerificationEvent)).all() == []  # nothing half-recorded


def test_visual_check_confirmed_by_staff_then_unpairing(
    db: Session,
    clock: FrozenClock,
    pki: DevelopmentPKI,
    clinic: dict[str, Any],
    bridge: tuple[KioskFlow, PortalClient, InProcessReader],
) -> None:
    flow, portal, reader = bridge
    card = _card(db, pki, clinic, clock)
    _register_and_verify(flow, reader, card)
    reader.remove(SLOT)
    _event(flow, reader)
    device_id = portal.identity.device_id
    set_device_mode(db, clock, clinic["admin"], device_id, ReaderMode.VISUAL)
    db.commit()
    reader.insert(card, SLOT)
    _event(flow, reader)
    assert flow.snapshot().step is Step.VISUAL_NOTICE
    flow.continue_visual()
    flow.set_consents(CONSENTS)
    flow.set_limit(False)
    assert flow.snapshot().step is Step.AWAITING_STAFF
    db.expire_all()
    institution_id = clinic["institution"].id
    (pending,) = pending_visual_checks(db, clock, institution_id=institution_id)
    confirm_visual(db, clock, clinic["admin"], pending.public_id)
    db.commit()
    deadline = time.monotonic() + 10
    while flow.snapshot().step is Step.AWAITING_STAFF:
        assert time.monotonic() < deadline
        flow.wait_for_change(flow.version, 0.1)
    assert flow.snapshot().step is Step.DONE
    assert (flow.snapshot().result or {}).get("result_code") == 1
    reader.remove(SLOT)
    _event(flow, reader)

    revoke_device(db, clock, clinic["admin"], device_id)
    db.commit()
    reader.insert(card, SLOT)
    _event(flow, reader)
    assert flow.snapshot().step is Step.DEVICE_NOT_REGISTERED
