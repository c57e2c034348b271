"""Pages for insurer operators under /insurer."""
