"""The consent-gated viewer for 有資格者 and its special modes (災害時) and alerts."""
