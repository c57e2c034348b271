"""End-to-end tests: Playwright drives Debian's Chromium against the real server (a subprocess)."""
