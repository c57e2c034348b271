"""Verification: qualification checks (card, 記号番号, batch, fallbacks) and 照会番号."""
