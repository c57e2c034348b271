"""Client of the portal's device API (docs/api/device-protocol.md).

Every request except pairing is a compact JWS signed with the device's Ed25519 key
(``alg`` EdDSA, ``typ`` onshi-device+jws, ``kid`` the device id): the body of a POST
(``Content-Type: application/jose``) or the ``Onshi-Device-Signature`` header of a GET.

Failures reach the kiosk as two kinds of exception:

- `PortalError`: the portal answered with the contract's error object; ``message`` holds its
  ``{"ja", "en"}`` text for the patient (never parsed), ``code`` the stable code.
- `PortalUnavailableError`: no usable answer (connection refused, timeout, 5xx) after the
  bounded retries; the kiosk tells the patient to go to the counter.

Retries are safe by construction: each attempt is signed again (new ``jti`` and ``iat``) over
the same body, and the portal answers a repeated submission for the same ``challenge_id`` with
the stored outcome instead of recording a second event.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reader_bridge.identity import DeviceIdentity, public_key_raw

LOG = logging.getLogger(__name__)

JOSE_MEDIA_TYPE = "application/jose"
SIGNATURE_HEADER = "Onshi-Device-Signature"
TOKEN_TYPE = "onshi-device+jws"  # noqa: S105 - the JWS typ, not a secret
USER_AGENT = "onshi-reader-bridge/0.1"

UNREACHABLE_MESSAGE = {
    "ja": "システムに接続できません。受付にお申し出ください。",
    "en": "The system cannot be reached. Please go to the reception counter.",
}
UNEXPECTED_MESSAGE = {
    "ja": "システムから予期しない応答がありました。受付にお申し出ください。",
    "en": "The system gave an unexpected answer. Please go to the reception counter.",
}


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign_request(
    key: Ed25519PrivateKey,
    device_id: int,
    method: str,
    path: str,
    body: Mapping[str, Any] | None = None,
    *,
    now: float | None = None,
    jti: str | None = None,
) -> str:
    """The compact JWS for one request (``body`` only for POST)."""
    header = {"alg": "EdDSA", "typ": TOKEN_TYPE, "kid": str(device_id)}
    payload: dict[str, Any] = {
        "htm": method.upper(),
        "htu": path,
        "iat": int(time.time() if now is None else now),
        "jti": jti or b64u(secrets.token_bytes(16)),
    }
    if method.upper() == "POST":
        payload["body"] = dict(body or {})
    signing_input = f"{b64u(_json_bytes(header))}.{b64u(_json_bytes(payload))}"
    signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64u(signature)}"


class PortalError(Exception):
    """The portal refused a request with the contract's error object."""

    def __init__(
        self,
        status: int,
        code: str,
        message: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.message: dict[str, str] = dict(message or UNEXPECTED_MESSAGE)
        self.params: dict[str, Any] = dict(params or {})


class PortalUnavailableError(PortalError):
    """No usable answer from the portal after the retries (network failure, timeout, 5xx)."""

    def __init__(self, reason: str, message: Mapping[str, str] | None = None) -> None:
        super().__init__(503, "portal.unavailable", message or UNREACHABLE_MESSAGE)
        self.reason = reason


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff (seconds)."""

    attempts: int = 4
    initial_delay: float = 0.5
    max_delay: float = 4.0

    def delays(self) -> list[float]:
        out, delay = [], self.initial_delay
        for _ in range(max(0, self.attempts - 1)):
            out.append(delay)
            delay = min(delay * 2, self.max_delay)
        return out


@dataclass(frozen=True)
class ConsentRules:
    comprehensive_consent: bool = False
    limit_consent_step: bool = True
    consent_hours: int = 24


@dataclass(frozen=True)
class DeviceStatus:
    device_id: int
    label: str
    mode: str  # "unattended" | "visual"
    institution_code: str
    institution_name: str
    consent_rules: ConsentRules


@dataclass(frozen=True)
class Challenge:
    challenge_id: str
    challenge: bytes
    expires_at: str


@dataclass(frozen=True)
class SubmissionResult:
    """200 (a result) or 202 (``status`` awaiting_staff: a 目視 check to poll)."""

    status_code: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> bool:
        return self.status_code == 202 or self.body.get("status") == "awaiting_staff"


@dataclass(frozen=True)
class PairResult:
    device_id: int
    institution: dict[str, Any]


def _timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


def _error_from(response: httpx.Response) -> PortalError:
    try:
        data = response.json()
        error = data["error"]
        code = str(error["code"])
        message = error.get("message")
        params = error.get("params") or {}
    except (ValueError, KeyError, TypeError):
        return PortalError(response.status_code, "portal.unexpected_response")
    if not (isinstance(message, dict) and {"ja", "en"} <= set(message)):
        message = None
    return PortalError(
        response.status_code, code, message, params if isinstance(params, dict) else {}
    )


class PortalClient:
    """Signed requests to one portal for one paired device."""

    def __init__(
        self,
        identity: DeviceIdentity,
        *,
        base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.identity = identity
        base = (base_url or identity.portal).rstrip("/")
        self._prefix = urlsplit(base).path.rstrip("/")
        self._http = httpx.Client(
            base_url=base,
            transport=transport,
            timeout=_timeout(timeout),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        )
        self._retry = retry or RetryPolicy()
        self._now = now
        self._sleep = sleep

    def close(self) -> None:
        self._http.close()

    # -- transport ------------------------------------------------------------------------------

    def _send_once(self, method: str, path: str, body: Mapping[str, Any] | None) -> httpx.Response:
        token = sign_request(
            self.identity.private_key,
            self.identity.device_id,
            method,
            self._prefix + path,
            body,
            now=self._now(),
        )
        if method == "POST":
            return self._http.post(
                path, content=token.encode("ascii"), headers={"Content-Type": JOSE_MEDIA_TYPE}
            )
        return self._http.get(path, headers={SIGNATURE_HEADER: token})

    def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        """A signed request, retried (re-signed, same body) on network failure or 5xx.
        Returns a 2xx response; raises `PortalError` / `PortalUnavailableError`."""
        method = method.upper()
        delays = self._retry.delays()
        last_reason = "no attempt"
        last_response: httpx.Response | None = None
        for attempt in range(len(delays) + 1):
            if attempt:
                self._sleep(delays[attempt - 1])
            try:
                response = self._send_once(method, path, body)
            except httpx.TransportError as exc:
                last_reason = type(exc).__name__
                LOG.warning("%s %s: %s (attempt %d)", method, path, last_reason, attempt + 1)
                continue
            if response.status_code >= 500:
                last_response = response
                last_reason = f"HTTP {response.status_code}"
                LOG.warning("%s %s: %s (attempt %d)", method, path, last_reason, attempt + 1)
                continue
            if response.status_code >= 400:
                error = _error_from(response)
                LOG.info("%s %s: %d %s", method, path, error.status, error.code)
                raise error
            return response
        message = None
        if last_response is not None:
            message = _error_from(last_response).message
            if message == UNEXPECTED_MESSAGE:
                message = None
        raise PortalUnavailableError(last_reason, message)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise PortalError(response.status_code, "portal.unexpected_response") from None
        if not isinstance(data, dict):
            raise PortalError(response.status_code, "portal.unexpected_response")
        return data

    # -- API ------------------------------------------------------------------------------------

    def device_status(self) -> DeviceStatus:
        data = self._json(self.request("GET", "/api/v1/devices/me"))
        try:
            rules = data.get("consent_rules") or {}
            institution = data.get("institution") or {}
            return DeviceStatus(
                device_id=int(data["device_id"]),
                label=str(data.get("label", "")),
                mode=str(data.get("mode", "unattended")),
                institution_code=str(institution.get("code", "")),
                institution_name=str(institution.get("name", "")),
                consent_rules=ConsentRules(
                    comprehensive_consent=bool(rules.get("comprehensive_consent", False)),
                    limit_consent_step=bool(rules.get("limit_consent_step", True)),
                    consent_hours=int(rules.get("consent_hours", 24)),
                ),
            )
        except (KeyError, TypeError, ValueError):
            raise PortalError(200, "portal.unexpected_response") from None

    def create_challenge(self) -> Challenge:
        data = self._json(self.request("POST", "/api/v1/verifications/challenges", {}))
        try:
            return Challenge(
                challenge_id=str(data["challenge_id"]),
                challenge=b64u_decode(str(data["challenge"])),
                expires_at=str(data.get("expires_at", "")),
            )
        except (KeyError, ValueError):
            raise PortalError(201, "portal.unexpected_response") from None

    def submit_verification(self, body: Mapping[str, Any]) -> SubmissionResult:
        response = self.request("POST", "/api/v1/verifications", body)
        return SubmissionResult(response.status_code, self._json(response))

    def verification_status(self, verification_id: str) -> dict[str, Any]:
        return self._json(self.request("GET", f"/api/v1/verifications/{verification_id}"))

    def link_card(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._json(self.request("POST", "/api/v1/card-links", body))


def pair(
    portal: str,
    code: str,
    label: str,
    key: Ed25519PrivateKey,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 10.0,
) -> PairResult:
    """``POST /api/v1/devices/pair`` (unsigned). Not retried: a code is single use."""
    body = {"code": code.strip().upper(), "public_key": b64u(public_key_raw(key)), "label": label}
    with httpx.Client(
        base_url=portal.rstrip("/"),
        transport=transport,
        timeout=_timeout(timeout),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
    ) as http:
        try:
            response = http.post("/api/v1/devices/pair", json=body)
        except httpx.TransportError as exc:
            raise PortalUnavailableError(type(exc).__name__) from exc
    if response.status_code >= 500:
        raise PortalUnavailableError(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        raise _error_from(response)
    data = response.json()
    return PairResult(device_id=int(data["device_id"]), institution=dict(data["institution"]))
