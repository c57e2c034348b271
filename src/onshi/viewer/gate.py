"""THE gate of the viewer: every read of drug, health-check or clinical information by staff
(pages, htmx fragments, the print view, any export or API) asks :func:`authorise` first and
reads only with the :class:`Grant` it returns. docs/viewer.md "The gate" lists the rules.

The checks, in order (the first that fails is the refusal's reason):

1. the reader is a qualified role (医師, 歯科医師, 薬剤師) of an institution: ``role``;
2. the person is known and (in consent and emergency modes) a patient of this institution —
   they answered a consent question here, or their card was checked here: ``other_institution``;
3. the institution's settings offer the kind: ``kind_not_offered``; a pharmacy sees 特定健診
   only when its settings allow it: ``pharmacy_health_check``;
4. none of the person's member records is held or disputed (the one shown rule,
   :mod:`onshi.qualification.visibility`): ``under_review``;
5. the basis of the mode:
   - consent: a valid consent of this kind (or 包括同意) given at this institution
     (:mod:`onshi.consent.policies`): ``no_consent``, or ``consent_expired`` naming the time;
   - emergency (救急時): a hospital, the staff member's emergency permission and a reason:
     ``emergency_hospital_only``, ``emergency_no_permission``, ``emergency_reason_required``;
   - disaster (災害時): an active declaration covering the institution's prefecture:
     ``disaster_not_declared``.

手術 items of 診療情報 are shown only when the settings offer 手術情報 and (in consent mode) a
valid 手術情報 consent (or 包括同意) exists as well: :attr:`Grant.include_surgery`.

A refusal is logged (audit ``viewer.refused``, in the caller's transaction) and returned, not
raised, so the request commits the log entry and shows the reason. A grant is logged by the
read itself (:mod:`onshi.viewer.services`), with its access-log row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import QUALIFIED_ROLES, StaffRole
from onshi.audit.models import ActorKind
from onshi.audit.services import AccessBasis, record_audit
from onshi.clock import JST, Clock
from onshi.consent.models import Consent, ConsentKind
from onshi.consent.policies import kinds_allowing, latest_lapsed, strongest
from onshi.consent.queries import current_consents, has_consent_record
from onshi.identity.models import Person
from onshi.institutions.models import Institution, InstitutionKind
from onshi.qualification.models import Qualification
from onshi.qualification.visibility import shown_member_ids, withheld_member_ids
from onshi.verification.models import VerificationEvent
from onshi.viewer.disaster import declaration_covering
from onshi.viewer.kinds import AccessMode, ViewKind
from onshi.viewer.options import ViewerOptions, viewer_options

REASON_MAX: Final = 500


class RefusalReason(StrEnum):
    ROLE = "role"
    OTHER_INSTITUTION = "other_institution"
    KIND_NOT_OFFERED = "kind_not_offered"
    PHARMACY_HEALTH_CHECK = "pharmacy_health_check"
    UNDER_REVIEW = "under_review"
    NO_CONSENT = "no_consent"
    CONSENT_EXPIRED = "consent_expired"
    EMERGENCY_HOSPITAL_ONLY = "emergency_hospital_only"
    EMERGENCY_NO_PERMISSION = "emergency_no_permission"
    EMERGENCY_REASON_REQUIRED = "emergency_reason_required"
    DISASTER_NOT_DECLARED = "disaster_not_declared"


@dataclass(frozen=True)
class Viewer:
    """The staff member asking (from the session's principal)."""

    account_id: int
    role: StaffRole | None
    institution_id: int | None
    emergency_permission: bool = False


@dataclass(frozen=True)
class Grant:
    """What allowed a read: exactly one basis (a consent, a declaration or an emergency
    reason), and the limits the read must keep."""

    viewer: Viewer
    person_id: int
    institution_id: int
    kind: ViewKind
    mode: AccessMode
    member_id: int | None  # the member record the access log names
    options: ViewerOptions
    consent_id: int | None = None
    consent_expires_at: datetime | None = None  # None with a consent: 居宅同意取得型
    disaster_declaration_id: int | None = None
    disaster_ends_at: datetime | None = None
    emergency_reason: str | None = None
    include_surgery: bool = False
    surgery_consent_id: int | None = None

    @property
    def basis(self) -> AccessBasis:
        return AccessBasis(
            staff_role=None if self.viewer.role is None else self.viewer.role.value,
            qualification_id=self.member_id,
            consent_id=self.consent_id,
            consent_expires_at=self.consent_expires_at,
            disaster_declaration_id=self.disaster_declaration_id,
        )


@dataclass(frozen=True)
class Refusal:
    reason: RefusalReason
    kind: ViewKind
    mode: AccessMode
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        """The message id (``error.viewer.refused.<reason>`` in the catalogue)."""
        return f"viewer.refused.{self.reason.value}"


Decision = Grant | Refusal
_Refuse = Callable[..., Refusal]


def decide(
    db: Session,
    *,
    viewer: Viewer,
    person_id: int,
    kind: ViewKind,
    mode: AccessMode,
    now: datetime,
    reason: str | None = None,
) -> Decision:
    """Grant or refuse (nothing written; :func:`authorise` logs a refusal)."""

    def refuse(why: RefusalReason, **params: Any) -> Refusal:
        return Refusal(why, kind, mode, params)

    if viewer.role not in QUALIFIED_ROLES or viewer.institution_id is None:
        return refuse(RefusalReason.ROLE)
    institution = db.get(Institution, viewer.institution_id)
    if institution is None or db.get(Person, person_id) is None:
        return refuse(RefusalReason.OTHER_INSTITUTION)
    options = viewer_options(db, institution.id)
    if not options.offers(kind):
        return refuse(RefusalReason.KIND_NOT_OFFERED)
    if (
        kind is ViewKind.HEALTH_CHECK
        and institution.kind is InstitutionKind.PHARMACY
        and not options.pharmacy_health_check
    ):
        return refuse(RefusalReason.PHARMACY_HEALTH_CHECK)
    if db.scalar(withheld_member_ids(person_id).limit(1)) is not None:
        return refuse(RefusalReason.UNDER_REVIEW)
    base = {
        "viewer": viewer,
        "person_id": person_id,
        "institution_id": institution.id,
        "kind": kind,
        "mode": mode,
        "options": options,
    }
    if mode is AccessMode.CONSENT:
        return _by_consent(db, base, now, refuse)
    if mode is AccessMode.EMERGENCY:
        return _by_emergency(db, base, institution, reason, refuse)
    return _by_disaster(db, base, institution, now, refuse)


def _by_consent(db: Session, base: dict[str, Any], now: datetime, refuse: _Refuse) -> Decision:
    person_id, institution_id = base["person_id"], base["institution_id"]
    kind: ViewKind = base["kind"]
    options: ViewerOptions = base["options"]
    wanted = set(kinds_allowing(kind.consent_kind))
    if kind is ViewKind.CLINICAL and options.offer_surgery:
        wanted |= set(kinds_allowing(ConsentKind.SURGERY))
    consents = current_consents(
        db, person_id=person_id, institution_id=institution_id, kinds=sorted(wanted)
    )
    allowing = [c for c in consents if c.kind in kinds_allowing(kind.consent_kind)]
    chosen = strongest(allowing, now)
    if chosen is None:
        lapsed = latest_lapsed(allowing, now)
        if lapsed is not None and lapsed.expires_at is not None:
            local = lapsed.expires_at.astimezone(JST)
            return refuse(
                RefusalReason.CONSENT_EXPIRED,
                time=local.strftime("%H:%M"),
                date=local.date().isoformat(),
            )
        if has_consent_record(db, person_id=person_id, institution_id=institution_id):
            return refuse(RefusalReason.NO_CONSENT)
        return refuse(RefusalReason.OTHER_INSTITUTION)
    surgery: Consent | None = None
    if kind is ViewKind.CLINICAL and options.offer_surgery:
        surgery = strongest(
            [c for c in consents if c.kind in kinds_allowing(ConsentKind.SURGERY)], now
        )
    return Grant(
        **base,
        member_id=_member_of_visit(db, person_id, chosen.verification_event_id),
        consent_id=chosen.id,
        consent_expires_at=chosen.expires_at,
        include_surgery=surgery is not None,
        surgery_consent_id=None if surgery is None else surgery.id,
    )


def _by_emergency(
    db: Session, base: dict[str, Any], institution: Institution, reason: str | None, refuse: _Refuse
) -> Decision:
    viewer: Viewer = base["viewer"]
    if institution.kind is not InstitutionKind.HOSPITAL:
        return refuse(RefusalReason.EMERGENCY_HOSPITAL_ONLY)
    if not viewer.emergency_permission:
        return refuse(RefusalReason.EMERGENCY_NO_PERMISSION)
    text = " ".join((reason or "").split())
    if not text:
        return refuse(RefusalReason.EMERGENCY_REASON_REQUIRED)
    event_id = db.scalar(
        select(VerificationEvent.id)
        .where(
            VerificationEvent.person_id == base["person_id"],
            VerificationEvent.institution_id == institution.id,
        )
        .order_by(VerificationEvent.id.desc())
        .limit(1)
    )
    if event_id is None:  # the card was never read here: not this hospital's patient
        return refuse(RefusalReason.OTHER_INSTITUTION)
    options: ViewerOptions = base["options"]
    return Grant(
        **base,
        member_id=_member_of_visit(db, base["person_id"], event_id),
        emergency_reason=text[:REASON_MAX],
        include_surgery=base["kind"] is ViewKind.CLINICAL and options.offer_surgery,
    )


def _by_disaster(
    db: Session, base: dict[str, Any], institution: Institution, now: datetime, refuse: _Refuse
) -> Decision:
    """災害時: only inside an active declaration over the institution's prefecture
    (:func:`onshi.viewer.disaster.declaration_covering`); no consent is needed ("同意なし")."""
    declaration = declaration_covering(db, prefecture_code=institution.prefecture_code, now=now)
    if declaration is None:
        return refuse(RefusalReason.DISASTER_NOT_DECLARED)
    options: ViewerOptions = base["options"]
    return Grant(
        **base,
        member_id=_member_of_visit(db, base["person_id"], None),
        disaster_declaration_id=declaration.id,
        disaster_ends_at=declaration.ends_at,
        include_surgery=base["kind"] is ViewKind.CLINICAL and options.offer_surgery,
    )


def _member_of_visit(db: Session, person_id: int, event_id: int | None) -> int | None:
    """The member record the visit's card check found, while still shown to the person; else
    the person's newest shown member record (None: nothing is shown to them)."""
    shown = shown_member_ids(person_id)
    if event_id is not None:
        member = db.scalar(
            select(VerificationEvent.qualification_id).where(
                VerificationEvent.id == event_id, VerificationEvent.qualification_id.in_(shown)
            )
        )
        if member is not None:
            return int(member)
    newest = db.scalar(
        select(Qualification.id)
        .where(Qualification.id.in_(shown))
        .order_by(Qualification.acquired_on.desc(), Qualification.id.desc())
        .limit(1)
    )
    return None if newest is None else int(newest)


def authorise(
    db: Session,
    clock: Clock,
    *,
    viewer: Viewer,
    person_id: int,
    kind: ViewKind,
    mode: AccessMode = AccessMode.CONSENT,
    reason: str | None = None,
) -> Decision:
    """:func:`decide` at the clock's now; a refusal is logged (``viewer.refused``)."""
    decision = decide(
        db,
        viewer=viewer,
        person_id=person_id,
        kind=kind,
        mode=mode,
        now=clock.now(),
        reason=reason,
    )
    if isinstance(decision, Refusal):
        record_audit(
            db,
            clock,
            actor_kind=ActorKind.STAFF,
            actor_id=viewer.account_id,
            action="viewer.refused",
            object_type=kind.value,
            object_id=person_id,
            person_id=person_id,
            institution_id=viewer.institution_id,
            details={
                "reason": decision.reason.value,
                "mode": mode.value,
                "role": None if viewer.role is None else viewer.role.value,
                **decision.params,
            },
        )
    return decision
