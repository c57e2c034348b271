"""The kiosk's state machine (screens ①–⑥ of 「オンライン資格確認等システムの進捗状況について」),
independent of HTTP.

Card events come from a `Reader` (watched by `KioskFlow.watch`, or fed to `handle_event` in
tests); the patient's choices arrive as method calls from the kiosk server. The portal is
anything with the `Portal` methods (`reader_bridge.portal.PortalClient`, or a fake in tests).

① place the card → read token + certificate (no PIN), read the device mode and consent rules
② choose face or PIN (目視 mode: "staff will confirm", no choice)
③ face capture (face matcher) or PIN pad (card VERIFY, wrong PIN counts down, 3 lock)
④ consents (four kinds, or one 包括同意) ⑤ 限度額 (when the rule is on)
⑥ submission → the verdict; 目視: wait for staff (poll) → the verdict.
`card.not_registered` → 利用登録 here, in the same visit (`reader_bridge.registration`): the
patient's consent, nothing typed, one PIN entry and one consent round in all.

Taking the card away at any point resets to ① (the session's generation changes, so a late
answer from the card or the portal is dropped). Nothing about the patient is kept after that,
and nothing is logged beyond codes and reader names.

The flow decides; `screen_board` holds what the kiosk shows, `session` the card session and the
requests it sends, `failures` the texts for a refused card or portal answer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from reader_bridge.apdu import (
    CardError,
    CardRemovedError,
    InvalidPinFormatError,
    PinLockedError,
    WrongPinError,
)
from reader_bridge.face import FaceMatcher, SimulatedCamera, simulated_card_photo
from reader_bridge.failures import (
    DEVICE_GONE_CODES,
    card_error_texts,
    device_gone_texts,
    portal_error_texts,
)
from reader_bridge.jpki import PIN_MAX_TRIES, JpkiCard, validate_pin
from reader_bridge.messages import Text, message
from reader_bridge.portal import PortalError, PortalUnavailableError, b64u
from reader_bridge.readers.base import CardEvent, CardEventKind, Reader
from reader_bridge.registration import RegistrationSteps
from reader_bridge.screen_board import ScreenBoard
from reader_bridge.screens import CONSENT_KINDS, FlowError, Portal, Screen, Step
from reader_bridge.session import CardSession, verdict_screen

LOG = logging.getLogger(__name__)

#: Screens that end a patient's turn: 終了 (or taking the card away) goes back to ①.
FINAL_STEPS = frozenset({Step.DONE, Step.ERROR, Step.PIN_LOCKED, Step.REGISTER_INTRO})


class KioskFlow(RegistrationSteps):
    def __init__(
        self,
        reader: Reader,
        portal: Portal,
        matcher: FaceMatcher,
        *,
        reader_filter: str | None = None,
        poll_interval: float = 2.0,
        visual_timeout: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._portal = portal
        self._matcher = matcher
        self._filter = reader_filter
        self._poll_interval = poll_interval
        self._visual_timeout = visual_timeout
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._board = ScreenBoard()
        self._session: CardSession | None = None
        self._held_slot: str | None = None  # a card left on the reader after its session ended
        self._generation = 0
        self._stop = threading.Event()

    # -- observation ----------------------------------------------------------------------------

    @property
    def version(self) -> int:
        return self._board.version

    def snapshot(self) -> Screen:
        return self._board.snapshot()

    def wait_for_change(self, version: int, timeout: float) -> int:
        """Block until the version differs from `version` (or `timeout`); returns the version."""
        return self._board.wait_for_change(version, timeout)

    def _show(self, step: Step, **changes: Any) -> None:
        lang = changes.pop("lang", self.snapshot().lang)
        base = Screen(lang=lang)
        if self._session is not None:
            base = replace(
                base,
                mode=self._session.status.mode,
                rules=self._session.status.consent_rules,
            )
        self._board.publish(replace(base, step=step, **changes))
        LOG.info("kiosk step %s", step.value)

    def set_language(self, lang: str) -> None:
        if lang not in ("ja", "en"):
            raise FlowError("language")
        with self._lock:
            self._board.publish(replace(self.snapshot(), lang=lang))

    def check_device(self) -> None:
        """At start: is this reader still paired? (An unpaired reader shows only that.)"""
        with self._lock:
            try:
                self._portal.device_status()
            except PortalError as exc:
                LOG.warning("device status: %s", exc.code)
                if exc.code in DEVICE_GONE_CODES:
                    self._show(Step.DEVICE_NOT_REGISTERED, **device_gone_texts())

    # -- card events ----------------------------------------------------------------------------

    def watch(self) -> None:
        """Follow the reader's card events until `stop` (run in a thread)."""
        while not self._stop.is_set():
            try:
                event = self._reader.wait_for_event(0.5)
            except CardError as exc:
                LOG.warning("reader: %s", type(exc).__name__)
                self._stop.wait(1.0)
                continue
            if event is not None:
                self.handle_event(event)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._end_session()

    def handle_event(self, event: CardEvent) -> None:
        if self._filter and self._filter not in event.reader:
            return
        if event.kind is CardEventKind.INSERTED:
            self.card_inserted(event.reader)
        else:
            self.card_removed(event.reader)

    def card_removed(self, slot: str) -> None:
        with self._lock:
            session = self._session
            step = self.snapshot().step
            if session is None or session.slot != slot:
                if self._held_slot == slot:
                    self._held_slot = None
                    if step in (Step.ERROR, Step.DONE):
                        self._show(Step.PLACE_CARD, lang="ja")
                return
            LOG.info("card removed from %s", slot)
            self._end_session()
            self._held_slot = None
            quiet = step in FINAL_STEPS
            self._show(
                Step.PLACE_CARD, lang="ja", notice=None if quiet else message("notice.card_removed")
            )

    def _end_session(self) -> None:
        self._generation += 1
        session, self._session = self._session, None
        if session is not None:
            self._held_slot = session.slot
            try:
                session.connection.disconnect()
            except CardError:
                LOG.debug("disconnect after removal failed")

    def card_inserted(self, slot: str) -> None:
        with self._lock:
            if self._session is not None:
                return  # one patient at a time: a card in another slot waits
            LOG.info("card placed in %s", slot)
            self._held_slot = slot
            if self.snapshot().step is Step.DEVICE_NOT_REGISTERED:
                return  # unpaired: nothing is read until the reader is paired again
            try:
                connection = self._reader.connect(slot)
            except CardError as exc:
                self._card_failure(exc)
                return
            card = JpkiCard(connection)
            try:
                identity = card.read_identity()
            except CardError as exc:
                connection.disconnect()
                self._card_failure(exc)
                return
            try:
                status = self._portal.device_status()
            except PortalError as exc:
                connection.disconnect()
                self._portal_failure(exc)
                return
            self._generation += 1
            self._session = CardSession(
                generation=self._generation,
                slot=slot,
                connection=connection,
                card=card,
                certificate=identity.certificate_der,
                status=status,
            )
            self._start_choice(self._session)

    def _start_choice(self, session: CardSession) -> None:
        if session.status.mode == "visual":
            session.method = "visual"
            self._show(Step.VISUAL_NOTICE)
        else:
            self._show(Step.CHOOSE_METHOD)

    # -- ② / ③ ----------------------------------------------------------------------------------

    def _require(self, *steps: Step) -> CardSession:
        if self._session is None or self.snapshot().step not in steps:
            raise FlowError(f"not expected at step {self.snapshot().step.value}")
        return self._session

    def choose(self, method: str) -> None:
        with self._lock:
            session = self._require(Step.CHOOSE_METHOD, Step.FACE, Step.PIN_LOCKED, Step.PIN)
            if method == "face":
                session.method = "face"
                self._show(Step.FACE)
            elif method == "pin":
                session.method = "pin"
                self._with_card(session, self._open_pin_pad, Step.PIN)
            else:
                raise FlowError("method")

    def _open_pin_pad(self, session: CardSession, step: Step) -> None:
        tries = session.card.pin_tries_left()
        if tries == 0:
            self._show(Step.PIN_LOCKED)
        else:
            self._show(step, tries_left=tries)

    def continue_visual(self) -> None:
        with self._lock:
            self._require(Step.VISUAL_NOTICE)
            self._show(Step.CONSENT)

    def capture_face(self, *, same_person: bool) -> None:
        """SIMULATED camera capture then the face matcher; images stay in this frame only."""
        with self._lock:
            session = self._require(Step.FACE)
            photo = simulated_card_photo(session.certificate)
            live = SimulatedCamera.capture(photo, same_person=same_person)
            result = self._matcher.match(live, photo)
            del live, photo
            if result.matched:
                session.proof = {
                    "face": {"matcher": self._matcher.name, "matched": True, "score": result.score}
                }
                self._show(Step.CONSENT)
                return
            session.face_attempts -= 1
            LOG.info("face not matched (%d attempts left)", session.face_attempts)
            if session.face_attempts <= 0:
                self._show(Step.CHOOSE_METHOD, notice=message("face.give_up"))
            else:
                self._show(Step.FACE, notice=message("face.not_matched"))

    def enter_pin(self, pin: str) -> None:
        """③ PIN: fresh challenge, VERIFY, the card signs it. Wrong PIN: tries left shown."""
        with self._lock:
            session = self._require(Step.PIN)
            self._pin_and_sign(session, pin, Step.PIN, self._after_pin)

    def _after_pin(self, session: CardSession) -> None:
        self._show(Step.CONSENT)

    def _pin_and_sign(
        self, session: CardSession, pin: str, step: Step, then: Callable[[CardSession], None]
    ) -> None:
        try:
            validate_pin(pin)
        except InvalidPinFormatError:
            self._show(step, notice=message("pin.format"), tries_left=self.snapshot().tries_left)
            return
        try:
            challenge = self._portal.create_challenge()
        except PortalError as exc:
            self._portal_failure(exc)
            return
        try:
            signature = session.card.authenticate(pin, challenge.challenge)
        except WrongPinError as exc:
            LOG.info("wrong PIN (%d tries left)", exc.tries_left)
            self._show(step, notice=message("pin.wrong"), tries_left=exc.tries_left)
            return
        except PinLockedError:
            LOG.info("PIN locked")
            self._show(Step.PIN_LOCKED)
            return
        except CardError as exc:
            self._card_failure(exc)
            return
        session.challenge = challenge
        session.proof = {"signature": b64u(signature)}
        then(session)

    # -- ④ ⑤ ⑥ ----------------------------------------------------------------------------------

    def set_consents(self, choices: Mapping[str, bool]) -> None:
        with self._lock:
            session = self._require(Step.CONSENT)
            rules = session.status.consent_rules
            keys = ("comprehensive",) if rules.comprehensive_consent else CONSENT_KINDS
            if set(choices) != set(keys) or not all(isinstance(v, bool) for v in choices.values()):
                self._show(Step.CONSENT, notice=message("consent.required"))
                return
            session.consents = {key: bool(choices[key]) for key in keys}
            if rules.limit_consent_step:
                self._show(Step.LIMIT)
            else:
                self._submit(session, None)

    def set_limit(self, provide: bool) -> None:
        with self._lock:
            session = self._require(Step.LIMIT)
            self._submit(session, provide)

    def _submit(self, session: CardSession, limit_info: bool | None) -> None:
        session.limit_info = limit_info
        try:
            if session.challenge is None:  # face and 目視: the challenge is fetched now
                session.challenge = self._portal.create_challenge()
            body = session.verification_request(session.challenge, limit_info)
            session.challenge = None  # spent by this submission, whatever the answer
            outcome = self._portal.submit_verification(body)
        except PortalError as exc:
            self._portal_failure(exc)
            return
        if outcome.pending:
            verification_id = str(outcome.body.get("verification_id", ""))
            LOG.info("visual check pending (%s)", verification_id)
            self._show(Step.AWAITING_STAFF)
            threading.Thread(
                target=self._poll_visual,
                args=(session.generation, verification_id),
                name="visual-poll",
                daemon=True,
            ).start()
            return
        self._done(outcome.body)

    def _done(self, body: Mapping[str, Any]) -> None:
        LOG.info(
            "verification %s: result_code %s", body.get("verification_id"), body.get("result_code")
        )
        screen = verdict_screen(body)
        session = self._session
        if session is not None and session.registered and screen["notice"] is None:
            screen["notice"] = message("done.registered")
        self._show(Step.DONE, **screen)

    def _poll_visual(self, generation: int, verification_id: str) -> None:
        deadline = self._monotonic() + self._visual_timeout
        while not self._stop.wait(self._poll_interval):
            if self._generation != generation:
                return
            try:
                body = self._portal.verification_status(verification_id)
            except PortalUnavailableError:
                body = {"status": "awaiting_staff"}
            except PortalError as exc:
                with self._lock:
                    if self._generation == generation:
                        self._portal_failure(exc)
                return
            status = body.get("status")
            with self._lock:
                if self._generation != generation:
                    return
                if status == "rejected":
                    LOG.info("visual check rejected (%s)", verification_id)
                    self._error(message("error.visual_rejected"), None)
                    return
                if "result_code" in body:
                    self._done(body)
                    return
                if self._monotonic() >= deadline:
                    self._error(message("error.visual_timeout"), None)
                    return

    # -- failures -------------------------------------------------------------------------------

    def _with_card(
        self, session: CardSession, action: Callable[[CardSession, Step], None], step: Step
    ) -> None:
        try:
            action(session, step)
        except CardError as exc:
            self._card_failure(exc)

    def _card_failure(self, exc: CardError) -> None:
        LOG.info("card error %s", exc.code)
        if isinstance(exc, CardRemovedError):
            if self._session is not None:
                self.card_removed(self._session.slot)
            return
        self._error(*card_error_texts(exc))

    def _portal_failure(self, exc: PortalError) -> None:
        LOG.info("portal refused: %s", exc.code)
        if exc.code in DEVICE_GONE_CODES:
            self._end_session()
            self._show(Step.DEVICE_NOT_REGISTERED, **device_gone_texts())
            return
        if exc.code == "card.not_registered" and self._session is not None:
            if self._session.registered:  # linked just now, yet not found: do not loop
                self._error(*portal_error_texts(exc))
                return
            self._show(Step.REGISTER_INTRO)
            return
        self._error(*portal_error_texts(exc))

    def _error(self, error: Text, instruction: Text | None) -> None:
        """Show an error; the session ends (the card stays "held" until it is taken away)."""
        self._end_session()
        self._show(Step.ERROR, error=error, instruction=instruction)

    def finish(self) -> None:
        """The patient pressed 終了 on a final screen: back to ① (the card may still lie there)."""
        with self._lock:
            if self.snapshot().step not in FINAL_STEPS:
                raise FlowError("finish")
            self._end_session()
            self._show(Step.PLACE_CARD, lang="ja")


__all__ = ["CONSENT_KINDS", "PIN_MAX_TRIES", "FlowError", "KioskFlow", "Portal", "Screen", "Step"]
