"""Enrolment codes and the passkey ceremonies against the database (services layer)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi.accounts import enrolment, patient_passkeys
from onshi.accounts.enrolment import (
    EnrolmentCodeError,
    EnrolmentCodeExpiredError,
    EnrolmentCodeUsedError,
)
from onshi.accounts.errors import SignInRateLimitedError
from onshi.accounts.models import (
    PasskeyCredential,
    PatientAccount,
    PatientEnrolmentCode,
    SignInAttempt,
)
from onshi.accounts.passkey_models import PasskeyChallenge
from onshi.accounts.passkeys import (
    CloneDetectedError,
    RegistrationRejectedError,
    RelyingParty,
)
from onshi.accounts.services import SignInLimits
from onshi.audit.models import AuditEvent
from onshi.clock import FrozenClock
from onshi.errors import NotFoundError
from tests.factories import make_person
from tests.softauthn import SoftAuthenticator

ORIGIN = "http://localhost:8123"
RP = RelyingParty.from_origin(ORIGIN)
SECRET = "s" * 48
BROWSER = "browser-token-" + "x" * 30
LIMITS = SignInLimits(attempts=3, window_seconds=300)
LIMIT_ARGS: dict[str, Any] = {"limits": LIMITS, "client_ip": "192.0.2.1"}


def _actions(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _enrol(
    db: Session, clock: FrozenClock, auth: SoftAuthenticator, code: str, browser: str = BROWSER
) -> patient_passkeys.Enrolled:
    options = patient_passkeys.start_enrolment(
        db, clock, RP, secret_key=SECRET, code=code, browser_token=browser
    )
    return patient_passkeys.complete_enrolment(
        db, clock, RP, code=code, credential=auth.create(options), browser_token=browser
    )


class TestEnrolmentCodes:
    def test_issue_stores_only_a_hash_and_audits(self, db: Session, clock: FrozenClock) -> None:
        person = make_person(db)
        issued = enrolment.issue_enrolment_code(db, clock, person_id=person.id)
        row = db.get(PatientEnrolmentCode, issued.code_id)
        assert row is not None
        assert issued.code not in row.code_hash
        assert row.code_hash == enrolment.hash_code(issued.code)
        assert row.expires_at == clock.now() + timedelta(minutes=30)
        assert row.used_at is None
        assert len(issued.code) >= 32
        assert issued.url("http://localhost:8000/") == (
            f"http://localhost:8000/me/enrol?code={issued.code}"
        )
        assert _actions(db) == ["patient_enrolment_code.issued"]

    def test_unknown_person_is_not_found(self, db: Session, clock: FrozenClock) -> None:
        with pytest.raises(NotFoundError):
            enrolment.issue_enrolment_code(db, clock, person_id=999_999)

    def test_invitation_shows_the_person(self, db: Session, clock: FrozenClock) -> None:
        person = make_person(db)
        issued = enrolment.issue_enrolment_code(db, clock, person_id=person.id)
        invitation = enrolment.open_invitation(db, clock, issued.code)
        assert invitation.person_id == person.id
        assert invitation.given_name == person.given_name
        assert invitation.birth_date == person.birth_date
        assert invitation.has_account is False

    @pytest.mark.parametrize("code", [None, "", "nope", "x" * 500])
    def test_unknown_codes_are_invalid(
        self, db: Session, clock: FrozenClock, code: str | None
    ) -> None:
        make_person(db)
        with pytest.raises(EnrolmentCodeError) as caught:
            enrolment.open_invitation(db, clock, code)
        assert type(caught.value) is EnrolmentCodeError

    def test_code_expires_after_30_minutes(self, db: Session, clock: FrozenClock) -> None:
        issued = enrolment.issue_enrolment_code(db, clock, person_id=make_person(db).id)
        clock.advance(timedelta(minutes=29, seconds=59))
        enrolment.open_invitation(db, clock, issued.code)
        clock.advance(timedelta(seconds=1))
        with pytest.raises(EnrolmentCodeExpiredError):
            enrolment.open_invitation(db, clock, issued.code)

    def test_a_new_code_closes_the_previous_one(self, db: Session, clock: FrozenClock) -> None:
        person = make_person(db)
        first = enrolment.issue_enrolment_code(db, clock, person_id=person.id)
        clock.advance(timedelta(minutes=1))
        second = enrolment.issue_enrolment_code(db, clock, person_id=person.id)
        with pytest.raises(EnrolmentCodeExpiredError):
            enrolment.open_invitation(db, clock, first.code)
        enrolment.open_invitation(db, clock, second.code)


class TestEnrolmentCeremony:
    def test_enrolment_creates_account_and_passkey_and_uses_the_code(
        self, db: Session, clock: FrozenClock
    ) -> None:
        person = make_person(db)
        issued = enrolment.issue_enrolment_code(db, clock, person_id=person.id)
        auth = SoftAuthenticator(origin=ORIGIN)
        enrolled = _enrol(db, clock, auth, issued.code)
        assert enrolled.new_account
        account = db.get(PatientAccount, enrolled.account_id)
        assert account is not None
        assert account.person_id == person.id
        credential = db.scalars(select(PasskeyCredential)).one()
        assert credential.credential_id == auth.keys[0].credential_id
        assert credential.transports == "internal"
        assert db.get(PatientEnrolmentCode, issued.code_id).used_at == clock.now()  # type: ignore[union-attr]
        with pytest.raises(EnrolmentCodeUsedError):
            enrolment.open_invitation(db, clock, issued.code)
        assert _actions(db)[-1] == "patient.enrolled"

    def test_code_is_single_use(self, db: Session, clock: FrozenClock) -> None:
        person = make_person(db)
        issued = enrolment.issue_enrolment_code(db, clock, person_id=person.id)
        auth = SoftAuthenticator(origin=ORIGIN)
        options = patient_passkeys.start_enrolment(
            db, clock, RP, secret_key=SECRET, code=issued.code, browser_token=BROWSER
        )
        options_again = patient_passkeys.start_enrolment(
            db, clock, RP, secret_key=SECRET, code=issued.code, browser_token=BROWSER
        )
        patient_passkeys.complete_enrolment(
            db, clock, RP, code=issued.code, credential=auth.create(options), browser_token=BROWSER
        )
        with pytest.raises(EnrolmentCodeUsedError):
            patient_passkeys.complete_enrolment(
                db,
                clock,
                RP,
                code=issued.code,
                credential=SoftAuthenticator(origin=ORIGIN).create(options_again),
                browser_token=BROWSER,
            )

    def test_challenge_is_bound_to_the_browser(self, db: Session, clock: FrozenClock) -> None:
        issued = enrolment.issue_enrolment_code(db, clock, person_id=make_person(db).id)
        options = patient_passkeys.start_enrolment(
            db, clock, RP, secret_key=SECRET, code=issued.code, browser_token=BROWSER
        )
        with pytest.raises(RegistrationRejectedError, match="challenge"):
            patient_passkeys.complete_enrolment(
                db,
                clock,
                RP,
                code=issued.code,
                credential=SoftAuthenticator(origin=ORIGIN).create(options),
                browser_token="another-browser-" + "y" * 30,
            )

    def test_challenge_expires_after_five_minutes(self, db: Session, clock: FrozenClock) -> None:
        issued = enrolment.issue_enrolment_code(db, clock, person_id=make_person(db).id)
        options = patient_passkeys.start_enrolment(
            db, clock, RP, secret_key=SECRET, code=issued.code, browser_token=BROWSER
        )
        clock.advance(timedelta(minutes=5))
        with pytest.raises(RegistrationRejectedError, match="challenge"):
            patient_passkeys.complete_enrolment(
                db,
                clock,
                RP,
                code=issued.code,
                credential=SoftAuthenticator(origin=ORIGIN).create(options),
                browser_token=BROWSER,
            )

    def test_challenge_of_another_code_is_refused(self, db: Session, clock: FrozenClock) -> None:
        first = enrolment.issue_enrolment_code(db, clock, person_id=make_person(db).id)
        second = enrolment.issue_enrolment_code(db, clock, person_id=make_person(db).id)
        options = patient_passkeys.start_enrolment(
            db, clock, RP, secret_key=SECRET, code=first.code, browser_token=BROWSER
        )
        with pytest.raises(RegistrationRejectedError):
            patient_passkeys.complete_enrolment(
                db,
                clock,
                RP,
                code=second.code,
                credential=SoftAuthenticator(origin=ORIGIN).create(options),
                browser_token=BROWSER,
            )
        assert db.scalar(select(func.count()).select_from(PatientAccount)) == 0

    def test_second_code_adds_a_passkey_to_the_same_account(
        self, db: Session, clock: FrozenClock
    ) -> None:
        person = make_person(db)
        first = _enrol(
            db,
            clock,
            SoftAuthenticator(origin=ORIGIN),
            enrolment.issue_enrolment_code(db, clock, person_id=person.id).code,
        )
        second = _enrol(
            db,
            clock,
            SoftAuthenticator(origin=ORIGIN),
            enrolment.issue_enrolment_code(db, clock, person_id=person.id).code,
        )
        assert second.account_id == first.account_id
        assert not second.new_account
        assert db.scalar(select(func.count()).select_from(PasskeyCredential)) == 2
        assert _actions(db)[-1] == "patient.passkey_added"


class TestSignIn:
    def _enrolled(
        self, db: Session, clock: FrozenClock
    ) -> tuple[SoftAuthenticator, patient_passkeys.Enrolled]:
        auth = SoftAuthenticator(origin=ORIGIN)
        code = enrolment.issue_enrolment_code(db, clock, person_id=make_person(db).id).code
        return auth, _enrol(db, clock, auth, code)

    def _sign_in(
        self, db: Session, clock: FrozenClock, auth: SoftAuthenticator, **kwargs: object
    ) -> patient_passkeys.SignInResult:
        options = patient_passkeys.start_sign_in(db, clock, RP, browser_token=BROWSER)
        return patient_passkeys.finish_sign_in(
            db,
            clock,
            RP,
            secret_key=SECRET,
            credential=auth.get(options, **kwargs),  # type: ignore[arg-type]
            browser_token=BROWSER,
            limits=LIMITS,
            client_ip="192.0.2.1",
        )

    def test_round_trip_updates_counter_and_audits(self, db: Session, clock: FrozenClock) -> None:
        auth, enrolled = self._enrolled(db, clock)
        clock.advance(timedelta(days=1))
        result = self._sign_in(db, clock, auth)
        assert result.ok
        assert result.account_id == enrolled.account_id
        assert result.person_id == enrolled.person_id
        credential = db.scalars(select(PasskeyCredential)).one()
        assert credential.sign_count == 1
        assert credential.last_used_at == clock.now()
        assert _actions(db)[-1] == "patient.signed_in"

    def test_replayed_assertion_is_refused(self, db: Session, clock: FrozenClock) -> None:
        auth, _enrolled = self._enrolled(db, clock)
        options = patient_passkeys.start_sign_in(db, clock, RP, browser_token=BROWSER)
        response = auth.get(options)
        first = patient_passkeys.finish_sign_in(
            db,
            clock,
            RP,
            secret_key=SECRET,
            credential=response,
            browser_token=BROWSER,
            **LIMIT_ARGS,
        )
        again = patient_passkeys.finish_sign_in(
            db,
            clock,
            RP,
            secret_key=SECRET,
            credential=response,
            browser_token=BROWSER,
            **LIMIT_ARGS,
        )
        assert first.ok
        assert isinstance(again.error, patient_passkeys.ChallengeExpiredError)

    def test_sign_count_regression_is_refused_and_audited(
        self, db: Session, clock: FrozenClock
    ) -> None:
        auth, enrolled = self._enrolled(db, clock)
        assert self._sign_in(db, clock, auth).ok
        assert self._sign_in(db, clock, auth).ok  # counter now 2
        result = self._sign_in(db, clock, auth, sign_count=1)
        assert isinstance(result.error, CloneDetectedError)
        assert result.person_id == enrolled.person_id
        assert db.scalars(select(PasskeyCredential)).one().sign_count == 2
        event = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None
        assert event.action == "patient.passkey_clone_detected"
        assert event.person_id == enrolled.person_id
        assert event.details["code"] == "passkey.clone_detected"

    def test_unknown_credential_fails_without_person(self, db: Session, clock: FrozenClock) -> None:
        self._enrolled(db, clock)
        stranger = SoftAuthenticator(origin=ORIGIN)
        stranger.create(
            {
                "rp": {"id": RP.id, "name": "x"},
                "user": {"id": "AAAA", "name": "x", "displayName": "x"},
                "challenge": "AAAA",
                "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            }
        )
        result = self._sign_in(db, clock, stranger)
        assert isinstance(result.error, patient_passkeys.UnknownCredentialError)
        assert result.person_id is None
        assert _actions(db)[-1] == "patient.sign_in_failed"

    def test_malformed_response_is_a_failure_not_a_crash(
        self, db: Session, clock: FrozenClock
    ) -> None:
        result = patient_passkeys.finish_sign_in(
            db, clock, RP, secret_key=SECRET, credential="{}", browser_token=BROWSER, **LIMIT_ARGS
        )
        assert not result.ok
        assert _actions(db) == ["patient.sign_in_failed"]

    def test_expired_challenges_are_purged(self, db: Session, clock: FrozenClock) -> None:
        patient_passkeys.start_sign_in(db, clock, RP, browser_token=BROWSER)
        clock.advance(timedelta(hours=2))
        patient_passkeys.start_sign_in(db, clock, RP, browser_token=BROWSER)
        assert db.scalar(select(func.count()).select_from(PasskeyChallenge)) == 1

    def test_failures_are_rate_limited_per_address(self, db: Session, clock: FrozenClock) -> None:
        auth, _enrolled = self._enrolled(db, clock)
        for _ in range(LIMITS.attempts):
            result = patient_passkeys.finish_sign_in(
                db,
                clock,
                RP,
                secret_key=SECRET,
                credential="{}",
                browser_token=BROWSER,
                **LIMIT_ARGS,
            )
            assert not result.ok
        # Even a good passkey is refused from this address until the window passes.
        locked = self._sign_in(db, clock, auth)
        assert isinstance(locked.error, SignInRateLimitedError)
        assert _actions(db)[-1] == "patient.sign_in_locked"
        keys = set(db.scalars(select(SignInAttempt.key)))
        assert keys == {"ip:passkey:192.0.2.1"}
        clock.advance(timedelta(seconds=LIMITS.window_seconds + 1))
        assert self._sign_in(db, clock, auth).ok
        # Another address was never limited.
        options = patient_passkeys.start_sign_in(db, clock, RP, browser_token=BROWSER)
        other = patient_passkeys.finish_sign_in(
            db,
            clock,
            RP,
            secret_key=SECRET,
            credential=auth.get(options),
            browser_token=BROWSER,
            limits=LIMITS,
            client_ip="198.51.100.7",
        )
        assert other.ok
