"""一括照会 (batch qualification inquiries): many search rows uploaded at once, a 受付番号 returned
immediately, rows resolved in the background in chunks with set-based queries, results fetched
later as CSV or JSON. No web imports here."""
