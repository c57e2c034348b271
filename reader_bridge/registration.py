"""利用登録 at the kiosk, in the same visit as the check (a part of `KioskFlow`).

After `card.not_registered` the patient consents to the registration; nothing is typed (the
portal asks J-LIS who holds the card's certificate). The card signs a fresh challenge for
`POST /api/v1/card-links` and then another for the verification, which is submitted again with
the consents already given. After a PIN check the card is still PIN-verified (it keeps that
state until it is reset or taken away), so the PIN is not asked again; after face or 目視 the
registration needs the PIN once. One visit = one PIN entry and one consent round.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from reader_bridge.apdu import CardError, SecurityStatusNotSatisfiedError
from reader_bridge.portal import Challenge, PortalError, b64u, b64u_decode
from reader_bridge.screens import Portal, Step
from reader_bridge.session import CardSession

LOG = logging.getLogger("reader_bridge.flow")


class RegistrationSteps:
    """The 利用登録 steps; the card, portal and screen plumbing is `KioskFlow`'s."""

    _lock: threading.RLock
    _portal: Portal

    def _require(self, *steps: Step) -> CardSession:
        raise NotImplementedError

    def _with_card(
        self, session: CardSession, action: Callable[[CardSession, Step], None], step: Step
    ) -> None:
        raise NotImplementedError

    def _open_pin_pad(self, session: CardSession, step: Step) -> None:
        raise NotImplementedError

    def _pin_and_sign(
        self, session: CardSession, pin: str, step: Step, then: Callable[[CardSession], None]
    ) -> None:
        raise NotImplementedError

    def _portal_failure(self, exc: PortalError) -> None:
        raise NotImplementedError

    def _card_failure(self, exc: CardError) -> None:
        raise NotImplementedError

    def _submit(self, session: CardSession, limit_info: bool | None) -> None:
        raise NotImplementedError

    def consent_registration(self) -> None:
        """The patient agreed to 利用登録. After a PIN check the card signs again without a PIN;
        otherwise (face, 目視, or the card lost its PIN state) the PIN pad opens once."""
        with self._lock:
            session = self._require(Step.REGISTER_INTRO)
            if session.method != "pin":
                self._with_card(session, self._open_pin_pad, Step.REGISTER_PIN)
                return
            signed = self._sign_without_pin(session)
            if signed is not None:
                self._link_then_verify(session, *signed)

    def _sign_without_pin(self, session: CardSession) -> tuple[Challenge, bytes] | None:
        """A fresh challenge signed by the still PIN-verified card (``None``: the reason shown)."""
        try:
            challenge = self._portal.create_challenge()
            return challenge, session.card.sign(challenge.challenge)
        except PortalError as exc:
            self._portal_failure(exc)
        except SecurityStatusNotSatisfiedError:
            LOG.info("card no longer PIN-verified: the PIN is asked once for 利用登録")
            self._with_card(session, self._open_pin_pad, Step.REGISTER_PIN)
        except CardError as exc:
            self._card_failure(exc)
        return None

    def enter_registration_pin(self, pin: str) -> None:
        with self._lock:
            session = self._require(Step.REGISTER_PIN)
            kept = dict(session.proof)  # a face attestation stays for the verification

            def registered(signed: CardSession) -> None:
                challenge, signature = signed.challenge, signed.proof["signature"]
                signed.challenge = None
                if signed.method != "pin":
                    signed.proof = kept
                if challenge is not None:
                    self._link_then_verify(signed, challenge, b64u_decode(signature))

            self._pin_and_sign(session, pin, Step.REGISTER_PIN, registered)

    def _link_then_verify(
        self, session: CardSession, challenge: Challenge, signature: bytes
    ) -> None:
        try:
            self._portal.link_card(session.card_link_request(challenge, signature))
        except PortalError as exc:
            if exc.code != "card_link.already_linked":
                self._portal_failure(exc)
                return
        LOG.info("card linked (利用登録)")
        session.registered = True
        if session.method == "pin":  # the verification gets its own fresh challenge
            signed = self._sign_without_pin(session)
            if signed is None:
                return
            session.challenge, signature = signed
            session.proof = {"signature": b64u(signature)}
        self._submit(session, session.limit_info)
