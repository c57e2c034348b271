"""``/clinic/devices``: the institution's card readers. Every clinic staff member sees the list;
institution administrators create pairing codes, switch a reader between 無人運転 and 目視確認,
and unpair it. Each action answers the device fragment to htmx, or redirects back (303) to a
plain form post; the pairing code is shown once in the answer to its creation."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, SkipValidation
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from onshi.accounts.schemas import Principal
from onshi.clock import Clock
from onshi.devices.errors import DeviceAdminRequiredError
from onshi.devices.models import ReaderMode
from onshi.devices.policies import can_manage_devices
from onshi.devices.queries import institution_devices
from onshi.devices.services import (
    PAIRING_MINUTES,
    IssuedPairingCode,
    create_pairing_code,
    revoke_device,
    set_device_mode,
)
from onshi.errors import DomainError, NotFoundError
from onshi.institutions.queries import get_institution
from onshi.web.htmx import add_vary, page_or_fragment, wants_fragment

PAGE = "pages/clinic/devices.html"
FRAGMENT = "partials/devices/_device_panel.html"
FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _institution_id(principal: Principal) -> int:
    if principal.institution_id is None:  # excluded by a DB constraint for clinic roles
        raise NotFoundError()
    return principal.institution_id


def _answer(
    request: Request[Any, Any, Any],
    db: Session,
    principal: Principal,
    *,
    issued: IssuedPairingCode | None = None,
    notice: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    institution_id = _institution_id(principal)
    context: dict[str, Any] = {
        "institution": get_institution(db, institution_id),
        "devices": institution_devices(db, institution_id),
        "can_manage": can_manage_devices(principal),
        "issued": issued,
        "notice": notice,
        "pairing_minutes": PAIRING_MINUTES,
    }
    return page_or_fragment(
        request, page=PAGE, fragment=FRAGMENT, context=context, status_code=status_code
    )


def _after_write(
    request: Request[Any, Any, Any], db: Session, principal: Principal, notice: dict[str, Any]
) -> Template | Redirect:
    if wants_fragment(request):
        return _answer(request, db, principal, notice=notice)
    return Redirect("/clinic/devices", status_code=303, headers=add_vary({}))


@get("/devices", name="clinic-devices", sync_to_thread=True)
def devices_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    return _answer(request, db, principal)


@post("/devices/pairing-codes", name="clinic-devices-pairing-code", sync_to_thread=True)
def new_pairing_code(
    request: Request[Any, Any, Any],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template:
    """Answered with the page or fragment (not a redirect): the code is shown only here."""
    issued = create_pairing_code(db, clock, principal)
    return _answer(request, db, principal, issued=issued, status_code=201)


@post("/devices/{device_id:int}/mode", name="clinic-devices-mode", sync_to_thread=True)
def switch_mode(  # noqa: PLR0917 - Litestar injects dependencies by name
    request: Request[Any, Any, Any],
    device_id: FromPath[int],
    data: FormData,
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template | Redirect:
    if not can_manage_devices(principal):
        raise DeviceAdminRequiredError()
    try:
        mode = ReaderMode(str(data.get("mode", "")))
    except ValueError as exc:
        raise DomainError("device.bad_mode") from exc
    device = set_device_mode(db, clock, principal, device_id, mode)
    return _after_write(
        request,
        db,
        principal,
        {"key": "devices.updated.mode", "label": device.label, "mode": mode.value},
    )


@post("/devices/{device_id:int}/revoke", name="clinic-devices-revoke", sync_to_thread=True)
def unpair(
    request: Request[Any, Any, Any],
    device_id: FromPath[int],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    principal: NamedDependency[SkipValidation[Principal]],
) -> Template | Redirect:
    device = revoke_device(db, clock, principal, device_id)
    return _after_write(
        request, db, principal, {"key": "devices.updated.revoked", "label": device.label}
    )


DEVICE_PAGE_HANDLERS = [devices_page, new_pairing_code, switch_mode, unpair]
