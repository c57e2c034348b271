"""The demo card (development only): a development-PKI card for the demo patient, recorded in
the SIMULATED J-LIS as issued to that patient's resident record, so 利用登録 at the kiosk finds
its holder. Not linked: the demo patient registers it with card + PIN + consent."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from onshi.audit.models import ActorKind
from onshi.audit.services import record_audit
from onshi.clock import SystemClock, today_jst
from onshi.identity.models import Person
from onshi.jlis.models import SimulatedJlisResident
from onshi.jlis.simulated import IssuedCertificate, SimulatedJlis
from onshi.pki.devpki import DevelopmentPKI
from onshi.settings import Settings

DEMO_CARD_PIN = "1234"


def issue_demo_card(engine: Engine, settings: Settings, person_id: int) -> list[str]:
    """Issue the card (making the development CA if there is none); lines to print."""
    clock = SystemClock()
    pki = DevelopmentPKI(settings.data_dir / "dev-pki")
    with Session(engine) as db, db.begin():
        resident = db.scalar(
            select(SimulatedJlisResident)
            .join(Person, Person.my_number_hash == SimulatedJlisResident.my_number_hash)
            .where(Person.id == person_id)
        )
        if resident is None:
            return [f"  demo card: person {person_id} has no J-LIS resident record; none issued"]
        if not pki.ca_path.exists():
            pki.init(at=clock.now(), crl_url=f"{settings.public_origin}/dev-pki/crl.pem")
        record = pki.issue(
            person=f"jlis-resident-{resident.id}",
            birth_date=resident.birth_date,
            issued_on=today_jst(clock),
        )
        issued = IssuedCertificate.of(pki.card_certificate(record.card_id), issued_at=clock.now())
        resident_id = resident.id
        row = SimulatedJlis(db).record_issuance(resident_id, issued)
        record_audit(
            db,
            clock,
            actor_kind=ActorKind.SYSTEM,
            actor_id="seed",
            action="jlis.certificate_issued",
            object_type="sim_jlis_certificate",
            object_id=row.id,
            details={"fingerprint": issued.fingerprint, "serial": issued.serial},
        )
    return [
        f"  demo card {record.card_id} (SIMULATED J-LIS resident {resident_id}); make it a "
        "virtual card for reader-bridge:",
        f"    reader-bridge virtual-card create --from-dev-pki {pki.directory} "
        f"--card {record.card_id} --pin {DEMO_CARD_PIN} --out <dir>",
    ]
