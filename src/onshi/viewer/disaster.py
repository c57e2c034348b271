"""災害時 (disaster) mode: declarations by an administrator and the one rule of which
declaration covers an institution now (docs/disaster-mode.md).

* :func:`declaration_covering` is what the viewer's gate and the clinic's disaster search ask:
  the declaration that covers a prefecture at an instant, or None.
* :func:`check_declaration` validates a declaration form field by field (each bad field its own
  error, nothing written); :func:`declare` and :func:`end` write the declaration and its audit
  event in the caller's transaction. They flush, never commit: the request owns the transaction.

A declaration covers prefecture P at instant t when P is one of its prefectures,
``starts_at <= t``, its planned end (``ends_at``, None: open-ended) is after t, and it was not
ended at or before t. It is never deleted; an end is recorded (``ended_at``, ``ended_by``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onshi import reference
from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import JST, Clock
from onshi.errors import DomainError, NotFoundError
from onshi.viewer.disaster_models import (
    REASON_MAX,
    TITLE_MAX,
    DisasterDeclaration,
    DisasterPrefecture,
)

#: A declaration may be made for a start at most this far ahead.
MAX_LEAD: Final = timedelta(days=30)
#: A planned period is at most this long (an open-ended one runs until it is ended).
MAX_PERIOD: Final = timedelta(days=366)
#: A start typed on the form is to the minute: the current minute is "now", not the past.
START_TOLERANCE: Final = timedelta(minutes=1)

FORM_FIELDS: Final = ("prefectures", "title", "reason", "starts_at", "ends_at")
OBJECT_TYPE: Final = "disaster_declaration"

_T = TypeVar("_T")


class DisasterError(DomainError):
    """A bad declaration or end; the text of ``disaster.<rule>`` is in ``messages.toml``."""

    code = "disaster.invalid"


@dataclass(frozen=True)
class DisasterDeclarationRef:
    """The declaration that allowed a disaster-time view (what the gate records and shows)."""

    id: int
    title: str
    starts_at: datetime
    ends_at: datetime | None


@dataclass(frozen=True)
class DeclarationForm:
    """The raw fields of the declaration form (times as typed, JST ``YYYY-MM-DDTHH:MM``)."""

    prefectures: tuple[str, ...]
    title: str
    reason: str = ""
    starts_at: str = ""
    ends_at: str = ""


@dataclass(frozen=True)
class DeclarationInput:
    """A checked declaration: what :func:`declare` writes."""

    prefectures: tuple[str, ...]
    title: str
    reason: str
    starts_at: datetime
    ends_at: datetime | None


def declaration_covering(
    db: Session, *, prefecture_code: str, now: datetime
) -> DisasterDeclarationRef | None:
    """The declaration covering ``prefecture_code`` at ``now``, or None. When several do, the
    one that lasts longest (open-ended first, then the latest planned end, then the oldest)."""
    row = db.execute(
        select(
            DisasterDeclaration.id,
            DisasterDeclaration.title,
            DisasterDeclaration.starts_at,
            DisasterDeclaration.ends_at,
        )
        .join(DisasterPrefecture, DisasterPrefecture.declaration_id == DisasterDeclaration.id)
        .where(
            DisasterPrefecture.prefecture_code == prefecture_code,
            DisasterDeclaration.starts_at <= now,
            or_(DisasterDeclaration.ends_at.is_(None), DisasterDeclaration.ends_at > now),
            or_(DisasterDeclaration.ended_at.is_(None), DisasterDeclaration.ended_at > now),
        )
        .order_by(
            DisasterDeclaration.ends_at.is_(None).desc(),
            DisasterDeclaration.ends_at.desc(),
            DisasterDeclaration.id,
        )
        .limit(1)
    ).first()
    if row is None:
        return None
    return DisasterDeclarationRef(
        id=row.id, title=row.title, starts_at=row.starts_at, ends_at=row.ends_at
    )


def effective_end(declaration: DisasterDeclaration) -> datetime | None:
    """When the declaration stops covering: the earlier of its planned end and its recorded
    end (None: still open-ended)."""
    ends = [moment for moment in (declaration.ends_at, declaration.ended_at) if moment]
    return min(ends) if ends else None


def is_active(declaration: DisasterDeclaration, now: datetime) -> bool:
    """Python twin of :func:`declaration_covering`'s period test."""
    end = effective_end(declaration)
    return declaration.starts_at <= now and (end is None or now < end)


# --- validation ---------------------------------------------------------------------------


def parse_local_minute(value: str, field: str) -> datetime | None:
    """A JST ``YYYY-MM-DDTHH:MM`` (the ``datetime-local`` input) as an aware datetime; blank is
    None. Raises ``disaster.<field>.format``."""
    text = value.strip()
    if not text:
        return None
    try:
        # Japan keeps no daylight saving time: JST is always +09:00.
        parsed = datetime.strptime(text.replace(" ", "T") + "+0900", "%Y-%m-%dT%H:%M%z")
    except ValueError:
        raise DisasterError(f"disaster.{field}.format", got=text[:32]) from None
    return parsed.astimezone(JST)


def _prefectures(codes: Iterable[str]) -> tuple[str, ...]:
    cleaned = [code.strip() for code in codes if code.strip()]
    if not cleaned:
        raise DisasterError("disaster.prefectures.required")
    for code in cleaned:
        if reference.prefecture(code) is None:
            raise DisasterError("disaster.prefectures.unknown", got=code[:8])
    return tuple(sorted(set(cleaned)))


