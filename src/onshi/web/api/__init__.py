"""JSON API under /api/v1 (device-signed requests from reader_bridge).

Routes here are exempt from the browser CSRF check and never see the browser's session cookie;
each router must bring its own guard (device signature), otherwise the app guard denies it."""
