"""The writes of a completed card check on the lean path (:mod:`onshi.verification.lean`).

The rows are those of the general path, built by the same functions (the event's columns, the
access-log row, :func:`~onshi.consent.services.consent_rows`,
:func:`~onshi.consent.services.consent_audit_entry`, the submission with its final answer);
what differs is how they reach the database:

PostgreSQL: **one** statement of data-modifying CTEs::

    WITH ev   AS (INSERT INTO verification_events … RETURNING id),
         acc  AS (INSERT INTO data_access_log … SELECT …, ev.id FROM ev),        -- when shown
         arch AS (UPDATE consents SET archived_at … WHERE kind = ANY(kinds) … RETURNING kind),
         cons AS (INSERT INTO consents … SELECT …, ev.id FROM ev, unnest(kinds, values) …
                  RETURNING id, kind),
         aud  AS (INSERT INTO audit_events … SELECT …, cons.id, details || {archived_previous:
                  count of arch rows of the kind, verification_event_id: ev.id} FROM cons …),
         sub  AS (INSERT INTO verification_submissions … SELECT …, ev.id FROM ev RETURNING id)
    SELECT ev.id, sub.id[, pg_notify(channel, payload with ev.id)] FROM ev, sub

All sub-statements run on one snapshot, so ``arch`` archives only the grants that existed
before (never the rows ``cons`` inserts), exactly as the general path's UPDATE-then-INSERT.
The three values only the statement knows (the consent's id, how many grants of its kind were
archived, the event id) are filled in SQL; everything else of an audit entry comes from
:func:`~onshi.consent.services.consent_audit_entry`. The reception screens' notification
(:mod:`onshi.web.live`) is part of the statement when the caller passes its parts, so
PostgreSQL delivers it on commit as before.

SQLite (no data-modifying CTEs): one statement per table written — the event, the access-log
row, the consents' archive UPDATE and INSERT (:func:`~onshi.consent.services.record_consents`,
its audit entries in one ``executemany``) and the submission.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from functools import cache
from typing import Any, Final, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from onshi.audit.models import AccessPurpose, ActorKind, DataAccess, DataKind
from onshi.audit.services import audit_details_json
from onshi.clock import Clock
from onshi.consent.models import Consent, ConsentKind
from onshi.consent.policies import consent_expiry
from onshi.consent.services import consent_audit_entry, consent_rows, record_consents
from onshi.settings import ConsentRules
from onshi.verification.models import VerificationEvent, VerificationSubmission

_EVENTS: Final = cast(Table, VerificationEvent.__table__)
_SUBMISSIONS: Final = cast(Table, VerificationSubmission.__table__)
_ACCESS: Final = cast(Table, DataAccess.__table__)
_INSERT_EVENT: Final = insert(_EVENTS).returning(_EVENTS.c.id)
_INSERT_ACCESS: Final = insert(_ACCESS)
_INSERT_SUBMISSION: Final = insert(_SUBMISSIONS).returning(_SUBMISSIONS.c.id)
ID_MARK: Final = "#EVENT_ID#"  # kept verbatim by JSON encoding


@dataclass(frozen=True, slots=True)
class LivePush:
    """``pg_notify(channel, payload)`` for the new event: ``payload`` is the broker's message
    with :data:`ID_MARK` where the event id goes (onshi.web.broker)."""

    channel: str
    payload: str

    def parts(self) -> tuple[str, str]:
        before, _, after = self.payload.partition(ID_MARK)
        return before, after


@dataclass(frozen=True, slots=True)
class Written:
    event_id: int
    submission_id: int
    answer: dict[str, Any]  # the stored answer (``response``)
    announced: bool  # the live notification is part of the writes


@dataclass(frozen=True, slots=True)
class Completed:
    """A completed check's rows (the columns of the general path's records)."""

    institution_id: int
    device_id: int
    person_id: int
    event: dict[str, Any]  # verification_events columns, without id
    log_access: bool  # a qualification was shown: one data_access_log row
    submission: dict[str, Any]  # verification_submissions columns but id, event id, response
    choices: Mapping[ConsentKind, bool]
    rules: ConsentRules


Answer = Callable[[Sequence[Consent]], dict[str, Any]]


def write_completed(
    db: Session, clock: Clock, done: Completed, live: LivePush | None, answer: Answer
) -> Written:
    """Write ``done`` (see the module docstring); ``answer`` builds the stored answer from the
    new consents (their kinds, values and times). ``live`` is used on PostgreSQL only."""
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        return _write_postgresql(connection, clock, done, live, answer)
    return _write_each(db, connection, clock, done, answer)


def _write_each(
    db: Session, connection: Connection, clock: Clock, done: Completed, answer: Answer
) -> Written:
    event_id = int(connection.execute(_INSERT_EVENT, done.event).scalar_one())
    if done.log_access:
        connection.execute(_INSERT_ACCESS, _access_row(clock, done, event_id))
    consents = record_consents(
        db,
        clock,
        person_id=done.person_id,
        institution_id=done.institution_id,
        choices=done.choices,
        rules=done.rules,
        actor_kind=ActorKind.DEVICE,
        actor_id=done.device_id,
        verification_event_id=event_id,
    )
    response = answer(consents)
    submission_id = int(
        connection.execute(
            _INSERT_SUBMISSION,
            {**done.submission, "response": response, "verification_event_id": event_id},
        ).scalar_one()
    )
    return Written(event_id, submission_id, response, announced=False)


def _access_row(clock: Clock, done: Completed, event_id: int | None) -> dict[str, Any]:
    """The row :func:`onshi.audit.services.record_data_access` writes for this check."""
    return {
        "person_id": done.person_id,
        "institution_id": done.institution_id,
        "staff_account_id": None,
        "data_kind": DataKind.QUALIFICATION,
        "purpose": AccessPurpose.NORMAL,
        "occurred_at": clock.now().astimezone(UTC),
        "verification_event_id": event_id,
    }


_EVENT_COLUMNS: Final = (
    "institution_id",
    "device_id",
    "staff_account_id",
    "method",
    "person_id",
    "qualification_id",
    "result_code",
    "error_code",
    "not_found_reason",
    "held_qualification_id",
    "occurred_at",
)
_SUBMISSION_COLUMNS: Final = (
    "public_id",
    "challenge_id",
    "device_id",
    "institution_id",
    "method",
    "body_hash",
    "status",
    "person_id",
    "certificate_fingerprint",
    "error_code",
    "response_status",
    "response",
    "pending",
    "decided_by_staff_id",
    "decided_at",
    "created_at",
)
_JSON_COLUMNS: Final = frozenset({"response", "pending"})


def _placeholders(prefix: str, columns: tuple[str, ...]) -> str:
    return ", ".join(
        f"CAST(:{prefix}{name} AS json)" if name in _JSON_COLUMNS else f":{prefix}{name}"
        for name in columns
    )


@cache
def _statement(*, log_access: bool, notify: bool) -> TextClause:
    access = (
        """,
    acc AS (
        INSERT INTO data_access_log
            (person_id, institution_id, staff_account_id, data_kind, purpose, occurred_at,
             verification_event_id)
        SELECT :a_person_id, :a_institution_id, NULL, :a_data_kind, :a_purpose, :a_occurred_at,
               ev.id
        FROM ev
        RETURNING id
    )"""
        if log_access
        else ""
    )
    push = ", pg_notify(:n_channel, :n_before || CAST(ev.id AS text) || :n_after)" if notify else ""
    # Only column names and fixed fragments of this module are formatted in; values are bound.
    return text(
        f"""
