"""Institutions: 医療機関等 (hospitals, clinics, dental clinics, pharmacies)."""
