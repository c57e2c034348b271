"""Portal: what a patient sees of their own data on the マイナポータル health pages (every read of
medical data logged with purpose ``self`` and audited in the same transaction)."""
