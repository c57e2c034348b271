"""Pages for institution staff (reception, doctor, dentist, pharmacist) under /clinic."""
