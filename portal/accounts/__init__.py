"""Accounts: the second factor on every door, sign-in throttling, API tokens (knox)."""
