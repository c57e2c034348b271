"""Card verification endpoints of the device API (docs/api/device-protocol.md §Card
verification, docs/api/verification.md): challenges, submissions and their status, card links
and lookups by 記号番号. Every route is device-signed (the /api router's guard).

Failed checks are answers, not exceptions: the services return an ``Outcome`` whose error this
module renders with the catalogue (``{"error": {"code", "message": {"ja", "en"}, "params"}}``)
while the request's transaction still commits, so the spent challenge and the verification
event with its error code are kept. New events are announced to the institution's reception
screens (:mod:`onshi.web.live`) in one place, :func:`_announce`, after the commit.
"""

from __future__ import annotations

import threading
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, RawBody, SkipValidation
from sqlalchemy.orm import Session, sessionmaker

from onshi.clock import Clock
from onshi.db.engine import serialised_writes
from onshi.devices.signing import DevicePrincipal
from onshi.pki import ReloadingTrustStore, TrustStore
from onshi.settings import Settings
from onshi.verification.card_links import link_card
from onshi.verification.challenges import b64u_encode, issue_challenge
from onshi.verification.lean import submit_verification_lean
from onshi.verification.lookup import lookup_by_symbol_number
from onshi.verification.results import jst_instant
from onshi.verification.schemas import parse_person_identity
from onshi.verification.services import Outcome, submission_status
from onshi.web.api.openapi import DEVICE_SECURITY
from onshi.web.api.signed import IN_HANDLER, spend_after_failure, verify_in_handler
from onshi.web.errors import error_response
from onshi.web.i18n import LANGUAGES, Catalogue
from onshi.web.live import announce_pending_check, announce_verification, live_push

TAGS = ["verification"]
TRUST_STATE_KEY = "trust_store"
_TRUST_LOCK = threading.Lock()


def trust_store_of(state: State, settings: Settings, clock: Clock) -> TrustStore | None:
    """The app's TrustStore. App state keeps a :class:`ReloadingTrustStore` made once from
    settings (anchors + CRLs, reloaded when the files change: a re-issued CRL is used without a
    restart), or a fixed :class:`TrustStore` put there by tests and benchmarks. ``None`` when no
    JPKI trust anchor is configured (card checks then answer 503)."""
    if TRUST_STATE_KEY not in state:
        with _TRUST_LOCK:
            if TRUST_STATE_KEY not in state:
                state[TRUST_STATE_KEY] = (
                    ReloadingTrustStore.from_settings(settings, clock)
                    if settings.jpki_trust_anchors
                    else None
                )
    held: ReloadingTrustStore | TrustStore | None = state[TRUST_STATE_KEY]
    return held.current() if isinstance(held, ReloadingTrustStore) else held


def verdict(catalogue: Catalogue, result_code: int) -> dict[str, str]:
    return {
        lang: catalogue.translate(lang, f"verification.verdict.{result_code}") for lang in LANGUAGES
    }


def _answer(request: Request[Any, Any, Any], outcome: Outcome) -> Response[Any]:
    if outcome.error_code is not None:
        return error_response(request, outcome.status_code, outcome.error_code, outcome.params)
    body = dict(outcome.body)
    if isinstance(body.get("result_code"), int):
        body = {"verdict": verdict(request.app.state.catalogue, body["result_code"]), **body}
    return Response(body, status_code=outcome.status_code)


def _announce(db: Session, state: State, outcome: Outcome) -> None:
    """Tell the reception screens (after commit) about a new event or a pending 目視 check."""
    if outcome.replayed or outcome.institution_id is None:
        return
    if outcome.verification_event_id is not None:
        announce_verification(
            db,
            state,
            institution_id=outcome.institution_id,
            verification_event_id=outcome.verification_event_id,
        )
    elif outcome.status_code == 202 and outcome.submission_id is not None:
        announce_pending_check(
            db, state, institution_id=outcome.institution_id, submission_id=outcome.submission_id
        )


@post(
    "/v1/verifications/challenges",
    name="api-verification-challenge",
    sync_to_thread=True,
    security=DEVICE_SECURITY,
    tags=TAGS,
    summary="A single-use card challenge (120 s) bound to this device",
)
def create_challenge(
    device: NamedDependency[SkipValidation[DevicePrincipal]],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
) -> Response[dict[str, str]]:
    issued = issue_challenge(
        db, clock, device_id=device.device_id, institution_id=device.institution_id
    )
    return Response(
        {
            "challenge_id": issued.challenge_id,
            "challenge": b64u_encode(issued.challenge),
            "expires_at": jst_instant(issued.expires_at),
        },
        status_code=201,
    )


