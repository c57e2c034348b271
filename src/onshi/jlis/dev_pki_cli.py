"""``onshi dev-pki``, with the SIMULATED J-LIS kept in step: a card issued to a resident is
recorded as issued to them (``issue --resident-id`` / ``--resident-my-number``); ``renew``
records the new certificate for the same resident; ``revoke`` records the revocation. ``init``
and ``list`` (and an ``issue`` naming no resident) are the development PKI's alone
(``onshi.pki.cli``).

The issuance is written in one transaction after the PKI made the certificate; if that
transaction fails the card exists in the PKI only and J-LIS names no holder for it (利用登録 of
it is then refused), which the error message says.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from onshi.clock import Clock, SystemClock, today_jst
from onshi.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from onshi.jlis.models import SimulatedJlisResident
    from onshi.pki.devpki import DevelopmentPKI


def dev_pki(args: argparse.Namespace, settings: Settings) -> int:
    return run(args, settings, SystemClock())


def run(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from onshi.pki import cli as pki_cli

    command = args.pki_command
    names_resident = command == "issue" and (
        getattr(args, "resident_id", None) is not None
        or getattr(args, "resident_my_number", None) is not None
    )
    if settings.environment == "production" or not (
        names_resident or command in ("renew", "revoke")
    ):
        return pki_cli.run(args, settings, clock)
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from onshi.db.engine import make_engine
    from onshi.jlis.models import SimulatedJlisCertificate
    from onshi.pki.devpki import DevelopmentPKI
    from onshi.pki.errors import DevelopmentPKIError

    pki = DevelopmentPKI(args.dir or settings.data_dir / "dev-pki")
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as db, db.begin():
            try:  # before any change to the PKI: is the J-LIS database there?
                db.execute(select(SimulatedJlisCertificate.id).limit(1))
            except SQLAlchemyError as exc:
                cause = type(getattr(exc, "orig", None) or exc).__name__
                print(
                    f"dev-pki: the SIMULATED J-LIS database cannot be used ({cause}); "
                    "run `onshi migrate` first. Nothing was changed.",
                    file=sys.stderr,
                )
                return 1
            if command == "issue":
                return _issue(db, pki, args, settings, clock)
            if command == "renew":
                return _renew(db, pki, args, clock)
            return _revoke(db, pki, args, clock)
    except DevelopmentPKIError as exc:
        print(f"dev-pki: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _issue(
    db: Session, pki: DevelopmentPKI, args: argparse.Namespace, settings: Settings, clock: Clock
) -> int:
    from onshi.identifiers.errors import IdentifierError
    from onshi.identifiers.my_number import parse_my_number
    from onshi.jlis.models import SimulatedJlisResident
    from onshi.jlis.simulated import SimulatedJlis

    jlis = SimulatedJlis(db)
    resident: SimulatedJlisResident | None
    if args.resident_id is not None:
        resident = db.get(SimulatedJlisResident, args.resident_id)
    else:
        try:
            number = parse_my_number(args.resident_my_number)
        except IdentifierError as exc:
            print(f"dev-pki: --resident-my-number: {exc.code}", file=sys.stderr)
            return 2
        resident = jlis.resident_row(number.hash(settings.my_number_key))
    if resident is None:
        print("dev-pki: no such resident in the SIMULATED J-LIS", file=sys.stderr)
        return 1
    if args.birth_date is not None and args.birth_date != resident.birth_date:
        print("dev-pki: --birth-date differs from the resident's birth date", file=sys.stderr)
        return 2
    record = pki.issue(
        person=args.person or f"jlis-resident-{resident.id}",
        birth_date=resident.birth_date,
        issued_on=args.issued_on or today_jst(clock),
    )
    _record(db, pki, record.card_id, resident.id, clock)
    print(
        f"{record.card_id} serial={record.serial_number:X} until={record.not_after} "
        f"resident={resident.id}"
    )
    return 0


def _renew(db: Session, pki: DevelopmentPKI, args: argparse.Namespace, clock: Clock) -> int:
    before = pki.card(args.card)
    holder = _resident_of_card(db, pki, args.card)
    record = pki.renew(
        args.card,
        issued_on=args.issued_on or today_jst(clock),
        at=clock.now(),
        revoke_previous=not args.keep_previous,
    )
    if not args.keep_previous:
        _revoked(db, pki, before.serial_number, clock, reason="superseded")
    note = ""
    if holder is None:
        note = " (not recorded in the SIMULATED J-LIS: the card was issued to no resident)"
    else:
        _record(db, pki, record.card_id, holder, clock)
        note = f" resident={holder}"
    print(f"{record.card_id} serial={record.serial_number:X} until={record.not_after}{note}")
    return 0


def _revoke(db: Session, pki: DevelopmentPKI, args: argparse.Namespace, clock: Clock) -> int:
    serial = pki.card(args.card).serial_number
    pki.revoke(args.card, at=clock.now(), reason=args.reason)
    _revoked(db, pki, serial, clock, reason=args.reason)
    print(f"revoked the current certificate of card {args.card} ({args.reason})")
    return 0


def _record(db: Session, pki: DevelopmentPKI, card_id: str, resident_id: int, clock: Clock) -> None:
    from onshi.audit.models import ActorKind
    from onshi.audit.services import record_audit
    from onshi.jlis.simulated import IssuedCertificate, SimulatedJlis

    issued = IssuedCertificate.of(pki.card_certificate(card_id), issued_at=clock.now())
    row = SimulatedJlis(db).record_issuance(resident_id, issued)
    record_audit(
        db,
        clock,
        actor_kind=ActorKind.SYSTEM,
        actor_id="dev-pki",
        action="jlis.certificate_issued",
        object_type="sim_jlis_certificate",
        object_id=row.id,
        details={"fingerprint": issued.fingerprint, "serial": issued.serial},
    )


def _revoked(db: Session, pki: DevelopmentPKI, serial: int, clock: Clock, *, reason: str) -> None:
    from onshi.jlis.simulated import SimulatedJlis

    issuer = pki.ca_certificate().subject.rfc4514_string()
    SimulatedJlis(db).record_revocation(
        issuer=issuer, serial=f"{serial:X}", at=clock.now(), reason=reason
    )


def _resident_of_card(db: Session, pki: DevelopmentPKI, card_id: str) -> int | None:
    from sqlalchemy import select

    from onshi.jlis.models import SimulatedJlisCertificate
    from onshi.jlis.simulated import IssuedCertificate

    issued = IssuedCertificate.of(pki.card_certificate(card_id), issued_at=None)
    return db.scalar(
        select(SimulatedJlisCertificate.resident_id).where(
            SimulatedJlisCertificate.fingerprint_sha256 == issued.fingerprint
        )
    )
