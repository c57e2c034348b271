"""``/transparency/…`` (public: checkpoint, key, proofs; entries for administrators and the
entry's own patient only) and ``/me/access-log/{id}/receipt`` (the patient's receipt).

Who sees what
    The checkpoint, the log key and the proofs hold hashes only, so they are public: anyone can
    watch the log grow append-only. An entry's bytes name (opaque) ids of a person, institution
    and staff member, and audit details may hold more, so ``/transparency/entries/{index}`` is
    shown only to an administrator, or to the patient the entry is about (an access-log entry of
    their own); anybody else gets 404, as for any object of another person.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.accounts.models import StaffRole
from onshi.accounts.schemas import Principal
from onshi.audit.integrator import ACCESS, entry_bytes
from onshi.audit.keys import LogIdentity
from onshi.audit.models import EntryKind
from onshi.audit.proofs import (
    access_receipt,
    b64,
    checkpoint_note,
    consistency_proof,
    entry_at,
    inclusion_proof,
    latest_checkpoint,
    signed_size,
)
from onshi.errors import NotFoundError
from onshi.web.i18n import LANGUAGES, Catalogue
from onshi.web.state import request_principal

_NO_STORE = {"Cache-Control": "no-store"}


def _identity(request: Request[Any, Any, Any]) -> LogIdentity:
    identity: LogIdentity = request.app.state["tlog_identity"]
    return identity


def _error(request: Request[Any, Any, Any], status: int, code: str, **params: Any) -> Response[Any]:
    catalogue: Catalogue = request.app.state["catalogue"]
    texts = {lang: catalogue.translate(lang, code, **params) for lang in LANGUAGES}
    return Response(
        {"error": {"code": code, "message": texts, "params": params}},
        status_code=status,
        media_type=MediaType.JSON,
        headers=_NO_STORE,
    )


def _number(raw: str | None) -> int | None:
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    return int(raw)


@get("/checkpoint", name="tlog-checkpoint", sync_to_thread=True)
def checkpoint(request: Request[Any, Any, Any], db: NamedDependency[Session]) -> Response[Any]:
    """The latest signed checkpoint (C2SP signed note), or one of a given ``size``."""
    raw = request.query_params.get("size")
    if raw is not None:
        size = _number(raw)
        if size is None:
            return _error(request, 400, "tlog.bad_number", name="size")
        note = checkpoint_note(db.connection(), size)
    else:
        note = latest_checkpoint(db.connection())
    if note is None:
        return _error(request, 404, "tlog.no_checkpoint")
    return Response(note, media_type="text/plain; charset=utf-8", headers=_NO_STORE)


@get("/key", name="tlog-key", sync_to_thread=False)
def key(request: Request[Any, Any, Any]) -> Response[str]:
    """The log's verifier key (signed-note format) and origin."""
    identity = _identity(request)
    return Response(
        f"{identity.verifier.encode()}\n",
        media_type="text/plain; charset=utf-8",
        headers={"X-Log-Origin": identity.origin},
    )


def _proof_response(hashes: list[bytes], **fields: int) -> Response[Any]:
    return Response({**fields, "hashes": [b64(h) for h in hashes]}, headers=_NO_STORE)


@get("/proof/inclusion", name="tlog-inclusion", sync_to_thread=True)
def inclusion(request: Request[Any, Any, Any], db: NamedDependency[Session]) -> Response[Any]:
    index = _number(request.query_params.get("index"))
    size = _number(request.query_params.get("size"))
    if index is None:
        return _error(request, 400, "tlog.bad_number", name="index")
    if size is None:
        return _error(request, 400, "tlog.bad_number", name="size")
    connection = db.connection()
    if not index < size <= signed_size(connection):
        return _error(
            request, 400, "tlog.proof_unavailable", detail="0 <= index < size <= signed size"
        )
    return _proof_response(inclusion_proof(connection, index, size), index=index, size=size)


@get("/proof/consistency", name="tlog-consistency", sync_to_thread=True)
def consistency(request: Request[Any, Any, Any], db: NamedDependency[Session]) -> Response[Any]:
    first = _number(request.query_params.get("first"))
    second = _number(request.query_params.get("second"))
    if first is None:
        return _error(request, 400, "tlog.bad_number", name="first")
    if second is None:
        return _error(request, 400, "tlog.bad_number", name="second")
    connection = db.connection()
    if not 0 < first <= second <= signed_size(connection):
        return _error(
            request, 400, "tlog.proof_unavailable", detail="0 < first <= second <= signed size"
        )
    return _proof_response(consistency_proof(connection, first, second), first=first, second=second)


@get("/entries/{index:int}", name="tlog-entry", sync_to_thread=True)
def entry(
    request: Request[Any, Any, Any], db: NamedDependency[Session], index: FromPath[int]
) -> Response[Any]:
    """The entry's canonical bytes (``application/json``): administrators, or the patient an
    access entry is about."""
    principal = request_principal(request)
    if principal is None:
        raise NotAuthorizedException()
    found = entry_at(db.connection(), index) if index >= 0 else None
    if found is None:
        raise NotFoundError("tlog.entry_not_found")
    kind, row = found
    administrator = principal.is_staff and principal.role is StaffRole.ADMINISTRATOR
    own = (
        principal.is_patient
        and kind is EntryKind.ACCESS
        and principal.person_id is not None
        and row.person_id == principal.person_id
    )
    if not (administrator or own):
        raise NotFoundError("tlog.entry_not_found")
    return Response(
        entry_bytes(kind, row),
        media_type=MediaType.JSON,
        headers={**_NO_STORE, "X-Leaf-Index": str(index)},
    )


@get("/access-log/{access_id:int}/receipt", name="patient-access-receipt", sync_to_thread=True)
def access_receipt_download(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    principal: NamedDependency[Principal],
    access_id: FromPath[int],
) -> Response[Any]:
    """The receipt of one of the patient's own access-log rows (JSON download)."""
    connection = db.connection()
    owner = connection.execute(select(ACCESS.c.person_id).where(ACCESS.c.id == access_id)).scalar()
    if owner is None or owner != principal.person_id:
        raise NotFoundError
    receipt = access_receipt(connection, access_id, _identity(request).verifier)
    if receipt is None:
        return _error(request, 409, "tlog.receipt_pending")
    return Response(
        json.dumps(receipt, ensure_ascii=False, indent=2) + "\n",
        media_type=MediaType.JSON,
        headers={
            **_NO_STORE,
            "Content-Disposition": f'attachment; filename="onshi-access-receipt-{access_id}.json"',
        },
    )


TRANSPARENCY_PUBLIC_HANDLERS = [checkpoint, key, inclusion, consistency, entry]
TRANSPARENCY_PATIENT_HANDLERS = [access_receipt_download]