@post(
    "/v1/verifications",
    name="api-verification-submit",
    sync_to_thread=True,
    security=DEVICE_SECURITY,
    tags=TAGS,
    opt={"device_auth": IN_HANDLER},
    summary="Submit a card check (PIN signature, face attestation or 目視) and get the result",
)
def submit_verification(
    *,
    request: Request[Any, Any, Any],
    body: RawBody,
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[SkipValidation[Settings]],
) -> Response[Any]:
    """The hot path: the device signature, the nonce and the whole check in one transaction
    (onshi.web.api.signed.IN_HANDLER), through :mod:`onshi.verification.lean`. The handler owns
    its Session (no ``db`` dependency): it commits here, in this worker thread, before the
    answer, instead of a second hop to another thread for the request's clean-up."""
    state = request.app.state
    factory: sessionmaker[Session] = state.session_factory
    with serialised_writes(state.engine), factory() as db:
        signed = verify_in_handler(request, db, body)
        device = signed.device
        try:
            outcome = submit_verification_lean(
                db,
                clock,
                trust_store_of(state, settings, clock),
                settings.consent,
                device_id=device.device_id,
                institution_id=device.institution_id,
                device_mode=device.mode,
                body=signed.body if signed.body is not None else {},
                live=live_push(state, device.institution_id),
            )
            if not outcome.announced:
                _announce(db, state, outcome)
            db.commit()
        except BaseException:
            db.rollback()
            spend_after_failure(request, body)
            raise
    return _answer(request, outcome)


@get(
    "/v1/verifications/{verification_id:str}",
    name="api-verification-status",
    sync_to_thread=True,
    security=DEVICE_SECURITY,
    tags=TAGS,
    summary="Status of a submission (poll a 目視 check until done or rejected)",
)
def verification_status(
    request: Request[Any, Any, Any],
    verification_id: FromPath[str],
    device: NamedDependency[SkipValidation[DevicePrincipal]],
    db: NamedDependency[SkipValidation[Session]],
) -> Response[Any]:
    outcome = submission_status(db, device_id=device.device_id, verification_id=verification_id)
    return _answer(request, outcome)


@post(
    "/v1/card-links",
    name="api-card-link",
    sync_to_thread=True,
    security=DEVICE_SECURITY,
    tags=TAGS,
    summary="健康保険証利用登録: link the card's certificate to the holder J-LIS names",
    description=(
        "Signed body {challenge_id, certificate, signature}: the card's user-authentication "
        "certificate and its PIN signature over a fresh challenge, nothing typed. The portal "
        "asks J-LIS who holds the certificate and links it to that person; a 'person' object "
        "(typed 保険者番号/記号番号/生年月日) is refused with card_link.typed_identity. Errors: "
        "challenge and certificate codes, card_link.holder_unknown, card_link.holder_incomplete, "
        "card_link.already_linked. See docs/identity.md."
    ),
)
def create_card_link(
    *,
    request: Request[Any, Any, Any],
    device: NamedDependency[SkipValidation[DevicePrincipal]],
    signed_body: NamedDependency[SkipValidation[dict[str, Any]]],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[SkipValidation[Settings]],
) -> Response[Any]:
    outcome = link_card(
        db,
        clock,
        trust_store_of(request.app.state, settings, clock),
        device_id=device.device_id,
        institution_id=device.institution_id,
        body=signed_body,
    )
    return _answer(request, outcome)


@post(
    "/v1/qualifications/lookup",
    name="api-qualification-lookup",
    sync_to_thread=True,
    security=DEVICE_SECURITY,
    tags=TAGS,
    summary="照会 by 保険者番号 + 記号 + 番号 (+ 枝番) + 生年月日",
)
def qualification_lookup(
    *,
    request: Request[Any, Any, Any],
    device: NamedDependency[SkipValidation[DevicePrincipal]],
    signed_body: NamedDependency[SkipValidation[dict[str, Any]]],
    db: NamedDependency[SkipValidation[Session]],
    clock: NamedDependency[SkipValidation[Clock]],
    settings: NamedDependency[SkipValidation[Settings]],
) -> Response[Any]:
    outcome = lookup_by_symbol_number(
        db,
        clock,
        settings.consent,
        institution_id=device.institution_id,
        identity=parse_person_identity(signed_body, "body"),
        patient_number=signed_body.get("institution_patient_number"),
        device_id=device.device_id,
    )
    announce_verification(
        db,
        request.app.state,
        institution_id=device.institution_id,
        verification_event_id=outcome.verification_event_id,
    )
    body: dict[str, Any] = {
        "verdict": verdict(request.app.state.catalogue, outcome.payload["result_code"])
    }
    body.update(outcome.payload)
    body["patient_number_ignored"] = outcome.patient_number_ignored
    return Response(body, status_code=200)


VERIFICATION_API_HANDLERS = [
    create_challenge,
    submit_verification,
    verification_status,
    create_card_link,
    qualification_lookup,
]
