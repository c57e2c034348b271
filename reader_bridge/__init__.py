"""reader_bridge: the daemon beside the card reader. It never imports the portal package."""