def _title(value: str) -> str:
    title = " ".join(value.split())
    if not title:
        raise DisasterError("disaster.title.required")
    if len(title) > TITLE_MAX:
        raise DisasterError("disaster.title.too_long", max=TITLE_MAX, got=len(title))
    return title


def _reason(value: str) -> str:
    reason = value.strip()
    if len(reason) > REASON_MAX:
        raise DisasterError("disaster.reason.too_long", max=REASON_MAX, got=len(reason))
    return reason


def _start(value: str, now: datetime) -> datetime:
    start = parse_local_minute(value, "starts_at")
    if start is None:
        return now
    if start + START_TOLERANCE <= now:
        raise DisasterError("disaster.starts_at.past")
    if start > now + MAX_LEAD:
        raise DisasterError("disaster.starts_at.too_far", days=MAX_LEAD.days)
    return max(start, now)  # the current minute is now


def _end(value: str, start: datetime) -> datetime | None:
    end = parse_local_minute(value, "ends_at")
    if end is None:
        return None
    if end <= start:
        raise DisasterError("disaster.ends_at.before_start")
    if end - start > MAX_PERIOD:
        raise DisasterError("disaster.ends_at.too_long", days=MAX_PERIOD.days)
    return end


def _attempt(
    problems: dict[str, DisasterError], field: str, check: Callable[[], _T], fallback: _T
) -> _T:
    try:
        return check()
    except DisasterError as exc:
        problems[field] = exc
        return fallback


def check_declaration(
    form: DeclarationForm, *, now: datetime
) -> tuple[DeclarationInput | None, dict[str, DisasterError]]:
    """Every field checked on its own: the checked declaration, or each bad field's error.
    A blank start is now; a blank end is open-ended."""
    problems: dict[str, DisasterError] = {}
    no_codes: tuple[str, ...] = ()
    prefectures = _attempt(
        problems, "prefectures", lambda: _prefectures(form.prefectures), no_codes
    )
    title = _attempt(problems, "title", lambda: _title(form.title), "")
    reason = _attempt(problems, "reason", lambda: _reason(form.reason), "")
    start = _attempt(problems, "starts_at", lambda: _start(form.starts_at, now), now)
    end_at = _attempt(problems, "ends_at", lambda: _end(form.ends_at, start), None)
    if problems:
        return None, problems
    return DeclarationInput(prefectures, title, reason, start, end_at), {}


# --- writes -------------------------------------------------------------------------------


def declare(
    db: Session, clock: Clock, *, form: DeclarationForm, staff_account_id: int
) -> DisasterDeclaration:
    """Record a declaration and its audit event (``disaster.declare``). A bad form raises the
    first field's :class:`DisasterError` and writes nothing."""
    now = clock.now()
    checked, problems = check_declaration(form, now=now)
    if checked is None:
        raise next(problems[field] for field in FORM_FIELDS if field in problems)
    declaration = DisasterDeclaration(
        title=checked.title,
        reason=checked.reason,
        starts_at=checked.starts_at,
        ends_at=checked.ends_at,
        declared_by=staff_account_id,
        created_at=now,
    )
    db.add(declaration)
    db.flush()
    db.add_all(
        DisasterPrefecture(declaration_id=declaration.id, prefecture_code=code)
        for code in checked.prefectures
    )
    db.flush()
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=staff_account_id,
        action="disaster.declare",
        object_type=OBJECT_TYPE,
        object_id=declaration.id,
        details={
            "prefectures": list(checked.prefectures),
            "title": checked.title,
            "starts_at": checked.starts_at.isoformat(),
            "ends_at": checked.ends_at.isoformat() if checked.ends_at else None,
        },
    )
    return declaration


def end(
    db: Session, clock: Clock, *, declaration_id: int, staff_account_id: int
) -> DisasterDeclaration:
    """End a declaration now (its audit event ``disaster.end``). A declaration already ended,
    or whose planned end has passed, raises; a declaration not yet started may be ended (it then
    never covers anything)."""
    declaration = db.get(DisasterDeclaration, declaration_id, with_for_update=True)
    if declaration is None:
        raise NotFoundError()
    now = clock.now()
    if declaration.ended_at is not None:
        raise DisasterError("disaster.end.already_ended")
    if declaration.ends_at is not None and declaration.ends_at <= now:
        raise DisasterError("disaster.end.already_over")
    declaration.ended_at = max(now, declaration.created_at)
    declaration.ended_by = staff_account_id
    db.flush()
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.STAFF,
        actor_id=staff_account_id,
        action="disaster.end",
        object_type=OBJECT_TYPE,
        object_id=declaration.id,
        details={
            "ended_at": declaration.ended_at.isoformat(),
            "started": now >= declaration.starts_at,
        },
    )
    return declaration


def prefecture_codes(db: Session, declaration_id: int) -> tuple[str, ...]:
    """The prefectures a declaration covers, in code order."""
    return tuple(
        db.scalars(
            select(DisasterPrefecture.prefecture_code)
            .where(DisasterPrefecture.declaration_id == declaration_id)
            .order_by(DisasterPrefecture.prefecture_code)
        )
    )
