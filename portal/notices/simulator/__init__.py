"""Our SMS gateway simulator: a stand-in for the real gateway in development and tests."""
