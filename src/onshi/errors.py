"""Base of every domain error.

A domain error carries a stable ``code`` and the parameters of its message; the web layer turns
the code into Japanese or English text through the message catalogue (``error.<code>``), so the
domain never holds user-facing wording.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An expected, user-caused failure: shown to the user, never logged as a crash."""

    code: str = "domain_error"
    status_code: int = 400

    def __init__(self, code: str | None = None, /, **params: Any) -> None:
        if code is not None:
            self.code = code
        self.params = params
        super().__init__(f"{self.code} {params}" if params else self.code)


class NotFoundError(DomainError):
    """The object does not exist, or belongs to somebody else (never say which)."""

    code = "not_found"
    status_code = 404


class PermissionDeniedError(DomainError):
    code = "permission_denied"
    status_code = 403
