"""Errors of staff sign-in, account creation and the password policy (codes → messages.toml)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onshi.errors import DomainError


class InvalidCredentialsError(DomainError):
    """Unknown login id, wrong password or a disabled account: one message for all three."""

    code = "accounts.invalid_credentials"
    status_code = 401


class SignInRateLimitedError(DomainError):
    code = "accounts.rate_limited"
    status_code = 429

    def __init__(self, *, retry_at: datetime, retry_after_seconds: int, **params: Any) -> None:
        self.retry_at = retry_at
        self.retry_after_seconds = retry_after_seconds
        minutes = max(1, -(-retry_after_seconds // 60))
        super().__init__(minutes=minutes, **params)


class PasswordPolicyError(DomainError):
    """``code`` names the rule: accounts.password.too_short, …"""

    code = "accounts.password.invalid"


class AccountError(DomainError):
    """Account data rejected: accounts.login_id_invalid, accounts.login_id_taken, …"""

    code = "accounts.invalid"
