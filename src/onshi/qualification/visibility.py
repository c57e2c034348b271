"""THE rule for "shown" (docs/identity-chain.md "The shown rule"), in one place.

A member record, and every record that belongs to it (qualification details, drugs, clinical,
expense and health-check records), is shown to a person only when the member's link to that
person exists, is current (``ended_at IS NULL``) and is ``linked`` or ``linked_confirm``. A held
or disputed link is shown nowhere (the portal only says 確認中 for it); an undone link, or no
link at all, shows nothing. Every read path — card check, 記号番号 lookup, 一括照会, the portal,
the insurer's and the operator's counts — builds its query with these functions.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Final, TypeVarTuple

from sqlalchemy import ColumnElement, Select, and_, select

from onshi.qualification.models import LinkStatus, MemberLink

_Ts = TypeVarTuple("_Ts")

SHOWN_STATUSES: Final = (LinkStatus.LINKED, LinkStatus.LINKED_CONFIRM)
WITHHELD_STATUSES: Final = (LinkStatus.HELD, LinkStatus.DISPUTED)


def is_shown(status: LinkStatus | None) -> bool:
    """Python twin of :func:`shown_link` for a *current* link's status (None: no link)."""
    return status in SHOWN_STATUSES


def shown_link(link: Any = MemberLink) -> ColumnElement[bool]:
    """``link`` (the model or an alias) is current and shown."""
    return and_(link.ended_at.is_(None), link.status.in_(SHOWN_STATUSES))


def withheld_link(link: Any = MemberLink) -> ColumnElement[bool]:
    """``link`` is current but held or disputed (shown nowhere; 確認中 on the portal)."""
    return and_(link.ended_at.is_(None), link.status.in_(WITHHELD_STATUSES))


def join_shown(query: Select[*_Ts], member_id: Any, link: Any = MemberLink) -> Select[*_Ts]:
    """``query`` joined to the shown link of the member whose id is ``member_id``: rows of a
    member without one drop out. ``link.person_id`` is then the person the row belongs to."""
    return query.join(link, and_(link.qualification_id == member_id, shown_link(link)))


def shown_member_ids(person_id: int | Collection[int] | Any) -> Select[int]:
    """The ids of the member records shown to ``person_id`` (an id, ids, or a column)."""
    query = select(MemberLink.qualification_id).where(shown_link())
    if isinstance(person_id, list | tuple | set | frozenset):
        return query.where(MemberLink.person_id.in_(sorted(person_id)))
    return query.where(MemberLink.person_id == person_id)


def withheld_member_ids(person_id: int) -> Select[int]:
    """The ids of the person's member records whose link is held or disputed."""
    return select(MemberLink.qualification_id).where(
        MemberLink.person_id == person_id, withheld_link()
    )
