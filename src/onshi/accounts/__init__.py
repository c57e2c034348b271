"""Accounts: staff and patient accounts, passkeys, enrolment codes, sessions, sign-in limits."""
