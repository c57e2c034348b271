"""Uptake (導入状況) and use (利用状況) statistics for administrators: the official published
snapshots and the system's own figures, from weekly and monthly rollups, and their open data."""
