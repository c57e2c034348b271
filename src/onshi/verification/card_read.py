"""The card check's read in **one** statement: the card link (certificate → person), the member
records shown to that person with their insurer, their 限度額適用認定 and 特定疾病療養受療証 in
force, the person's 照会番号 at the institution and the newest held / disputed link (why a
card with no shown member answers 4 資格情報なし).

The same rules as the set-based loaders of :mod:`onshi.verification.queries`, from the same
functions: the shown rule (:func:`~onshi.qualification.visibility.join_shown`,
:func:`~onshi.qualification.visibility.withheld_link`) and the in-force rules
(:func:`~onshi.verification.queries.limit_in_force`,
:func:`~onshi.verification.queries.disease_in_force`).

Shape: one row per (shown member × limit in force × disease in force) — a member has at most a
few of each in force, so the product stays small — with the link's person, the 照会番号 and the
held link as scalar columns on every row; a person with no shown member gives one row with
NULL member columns, and a certificate with no link gives no row (fingerprint mode) or one row
with a NULL person. Rows are folded back into
:class:`~onshi.verification.results.QualificationRecord` in the loaders' order (members by id,
limits by start and id, diseases by kind and id).

``claim``: on PostgreSQL the lean path puts its challenge claim (an ``UPDATE … RETURNING`` CTE)
in front of the read, so a claimed challenge and everything the check needs cost one round
trip; no row then means the challenge could not be claimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, cast

from sqlalchemy import CTE, Select, Table, bindparam, select, true

from onshi.identity.models import CardCertificateLink
from onshi.qualification.models import (
    Insurer,
    LimitCertification,
    MemberLink,
    Qualification,
    SpecificDiseaseCertificate,
)
from onshi.qualification.visibility import join_shown, withheld_link
from onshi.verification.models import InstitutionPatientNumber
from onshi.verification.queries import disease_in_force, limit_in_force
from onshi.verification.results import DiseaseRecord, LimitRecord, QualificationRecord

_Q: Final = cast(Table, Qualification.__table__)
_MEMBER_FIELDS: Final = (
    "card_class",
    "symbol",
    "number",
    "branch",
    "relationship",
    "acquired_on",
    "lost_on",
    "loss_reason",
    "issued_on",
    "valid_from",
    "valid_to",
    "copayment_ratio",
    "preschool",
    "elderly_certificate_ratio",
    "elderly_certificate_valid_from",
    "elderly_certificate_valid_to",
    "name",
    "name_kana",
    "sex",
    "birth_date",
    "address",
    "postal_code",
)


@dataclass(frozen=True, slots=True)
class CardRead:
    """What the card check needs of one card (see the module docstring)."""

    person_id: int | None
    records: list[QualificationRecord] = field(default_factory=list)
    patient_number: str | None = None
    held_member: int | None = None
    challenge_id: int | None = None  # the claimed challenge (``claim`` mode)
    challenge_hash: str | None = None


def _statement(by: str, claim: CTE | None) -> Select[Any]:
    """``by``: ``"fingerprint"`` (the card link is part of the read) or ``"person"``."""
    today = bindparam("r_today", type_=Qualification.valid_from.type)
    if by == "fingerprint":
        linked: Any = (
            select(CardCertificateLink.person_id)
            .where(
                CardCertificateLink.fingerprint_sha256 == bindparam("r_fingerprint"),
                CardCertificateLink.unlinked_at.is_(None),
            )
            .scalar_subquery()
        )
    else:
        linked = bindparam("r_person", type_=MemberLink.person_id.type)
    link = select(linked.label("person_id")).where(linked.is_not(None)).subquery("card")
    person = link.c.person_id
    shown = join_shown(
        select(
            Qualification.id.label("m_id"),
            *(getattr(Qualification, name).label(f"m_{name}") for name in _MEMBER_FIELDS),
            Insurer.number.label("m_insurer_number"),
            Insurer.name.label("m_insurer_name"),
            MemberLink.person_id.label("m_person"),
        ).join(Insurer, Insurer.id == Qualification.insurer_id),
        Qualification.id,
    )
    # The person is also named inside: SQLite materialises a LEFT JOIN's subquery before
    # joining it (every shown member of every person: 12 ms on 3,000 people); PostgreSQL
    # flattens it either way.
    members = shown.where(MemberLink.person_id == linked).subquery("member")
    limits = select(LimitCertification).where(limit_in_force(today)).subquery("lim")
    diseases = select(SpecificDiseaseCertificate).where(disease_in_force(today)).subquery("dis")
    patient_number = (
        select(InstitutionPatientNumber.number)
        .where(
            InstitutionPatientNumber.institution_id == bindparam("r_institution"),
            InstitutionPatientNumber.person_id == person,
        )
        .limit(1)
        .scalar_subquery()
    )
    held = (
        select(MemberLink.qualification_id)
        .where(MemberLink.person_id == person, withheld_link())
        .order_by(MemberLink.created_at.desc(), MemberLink.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    columns: list[Any] = [
        person.label("person_id"),
        patient_number.label("patient_number"),
        held.label("held_member"),
        *members.c,
        limits.c.id.label("l_id"),
        limits.c.category.label("l_category"),
        limits.c.class_code.label("l_class_code"),
        limits.c.valid_from.label("l_valid_from"),
        limits.c.valid_to.label("l_valid_to"),
        diseases.c.id.label("d_id"),
        diseases.c.disease.label("d_disease"),
        diseases.c.monthly_limit_yen.label("d_monthly_limit_yen"),
        diseases.c.valid_from.label("d_valid_from"),
        diseases.c.valid_to.label("d_valid_to"),
    ]
    source: Any = link
    if claim is not None:
        columns = [claim.c.id.label("challenge_id"), claim.c.challenge_hash, *columns]
        source = claim.outerjoin(link, true())
    source = (
        source.outerjoin(members, members.c.m_person == person)
        .outerjoin(limits, limits.c.qualification_id == members.c.m_id)
        .outerjoin(diseases, diseases.c.qualification_id == members.c.m_id)
    )
    return select(*columns).select_from(source)


def card_read_statement(by: str, claim: CTE | None = None) -> Select[Any]:
    """The statement (build it once: SQLAlchemy then caches its compiled form). Parameters:
    ``r_today``, ``r_institution`` and ``r_fingerprint`` (``by="fingerprint"``) or
    ``r_person`` (``by="person"``), plus the claim's own."""
    return _statement(by, claim)