WITH ev AS (
        INSERT INTO verification_events ({", ".join(_EVENT_COLUMNS)})
        VALUES ({_placeholders("e_", _EVENT_COLUMNS)})
        RETURNING id
    ){access},
    arch AS (
        UPDATE consents SET archived_at = :c_now
        WHERE person_id = :c_person_id AND institution_id = :c_institution_id
          AND kind = ANY(CAST(:c_kinds AS varchar[])) AND archived_at IS NULL
        RETURNING kind
    ),
    cons AS (
        INSERT INTO consents
            (person_id, institution_id, verification_event_id, kind, value, registered_at,
             expires_at, home_visit, archived_at)
        SELECT :c_person_id, :c_institution_id, ev.id, c.kind, c.value, :c_now, :c_expires_at,
               false, NULL
        FROM ev,
             unnest(CAST(:c_kinds AS varchar[]), CAST(:c_values AS varchar[]))
                 WITH ORDINALITY AS c(kind, value, position)
        ORDER BY c.position
        RETURNING id, kind
    ),
    aud AS (
        INSERT INTO audit_events
            (occurred_at, actor_kind, actor_id, action, object_type, object_id, person_id,
             institution_id, details)
        SELECT :u_occurred_at, :u_actor_kind, :u_actor_id, :u_action, :u_object_type,
               CAST(cons.id AS varchar), :u_person_id, :u_institution_id,
               CAST(CAST(a.details AS jsonb) || jsonb_build_object(
                   'archived_previous', (SELECT count(*) FROM arch WHERE arch.kind = cons.kind),
                   'verification_event_id', ev.id) AS json)
        FROM cons
        JOIN unnest(CAST(:c_kinds AS varchar[]), CAST(:u_details AS text[])) AS a(kind, details)
            ON a.kind = cons.kind
        CROSS JOIN ev
        ORDER BY cons.id
        RETURNING id
    ),
    sub AS (
        INSERT INTO verification_submissions
            ({", ".join(_SUBMISSION_COLUMNS)}, verification_event_id)
        SELECT {_placeholders("s_", _SUBMISSION_COLUMNS)}, ev.id
        FROM ev
        RETURNING id
    )
