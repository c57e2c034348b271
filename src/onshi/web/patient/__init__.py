"""Patient pages (マイナポータル) under /me: layout ``layouts/patient.html``; guard audience
``patient``. Controllers are added to ``PATIENT_HANDLERS`` in ``web/routes.py``."""
