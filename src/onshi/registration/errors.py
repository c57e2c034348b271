"""Errors of the registration intake. A file that cannot be processed at all (unreadable,
wrong encoding, wrong header, unknown insurer) raises :class:`RegistrationFileError` and changes
nothing; problems of single rows are not exceptions but per-row results."""

from __future__ import annotations

from onshi.errors import DomainError


class RegistrationFileError(DomainError):
    """``code`` is ``registration.file.<rule>``; the message lives in ``messages.toml``."""

    code = "registration.file.unreadable"
    status_code = 422
