"""The patient-facing kiosk: screens ①–⑥ served on 127.0.0.1 (stdlib HTTP server)."""
