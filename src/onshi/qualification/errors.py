"""Error codes of member links. Text for each code: ``messages.toml`` (ja, en)."""

from __future__ import annotations

from typing import Final

from onshi.errors import DomainError

NO_LINK: Final = "member_link.no_link"
ALREADY_UNDONE: Final = "member_link.undone"
REASON_REQUIRED: Final = "member_link.reason_required"
NOT_WITHHELD: Final = "member_link.not_withheld"
BAD_STATUS: Final = "member_link.bad_status"
UNKNOWN_MEMBER: Final = "member_link.unknown_member"

ERROR_CODES: Final = frozenset(
    {NO_LINK, ALREADY_UNDONE, REASON_REQUIRED, NOT_WITHHELD, BAD_STATUS, UNKNOWN_MEMBER}
)


class LinkError(DomainError):
    """A link change that the member record's current link does not allow; nothing changed."""

    status_code = 409
