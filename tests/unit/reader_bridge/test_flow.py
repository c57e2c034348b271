"""The kiosk state machine with the in-process reader, virtual cards and a fake portal."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest
from bridge_fakes import FakePortal

from reader_bridge.face import SimulatedFaceMatcher
from reader_bridge.flow import FlowError, KioskFlow, Step
from reader_bridge.jpki import JpkiCard
from reader_bridge.portal import ConsentRules, PortalError, PortalUnavailableError, b64u
from reader_bridge.readers.inprocess import InProcessReader
from reader_bridge.virtual_card import VirtualJpkiCard, VirtualPlainCard

SLOT = "Virtual Reader 0"
CONSENTS = {"health_check": True, "drug": True, "clinical": False, "surgery": False}


@pytest.fixture
def reader() -> InProcessReader:
    return InProcessReader([SLOT])


@pytest.fixture
def portal(card: VirtualJpkiCard) -> FakePortal:
    return FakePortal(linked={card.certificate_der})


@pytest.fixture
def flow(reader: InProcessReader, portal: FakePortal) -> KioskFlow:
    return KioskFlow(reader, portal, SimulatedFaceMatcher(), poll_interval=0.01)


def place(flow: KioskFlow, reader: InProcessReader, card: object) -> None:
    reader.insert(card, SLOT)  # type: ignore[arg-type]
    event = reader.wait_for_event(1)
    assert event is not None
    flow.handle_event(event)


def take(flow: KioskFlow, reader: InProcessReader) -> None:
    reader.remove(SLOT)
    event = reader.wait_for_event(1)
    assert event is not None
    flow.handle_event(event)


def test_pin_path_signs_the_challenge_and_submits_the_choices(
    flow: KioskFlow, reader: InProcessReader, portal: FakePortal, card: VirtualJpkiCard
) -> None:
    assert flow.snapshot().step is Step.PLACE_CARD
    place(flow, reader, card)
    assert flow.snapshot().step is Step.CHOOSE_METHOD
    flow.choose("pin")
    assert (flow.snapshot().step, flow.snapshot().tries_left) == (Step.PIN, 3)
    flow.enter_pin("1234")
    assert flow.snapshot().step is Step.CONSENT
    flow.set_consents(CONSENTS)
    assert flow.snapshot().step is Step.LIMIT
    flow.set_limit(True)
    screen = flow.snapshot()
    assert screen.step is Step.DONE
    assert screen.result == {"result_code": 1, "verdict": {"ja": "有効", "en": "Valid"}}
    (body,) = portal.submissions
    assert body["method"] == "pin"
    assert body["certificate"] == b64u(card.certificate_der)
    assert body["consents"] == CONSENTS
    assert body["limit_info"] is True
    assert set(body) == {
        "challenge_id", "certificate", "method", "proof", "consents", "limit_info",
        "institution_patient_number",
    }  # fmt: skip
    assert portal.challenges == {}  # the fake portal verified the card's signature
    take(flow, reader)
    assert flow.snapshot().step is Step.PLACE_CARD
    assert flow.snapshot().notice is None


def test_wrong_pins_count_down_then_lock(
    flow: KioskFlow, reader: InProcessReader, portal: FakePortal, card: VirtualJpkiCard
) -> None:
    place(flow, reader, card)
    flow.choose("pin")
    flow.enter_pin("0000")
    screen = flow.snapshot()
    assert (screen.step, screen.tries_left) == (Step.PIN, 2)
    assert screen.notice is not None
    assert "違います" in screen.notice["ja"]
    flow.enter_pin("12a4")  # not sent to the card: the counter does not move
    assert (flow.snapshot().step, flow.snapshot().tries_left) == (Step.PIN, 2)
    flow.enter_pin("1111")
    assert flow.snapshot().tries_left == 1
    flow.enter_pin("2222")
    assert flow.snapshot().step is Step.PIN_LOCKED
    assert card.tries_left == 0
    assert portal.submissions == []
    flow.choose("face")  # a locked PIN leaves face recognition
    assert flow.snapshot().step is Step.FACE


def test_a_locked_card_goes_straight_to_the_locked_screen(
    flow: KioskFlow, reader: InProcessReader, make_card: Callable[..., VirtualJpkiCard]
) -> None:
    place(flow, reader, make_card(tries_left=0))
    flow.choose("pin")
    assert flow.snapshot().step is Step.PIN_LOCKED


def test_card_pulled_mid_flow_resets_to_step_one(
    flow: KioskFlow, reader: InProcessReader, portal: FakePortal, card: VirtualJpkiCard
) -> None:
    place(flow, reader, card)
    flow.choose("pin")
    flow.enter_pin("1234")
    assert flow.snapshot().step is Step.CONSENT
    take(flow, reader)
    screen = flow.snapshot()
    assert screen.step is Step.PLACE_CARD
    assert screen.notice is not None
    assert "取り外されました" in screen.notice["ja"]
    with pytest.raises(FlowError):
        flow.set_consents(CONSENTS)  # a stale page cannot continue the old session
    assert portal.submissions == []
    place(flow, reader, card)  # a new session starts from ②
    assert flow.snapshot().step is Step.CHOOSE_METHOD


def test_card_pulled_before_the_pin_is_sent(
    flow: KioskFlow, reader: InProcessReader, card: VirtualJpkiCard
) -> None:
    place(flow, reader, card)
    flow.choose("pin")
    reader.remove(SLOT)  # gone, but the event has not been handled yet
    flow.enter_pin("1234")
    assert flow.snapshot().step is Step.PLACE_CARD
    assert card.tries_left == 3


def test_face_path_attests_the_match_without_images(
    flow: KioskFlow, reader: InProcessReader, portal: FakePortal, card: VirtualJpkiCard
) -> None:
    place(flow, reader, card)
    flow.choose("face")
    flow.capture_face(same_person=True)
    flow.set_consents(CONSENTS)
    flow.set_limit(False)
    assert flow.snapshot().step is Step.DONE
    (body,) = portal.submissions
    assert body["method"] == "face"
    assert body["proof"] == {"face": {"matcher": "simulated-v1", "matched": True, "score": 0.93}}
    assert body["limit_info"] is False


def test_face_mismatch_retries_then_offers_the_pin(
    flow: KioskFlow, reader: InProcessReader, portal: FakePortal, card: VirtualJpkiCard
) -> None:
    place(flow, reader, card)
    flow.choose("face")
    for _ in range(2):
        flow.capture_face(same_person=False)
        assert flow.snapshot().step is Step.FACE
    flow.capture_face(same_person=False)
    screen = flow.snapshot()
    assert screen.step is Step.CHOOSE_METHOD
    assert screen.notice is not None
    assert "暗証番号" in screen.notice["ja"]
    assert portal.submissions == []


def test_comprehensive_consent_without_the_limit_step(
    flow: KioskFlow, reader: InProcessReader, portal: FakePortal, card: VirtualJpkiCard
) -> None:
    portal.rules = ConsentRules(comprehensive_consent=True, limit_consent_step=False)
    place(flow, reader, card)
    flow.choose("pin")
    flow.enter_pin("1234")
    flow.set_consents(CONSENTS)  # the four kinds are not what this rule asks
    assert flow.snapshot().step is Step.CONSENT
    assert flow.snapshot().notice is not None
    flow.set_consents({"comprehensive": True})
    assert flow.snapshot().step is Step.DONE
    assert portal.submissions[0]["consents"] == {"comprehensive": True}
    assert portal.submissions[0]["limit_info"] is None


def _wait_for(flow: KioskFlow, step: Step, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while flow.snapshot().step is not step:
        assert time.monotonic() < deadline, f"still at {flow.snapshot().step}"
        flow.wait_for_change(flow.version, 0.1)


def test_visual_mode_waits_for_staff(
    flow: KioskFlow, reader: InProcessReader, portal: FakePortal, card: VirtualJpkiCard
) -> None:
    portal.mode = "visual"
    place(flow, reader, card)
    assert flow.snapshot().step is Step.VISUAL_NOTICE
    with pytest.raises(FlowError):
        flow.choose("pin")
    flow.continue_visual()
    flow.set_consents(CONSENTS)
    flow.set_limit(True)
    assert flow.snapshot().step is Step.AWAITING_STAFF
    assert portal.submissions[0]["method"] == "visual"
    assert portal.submissions[0]["proof"] == {}
    while portal.polls < 2:
        time.sleep(0.01)
    portal.visual_outcome = {
        "verification_id": "v-1",
        "status": "done",
        "result_code": 1,
        "verdict": {"ja": "有効", "en": "Valid"},
    }
    _wait_for(flow, Step.DONE)


def test_visual_rejection_sends_the_patient_to_the_counter(
    flow: KioskFlow, reader: InProcessReader, portal: FakePortal, card: VirtualJpkiCard
) -> None:
    portal.mode = "visual"
    portal.visual_outcome = {"verification_id": "v-1", "status": "rejected"}
    place(flow, reader, card)
    flow.continue_visual()
    flow.set_consents(CONSENTS)
    flow.set_limit(True)
    _wait_for(flow, Step.ERROR)
    error = flow.snapshot().error
    assert error is not None
    assert "受付" in error["ja"]


def test_card_removed_while_staff_decide_stops_polling(
    flow: KioskFlow, reader: InProcessReader, portal: FakePortal, card: VirtualJpkiCard
) -> None:
    portal.mode = "visual"
    place(flow, reader, card)
    flow.continue_visual()
    flow.set_consents(CONSENTS)
    flow.set_limit(True)
    take(flow, reader)
    polls = portal.polls
    time.sleep(0.1)
    assert portal.polls <= polls + 1
    assert flow.snapshot().step is Step.PLACE_CARD


def _count_pin_entries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every VERIFY with a PIN the bridge sends to the card (what the patient had to type)."""
    entered: list[str] = []
    original = JpkiCard.verify_pin

    def counting(self: JpkiCard, pin: str) -> None:
        entered.append(pin)
        original(self, pin)

    monkeypatch.setattr(JpkiCard, "verify_pin", counting)
    return entered


