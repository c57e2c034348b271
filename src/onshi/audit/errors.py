"""Errors of the audit domain."""

from __future__ import annotations

from onshi.errors import DomainError


class AuditChainUnavailableError(DomainError):
    """The chain head row is missing: the database was not created by the migrations (or by
    ``Base.metadata.create_all``, which inserts it too). Nothing can be audited, so nothing may be
    written."""

    code = "audit.chain_unavailable"
    status_code = 503
