"""The consent-gated viewer of drug, health-check and clinical information (有資格者)."""
