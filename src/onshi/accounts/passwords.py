"""Password hashing (argon2id via argon2-cffi) and the staff password policy.

Unknown login ids are verified against a dummy hash so a sign-in takes as long whether or not
the account exists. Hashes made with older parameters are rehashed on the next good sign-in.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from onshi.accounts.errors import PasswordPolicyError

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_DISTINCT_CHARACTERS = 5

# Passwords that meet the length rule yet appear at the top of breach lists.
COMMON_PASSWORDS = frozenset(
    {
        "password1234",
        "passwordpassword",
        "123456789012",
        "qwertyuiopas",
        "1q2w3e4r5t6y",
        "qwerty123456",
        "iloveyou1234",
        "administrator",
        "onshionshi12",
        "changeme1234",
        "letmein12345",
        "welcome12345",
    }
)


@dataclass
class PasswordService:
    """One hasher per app (parameters are argon2-cffi's RFC 9106 low-memory defaults unless a
    test passes cheaper ones)."""

    hasher: PasswordHasher

    @classmethod
    def default(cls) -> PasswordService:
        return cls(PasswordHasher())

    @cached_property
    def dummy_hash(self) -> str:
        return self.hasher.hash("onshi-dummy-password-for-unknown-accounts")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Constant-ish time: an unknown account (``None``) still costs one verification."""
        try:
            return self.hasher.verify(password_hash or self.dummy_hash, password) and (
                password_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True


def check_password_policy(password: str, *, login_id: str = "", display_name: str = "") -> None:
    """NIST SP 800-63B style: long enough, not trivially guessable, no composition rules."""
    normalised = unicodedata.normalize("NFKC", password)
    if len(normalised) < MIN_LENGTH:
        raise PasswordPolicyError("accounts.password.too_short", min=MIN_LENGTH)
    if len(normalised) > MAX_LENGTH:
        raise PasswordPolicyError("accounts.password.too_long", max=MAX_LENGTH)
    if len(set(normalised)) < MIN_DISTINCT_CHARACTERS:
        raise PasswordPolicyError("accounts.password.too_simple", min=MIN_DISTINCT_CHARACTERS)
    lowered = normalised.casefold()
    if lowered in COMMON_PASSWORDS:
        raise PasswordPolicyError("accounts.password.common")
    for personal in (login_id, display_name.replace(" ", "").replace("\u3000", "")):
        if len(personal) >= 3 and personal.casefold() in lowered:
            raise PasswordPolicyError("accounts.password.contains_name")
