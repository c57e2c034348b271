"""Errors of the devices domain (codes → src/onshi/devices/messages.toml). Signed-request
failures are :class:`onshi.devices.signing.DeviceAuthError`."""

from __future__ import annotations

from onshi.errors import DomainError, NotFoundError, PermissionDeniedError


class PairingError(DomainError):
    """``pairing.invalid_code`` (unknown, used or expired: one code for all three),
    ``pairing.bad_key`` or ``pairing.bad_label``."""

    code = "pairing.invalid_code"
    status_code = 400


class PairingRateLimitedError(DomainError):
    code = "pairing.rate_limited"
    status_code = 429

    def __init__(self, *, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(minutes=max(1, -(-retry_after_seconds // 60)))


class DeviceAdminRequiredError(PermissionDeniedError):
    code = "device.not_admin"


class DeviceNotFoundError(NotFoundError):
    """Unknown, or another institution's device (never say which)."""

    code = "device.not_found"


class DeviceStateError(DomainError):
    code = "device.already_revoked"
    status_code = 409