def test_unregistered_card_registers_and_verifies_with_one_pin_and_one_consent_round(
    flow: KioskFlow,
    reader: InProcessReader,
    portal: FakePortal,
    card: VirtualJpkiCard,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entered = _count_pin_entries(monkeypatch)
    portal.linked.clear()
    place(flow, reader, card)
    flow.choose("pin")
    flow.enter_pin("1234")
    flow.set_consents(CONSENTS)
    flow.set_limit(True)
    assert flow.snapshot().step is Step.REGISTER_INTRO  # card.not_registered: the offer
    flow.consent_registration()  # the only extra thing the patient does: agree
    screen = flow.snapshot()
    assert screen.step is Step.DONE, screen
    assert screen.result == {"result_code": 1, "verdict": {"ja": "有効", "en": "Valid"}}
    assert screen.notice is not None
    assert "利用登録が完了" in screen.notice["ja"]
    assert entered == ["1234"]  # one PIN entry in the whole visit
    (link,) = portal.links
    assert set(link) == {"challenge_id", "certificate", "signature"}  # nothing typed
    first, second = portal.submissions
    assert first["challenge_id"] != second["challenge_id"] != link["challenge_id"]
    assert second["consents"] == first["consents"] == CONSENTS  # one consent round
    assert second["limit_info"] is True
    assert portal.challenges == {}  # every challenge was signed by the card and verified


def test_unregistered_card_after_face_asks_the_pin_once_for_the_registration(
    flow: KioskFlow,
    reader: InProcessReader,
    portal: FakePortal,
    card: VirtualJpkiCard,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entered = _count_pin_entries(monkeypatch)
    portal.linked.clear()
    place(flow, reader, card)
    flow.choose("face")
    flow.capture_face(same_person=True)
    flow.set_consents(CONSENTS)
    flow.set_limit(False)
    flow.consent_registration()
    assert (flow.snapshot().step, flow.snapshot().tries_left) == (Step.REGISTER_PIN, 3)
    flow.enter_registration_pin("9999")
    assert (flow.snapshot().step, flow.snapshot().tries_left) == (Step.REGISTER_PIN, 2)
    flow.enter_registration_pin("1234")
    assert flow.snapshot().step is Step.DONE
    assert entered == ["9999", "1234"]
    assert len(portal.links) == 1
    first, second = portal.submissions
    assert second["method"] == "face"
    assert second["proof"] == first["proof"]  # the face attestation, not a PIN signature
    assert second["limit_info"] is False


def test_a_card_that_lost_its_pin_state_asks_the_pin_again(
    flow: KioskFlow, reader: InProcessReader, portal: FakePortal, card: VirtualJpkiCard
) -> None:
    portal.linked.clear()
    place(flow, reader, card)
    flow.choose("pin")
    flow.enter_pin("1234")
    flow.set_consents(CONSENTS)
    flow.set_limit(True)
    card._pin_verified = False  # as after a card reset
    flow.consent_registration()
    assert flow.snapshot().step is Step.REGISTER_PIN
    flow.enter_registration_pin("1234")
    assert flow.snapshot().step is Step.DONE
    assert len(portal.links) == 1


def test_registration_refused_or_declined(
    flow: KioskFlow, reader: InProcessReader, portal: FakePortal, card: VirtualJpkiCard
) -> None:
    portal.linked.clear()
    portal.unknown_holders.add(card.certificate_der)
    place(flow, reader, card)
    flow.choose("pin")
    flow.enter_pin("1234")
    flow.set_consents(CONSENTS)
    flow.set_limit(True)
    flow.consent_registration()
    screen = flow.snapshot()
    assert screen.step is Step.ERROR
    assert screen.error == {"ja": "持ち主を確認できません", "en": "Holder unknown"}
    assert portal.linked == set()
    take(flow, reader)

    place(flow, reader, card)
    flow.choose("pin")
    flow.enter_pin("1234")
    flow.set_consents(CONSENTS)
    flow.set_limit(True)
    assert flow.snapshot().step is Step.REGISTER_INTRO
    flow.finish()  # 登録しない
    assert flow.snapshot().step is Step.PLACE_CARD
    assert len(portal.links) == 1


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (PortalUnavailableError("ConnectError"), "資格を確認できませんでした"),
        (PortalUnavailableError("HTTP 503"), "被保険者資格申立書"),
        (PortalError(503, "service.unavailable", {"ja": "x", "en": "x"}), "資格確認書"),
        (PortalError(422, "certificate.expired", {"ja": "期限切れ", "en": "expired"}), "更新"),
        (PortalError(422, "challenge.expired", {"ja": "x", "en": "x"}), "時間切れ"),
        (PortalError(422, "certificate.untrusted", {"ja": "信頼できない", "en": "u"}), "信頼"),
    ],
)
def test_portal_failures_end_on_plain_instructions(  # noqa: PLR0917 - fixtures
    flow: KioskFlow,
    reader: InProcessReader,
    portal: FakePortal,
    card: VirtualJpkiCard,
    error: PortalError,
    expected: str,
) -> None:
    portal.fail_with = error
    place(flow, reader, card)
    flow.choose("face")
    flow.capture_face(same_person=True)
    flow.set_consents(CONSENTS)
    flow.set_limit(True)
    screen = flow.snapshot()
    assert screen.step is Step.ERROR
    shown = (screen.error or {}).get("ja", "") + (screen.instruction or {}).get("ja", "")
    assert expected in shown
    take(flow, reader)
    assert flow.snapshot().step is Step.PLACE_CARD


