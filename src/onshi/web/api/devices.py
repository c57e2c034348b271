"""Device endpoints of the API: pairing (unsigned) and the device's own status (signed)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, SkipValidation
from sqlalchemy.orm import Session

from onshi.accounts.services import SignInLimits
from onshi.clock import Clock
from onshi.devices.errors import PairingError, PairingRateLimitedError
from onshi.devices.queries import device_view
from onshi.devices.schemas import (
    ConsentRulesOut,
    DeviceMe,
    ErrorBody,
    InstitutionRef,
    PairRequest,
    PairResponse,
    ViewerOffersOut,
    ViewerSettingsOut,
)
from onshi.devices.services import pair_device
from onshi.devices.signing import DevicePrincipal
from onshi.settings import Settings
from onshi.viewer.options import viewer_options
from onshi.web.api.openapi import DEVICE_SECURITY
from onshi.web.api.signed import UNSIGNED
from onshi.web.errors import error_response

TAGS = ["devices"]
DEVICE_ERRORS = {
    400: ResponseSpec(ErrorBody, description="device.signature_malformed"),
    401: ResponseSpec(
        ErrorBody,
        description=(
            "device.unknown, device.revoked, device.bad_signature, device.request_mismatch, "
            "device.clock_skew, device.replayed"
        ),
    ),
}


@post(
    "/v1/devices/pair",
    name="api-devices-pair",
    sync_to_thread=True,
    status_code=201,
    opt={"device_auth": UNSIGNED},
    tags=TAGS,
    summary="Pair a reader with a pairing code (unsigned)",
    responses={
        400: ResponseSpec(
            ErrorBody, description="pairing.invalid_code, pairing.bad_key, pairing.bad_label"
        ),
        429: ResponseSpec(ErrorBody, description="pairing.rate_limited (Retry-After)"),
    },
)
def pair(
    request: Request[Any, Any, Any],
    data: JSONBody[PairRequest],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    sign_in_limits: NamedDependency[SkipValidation[SignInLimits]],
) -> Response[PairResponse]:
    """The failure is answered, not raised, so the attempt row (rate limit) is committed."""
    client_ip = request.client.host if request.client else "unknown"
    try:
        paired = pair_device(
            db,
            clock,
            sign_in_limits,
            code=data.code,
            public_key=data.public_key,
            label=data.label,
            client_ip=client_ip,
        )
    except PairingRateLimitedError as locked:
        return error_response(
            request,
            locked.status_code,
            locked.code,
            locked.params,
            headers={"Retry-After": str(locked.retry_after_seconds)},
        )
    except PairingError as failed:
        return error_response(request, failed.status_code, failed.code, failed.params)
    return Response(
        PairResponse(
            device_id=paired.device_id,
            institution=InstitutionRef(code=paired.institution_code, name=paired.institution_name),
        ),
        status_code=201,
    )


@get(
    "/v1/devices/me",
    name="api-devices-me",
    sync_to_thread=True,
    security=DEVICE_SECURITY,
    tags=TAGS,
    summary="The signing device: label, mode, consent rules and the viewer settings",
    responses=DEVICE_ERRORS,
)
def device_me(
    device: NamedDependency[SkipValidation[DevicePrincipal]],
    db: NamedDependency[SkipValidation[Session]],
    settings: NamedDependency[SkipValidation[Settings]],
) -> DeviceMe:
    view = device_view(db, device.device_id)
    rules = settings.consent
    options = viewer_options(db, device.institution_id)
    return DeviceMe(
        device_id=view.device_id,
        label=view.label,
        mode=view.mode.value,
        institution=InstitutionRef(code=view.institution_code, name=view.institution_name),
        consent_rules=ConsentRulesOut(
            comprehensive_consent=rules.comprehensive_consent,
            limit_consent_step=rules.limit_consent_step,
            consent_hours=rules.consent_hours,
        ),
        viewer=ViewerSettingsOut(
            offers=ViewerOffersOut(
                drug=options.offer_drug,
                health_check=options.offer_health_check,
                clinical=options.offer_clinical,
                surgery=options.offer_surgery,
            ),
            drug_history_years=options.drug_history_years,
            pharmacy_health_check=options.pharmacy_health_check,
        ),
    )


DEVICE_API_HANDLERS = [pair, device_me]
