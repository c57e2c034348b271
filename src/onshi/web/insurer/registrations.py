"""加入者データ登録 pages of an insurer: upload with live progress and the result file, held
records with corrections and four-eyes approval, the 5-day deadline, double enrolments and the
incident review. Thin: the registration package does the work."""

from __future__ import annotations

from typing import Annotated, Any, BinaryIO, cast
from urllib.parse import quote

from litestar import Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, SkipValidation
from litestar.response import Redirect, Stream, Template
from sqlalchemy.orm import Session

from onshi.accounts.schemas import Principal
from onshi.clock import Clock, today_jst
from onshi.errors import DomainError, NotFoundError
from onshi.qualification import links
from onshi.qualification.models import LinkActor
from onshi.registration import corrections, queries
from onshi.registration.errors import RegistrationFileError
from onshi.registration.jobs import insurer_by_id, result_lines
from onshi.registration.models import JobStatus, RequestAction
from onshi.registration.residents import SimulatedResidentLookup
from onshi.registration.uploads import start_runner, submit_file
from onshi.settings import Settings
from onshi.web.htmx import hx_redirect_headers, is_htmx, page_or_fragment
from onshi.web.rendering import render

MAX_UPLOAD_BYTES = 256 * 2**20
FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
BASE = "/insurer/registrations"


def _insurer_id(principal: Principal) -> int:
    if principal.insurer_id is None:  # excluded by a DB constraint for insurer operators
        raise NotFoundError()
    return principal.insurer_id


def _actor(principal: Principal) -> links.Actor:
    return links.Actor(LinkActor.STAFF, principal.subject_id)


def _overview(db: Session, clock: Clock, principal: Principal) -> dict[str, Any]:
    insurer_id = _insurer_id(principal)
    view = queries.deadline_view(db, insurer_id, today_jst(clock))
    return {
        "jobs": queries.recent_jobs(db, insurer_id),
        "held_count": len(queries.held(db, insurer_id, today_jst(clock))),
        "notified_members": view.notified_members,
        "overdue_count": len(view.overdue),
        "double": queries.double_enrolments(db, insurer_id),
    }


@get("/registrations", name="insurer-registrations", sync_to_thread=True)
def registrations_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    return render(request, "pages/insurer/registrations.html", _overview(db, clock, principal))


