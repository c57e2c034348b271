"""Devices: reception card readers (reader_bridge) paired with an institution."""