SELECT ev.id AS event_id, sub.id AS submission_id{push}
FROM ev, sub
"""  # noqa: S608
    )


def _plain(value: Any) -> Any:
    """A parameter for the text statement (enum members as their values)."""
    return getattr(value, "value", value)


def _write_postgresql(
    connection: Connection, clock: Clock, done: Completed, live: LivePush | None, answer: Answer
) -> Written:
    now = clock.now()
    expires_at = consent_expiry(now, done.rules)
    rows = consent_rows(
        person_id=done.person_id,
        institution_id=done.institution_id,
        choices=done.choices,
        registered_at=now,
        expires_at=expires_at,
        verification_event_id=None,
    )
    consents = [Consent(**row) for row in rows]
    submission = {**done.submission, "response": answer(consents)}
    # The entries' own parts; object_id, archived_previous and verification_event_id are the
    # statement's (see the module docstring).
    entries = [
        consent_audit_entry(
            consent, actor_kind=ActorKind.DEVICE, actor_id=done.device_id, archived_previous=0
        )
        for consent in consents
    ]
    first = entries[0] if entries else None
    params: dict[str, Any] = {
        **{f"e_{name}": _plain(done.event[name]) for name in _EVENT_COLUMNS},
        **{
            f"s_{name}": (
                json.dumps(submission[name], ensure_ascii=False)
                if name in _JSON_COLUMNS
                else _plain(submission[name])
            )
            for name in _SUBMISSION_COLUMNS
        },
        "c_now": now,
        "c_person_id": done.person_id,
        "c_institution_id": done.institution_id,
        "c_expires_at": expires_at,
        "c_kinds": [consent.kind.value for consent in consents],
        "c_values": [consent.value.value for consent in consents],
        "u_occurred_at": now.astimezone(UTC),
        "u_actor_kind": ActorKind.DEVICE.value,
        "u_actor_id": str(done.device_id),
        "u_action": first.action if first else "",
        "u_object_type": first.object_type if first else "",
        "u_person_id": done.person_id,
        "u_institution_id": done.institution_id,
        "u_details": [audit_details_json(entry.details) for entry in entries],
    }
    if done.log_access:
        access = _access_row(clock, done, None)
        params.update(
            {
                "a_person_id": access["person_id"],
                "a_institution_id": access["institution_id"],
                "a_data_kind": access["data_kind"].value,
                "a_purpose": access["purpose"].value,
                "a_occurred_at": access["occurred_at"],
            }
        )
    if live is not None:
        before, after = live.parts()
        params.update({"n_channel": live.channel, "n_before": before, "n_after": after})
    row = connection.execute(
        _statement(log_access=done.log_access, notify=live is not None), params
    ).one()
    return Written(
        int(row.event_id),
        int(row.submission_id),
        submission["response"],
        announced=live is not None,
    )
