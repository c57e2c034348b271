"""HTTP layer: controllers by audience, guards, htmx helpers, error handling, i18n."""
