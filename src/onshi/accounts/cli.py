"""``onshi patient-enrolment-code --person-id N``: support staff hand a patient a one-time
enrolment link (until the My Number card path exists). The code is printed once and stored only
as a hash; it lasts 30 minutes."""

from __future__ import annotations

import argparse
import sys

from onshi.clock import Clock, SystemClock
from onshi.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--person-id", type=int, required=True, help="persons.id of the patient")
    parser.add_argument(
        "--staff-id", type=int, default=None, help="staff_accounts.id of the issuer (for audit)"
    )


def issue_enrolment_url(
    settings: Settings, person_id: int, *, staff_id: int | None = None, clock: Clock | None = None
) -> tuple[str, str]:
    """Issue a code in its own transaction; returns (URL, expiry in JST) or raises
    ``NotFoundError`` for an unknown person."""
    from onshi.accounts.enrolment import issue_enrolment_code
    from onshi.clock import JST
    from onshi.db.engine import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db, db.begin():
            issued = issue_enrolment_code(
                db, clock or SystemClock(), person_id=person_id, issued_by_staff_id=staff_id
            )
    finally:
        engine.dispose()
    expiry = issued.expires_at.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")
    return issued.url(settings.public_origin), expiry


def patient_enrolment_code(args: argparse.Namespace, settings: Settings) -> int:
    from onshi.errors import NotFoundError

    try:
        url, expiry = issue_enrolment_url(settings, args.person_id, staff_id=args.staff_id)
    except NotFoundError:
        print(f"patient-enrolment-code: no person with id {args.person_id}", file=sys.stderr)
        return 1
    print(url)
    print(f"valid until {expiry}, once", file=sys.stderr)
    return 0
