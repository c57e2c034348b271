"""Pages for system administrators under /admin."""
