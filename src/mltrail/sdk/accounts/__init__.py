"""Accounts of a team server: users, API keys, memberships and the audit log (``Connection.accounts``)."""
