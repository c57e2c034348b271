"""The registration API for insurer systems (docs/api/registration.md).

``POST /api/v1/registrations`` — body: a compact JWS (``application/jose``) signed with a key
registered by an insurer administrator, whose ``body`` is ``{"rows": [{column: string}, …]}``
(the intake file's columns, at most :data:`MAX_API_ROWS` rows). Processed at once; the answer
lists every row's ``line, outcome, reason_code, message``.

``GET /api/v1/registrations/{job_id}`` — signed in the ``Onshi-Device-Signature`` header: the
job's counts and results (that insurer's jobs only; another insurer's is 404).

The device guard of ``/api`` does not apply (these keys are not devices): each handler verifies
the insurer system's signature itself, in the request's transaction.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, SkipValidation
from litestar.response import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from onshi.clock import Clock
from onshi.devices.signing import JOSE_MEDIA_TYPE, SIGNATURE_HEADER, malformed_error
from onshi.errors import NotFoundError
from onshi.qualification import links
from onshi.qualification.models import LinkActor
from onshi.registration import queries
from onshi.registration.api_keys import InsurerSystem, verify_insurer_request
from onshi.registration.jobs import MAX_API_ROWS, import_rows, insurer_by_id, summary
from onshi.registration.models import RegistrationResult
from onshi.settings import Settings
from onshi.web.api.signed import UNSIGNED, ApiBodyError

_OPT = {"device_auth": UNSIGNED}


async def _token(request: Request[Any, Any, Any]) -> bytes | str:
    if request.method.upper() == "POST":
        if request.content_type[0] != JOSE_MEDIA_TYPE:
            raise malformed_error("content_type")
        return await request.body()
    header = request.headers.get(SIGNATURE_HEADER)
    if header is None:
        raise malformed_error("missing")
    return header


def _verify(db: Session, clock: Clock, token: bytes | str, method: str, path: str) -> InsurerSystem:
    return verify_insurer_request(db, clock, token, method=method, path=path)


@post("/v1/registrations", name="api-registrations-submit", opt=_OPT, status_code=200)
async def submit_registrations(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[SkipValidation[Settings]],
) -> Response[dict[str, Any]]:
    import anyio.to_thread

    token = await _token(request)
    path = request.scope["path"]

    def work() -> dict[str, Any]:
        system = _verify(db, clock, token, "POST", path)
        body = system.body or {}
        rows = body.get("rows")
        if not isinstance(rows, list) or set(body) - {"rows"}:
            raise ApiBodyError(detail='body must be {"rows": [...]}')
        insurer = insurer_by_id(db, system.insurer_id)
        job_id, results = import_rows(
            db, clock, insurer, rows, my_number_key=settings.my_number_key,
            actor=links.Actor(LinkActor.INSURER_SYSTEM, system.key_id), key_id=system.key_id,
        )  # fmt: skip
        counts = summary(db, job_id).counts
        return {
            "job_id": job_id,
            "counts": counts,
            "max_rows": MAX_API_ROWS,
            "results": [
                {"line": r.line, "outcome": r.outcome.value, "reason_code": r.reason_code,
                 "message": r.message}
                for r in results
            ],
        }  # fmt: skip

    return Response(await anyio.to_thread.run_sync(work))


@get("/v1/registrations/{job_id:int}", name="api-registrations-job", opt=_OPT)
async def registration_job(
    request: Request[Any, Any, Any],
    job_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
) -> Response[dict[str, Any]]:
    import anyio.to_thread

    token = await _token(request)
    path = request.scope["path"]

    def work() -> dict[str, Any]:
        system = _verify(db, clock, token, "GET", path)
        try:
            job = queries.job(db, system.insurer_id, job_id)
        except NotFoundError:
            raise
        counts = summary(db, job.id).counts
        results = db.execute(
            select(
                RegistrationResult.line,
                RegistrationResult.outcome,
                RegistrationResult.reason_code,
                RegistrationResult.message,
            )
            .where(RegistrationResult.job_id == job.id)
            .order_by(RegistrationResult.line)
            .limit(MAX_API_ROWS)
        ).all()
        return {
            "job_id": job.id,
            "status": job.status.value,
            "total_rows": job.total_rows,
            "processed_rows": job.processed_rows,
            "counts": counts,
            "results": [
                {"line": r.line, "outcome": str(r.outcome), "reason_code": r.reason_code,
                 "message": r.message}
                for r in results
            ],
        }  # fmt: skip

    return Response(await anyio.to_thread.run_sync(work))


REGISTRATION_API_HANDLERS = [submit_registrations, registration_job]