def test_a_revoked_reader_says_so_and_reads_nothing(
    flow: KioskFlow, reader: InProcessReader, portal: FakePortal, card: VirtualJpkiCard
) -> None:
    portal.device_error = PortalError(401, "device.revoked", {"ja": "x", "en": "x"})
    place(flow, reader, card)
    screen = flow.snapshot()
    assert screen.step is Step.DEVICE_NOT_REGISTERED
    assert screen.error is not None
    assert "職員" in screen.error["ja"]
    take(flow, reader)
    place(flow, reader, card)
    assert flow.snapshot().step is Step.DEVICE_NOT_REGISTERED


def test_check_device_at_start(flow: KioskFlow, portal: FakePortal) -> None:
    portal.device_error = PortalError(401, "device.unknown")
    flow.check_device()
    assert flow.snapshot().step is Step.DEVICE_NOT_REGISTERED


def test_a_card_without_the_jpki_applet_is_a_paper_card_case(
    flow: KioskFlow, reader: InProcessReader
) -> None:
    place(flow, reader, VirtualPlainCard())
    screen = flow.snapshot()
    assert screen.step is Step.ERROR
    assert screen.error is not None
    assert "紙の保険証" in screen.error["ja"]


def test_language_switch(flow: KioskFlow) -> None:
    flow.set_language("en")
    assert flow.snapshot().lang == "en"
    with pytest.raises(FlowError):
        flow.set_language("fr")


def test_logs_carry_no_pin_and_no_certificate(
    flow: KioskFlow,
    reader: InProcessReader,
    card: VirtualJpkiCard,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    place(flow, reader, card)
    flow.choose("pin")
    flow.enter_pin("9876")
    flow.enter_pin("1234")
    flow.set_consents(CONSENTS)
    flow.set_limit(True)
    assert flow.snapshot().step is Step.DONE
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "kiosk step done" in logged
    assert "9876" not in logged
    assert "1234" not in logged
    assert b64u(card.certificate_der)[:40] not in logged
