"""Staff sign-in throttling that a stranger cannot use to lock a clinic out (docs/accounts.md).

Every attempt is a row in ``sign_in_attempts`` (so the limits hold across workers) under keys:

``pair:<login>|<address>``
    Quick lock. ``limits.attempts`` failures from one address for one login inside
    ``limits.window_seconds`` lock that pair until the oldest of them leaves the window; a good
    sign-in from the pair starts its count again. Someone mistyping at the counter locks only
    themself, only there, only briefly.
``ip:<address>``
    Guessing across many logins from one address: ``ADDRESS_FACTOR × limits.attempts``
    failures in the window lock the address (every failure counts, a good sign-in does not
    reset it).
``login:<login>``
    Slow, growing delay, only for addresses the login has never signed in from (an address with
    a good sign-in for this login in the last ``KNOWN_ADDRESS_DAYS`` days is *known*, and is
    subject only to the two keys above). Failures from unknown addresses in the last
    ``LOGIN_WINDOW`` count; the first ``LOGIN_FREE_FAILURES`` are free, after that each attempt
    from an unknown address must wait ``LOGIN_BASE_DELAY × 2^(n − free)`` seconds (capped at
    ``LOGIN_MAX_DELAY``) after the previous failure. So the clinic's own address keeps working
    with the right password while a guesser elsewhere gets a few dozen tries a day.

While a key is locked the password is not checked at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onshi.accounts.errors import SignInRateLimitedError
from onshi.accounts.models import SignInAttempt

ADDRESS_FACTOR = 4
LOGIN_WINDOW = timedelta(hours=24)
LOGIN_FREE_FAILURES = 10
LOGIN_BASE_DELAY = timedelta(seconds=2)
LOGIN_MAX_DELAY = timedelta(hours=1)
KNOWN_ADDRESS_DAYS = 90
KEY_LENGTH = 128


@dataclass(frozen=True)
class SignInLimits:
    attempts: int
    window_seconds: int


@dataclass(frozen=True)
class AttemptKeys:
    pair: str
    address: str
    login: str


def attempt_keys(login: str, client_ip: str) -> AttemptKeys:
    return AttemptKeys(
        pair=f"pair:{login}|{client_ip}"[:KEY_LENGTH],
        address=f"ip:{client_ip}"[:KEY_LENGTH],
        login=f"login:{login}"[:KEY_LENGTH],
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def window_lock(
    db: Session,
    key: str,
    now: datetime,
    *,
    attempts: int,
    window_seconds: int,
    reset_on_success: bool,
) -> datetime | None:
    """When ``key`` may try again after ``attempts`` failures in the window, or None."""
    since = now - timedelta(seconds=window_seconds)
    if reset_on_success:
        last_success = db.scalar(
            select(func.max(SignInAttempt.attempted_at)).where(
                SignInAttempt.key == key,
                SignInAttempt.succeeded.is_(True),
                SignInAttempt.attempted_at > since,
            )
        )
        if last_success is not None:
            since = last_success
    failures = (
        select(SignInAttempt.attempted_at)
        .where(
            SignInAttempt.key == key,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.attempted_at > since,
        )
        .order_by(SignInAttempt.attempted_at.desc())
        .limit(attempts)
        .subquery()
    )
    row = db.execute(select(func.count(), func.min(failures.c.attempted_at))).one()
    count, oldest = int(row[0]), row[1]
    if count < attempts or oldest is None:
        return None
    lifted: datetime = _aware(oldest) + timedelta(seconds=window_seconds)
    return lifted


def known_address(db: Session, keys: AttemptKeys, now: datetime) -> bool:
    """Has this login signed in from this address lately?"""
    return (
        db.scalar(
            select(SignInAttempt.id)
            .where(
                SignInAttempt.key == keys.pair,
                SignInAttempt.succeeded.is_(True),
                SignInAttempt.attempted_at > now - timedelta(days=KNOWN_ADDRESS_DAYS),
            )
            .limit(1)
        )
        is not None
    )


def login_delay(failures: int) -> timedelta:
    """The wait before the next attempt from an unknown address after ``failures``."""
    if failures < LOGIN_FREE_FAILURES:
        return timedelta(0)
    exponent = min(failures - LOGIN_FREE_FAILURES, 20)
    delay: timedelta = LOGIN_BASE_DELAY * (2**exponent)
    return min(delay, LOGIN_MAX_DELAY)


def login_lock(db: Session, key: str, now: datetime) -> datetime | None:
    row = db.execute(
        select(func.count(), func.max(SignInAttempt.attempted_at)).where(
            SignInAttempt.key == key,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.attempted_at > now - LOGIN_WINDOW,
        )
    ).one()
    failures, latest = int(row[0]), row[1]
    delay = login_delay(failures)
    if latest is None or not delay:
        return None
    return _aware(latest) + delay


def check_allowed(
    db: Session, now: datetime, limits: SignInLimits, keys: AttemptKeys, *, known: bool
) -> None:
    """Raise :class:`SignInRateLimitedError` while any key that applies is locked."""
    locks = [
        window_lock(
            db,
            keys.pair,
            now,
            attempts=limits.attempts,
            window_seconds=limits.window_seconds,
            reset_on_success=True,
        ),
        window_lock(
            db,
            keys.address,
            now,
            attempts=limits.attempts * ADDRESS_FACTOR,
            window_seconds=limits.window_seconds,
            reset_on_success=False,
        ),
    ]
    if not known:
        locks.append(login_lock(db, keys.login, now))
    active = [lock for lock in locks if lock is not None and lock > now]
    if active:
        retry_at = max(active)
        raise SignInRateLimitedError(
            retry_at=retry_at,
            retry_after_seconds=max(1, int((retry_at - now).total_seconds() + 0.999)),
        )


def record(db: Session, now: datetime, keys: AttemptKeys, *, succeeded: bool, known: bool) -> None:
    """One attempt: the pair and the address always; the login key for failures from unknown
    addresses only (known addresses never add to the login's delay)."""
    rows = [keys.pair, keys.address]
    if not succeeded and not known:
        rows.append(keys.login)
    db.add_all(SignInAttempt(key=key, attempted_at=now, succeeded=succeeded) for key in rows)
    db.flush()
