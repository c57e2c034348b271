"""A small wrapper around py_webauthn (after Warehouse's ``utils/webauthn.py``).

Everything the rest of Onshi needs from WebAuthn goes through here, and every failure of the
library (malformed JSON, wrong challenge, wrong origin, bad signature …) comes out as one of the
local exceptions below, which are domain errors with stable codes. The library's own message is
kept in ``reason`` for the audit trail; users see the catalogue text for the code.

Policy (patients sign in with a passkey only, so the passkey must be a real second factor):
discoverable credentials (resident key required), user verification required, ES256 or RS256.
Challenges are 32 random bytes; storing them (single use, short lived) is the caller's job.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from onshi.errors import DomainError
from onshi.settings import canonical_public_origin

SUPPORTED_ALGORITHMS: tuple[COSEAlgorithmIdentifier, ...] = (
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
)
CHALLENGE_BYTES = 32
CEREMONY_TIMEOUT_MS = 300_000
# The browser's JSON of a credential is a few kilobytes at most; refuse anything far larger
# before parsing it.
MAX_CREDENTIAL_JSON_BYTES = 64 * 1024
RP_NAME = "Onshi マイナポータル"


class PasskeyError(DomainError):
    """A WebAuthn ceremony failed. ``reason`` is the technical cause, for the audit log only."""

    code = "passkey.failed"

    def __init__(self, reason: str = "", /) -> None:
        super().__init__()
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}" if self.reason else self.code


class PasskeyConfigurationError(ValueError):
    """The public origin cannot serve as a WebAuthn relying party (a programming or deployment
    error, not a user error)."""


class RegistrationRejectedError(PasskeyError):
    code = "passkey.registration_rejected"


class AuthenticationRejectedError(PasskeyError):
    code = "passkey.authentication_rejected"


class WrongOriginError(PasskeyError):
    """The browser ran the ceremony on another origin than the app's public origin (e.g. the
    page was opened on ``127.0.0.1`` while passkeys belong to ``localhost``). The message names
    the origin to use."""

    code = "passkey.wrong_origin"

    def __init__(self, expected: str, got: str) -> None:
        super().__init__(f"origin {got[:100]!r}, expected {expected!r}")
        self.params = {"origin": expected}


class CloneDetectedError(AuthenticationRejectedError):
    """The authenticator's signature counter went backwards: two authenticators share the key."""

    code = "passkey.clone_detected"


@dataclass(frozen=True)
class RelyingParty:
    """Who we are to the authenticator: the RP id (a domain), its name and the exact origin the
    browser must report."""

    id: str
    name: str
    origin: str

    @classmethod
    def from_origin(cls, public_origin: str, name: str = RP_NAME) -> RelyingParty:
        parts = urlsplit(public_origin)
        host = parts.hostname
        if parts.scheme not in {"http", "https"} or not host:
            raise PasskeyConfigurationError(f"public origin {public_origin!r} is not a URL")
        if _is_ip_address(host):
            # Browsers refuse an IP address as an RP id ("invalid domain").
            raise PasskeyConfigurationError(
                f"passkeys need a domain name, not an IP address, in the public origin "
                f"({public_origin!r}); use e.g. http://localhost:{parts.port or 80}"
            )
        if parts.scheme == "http" and host != "localhost" and not host.endswith(".localhost"):
            raise PasskeyConfigurationError("passkeys need https except on localhost")
        origin = f"{parts.scheme}://{host}"
        if parts.port is not None:
            origin += f":{parts.port}"
        return cls(id=host, name=name, origin=origin)


def passkey_origin(public_origin: str, environment: str) -> str:
    """The origin passkeys use: the app's one public origin (``Settings`` already holds it in
    this form; a loopback IP outside production is named ``localhost``, see
    :func:`onshi.settings.canonical_public_origin`)."""
    return canonical_public_origin(public_origin, environment)


def relying_party(public_origin: str, environment: str) -> RelyingParty:
    return RelyingParty.from_origin(passkey_origin(public_origin, environment))


