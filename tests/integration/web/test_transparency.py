"""/transparency: public signed checkpoints and proofs that verify, entries only for their own
patient and administrators, and the patient's access receipts (checked offline here; in the
browser by e2e)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole, SubjectKind
from onshi.accounts.services import SessionPolicy, create_session
from onshi.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from onshi.audit.models import AccessPurpose, DataAccess, DataKind, EntryKind
from onshi.audit.note import open_checkpoint
from onshi.audit.proofs import ReceiptError, check_receipt
from onshi.audit.services import record_audit, record_data_access
from onshi.clock import FrozenClock
from onshi.identity.models import Person
from tests.factories import make_institution, make_patient_account, make_person, make_staff_account
from tests.tlog_helpers import TEST_IDENTITY, integrate, positions

POLICY = SessionPolicy(hours=8, idle_minutes=30)


def _sign_in(client: TestClient[Litestar], db: Session, clock: FrozenClock, **who: Any) -> None:
    issued = create_session(db, clock, POLICY, **who)
    db.commit()
    client.cookies.set("onshi_session", issued.token)


def _patient(client: TestClient[Litestar], db: Session, clock: FrozenClock) -> Person:
    person = make_person(db)
    account = make_patient_account(db, person)
    _sign_in(client, db, clock, subject_kind=SubjectKind.PATIENT, subject_id=account.id)
    return person


def _viewed(db: Session, clock: FrozenClock, person: Person) -> DataAccess:
    institution = make_institution(db)
    access = record_data_access(
        db,
        clock,
        person_id=person.id,
        data_kind=DataKind.DRUG,
        purpose=AccessPurpose.NORMAL,
        institution_id=institution.id,
    )
    db.commit()
    return access


def _noise(db: Session, clock: FrozenClock, n: int) -> None:
    for i in range(n):
        record_audit(
            db, clock, actor_kind="system", actor_id=None, action="t", object_type="x", object_id=i
        )
    db.commit()


def _root(note: str) -> bytes:
    return open_checkpoint(note, TEST_IDENTITY.verifier, TEST_IDENTITY.origin).root_hash


def test_checkpoint_and_proofs_are_public_and_verify(
    client: TestClient[Litestar], db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    empty = client.get("/transparency/checkpoint")
    assert empty.status_code == 404
    assert empty.json()["error"]["message"]["en"].startswith("No checkpoint yet")
    _noise(db, clock, 5)
    integrate(db_engine, clock)
    _noise(db, clock, 6)
    integrate(db_engine, clock)

    latest = client.get("/transparency/checkpoint")
    assert latest.status_code == 200
    assert latest.headers["content-type"].startswith("text/plain")
    assert latest.text.splitlines()[:2] == [TEST_IDENTITY.origin, "11"]
    old = client.get("/transparency/checkpoint", params={"size": 5}).text
    assert client.get("/transparency/key").text.strip() == TEST_IDENTITY.verifier.encode()

    consistency = client.get("/transparency/proof/consistency?first=5&second=11").json()
    proof = [base64.b64decode(h) for h in consistency["hashes"]]
    assert verify_consistency(5, 11, _root(old), _root(latest.text), proof)
    assert not verify_consistency(5, 11, _root(old), _root(latest.text), proof[::-1])

    inclusion = client.get("/transparency/proof/inclusion?index=7&size=11").json()
    entry = client.get("/transparency/entries/7", follow_redirects=False)  # not signed in
    assert entry.status_code == 303
    staff = make_staff_account(db, StaffRole.ADMINISTRATOR)
    _sign_in(client, db, clock, subject_kind=SubjectKind.STAFF, subject_id=staff.id)
    body = client.get("/transparency/entries/7")
    assert body.status_code == 200
    path = [base64.b64decode(h) for h in inclusion["hashes"]]
    assert verify_inclusion(7, 11, leaf_hash(body.content), path, _root(latest.text))


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("index=x&size=3", "tlog.bad_number"),
        ("index=-1&size=3", "tlog.bad_number"),
        ("index=3&size=3", "tlog.proof_unavailable"),
        ("index=0&size=99", "tlog.proof_unavailable"),
        ("size=3", "tlog.bad_number"),
    ],
)
def test_bad_proof_requests_are_explained(
    client: TestClient[Litestar],
    db: Session,
    db_engine: Engine,
    clock: FrozenClock,
    *,
    query: str,
    code: str,
) -> None:
    _noise(db, clock, 3)
    integrate(db_engine, clock)
    answer = client.get(f"/transparency/proof/inclusion?{query}")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"]["ja"]
    assert error["message"]["en"]
    bad = client.get("/transparency/proof/consistency?first=0&second=3")
    assert bad.json()["error"]["code"] == "tlog.proof_unavailable"


def test_entries_only_for_their_patient_and_administrators(
    client: TestClient[Litestar], db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    person = _patient(client, db, clock)
    access = _viewed(db, clock, person)
    _noise(db, clock, 1)
    integrate(db_engine, clock)
    at = positions(db, EntryKind.ACCESS)[access.id]
    own = client.get(f"/transparency/entries/{at}")
    assert own.status_code == 200, (at, own.text[:300])
    assert json.loads(own.content)["person_id"] == person.id
    assert client.get("/transparency/entries/1").status_code == 404  # an audit entry
    assert client.get("/transparency/entries/99").status_code == 404

    _patient(client, db, clock)  # somebody else
    assert client.get(f"/transparency/entries/{at}").status_code == 404
    clerk = make_staff_account(db, StaffRole.RECEPTION)
    _sign_in(client, db, clock, subject_kind=SubjectKind.STAFF, subject_id=clerk.id)
    assert client.get(f"/transparency/entries/{at}").status_code == 404


def test_access_receipt_verifies_offline_and_altered_ones_fail(
    client: TestClient[Litestar], db: Session, db_engine: Engine, clock: FrozenClock
) -> None:
    person = _patient(client, db, clock)
    _noise(db, clock, 4)
    access = _viewed(db, clock, person)
    url = f"/me/access-log/{access.id}/receipt"
    pending = client.get(url)
    assert pending.status_code == 409
    assert pending.json()["error"]["code"] == "tlog.receipt_pending"
    integrate(db_engine, clock)
    _noise(db, clock, 3)  # the receipt is against the newest checkpoint, past the entry
    integrate(db_engine, clock)

    answer = client.get(url)
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    receipt = answer.json()
    checked = check_receipt(receipt, TEST_IDENTITY.verifier.encode())
    assert (checked.leaf_index, checked.tree_size) == (
        positions(db, EntryKind.ACCESS)[access.id],
        8,
    )
    assert checked.entry["id"] == access.id
    assert checked.entry["type"] == "access"

    def altered(change: Any) -> dict[str, Any]:
        copied = copy.deepcopy(receipt)
        change(copied)
        return copied

    entry = json.loads(base64.b64decode(receipt["entry"]))
    entry["purpose"] = "emergency"
    forged_entry = base64.b64encode(json.dumps(entry).encode()).decode()
    cases = [
        altered(lambda r: r.update(entry=forged_entry)),
        altered(lambda r: r.update(leaf_index=3)),
        altered(lambda r: r["inclusion_proof"].reverse()),
        altered(lambda r: r.update(checkpoint=r["checkpoint"].replace("\n8\n", "\n9\n"))),
        altered(lambda r: r.update(tree_size=9)),
        altered(lambda r: r.update(version=2)),
    ]
    for case in cases:
        with pytest.raises(ReceiptError):
            check_receipt(case)
    # A receipt signed by another key does not pass for the log's published key.
    with pytest.raises(ReceiptError):
        check_receipt(receipt, "other.example/log+00000000+" + base64.b64encode(bytes(33)).decode())

    page = client.get("/me/access-log")
    assert url in page.text
    assert "/static/js/receipts.js" in page.text
    _patient(client, db, clock)  # another patient cannot fetch it
    assert client.get(url).status_code == 404
