"""Developer tooling: the test prerequisites check and the pytest plugin CI uses.

Nothing here is imported by the application; it only uses the standard library and pytest.
"""