_BY_FINGERPRINT: Final = card_read_statement("fingerprint")
_BY_PERSON: Final = card_read_statement("person")


def fold_rows(rows: Sequence[Any]) -> CardRead | None:
    """The rows of :func:`card_read_statement` as one :class:`CardRead` (None: no row)."""
    if not rows:
        return None
    first = rows[0]
    members: dict[int, tuple[Any, dict[int, LimitRecord], dict[int, DiseaseRecord]]] = {}
    for row in rows:
        if row.m_id is None:
            continue
        held = members.setdefault(row.m_id, (row, {}, {}))
        if row.l_id is not None:
            held[1][row.l_id] = LimitRecord(
                row.l_category, row.l_class_code, row.l_valid_from, row.l_valid_to
            )
        if row.d_id is not None:
            held[2][row.d_id] = DiseaseRecord(
                row.d_disease, row.d_monthly_limit_yen, row.d_valid_from, row.d_valid_to
            )
    records = []
    for member_id in sorted(members):
        row, limits, diseases = members[member_id]
        records.append(
            QualificationRecord(
                id=member_id,
                person_id=int(row.m_person),
                insurer_number=row.m_insurer_number,
                insurer_name=row.m_insurer_name,
                **{name: getattr(row, f"m_{name}") for name in _MEMBER_FIELDS},
                limits=tuple(
                    limits[key] for key in sorted(limits, key=lambda k: (limits[k].valid_from, k))
                ),
                diseases=tuple(
                    diseases[key]
                    for key in sorted(diseases, key=lambda k: (str(diseases[k].disease), k))
                ),
            )
        )
    mapping = first._mapping
    return CardRead(
        person_id=None if first.person_id is None else int(first.person_id),
        records=records,
        patient_number=None if first.patient_number is None else str(first.patient_number),
        held_member=None if first.held_member is None else int(first.held_member),
        challenge_id=mapping.get("challenge_id"),
        challenge_hash=mapping.get("challenge_hash"),
    )


def read_card(
    connection: Any,
    *,
    institution_id: int,
    today: date,
    fingerprint: str | None = None,
    person_id: int | None = None,
) -> CardRead | None:
    """The read on ``connection`` (a Core connection: no ORM overhead) for a certificate
    ``fingerprint`` or a ``person_id``; None when the certificate is not linked."""
    key: dict[str, Any]
    if fingerprint is not None:
        statement, key = _BY_FINGERPRINT, {"r_fingerprint": fingerprint}
    else:
        statement, key = _BY_PERSON, {"r_person": person_id}
    rows = connection.execute(
        statement, {**key, "r_institution": institution_id, "r_today": today}
    ).all()
    return fold_rows(rows)
