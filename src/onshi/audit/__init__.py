"""Audit: the hash-chained audit trail and the patient-visible data-access log."""
