"""Audit: the audit trail and the patient-visible data-access log, as the entries of a Merkle
transparency log with signed checkpoints."""