@dataclass(frozen=True)
class NewPasskey:
    """A verified registration, ready to be stored."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    transports: tuple[str, ...]
    backed_up: bool
    multi_device: bool


@dataclass(frozen=True)
class Assertion:
    """The parts of an authentication response needed to find the stored credential before the
    signature is checked. Nothing here is trusted yet."""

    credential_id: bytes
    user_handle: bytes | None
    credential: AuthenticationCredential


@dataclass(frozen=True)
class VerifiedUse:
    credential_id: bytes
    new_sign_count: int
    backed_up: bool


def new_challenge() -> bytes:
    return secrets.token_bytes(CHALLENGE_BYTES)


def challenge_digest(challenge: bytes) -> str:
    """How a challenge is stored and looked up (a leaked table gives no usable challenge)."""
    return hashlib.sha256(challenge).hexdigest()


def user_handle_for(secret_key: str, person_id: int) -> bytes:
    """The WebAuthn ``user.id`` of a person: opaque (no personal data, as the spec asks), stable,
    and derivable without a stored column."""
    return hmac.new(
        secret_key.encode(), f"onshi-patient-user-handle:{person_id}".encode(), hashlib.sha256
    ).digest()


def registration_options(
    rp: RelyingParty,
    *,
    challenge: bytes,
    user_handle: bytes,
    user_name: str,
    display_name: str,
    exclude_credential_ids: Sequence[bytes] = (),
) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptions`` as JSON-ready data for ``navigator.credentials
    .create`` (bytes as base64url)."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=user_name,
        user_display_name=display_name,
        challenge=challenge,
        timeout=CEREMONY_TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=credential_id)
            for credential_id in exclude_credential_ids
        ],
        supported_pub_key_algs=list(SUPPORTED_ALGORITHMS),
    )
    return options_to_json_dict(options)


def verify_registration(
    rp: RelyingParty, *, credential: str | Mapping[str, Any], expected_challenge: bytes
) -> NewPasskey:
    """Check a ``navigator.credentials.create`` response. Raises
    :class:`RegistrationRejectedError` for anything wrong with it."""
    _check_origin(rp, credential)
    try:
        parsed = _parse_registration(credential)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=expected_challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_presence=True,
            require_user_verification=True,
            supported_pub_key_algs=list(SUPPORTED_ALGORITHMS),
        )
    except RegistrationRejectedError:
        raise
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise RegistrationRejectedError(str(exc) or type(exc).__name__) from exc
    transports = tuple(t.value for t in parsed.response.transports or ())
    return NewPasskey(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        transports=transports,
        backed_up=verified.credential_backed_up,
        multi_device=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
    )


def authentication_options(
    rp: RelyingParty, *, challenge: bytes, allow_credential_ids: Sequence[bytes] = ()
) -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptions``. Without ``allow_credential_ids`` (patients:
    discoverable credentials) the authenticator offers its passkey for this site; a staff second
    factor names the account's own credentials."""
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=CEREMONY_TIMEOUT_MS,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=credential_id)
            for credential_id in allow_credential_ids
        ],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json_dict(options)


def parse_assertion(credential: str | Mapping[str, Any]) -> Assertion:
    """Read the credential id (and user handle) out of a ``navigator.credentials.get``
    response so the stored credential can be found. Raises
    :class:`AuthenticationRejectedError` when the response is malformed."""
    try:
        text = _as_json_text(credential)
        parsed = parse_authentication_credential_json(text)
    except AuthenticationRejectedError:
        raise
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise AuthenticationRejectedError(str(exc) or type(exc).__name__) from exc
    return Assertion(
        credential_id=parsed.raw_id,
        user_handle=parsed.response.user_handle or None,
        credential=parsed,
    )


def verify_authentication(
    rp: RelyingParty,
    *,
    assertion: Assertion,
    expected_challenge: bytes,
    public_key: bytes,
    current_sign_count: int,
) -> VerifiedUse:
    """Check the signature, challenge, origin, RP id, user presence and verification.

    Sign counter: authenticators that do not count always report 0 (allowed). Otherwise the new
    count must be greater than the stored one; a count that did not grow means the key exists
    twice, so :class:`CloneDetectedError` is raised — but only after the signature has been
    verified, so that a forged response cannot lock a patient out."""
    _check_origin(rp, assertion.credential.response.client_data_json)
    try:
        verified = verify_authentication_response(
            credential=assertion.credential,
            expected_challenge=expected_challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=public_key,
            # The counter is checked below, after the signature.
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise AuthenticationRejectedError(str(exc) or type(exc).__name__) from exc
    new_count = verified.new_sign_count
    if (new_count > 0 or current_sign_count > 0) and new_count <= current_sign_count:
        raise CloneDetectedError(
            f"sign count {new_count} is not greater than the stored {current_sign_count}"
        )
    return VerifiedUse(
        credential_id=verified.credential_id,
        new_sign_count=new_count,
        backed_up=verified.credential_backed_up,
    )


def claimed_challenge(credential: str | Mapping[str, Any], *, registration: bool) -> bytes:
    """The challenge the browser says it signed (from ``clientDataJSON``), used only to find the
    stored challenge; verification then compares it with that stored value."""
    error = RegistrationRejectedError if registration else AuthenticationRejectedError
    try:
        data = json.loads(_as_json_text(credential))
        client_data = parse_client_data_json(base64url_to_bytes(data["response"]["clientDataJSON"]))
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise error(f"clientDataJSON unreadable: {exc}") from exc
    return client_data.challenge


def _claimed_origin(client_data_json: bytes) -> str | None:
    try:
        return str(parse_client_data_json(client_data_json).origin)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return None  # malformed: the library's own verification says so


def _check_origin(rp: RelyingParty, credential: str | Mapping[str, Any] | bytes) -> None:
    """Raise :class:`WrongOriginError` when the browser signed for another origin."""
    if isinstance(credential, bytes):
        claimed = _claimed_origin(credential)
    else:
        try:
            data = json.loads(_as_json_text(credential))
            claimed = _claimed_origin(base64url_to_bytes(data["response"]["clientDataJSON"]))
        except (ValueError, KeyError, TypeError):
            return
    if claimed is not None and claimed != rp.origin:
        raise WrongOriginError(rp.origin, claimed)


def reported_sign_count(assertion: Assertion) -> int:
    """The (unverified) counter in an assertion, for audit details."""
    try:
        return parse_authenticator_data(assertion.credential.response.authenticator_data).sign_count
    except (WebAuthnException, ValueError):
        return -1


def _parse_registration(credential: str | Mapping[str, Any]) -> RegistrationCredential:
    return parse_registration_credential_json(_as_json_text(credential))


def _as_json_text(credential: str | Mapping[str, Any]) -> str:
    text = credential if isinstance(credential, str) else json.dumps(dict(credential))
    if len(text) > MAX_CREDENTIAL_JSON_BYTES:
        raise ValueError("credential JSON is too large")
    return text


def _is_ip_address(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
