"""The SIMULATED J-LIS answers the gateway's three questions (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from onshi.identity.models import Sex
from onshi.jlis import JlisGateway
from onshi.jlis.simulated import SimulatedJlis
from tests.factories import NOW, make_issued_certificate, make_resident_record


def test_candidates_and_the_resident_of_a_number(db: Session) -> None:
    first = make_resident_record(db)
    same_day = make_resident_record(db, family_name="佐藤")
    make_resident_record(db, sex=Sex.FEMALE)
    make_resident_record(db, birth_date=date(1980, 5, 18))
    jlis: JlisGateway = SimulatedJlis(db)

    candidates = jlis.candidates_by_birth_date_and_sex(first.birth_date, Sex.MALE)

    assert [c.my_number_hash for c in candidates] == [first.my_number_hash, same_day.my_number_hash]
    assert candidates[1].kanji_name.startswith("佐藤\u3000")
    assert "佐藤" not in repr(candidates[1])
    found = jlis.resident_for_my_number_hash(first.my_number_hash)
    assert found is not None
    assert (found.family_name_kana, found.birth_date, found.sex) == (
        "ヤマダ",
        first.birth_date,
        Sex.MALE,
    )
    assert jlis.resident_for_my_number_hash("0" * 64) is None


def test_holder_of_a_certificate_only_when_issued_unrevoked_and_started(db: Session) -> None:
    resident = make_resident_record(db)
    issued = make_issued_certificate(db, resident)
    jlis = SimulatedJlis(db)

    def holder(**changes: object) -> object:
        query: dict[str, object] = {
            "issuer": issued.certificate_issuer,
            "serial": issued.certificate_serial.lower(),  # hex case does not matter
            "fingerprint": issued.fingerprint_sha256.upper(),
            "at": NOW,
        }
        query.update(changes)
        return jlis.holder_of_certificate(**query)  # type: ignore[arg-type]

    found = holder()
    assert found is not None
    assert found.my_number_hash == resident.my_number_hash  # type: ignore[attr-defined]
    assert holder(fingerprint="f" * 64) is None  # same issuer + serial, another certificate
    assert holder(serial="ABCDEF") is None
    assert holder(issuer="CN=Someone Else") is None
    assert holder(at=issued.not_before - timedelta(seconds=1)) is None
    jlis.record_revocation(
        issuer=issued.certificate_issuer, serial=issued.certificate_serial, at=NOW, reason="x"
    )
    assert holder() is None
    assert issued.revocation_reason == "x"


def test_a_certificate_is_issued_to_one_resident_only(db: Session) -> None:
    from onshi.jlis.simulated import IssuedCertificate

    issued = make_issued_certificate(db)
    again = IssuedCertificate(
        issuer=issued.certificate_issuer,
        serial=issued.certificate_serial,
        fingerprint=issued.fingerprint_sha256,
        not_before=issued.not_before,
        not_after=issued.not_after,
        issued_at=NOW,
    )
    jlis = SimulatedJlis(db)
    assert jlis.record_issuance(issued.resident_id, again).id == issued.id  # idempotent
    other = make_resident_record(db)
    with pytest.raises(ValueError, match="another resident"):
        jlis.record_issuance(other.id, again)