@post(
    "/registrations",
    name="insurer-registrations-upload",
    sync_to_thread=True,
    request_max_body_size=MAX_UPLOAD_BYTES,
)
def registrations_upload(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[SkipValidation[Settings]],
    principal: NamedDependency[SkipValidation[Principal]],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template | Redirect:
    upload = data.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise RegistrationFileError("registration.file.missing")
        insurer = insurer_by_id(db, _insurer_id(principal))
        job_id = submit_file(
            db, clock, insurer, cast(BinaryIO, upload.file), filename=upload.filename,
            staff_id=principal.subject_id,
        )  # fmt: skip
    except RegistrationFileError as exc:
        context = _overview(db, clock, principal)
        context.update(error_code=exc.code, error_params=exc.params)
        return render(
            request, "pages/insurer/registrations.html", context, status_code=exc.status_code
        )
    task = BackgroundTask(
        start_runner, request.app.state.engine, clock, job_id,
        my_number_key=settings.my_number_key, actor=_actor(principal),
    )  # fmt: skip
    location = f"{BASE}/{job_id}"
    headers = hx_redirect_headers(location) if is_htmx(request) else {}
    return Redirect(location, status_code=303, headers=headers, background=task)


@get("/registrations/{job_id:int}", name="insurer-registration-job", sync_to_thread=True)
def registration_job(
    request: Request[Any, Any, Any],
    job_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    job = queries.job(db, _insurer_id(principal), job_id)
    finished = job.status in (JobStatus.DONE, JobStatus.FAILED)
    return page_or_fragment(
        request,
        page="pages/insurer/registration_job.html",
        fragment="partials/registration/_progress.html",
        context={"job": job, "finished": finished},
    )


@get(
    "/registrations/{job_id:int}/results.csv",
    name="insurer-registration-results",
    sync_to_thread=True,
)
def registration_results(
    request: Request[Any, Any, Any],
    job_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Stream:
    job = queries.job(db, _insurer_id(principal), job_id)
    name = f"registration_results_{job.id}.csv"
    return Stream(
        result_lines(request.app.state.engine, job.id),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )


def _holds_context(db: Session, clock: Clock, principal: Principal) -> dict[str, Any]:
    insurer_id = _insurer_id(principal)
    return {
        "held": queries.held(db, insurer_id, today_jst(clock)),
        "requests": queries.pending_requests(db, insurer_id),
        "me": principal.subject_id,
        "actions": [action.value for action in RequestAction],
    }


@get("/registrations/holds", name="insurer-registration-holds", sync_to_thread=True)
def holds_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    context = _holds_context(db, clock, principal)
    context["done"] = request.query_params.get("done")
    return render(request, "pages/insurer/registration_holds.html", context)


def _after(request: Request[Any, Any, Any], done: str) -> Redirect:
    location = f"{BASE}/holds?done={done}"
    headers = hx_redirect_headers(location) if is_htmx(request) else {}
    return Redirect(location, status_code=303, headers=headers)


def _refused(
    request: Request[Any, Any, Any],
    db: Session,
    clock: Clock,
    principal: Principal,
    exc: DomainError,
) -> Template:
    db.rollback()
    context = _holds_context(db, clock, principal)
    context.update(error_code=exc.code, error_params=exc.params)
    return render(
        request, "pages/insurer/registration_holds.html", context, status_code=exc.status_code
    )


@post("/registrations/members/{member_id:int}/requests", name="insurer-registration-propose",
      sync_to_thread=True)  # fmt: skip
def propose_change(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    member_id: FromPath[int],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[SkipValidation[Settings]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template | Redirect:
    insurer_id = _insurer_id(principal)
    try:
        action = RequestAction(str(data.get("action", "")))
    except ValueError:
        return _refused(request, db, clock, principal,
                        corrections.CorrectionError("registration.request.action"))  # fmt: skip
    try:
        insurer = insurer_by_id(db, insurer_id)
        corrections.propose(
            db, clock, insurer_id=insurer_id, staff_id=principal.subject_id, member_id=member_id,
            action=action, reason=str(data.get("reason", "")),
            my_number=str(data.get("my_number", "")) or None,
            my_number_key=settings.my_number_key, residents=SimulatedResidentLookup(db),
            fallback_prefecture=insurer.prefecture_code,
        )  # fmt: skip
    except NotFoundError:
        raise
    except DomainError as exc:
        return _refused(request, db, clock, principal, exc)
    return _after(request, "proposed")


@post("/registrations/requests/{request_id:int}/decision", name="insurer-registration-decide",
      sync_to_thread=True)  # fmt: skip
def decide_change(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    request_id: FromPath[int],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template | Redirect:
    approve = str(data.get("decision", "")) == "approve"
    try:
        corrections.decide(
            db, clock, insurer_id=_insurer_id(principal), staff_id=principal.subject_id,
            request_id=request_id, approve=approve, reason=str(data.get("reason", "")),
        )  # fmt: skip
    except NotFoundError:
        raise
    except DomainError as exc:
        return _refused(request, db, clock, principal, exc)
    return _after(request, "approved" if approve else "rejected")


@get("/registrations/deadline", name="insurer-registration-deadline", sync_to_thread=True)
def deadline_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    view = queries.deadline_view(db, _insurer_id(principal), today_jst(clock))
    return render(request, "pages/insurer/registration_deadline.html", {"view": view})


@get("/registrations/incidents", name="insurer-registration-incidents", sync_to_thread=True)
def incidents_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    rows = queries.incident_accesses(db, insurer_id=_insurer_id(principal))
    return render(request, "pages/insurer/registration_incidents.html", {"rows": rows})


REGISTRATION_HANDLERS = [
    registrations_page,
    registrations_upload,
    holds_page,
    deadline_page,
    incidents_page,
    registration_job,
    registration_results,
    propose_change,
    decide_change,
]
