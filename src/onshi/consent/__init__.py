"""Consent: the patient's consent to an institution viewing their medical data."""
