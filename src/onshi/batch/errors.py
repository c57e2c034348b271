"""Errors of 一括照会. File-level errors reject an upload (nothing is created); row-level
problems are not exceptions but :class:`onshi.batch.rows.RowError` values stored per line."""

from __future__ import annotations

from onshi.errors import DomainError


class BatchFileError(DomainError):
    """The upload cannot be read at all (encoding, header, empty, too big): rejected, nothing
    created. ``code`` is ``batch.file.<rule>``; the message lives in ``messages.toml``."""

    code = "batch.file.unreadable"
    status_code = 422
