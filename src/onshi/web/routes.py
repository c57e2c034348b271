"""Every route of the web app, grouped by audience. To add a controller, append it to its
audience's list; the router applies the audience (and so the guard) to everything in it.

    CLINIC_HANDLERS: list[ControllerRouterHandler] = [clinic_landing, ReceptionController]

A handler inside an audience may narrow the roles: ``opt={"roles": QUALIFIED_ROLES}``.
"""

from __future__ import annotations

from litestar import Router
from litestar.types import ControllerRouterHandler

from onshi.web.admin.disasters import DISASTER_ADMIN_HANDLERS
from onshi.web.admin.landing import admin_landing
from onshi.web.admin.registration_incidents import registration_incidents
from onshi.web.admin.uptake import UPTAKE_HANDLERS
from onshi.web.api.batch import BATCH_API_HANDLERS
from onshi.web.api.devices import DEVICE_API_HANDLERS
from onshi.web.api.registrations import REGISTRATION_API_HANDLERS
from onshi.web.api.signed import API_DEPENDENCIES, device_request_guard
from onshi.web.api.verifications import VERIFICATION_API_HANDLERS
from onshi.web.auth import sign_in_form, sign_in_submit_handlers, sign_out
from onshi.web.clinic.batch import BATCH_HANDLERS
from onshi.web.clinic.devices import DEVICE_PAGE_HANDLERS
from onshi.web.clinic.disaster import DISASTER_CLINIC_HANDLERS
from onshi.web.clinic.landing import clinic_landing
from onshi.web.clinic.lookup import LOOKUP_HANDLERS
from onshi.web.clinic.reception import RECEPTION_HANDLERS
from onshi.web.clinic.viewer import VIEWER_HANDLERS
from onshi.web.favicon import favicon
from onshi.web.insurer.landing import insurer_landing
from onshi.web.insurer.registration_keys import KEY_HANDLERS
from onshi.web.insurer.registrations import REGISTRATION_HANDLERS
from onshi.web.patient.auth import PATIENT_PUBLIC_HANDLERS
from onshi.web.patient.pages import PATIENT_PAGE_HANDLERS
from onshi.web.public import home, set_lang
from onshi.web.public_uptake import public_uptake
from onshi.web.staff.account import account_handlers
from onshi.web.staff.manage import manage_handlers
from onshi.web.transparency.routes import (
    TRANSPARENCY_PATIENT_HANDLERS,
    TRANSPARENCY_PUBLIC_HANDLERS,
)

PUBLIC_HANDLERS: list[ControllerRouterHandler] = [
    home,
    set_lang,
    sign_in_form,
    *sign_in_submit_handlers,
    sign_out,
    *PATIENT_PUBLIC_HANDLERS,
    favicon,
    public_uptake,
]
PATIENT_HANDLERS: list[ControllerRouterHandler] = [
    *PATIENT_PAGE_HANDLERS,
    *TRANSPARENCY_PATIENT_HANDLERS,
]
CLINIC_HANDLERS: list[ControllerRouterHandler] = [
    clinic_landing,
    *DEVICE_PAGE_HANDLERS,
    *RECEPTION_HANDLERS,
    *LOOKUP_HANDLERS,
    *DISASTER_CLINIC_HANDLERS,
    *BATCH_HANDLERS,
    *VIEWER_HANDLERS,
    *account_handlers("clinic"),
    *manage_handlers("clinic"),
]
INSURER_HANDLERS: list[ControllerRouterHandler] = [
    insurer_landing,
    *REGISTRATION_HANDLERS,
    *KEY_HANDLERS,
    *account_handlers("insurer"),
    *manage_handlers("insurer"),
]
ADMIN_HANDLERS: list[ControllerRouterHandler] = [
    admin_landing,
    registration_incidents,
    *UPTAKE_HANDLERS,
    *DISASTER_ADMIN_HANDLERS,
    *account_handlers("admin"),
    *manage_handlers("admin"),
]
API_HANDLERS: list[ControllerRouterHandler] = [
    *DEVICE_API_HANDLERS,
    *VERIFICATION_API_HANDLERS,
    *BATCH_API_HANDLERS,
    *REGISTRATION_API_HANDLERS,
]

# Paths whose unsafe requests skip the CSRF check (device-signed API). Cookie sessions are
# ignored on them, so a browser session can never be used there.
CSRF_EXEMPT_PREFIXES: tuple[str, ...] = ("/api/",)


def build_routers() -> list[ControllerRouterHandler]:
    routers: list[ControllerRouterHandler] = [
        # Pages are not part of the OpenAPI schema (it documents /api only).
        Router(
            path="/",
            route_handlers=PUBLIC_HANDLERS,
            opt={"audience": "public"},
            include_in_schema=False,
        ),
        # The transparency log: checkpoint, key and proofs for anyone; an entry's bytes are
        # checked per request (administrators, or the entry's own patient).
        Router(
            path="/transparency",
            route_handlers=TRANSPARENCY_PUBLIC_HANDLERS,
            opt={"audience": "public"},
            include_in_schema=False,
        ),
        Router(
            path="/clinic",
            route_handlers=CLINIC_HANDLERS,
            opt={"audience": "clinic"},
            include_in_schema=False,
        ),
        Router(
            path="/insurer",
            route_handlers=INSURER_HANDLERS,
            opt={"audience": "insurer"},
            include_in_schema=False,
        ),
        Router(
            path="/admin",
            route_handlers=ADMIN_HANDLERS,
            opt={"audience": "admin"},
            include_in_schema=False,
        ),
    ]
    if PATIENT_HANDLERS:
        routers.append(
            Router(
                path="/me",
                route_handlers=PATIENT_HANDLERS,
                opt={"audience": "patient"},
                include_in_schema=False,
            )
        )
    if API_HANDLERS:
        # Device-signed requests (web/api/signed.py): the guard verifies every handler unless
        # it is marked opt={"device_auth": "unsigned"}; handlers take `device`, `signed_body`.
        routers.append(
            Router(
                path="/api",
                route_handlers=API_HANDLERS,
                opt={"audience": "api"},
                guards=[device_request_guard],
                dependencies=API_DEPENDENCIES,
            )
        )
    return routers
