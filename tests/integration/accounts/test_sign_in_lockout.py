"""A stranger cannot lock a clinic out: a quick lock per (login, address), a slow growing delay
per login for addresses it never signed in from, and the clinic's own address unaffected."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from onshi.accounts import lockout
from onshi.accounts.errors import InvalidCredentialsError, SignInRateLimitedError
from onshi.accounts.models import StaffRole
from onshi.accounts.services import SignInLimits, authenticate
from onshi.clock import FrozenClock
from tests.factories import DEFAULT_PASSWORD, make_staff_account
from tests.integration.web.conftest import FAST_PASSWORDS

LIMITS = SignInLimits(attempts=5, window_seconds=300)
CLINIC = "192.0.2.10"
STRANGER = "203.0.113.66"


def _try(db: Session, clock: FrozenClock, login: str, password: str, address: str) -> str:
    clock.advance(timedelta(seconds=1))  # attempts are ordered in time
    try:
        authenticate(
            db,
            clock,
            FAST_PASSWORDS,
            LIMITS,
            login_id=login,
            password=password,
            client_ip=address,
        )
    except SignInRateLimitedError:
        return "locked"
    except InvalidCredentialsError:
        return "wrong"
    return "ok"


def test_the_clinic_still_signs_in_while_a_stranger_is_throttled(
    db: Session, clock: FrozenClock
) -> None:
    staff = make_staff_account(db, StaffRole.RECEPTION)
    assert _try(db, clock, staff.login_id, DEFAULT_PASSWORD, CLINIC) == "ok"  # a known address

    outcomes = []
    for _ in range(40):  # a guesser elsewhere, one try every 30 s
        outcomes.append(_try(db, clock, staff.login_id, "guess guess guess", STRANGER))
        clock.advance(timedelta(seconds=30))
    assert outcomes[: LIMITS.attempts] == ["wrong"] * LIMITS.attempts
    assert "locked" in outcomes
    # The pair lock (5 in 300 s) and the growing login delay keep most guesses from running.
    assert outcomes.count("wrong") < 20

    # The right password from the clinic works at once, as often as needed.
    for _ in range(3):
        assert _try(db, clock, staff.login_id, DEFAULT_PASSWORD, CLINIC) == "ok"
    # The stranger is still throttled, even with the right password (it is not checked).
    assert _try(db, clock, staff.login_id, DEFAULT_PASSWORD, STRANGER) == "locked"


def test_the_login_delay_grows_and_has_a_ceiling() -> None:
    free = lockout.LOGIN_FREE_FAILURES
    assert lockout.login_delay(free - 1) == timedelta(0)
    delays = [lockout.login_delay(free + n) for n in range(15)]
    assert delays[0] == lockout.LOGIN_BASE_DELAY
    assert all(later >= earlier for earlier, later in itertools.pairwise(delays))
    assert delays[1] == 2 * delays[0]
    assert max(delays) == lockout.LOGIN_MAX_DELAY
    assert lockout.login_delay(10_000) == lockout.LOGIN_MAX_DELAY


def test_a_new_address_waits_out_the_delay(db: Session, clock: FrozenClock) -> None:
    staff = make_staff_account(db, StaffRole.DOCTOR)
    for n in range(lockout.LOGIN_FREE_FAILURES):  # spread over addresses: no pair lock
        assert _try(db, clock, staff.login_id, "guess guess guess", f"198.51.100.{n}") == "wrong"
    home = "198.51.100.200"
    assert _try(db, clock, staff.login_id, DEFAULT_PASSWORD, home) == "locked"
    clock.advance(lockout.LOGIN_BASE_DELAY)
    assert _try(db, clock, staff.login_id, DEFAULT_PASSWORD, home) == "ok"


def test_pair_lock_is_quick_and_only_for_that_pair(db: Session, clock: FrozenClock) -> None:
    staff = make_staff_account(db, StaffRole.RECEPTION)
    other = make_staff_account(db, StaffRole.RECEPTION)
    second_desk = "192.0.2.11"
    for address in (CLINIC, second_desk):
        assert _try(db, clock, staff.login_id, DEFAULT_PASSWORD, address) == "ok"
    for _ in range(LIMITS.attempts):
        assert _try(db, clock, staff.login_id, "typo typo typo", CLINIC) == "wrong"
    assert _try(db, clock, staff.login_id, DEFAULT_PASSWORD, CLINIC) == "locked"
    # Another login at the same desk, and the same login at the other desk, are unaffected.
    assert _try(db, clock, other.login_id, DEFAULT_PASSWORD, CLINIC) == "ok"
    assert _try(db, clock, staff.login_id, DEFAULT_PASSWORD, second_desk) == "ok"
    clock.advance(timedelta(seconds=LIMITS.window_seconds + 1))
    assert _try(db, clock, staff.login_id, DEFAULT_PASSWORD, CLINIC) == "ok"


@pytest.mark.parametrize("known_first", [True, False])
def test_known_address_failures_never_add_to_the_login_delay(
    db: Session, clock: FrozenClock, known_first: bool
) -> None:
    staff = make_staff_account(db, StaffRole.PHARMACIST)
    if known_first:
        assert _try(db, clock, staff.login_id, DEFAULT_PASSWORD, CLINIC) == "ok"
    for _ in range(3 * lockout.LOGIN_FREE_FAILURES):
        _try(db, clock, staff.login_id, "typo typo typo", CLINIC)
        clock.advance(timedelta(seconds=LIMITS.window_seconds // LIMITS.attempts + 1))
    elsewhere = "198.51.100.7"
    expected = "ok" if known_first else "locked"
    assert _try(db, clock, staff.login_id, DEFAULT_PASSWORD, elsewhere) == expected
