"""Staff account pages: one's own password and passkeys, and account management by the
administrators of an institution, an insurer or the system."""
